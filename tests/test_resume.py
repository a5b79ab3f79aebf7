"""Resumable runs: a killed run leaves only whole units behind, and a rerun finishes the rest.

The reference is an uninterrupted run of the same inputs; what consumers read
(every shard and the manifest) must be byte-identical after any interruption.
A rerun with other settings redoes the finished units those settings shape.
"""

from __future__ import annotations

import json
import logging
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from corpus.config import load_config
from corpus.storage import open_storage
from ray_jobs.finalize import MixedUnits, finalize
from ray_jobs.pipeline import plan_units, run
from ray_jobs.unit import UnitModels, process_unit
from tests.conftest import DEMO_WARC, REPO
from tests.reference_runs import five_warc_config, ledgers, published, reference_at
from tests.warc_factory import article, write_warc

pytestmark = pytest.mark.timeout(300)


def test_killed_run_resumes_skipping_finished_units_and_matches(five_warcs, five_warc_run, tmp_path):
    out = tmp_path / "out"
    reference = reference_at(five_warc_run, five_warc_config(five_warcs, out))
    command = [sys.executable, "-m", "corpus_cli", "run", "--serial", "--no-progress",
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


PII = {"rrn": "900101-1234567", "phone": "010-1234-5678", "card": "4111 1111 1111 1111"}


@pytest.fixture(scope="module")
def korean_pii_inputs(tmp_path_factory, data_dir) -> Path:
    """Two WARCs of real Korean blog posts, each post ending with an RRN, a phone and a
    card number, then a slower English WARC, so a run can be killed between them."""
    folder = tmp_path_factory.mktemp("pii-warc")
    with open(data_dir / "korean_web/text/johngrib_blog/posts.jsonl", encoding="utf-8") as handle:
        posts = [p["text"] for p in map(json.loads, handle) if p["hangul"] > 500][:4]
    note = f"문의는 전화 {PII['phone']}로 하세요. 주민등록번호 {PII['rrn']}, 카드 {PII['card']} 입니다."
    for i in range(2):
        pages = [(f"http://blog{i}.test/{j}", article(f"{text[:3000]}\n\n{note}"), "text/html; charset=utf-8")
                 for j, text in enumerate(posts[2 * i : 2 * i + 2])]  # fmt: skip
        write_warc(folder / f"a-ko-{i}.warc.gz", pages)
    shutil.copy(data_dir / "warc/dolma/sample-0000.warc.gz", folder / "z-dolma.warc.gz")
    return folder


@pytest.mark.slow
def test_a_killed_run_without_pii_resumed_with_pii_publishes_no_raw_pii(korean_pii_inputs, tmp_path, caplog):
    """The issue's probe: killed with pii.enabled=false, rerun into the same output with PII on."""
    out = tmp_path / "out"
    settings = {"quality.enabled": False, "dedup.enabled": False}
    command = [sys.executable, "-m", "corpus_cli", "run", "--serial", "--no-progress", "--set", "pii.enabled=false",
               "--input", f"{korean_pii_inputs}/*.warc.gz", "--output", str(out),
               *[f"--set={k}=false" for k in settings]]  # fmt: skip
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for_ledgers(out, proc, count=2)
        proc.send_signal(signal.SIGKILL)  # leaves its claim and two units staged without PII replacement
    finally:
        proc.wait(30)
    assert not (out / "manifest.json").exists()
    staged = pq.read_table(next((out / "_work/staged").glob("a-ko-0*.parquet")))
    assert PII["rrn"] in "".join(staged["text"].to_pylist()), "the killed run staged raw PII"

    inputs = [f"{korean_pii_inputs}/*.warc.gz"]
    cfg = load_config(None, {"input": inputs, "output": str(out), "ray.progress": False, **settings})
    with caplog.at_level(logging.WARNING):
        run(cfg, executor="serial")
    shards = [pq.read_table(p) for p in sorted(out.glob("shards/**/*.parquet"))]
    text = "".join("".join(t["text"].to_pylist()) for t in shards)
    assert not [kind for kind, value in PII.items() if value in text]
    assert all("pii" in t.column_names for t in shards)
    korean = [t for t in shards if t["lang"][0].as_py() == "ko"]
    assert sum(t.num_rows for t in korean) == 4
    assert sum(c["rrn"] for t in korean for c in t["pii"].to_pylist()) == 4
    assert "no longer running" in caplog.text, "the killed run's claim was taken over"
    assert "because config changed: pii" in caplog.text


@pytest.mark.slow
def test_a_rerun_keeping_only_korean_drops_the_english_an_earlier_run_staged(tmp_path, caplog, data_dir):
    """Interrupted default run (one unit done), rerun with langid.languages=[ko]: no English comes out."""
    out = tmp_path / "out"
    inputs = [str(DEMO_WARC), str(data_dir / "warc/dolma/sample-0000.warc.gz")]
    default = load_config(None, {"input": inputs, "output": str(out), "ray.progress": False})
    done = next(u for u in plan_units(default) if u.uri == str(DEMO_WARC))
    process_unit(done, UnitModels(default), open_storage(str(out)))
    staged = pq.read_table(out / done.staged_path)
    assert "en" in staged["lang"].to_pylist(), "the interrupted run staged English"

    korean_only = load_config(None, {"input": inputs, "output": str(out), "ray.progress": False,
                                     "langid.languages": ["ko"]})  # fmt: skip
    with caplog.at_level(logging.WARNING):
        result = run(korean_only, executor="serial")
    langs = {lang for p in out.glob("shards/**/*.parquet") for lang in pq.read_table(p)["lang"].to_pylist()}
    assert langs == {"ko"} and not list(out.glob("shards/lang=en/*"))
    assert set(result.manifest["languages"]) == {"ko"}
    assert f"because config changed: langid: {done.unit_id}" in caplog.text


def test_only_the_unit_whose_input_changed_is_redone(five_warcs, five_warc_run, tmp_path, caplog):
    out = tmp_path / "out"
    shutil.copytree(five_warc_run / "_work", out / "_work")
    cfg = five_warc_config(five_warcs, out)
    before = ledgers(out)
    victim = next(u for u in plan_units(cfg) if "dolma-copy" in u.uri)
    source = Path(victim.uri)
    copy = tmp_path / "original.warc.gz"
    shutil.copy2(source, copy)
    try:
        source.write_bytes(source.read_bytes())  # same bytes, written again: a newer file
        with caplog.at_level(logging.WARNING):
            run(cfg, executor="serial")
    finally:
        shutil.copy2(copy, source)
    after, name = ledgers(out), victim.ledger_path.rsplit("/", 1)[-1]
    assert after.pop(name) != before.pop(name) and after == before
    assert f"because input changed: mtime_ns: {victim.unit_id}" in caplog.text


def _wait_for_ledgers(out: Path, proc: subprocess.Popen, timeout: float = 120, count: int = 1) -> None:
    deadline = time.monotonic() + timeout
    while not (out.exists() and len(ledgers(out)) >= count):
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before it could be killed: {proc.stderr.read().decode()[-2000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no unit finished within {timeout}s")
        time.sleep(0.02)


@pytest.mark.slow
def test_finalize_refuses_units_staged_with_other_settings(tmp_path, data_dir):
    """Dedup, shards and manifest never mix parts made under different settings, whoever calls them."""
    out = tmp_path / "out"
    inputs = [str(DEMO_WARC), str(data_dir / "warc/resiliparse/warcfile.warc.gz")]
    base = {"input": inputs, "output": str(out), "ray.progress": False, "quality.enabled": False, "dedup.enabled": False}
    with_pii, without_pii = load_config(None, base), load_config(None, {**base, "pii.enabled": False})
    first, second = plan_units(with_pii)
    process_unit(first, UnitModels(with_pii), open_storage(str(out)))
    process_unit(second, UnitModels(without_pii), open_storage(str(out)))
    with pytest.raises(MixedUnits, match=f"1 unit\\(s\\) .* other settings .*{second.unit_id}"):
        finalize(with_pii, [first, second], open_storage(str(out)))
    assert not (out / "manifest.json").exists() and not (out / "shards").exists()
