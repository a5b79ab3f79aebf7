"""Annotate once, cut many times: `removed/` keeps what the filters removed, with every
figure, and `corpus recut` decides again from it without reading WARC or extracting.

The runs are real: the shared Dolma sample and the constructed Korean feeds (the
session's `serial_run`, default settings), through every stage.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from corpus.config import load_config
from corpus.pull import pull
from corpus_cli.main import app
from ray_jobs.recut import original_config, recut
from tests.conftest import DEMO_WARC, WARC

pytestmark = pytest.mark.slow

LOOSER = {"quality.en.min_quality_score": 0.0, "quality.ko.min_quality_score": 0.0}
STRICTER = {"quality.en.min_quality_score": 0.9, "quality.ko.min_quality_score": 0.9}


def recut_into(source: Path, output: Path, **overrides):
    """`corpus recut SOURCE --output OUTPUT --set ...`, in process."""
    base = original_config(str(source))
    cfg = load_config(None, {"output": str(output), "input": base["input"], **overrides}, base)
    return recut(str(source), cfg)


def manifest(run: Path) -> dict:
    return json.loads((run / "manifest.json").read_text())


def ids(run: Path, kind: str, where=None) -> set[str]:
    found: set[str] = set()
    for entry in manifest(run)[kind]:
        table = pq.read_table(run / entry["path"])
        if where is not None:
            table = table.filter(where(table))
        found.update(table["id"].to_pylist())
    return found


def stages(run: Path) -> dict:
    return json.loads((run / "stats.json").read_text())["stages"]


def cli_run(output: Path, inputs: list[Path], *sets: str) -> None:
    cmd = [sys.executable, "-m", "corpus_cli", "run", "--serial", "--no-progress", "--output", str(output)]
    for path in inputs:
        cmd += ["--input", str(path)]
    for item in sets:
        cmd += ["--set", item]
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]


def test_removed_documents_are_kept_with_text_figures_and_reason_listed_apart_from_shards(serial_run):
    out, _ = serial_run
    listed = manifest(out)["removed"]
    assert listed, "the default run removes documents, so removed/ has parts"
    assert {e["path"] for e in listed}.isdisjoint({e["path"] for e in manifest(out)["shards"]})
    for entry in listed:
        data = (out / entry["path"]).read_bytes()
        assert entry["path"].startswith(f"removed/lang={entry['lang']}/")
        assert hashlib.sha256(data).hexdigest() == entry["sha256"] and len(data) == entry["bytes"]
        table = pq.read_table(out / entry["path"])
        assert table.num_rows == entry["docs"]
        assert set(table["stage"].to_pylist()) <= {"langid", "quality"}
        assert all(table["drop_reason"].to_pylist()) and all(table["text"].to_pylist())
        assert {"quality_score", "q_word_count", "lang_score", "n_tokens"} <= set(table.column_names)
        assert not [c for c in table.column_names if c.startswith("_")], "working columns stay in _work/"
    by_quality = sum(slot["docs"] for lang in stages(out)["quality"].values() for slot in lang["dropped"].values())
    held = sum(lang["dropped"].get("low_confidence", {}).get("docs", 0) for lang in stages(out)["langid"].values())
    assert sum(e["docs"] for e in listed) == by_quality + held


def test_recut_with_the_runs_own_settings_gives_byte_identical_shards(serial_run, tmp_path):
    out, _ = serial_run
    result = recut_into(out, tmp_path / "recut")
    new = tmp_path / "recut"
    assert result.run_id == manifest(out)["run_id"]
    assert manifest(new)["shards"] == manifest(out)["shards"] and manifest(new)["removed"] == manifest(out)["removed"]
    for entry in manifest(out)["shards"] + manifest(out)["removed"]:
        assert (new / entry["path"]).read_bytes() == (out / entry["path"]).read_bytes(), entry["path"]
    assert stages(new) == stages(out)
    assert manifest(new) == manifest(out)


def test_a_looser_threshold_keeps_the_documents_it_no_longer_removes(serial_run, tmp_path):
    """A recut to a strict classifier cut, recut again to a loose one, readmits what the strict cut removed."""
    out, _ = serial_run
    strict, new = tmp_path / "strict", tmp_path / "looser"
    recut_into(out, strict, **STRICTER)
    readmitted = ids(strict, "removed", lambda t: pc.equal(t["drop_reason"], "quality_classifier"))
    assert readmitted, "a 0.9 classifier cut removes some documents"
    recut_into(strict, new, **LOOSER)
    assert ids(new, "shards") == ids(strict, "shards") | readmitted
    assert ids(new, "removed") == ids(strict, "removed") - readmitted
    dropped = [r for lang in stages(new)["quality"].values() for r in lang["dropped"]]
    assert "quality_classifier" not in dropped
    kept_before = sum(s["docs"] for s in manifest(strict)["shards"])
    assert sum(s["docs"] for s in manifest(new)["shards"]) == kept_before + len(readmitted)


def test_recut_to_other_thresholds_equals_a_fresh_run_with_them(serial_run, tmp_path):
    """A run made stricter (language ID and quality), recut to the defaults, is the default run, byte for byte;
    the documents language ID held back below its threshold come back from removed/ with their figures."""
    out, _ = serial_run
    strict = tmp_path / "strict"
    inputs = [WARC / "dolma" / "sample-0000.warc.gz", WARC / "constructed" / "aeb_and_korean_feeds.warc.gz"]
    cli_run(strict, inputs, "langid.thresholds={en: 0.95, ko: 0.95}", "quality.en.min_quality_score=0.5")
    held = ids(strict, "removed", lambda t: pc.equal(t["stage"], "langid"))
    assert held, "a 0.95 language-ID threshold holds documents back"
    back = tmp_path / "back"
    answer = CliRunner().invoke(
        app, ["recut", str(strict), "--output", str(back), "--set", "langid.thresholds={en: 0.65, ko: 0.5}",
              "--set", "quality.en.min_quality_score=0.03"],
    )  # fmt: skip
    assert answer.exit_code == 0, answer.output
    assert manifest(back) == manifest(out)
    for entry in manifest(out)["shards"] + manifest(out)["removed"]:
        assert (back / entry["path"]).read_bytes() == (out / entry["path"]).read_bytes(), entry["path"]
    assert stages(back) == stages(out)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> Path:
    """The demo WARC with only Gopher's quality rules: no classifier score is stored."""
    out = tmp_path_factory.mktemp("small") / "run"
    cli_run(out, [DEMO_WARC], "quality.rules=[gopher_quality]", "dedup.enabled=false")
    return out


@pytest.mark.parametrize(
    "setting, named",
    [
        ("quality.rules=[gopher_quality,quality_classifier]", "quality_score"),
        ("quality.en.short_line_chars=10", "quality.en.short_line_chars"),
        ("quality.stop_word_chars=50", "quality.stop_word_chars"),
        ("langid.max_chars=100", "langid.max_chars"),
        ("langid.languages=[en,ko,ja]", "langid.languages"),
        ("pii.kinds=[email]", "pii"),
    ],
)
def test_a_setting_the_stored_figures_cannot_answer_is_refused_by_name(small_run, tmp_path, setting, named):
    new = tmp_path / "new"
    answer = CliRunner().invoke(app, ["recut", str(small_run), "--output", str(new), "--set", setting])
    assert answer.exit_code == 2, answer.output
    assert named in answer.output and "corpus run" in answer.output
    assert not new.exists(), "a refused recut writes nothing"


def test_a_run_without_a_manifest_is_not_recut(small_run, tmp_path):
    incomplete = tmp_path / "incomplete"
    shutil.copytree(small_run, incomplete)
    (incomplete / "manifest.json").unlink()
    answer = CliRunner().invoke(app, ["recut", str(incomplete), "--output", str(tmp_path / "new")])
    assert answer.exit_code == 1 and "not complete" in answer.output


def test_pull_fetches_removed_only_when_asked(serial_run, tmp_path):
    out, _ = serial_run
    plain = tmp_path / "plain"
    assert pull(str(out), plain, progress=False).ok
    assert not (plain / "removed").exists()
    assert "removed" not in manifest(plain) and manifest(plain)["subset"]["removed"] is False
    full = tmp_path / "full"
    result = pull(str(out), full, progress=False, removed=True)
    assert result.ok and manifest(full) == manifest(out)
    assert sorted(result.fetched) == sorted(e["path"] for e in manifest(out)["shards"] + manifest(out)["removed"])


def test_a_removed_entry_outside_the_run_is_refused_even_when_not_pulled(serial_run, tmp_path):
    out, _ = serial_run
    run = tmp_path / "src" / "run"
    shutil.copytree(out, run, ignore=shutil.ignore_patterns("_work"))
    hostile = manifest(run)
    hostile["removed"][0]["path"] = "../escape.parquet"
    (run / "manifest.json").write_text(json.dumps(hostile))
    with pytest.raises(ValueError, match=r"removed\[0\]"):
        pull(str(run), tmp_path / "dest", progress=False)
    assert not (tmp_path / "dest").exists()


def test_every_document_stays_accounted_for_after_a_recut(serial_run, tmp_path):
    """Documents in shards + dropped with a reason (`_work/dropped/`) + duplicates: the same total."""
    out, _ = serial_run
    new = tmp_path / "looser"
    recut_into(out, new, **LOOSER)
    totals = []
    for run in (out, new):
        dropped = pa.concat_tables([pq.read_table(p) for p in sorted((run / "_work" / "dropped").glob("*.parquet"))])
        assert all(dropped["drop_reason"].to_pylist())
        dups = [r["id"] for p in (run / "_work" / "dedup").glob("*.parquet") for r in pq.read_table(p).to_pylist() if r["reason"]]
        kept = ids(run, "shards")
        assert not kept & (set(dropped["id"].to_pylist()) | set(dups))
        totals.append(len(kept) + dropped.num_rows + len(dups))
        if run == new:
            assert "quality_classifier" not in dropped["drop_reason"].to_pylist()
    assert totals[0] == totals[1]


def test_recut_from_and_to_s3_equals_the_same_recut_on_disk(s3_bucket, tmp_path):
    """A run published to s3:// (moto over HTTP), recut from s3:// to s3:// with a stricter classifier cut,
    gives the shards and removed parts, byte for byte, and the manifest a recut of the same run on disk gives."""
    from corpus.storage import open_storage
    from tests.runs import run_serial

    inputs = [WARC / "constructed" / "aeb_and_korean_feeds.warc.gz"]
    local, remote = tmp_path / "run", f"{s3_bucket}/run"
    # Dedup in this process, not on a Ray a Ray test may have started here before the S3 server's settings were set.
    in_process = {"dedup.executor": "local"}
    run_serial(local, inputs, filters=True, **in_process)
    run_serial(remote, inputs, filters=True, **in_process)
    stricter = ["--set", "quality.ko.min_quality_score=0.6", "--set", "quality.en.min_quality_score=0.6"]
    for source, output in ((str(local), str(tmp_path / "recut")), (remote, f"{s3_bucket}/recut")):
        answer = CliRunner().invoke(app, ["recut", source, "--output", output, *stricter])
        assert answer.exit_code == 0, answer.output
    on_disk, on_s3 = tmp_path / "recut", open_storage(f"{s3_bucket}/recut")
    from_s3 = json.loads(on_s3.read_bytes("manifest.json"))
    assert from_s3 == manifest(on_disk)
    recut_away = ids(local, "shards") - ids(on_disk, "shards")
    assert recut_away, "a 0.6 classifier cut removes documents the default run kept"
    assert recut_away <= ids(on_disk, "removed")
    for entry in from_s3["shards"] + from_s3["removed"]:
        data = on_s3.read_bytes(entry["path"])
        assert hashlib.sha256(data).hexdigest() == entry["sha256"] and len(data) == entry["bytes"]
        assert pq.read_table(pa.BufferReader(data)).num_rows == entry["docs"]
        assert data == (on_disk / entry["path"]).read_bytes(), entry["path"]
