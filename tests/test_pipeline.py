"""End to end: real WARC records in, per-language shards, stats and manifest out."""

import hashlib
import json
import shutil
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from corpus.config import load_config
from ray_jobs.pipeline import RunFailed, run
from tests.conftest import DEMO_WARC, REPO
from tests.runs import run_serial
from tests.warc_factory import article, write_warc


def shard_docs(out, lang=None):
    manifest = json.loads((out / "manifest.json").read_text())
    rows = []
    for shard in manifest["shards"]:
        if lang in (None, shard["lang"]):
            rows.extend(pq.read_table(out / shard["path"]).to_pylist())
    return rows


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return run_serial(out, [DEMO_WARC], filters=True), out


def test_demo_gives_english_and_korean_shards(demo_run):
    result, out = demo_run
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["languages"]) == {"en", "ko"}
    assert manifest["languages"]["ko"]["docs"] > 40 and manifest["languages"]["en"]["docs"] >= 2
    for shard in manifest["shards"]:
        data = (out / shard["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == shard["sha256"] and len(data) == shard["bytes"]
        assert shard["path"].startswith(f"shards/lang={shard['lang']}/part-")
        table = pq.read_table(out / shard["path"])
        assert set(table["lang"].to_pylist()) == {shard["lang"]}
        assert table.num_rows == shard["docs"]


def test_demo_stats_count_every_kind_of_loss(demo_run):
    _, out = demo_run
    stages = json.loads((out / "stats.json").read_text())["stages"]
    assert stages["read"]["und"]["dropped"]["http_status"]["docs"] == 1
    assert stages["read"]["und"]["dropped"]["not_html"]["docs"] == 1
    assert stages["extract"]["und"]["dropped"]["binary_body"]["docs"] == 1
    assert stages["screen"]["und"]["dropped"]["screened_language"]["docs"] == 1  # the Aragonese page, unextracted
    assert stages["langid"]["la"]["dropped"]["other_language"]["docs"] == 1  # the lorem-ipsum page
    assert stages["read"]["und"]["docs_in"] == 98


def test_every_document_is_accounted_for(demo_run):
    """Documents in = documents in shards + documents recorded as dropped, with a reason."""
    _, out = demo_run
    dropped = pq.read_table(next((out / "_work" / "dropped").glob("*.parquet")))
    assert all(dropped["drop_reason"].to_pylist())
    duplicates = [pq.read_table(p) for p in (out / "_work" / "dedup").glob("*.parquet")]
    dup_ids = [r["id"] for t in duplicates for r in t.to_pylist() if r["reason"]]
    kept_ids = {row["id"] for row in shard_docs(out)}
    assert not kept_ids & (set(dropped["id"].to_pylist()) | set(dup_ids))
    assert len(kept_ids) + dropped.num_rows + len(dup_ids) == 98


def test_documents_keep_url_title_and_source(demo_run):
    _, out = demo_run
    docs = {d["url"]: d for d in shard_docs(out, "en")}
    wiki = docs["https://en.wikipedia.org/wiki/Hermitian_matrix"]
    assert "Hermitian" in wiki["title"] and "conjugate transpose" in wiki["text"]
    assert wiki["domain"] == "en.wikipedia.org" and wiki["source"].startswith(str(DEMO_WARC) + "#")
    assert wiki["n_chars"] == len(wiki["text"]) and wiki["lang_score"] > 0.8


def test_euc_kr_pages_decode_like_utf8_ones(demo_run):
    _, out = demo_run
    korean = shard_docs(out, "ko")
    charsets = {d["charset"] for d in korean}
    assert {"utf-8", "cp949"} <= charsets
    assert all("\ufffd" not in d["text"] for d in korean)


@pytest.mark.slow
def test_known_language_lands_in_its_shard(tmp_path, data_dir):
    index = json.loads((data_dir / "warc/constructed/aeb_and_korean_feeds.index.json").read_text())
    expected = {item["uri"]: item["lang"] for item in index}
    run_serial(tmp_path / "out", [data_dir / "warc/constructed/aeb_and_korean_feeds.warc.gz"], filters=True)
    docs = shard_docs(tmp_path / "out")
    agree = [d for d in docs if expected[d["url"]] == d["lang"]]
    assert len(docs) > 100 and len(agree) >= 0.97 * len(docs)
    assert {d["lang"] for d in docs} == {"en", "ko"}


def test_bad_inputs_are_counted_and_good_records_kept(tmp_path, demo_run):
    _, demo_out = demo_run
    bad = tmp_path / "bad"
    bad.mkdir()
    whole = DEMO_WARC.read_bytes()
    (bad / "cut.warc.gz").write_bytes(whole[: len(whole) // 2])
    (bad / "notes.warc.gz").write_text("not an archive")
    (bad / "empty.warc.gz").write_bytes(b"")
    huge = b"<html><body>" + b"<p>x</p>" * (12 * 1024 * 1024 // 8) + b"</body></html>"
    write_warc(bad / "huge.warc.gz", [("http://big.test/", huge, "text/html"),
                                      ("http://ok.test/", article("Fine text " * 50), "text/html")])
    inputs = [DEMO_WARC, *sorted(bad.iterdir()), bad / "missing.warc.gz"]
    result = run_serial(tmp_path / "out", inputs, filters=True)
    errors = result.stats.errors
    assert {"truncated_file", "not_warc", "empty_file", "missing_file"} <= set(errors)
    assert result.stats.dropped_docs("read", "too_large") == 1
    demo_ids = {d["id"] for d in shard_docs(demo_out)}
    assert demo_ids <= {d["id"] for d in shard_docs(tmp_path / "out")}


def test_identical_runs_give_identical_bytes(tmp_path, demo_run):
    _, first = demo_run
    run_serial(tmp_path / "again", [DEMO_WARC], filters=True)
    second = tmp_path / "again"
    assert (first / "manifest.json").read_bytes() == (second / "manifest.json").read_bytes()
    for shard in json.loads((first / "manifest.json").read_text())["shards"]:
        assert (first / shard["path"]).read_bytes() == (second / shard["path"]).read_bytes()


def test_ray_path_equals_plain_path(tmp_path, demo_run, ray_local):
    _, plain = demo_run
    cfg = load_config(None, {"input": [str(DEMO_WARC)], "output": str(tmp_path / "ray"), "ray.progress": False})
    run(cfg, executor="ray")
    assert (plain / "manifest.json").read_bytes() == (tmp_path / "ray" / "manifest.json").read_bytes()


@pytest.mark.slow
def test_run_with_nothing_readable_fails_with_the_reason(tmp_path):
    with pytest.raises(RunFailed, match="missing_file"):
        run_serial(tmp_path / "out", [tmp_path / "nothing-here.warc.gz"], filters=True)
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_rerun_skips_completed_units(tmp_path, demo_run):
    _, first = demo_run
    out = tmp_path / "resume"
    shutil.copytree(first, out)
    (out / "manifest.json").unlink()
    ledger = next((out / "_work" / "units").glob("*.json"))
    before = ledger.stat().st_mtime_ns
    run_serial(out, [DEMO_WARC], filters=True)
    assert ledger.stat().st_mtime_ns == before
    assert (out / "manifest.json").read_bytes() == (first / "manifest.json").read_bytes()


def corpus_cli(*args, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "corpus_cli", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.mark.slow
def test_cli_bad_config_exits_2_naming_the_field(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("langid:\n  thresholds: {ko: 7}\n")
    proc = corpus_cli("run", str(config), "--input", str(DEMO_WARC), "--output", str(tmp_path / "o"))
    assert proc.returncode == 2
    assert "langid.thresholds" in proc.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_cli_bad_flag_exits_2():
    assert corpus_cli("run", "--no-such-flag").returncode == 2
    assert corpus_cli("run", "--set", "nonsense", "--input", "x", "--output", "y").returncode == 2


@pytest.mark.slow
def test_cli_unreadable_input_exits_1(tmp_path):
    garbage = tmp_path / "garbage.warc.gz"  # present, so past the CLI's check; no record in it can be read
    garbage.write_bytes(b"this is not a WARC file\n" * 10)
    proc = corpus_cli("run", "--input", str(garbage), "--output", str(tmp_path / "o"), "--serial")
    assert proc.returncode == 1
    assert "no input could be read" in proc.stderr


@pytest.mark.slow
def test_cli_run_prints_summary(tmp_path):
    proc = corpus_cli("run", "--input", str(DEMO_WARC), "--output", str(tmp_path / "o"), "--serial", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    assert "output by language" in proc.stdout and "ko" in proc.stdout


@pytest.mark.slow
def test_the_same_warc_twice_gives_each_document_once(tmp_path, data_dir):
    """Copies share record ids; exact and near dedup must agree on which copy survives."""
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.warc.gz", "b.warc.gz"):
        shutil.copy(data_dir / "warc/dolma/sample-0000.warc.gz", folder / name)
    once = run_serial(tmp_path / "once", [folder / "a.warc.gz"], filters=True)
    twice = run_serial(tmp_path / "twice", [folder / "a.warc.gz", folder / "b.warc.gz"], filters=True)
    assert once.manifest["languages"]["en"]["docs"] > 0
    assert sorted(d["id"] for d in shard_docs(tmp_path / "twice")) == sorted(d["id"] for d in shard_docs(tmp_path / "once"))
    assert twice.stats.dropped_docs("dedup_exact", "exact_duplicate") == once.manifest["languages"]["en"]["docs"]
