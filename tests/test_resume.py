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

from corpus.config import load_config
from corpus.storage import open_storage
from ray_jobs.pipeline import plan_units, run
from ray_jobs.unit import UnitModels, process_unit
from tests.conftest import REPO
from tests.reference_runs import copy_five_warcs, ledgers, published, reference_at

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, data_dir) -> Path:
    return copy_five_warcs(tmp_path_factory.mktemp("warc"), data_dir)


def config(inputs: Path, out: Path):
    return load_config(None, {"input": [f"{inputs}/*.warc.gz"], "output": str(out), "ray.progress": False})


@pytest.fixture(scope="module")
def full_run(inputs, tmp_path_factory) -> Path:
    """One uninterrupted serial run; its units are the reference for every test here."""
    out = tmp_path_factory.mktemp("full")
    run(config(inputs, out), executor="serial")
    return out


def test_killed_run_resumes_skipping_finished_units_and_matches(inputs, full_run, tmp_path):
    out = tmp_path / "out"
    reference = reference_at(full_run, config(inputs, out))
    command = [sys.executable, "-m", "corpus.cli", "run", "--serial", "--no-progress",
               "--input", f"{inputs}/*.warc.gz", "--output", str(out)]  # fmt: skip
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for_ledgers(out, proc)
        proc.send_signal(signal.SIGKILL)  # no chance to clean up: the worst case
    finally:
        proc.wait(30)
    kept = ledgers(out)
    assert 1 <= len(kept) < 5 and not (out / "manifest.json").exists()

    cfg = config(inputs, out)
    run(cfg, executor="serial")
    after = ledgers(out)
    assert {name: after[name] for name in kept} == kept  # finished units were not run again
    assert len(after) == len(plan_units(cfg)) == 5
    assert published(out) == reference


def test_half_written_unit_without_ledger_entry_is_redone(inputs, full_run, tmp_path):
    """A crash after a unit's part was written but before its ledger entry: the part is not trusted."""
    out = tmp_path / "out"
    cfg = config(inputs, out)
    reference = reference_at(full_run, cfg)
    victim = next(u for u in plan_units(cfg) if "dolma-copy" in u.uri)
    part = out / victim.staged_path
    part.parent.mkdir(parents=True)
    part.write_bytes(b"PAR1 truncated by a crash")
    (part.parent / f".{part.name}.abc.tmp").write_bytes(b"partial upload")

    run(cfg, executor="serial")
    assert part.read_bytes()[:4] == b"PAR1" and len(part.read_bytes()) > 1000
    assert published(out) == reference


def test_rerun_of_a_finished_run_changes_nothing(inputs, full_run):
    before = {p: p.stat().st_mtime_ns for p in full_run.rglob("*") if p.is_file()}
    run(config(inputs, full_run), executor="serial")
    assert {p: p.stat().st_mtime_ns for p in full_run.rglob("*") if p.is_file()} == before


def test_ray_run_resumes_a_serial_one_with_identical_output(inputs, full_run, tmp_path, ray_local):
    """Units are the same whoever runs them: half a run serially, the rest on Ray Data actors."""
    out = tmp_path / "out"
    cfg = config(inputs, out)
    reference = reference_at(full_run, cfg)
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
