"""Resumable runs: a killed run leaves only whole units behind, and a rerun finishes the rest.

The reference is an uninterrupted run of the same inputs; what consumers read
(every shard and the manifest) must be byte-identical after any interruption.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from corpus.storage import open_storage
from ray_jobs.pipeline import plan_units, run
from ray_jobs.unit import UnitModels, process_unit
from tests.conftest import REPO
from tests.reference_runs import five_warc_config, ledgers, published, reference_at

pytestmark = pytest.mark.timeout(300)


def test_killed_run_resumes_skipping_finished_units_and_matches(five_warcs, five_warc_run, tmp_path):
    out = tmp_path / "out"
    reference = reference_at(five_warc_run, five_warc_config(five_warcs, out))
    command = [sys.executable, "-m", "corpus.cli", "run", "--serial", "--no-progress",
               "--input", f"{five_warcs}/*.warc.gz", "--output", str(out)]  # fmt: skip
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for_ledgers(out, proc)
        proc.send_signal(signal.SIGKILL)  # no chance to clean up: the worst case
    finally:
        proc.wait(30)
    kept = ledgers(out)
    assert 1 <= len(kept) < 5 and not (out / "manifest.json").exists()

    cfg = five_warc_config(five_warcs, out)
    run(cfg, executor="serial")
    after = ledgers(out)
    assert {name: after[name] for name in kept} == kept  # finished units were not run again
    assert len(after) == len(plan_units(cfg)) == 5
    assert published(out) == reference


def test_half_written_unit_without_ledger_entry_is_redone(five_warcs, five_warc_run, tmp_path):
    """A crash after a unit's part was written but before its ledger entry: the part is not trusted."""
    out = tmp_path / "out"
    cfg = five_warc_config(five_warcs, out)
    reference = reference_at(five_warc_run, cfg)
    victim = next(u for u in plan_units(cfg) if "dolma-copy" in u.uri)
    part = out / victim.staged_path
    part.parent.mkdir(parents=True)
    part.write_bytes(b"PAR1 truncated by a crash")
    (part.parent / f".{part.name}.abc.tmp").write_bytes(b"partial upload")

    run(cfg, executor="serial")
    assert part.read_bytes()[:4] == b"PAR1" and len(part.read_bytes()) > 1000
    assert published(out) == reference


def test_rerun_of_a_finished_run_changes_nothing(five_warcs, five_warc_run):
    before = {p: p.stat().st_mtime_ns for p in five_warc_run.rglob("*") if p.is_file()}
    run(five_warc_config(five_warcs, five_warc_run), executor="serial")
    assert {p: p.stat().st_mtime_ns for p in five_warc_run.rglob("*") if p.is_file()} == before


def test_ray_run_resumes_a_serial_one_with_identical_output(five_warcs, five_warc_run, tmp_path, ray_local):
    """Units are the same whoever runs them: half a run serially, the rest on Ray Data actors."""
    out = tmp_path / "out"
    cfg = five_warc_config(five_warcs, out)
    reference = reference_at(five_warc_run, cfg)
    models = UnitModels(cfg)
    for unit in plan_units(cfg)[::3]:
        process_unit(unit, models, open_storage(str(out)))
    done = ledgers(out)
    assert len(done) == 2

    run(cfg, executor="ray")
    after = ledgers(out)
    assert {name: after[name] for name in done} == done and len(after) == 5
    assert published(out) == reference


def _wait_for_ledgers(out: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not (out.exists() and ledgers(out)):
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before it could be killed: {proc.stderr.read().decode()[-2000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no unit finished within {timeout}s")
        time.sleep(0.02)
