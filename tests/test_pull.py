"""What a trainer gets: verified pulls from S3 and rank-partitioned streaming."""

import hashlib
import json
import os
import subprocess
import sys
import time
from collections import Counter

import pytest
from typer.testing import CliRunner

from corpus.pull import pull
from corpus.shards import UnknownLanguage, iter_documents
from corpus.storage import open_storage
from corpus_cli.main import app
from tests.conftest import REPO
from tests.fake_runs import publish_fake_run
from tests.runs import run_serial

SETTINGS = {"shards.row_group_rows": 7, "tokenizer.export_megatron": True}  # many row groups to split


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    """The same run on local disk: what S3 and the pull must reproduce byte for byte."""
    out = tmp_path_factory.mktemp("local") / "out"
    run_serial(str(out), **SETTINGS)
    return out


@pytest.fixture(scope="module")
def s3_run(s3_endpoint):
    """One run on S3 for the tests that only read it."""
    from corpus.storage.s3 import s3_client

    s3_client().create_bucket(Bucket="pull-tests")
    run_serial("s3://pull-tests/runs/demo", **SETTINGS)
    return "s3://pull-tests/runs/demo"


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_run_to_s3_then_pull_gives_identical_bytes(s3_run, local_run, tmp_path):
    result = pull(s3_run, tmp_path / "dest", workers=4, tokenized=True, progress=False)
    manifest = json.loads((tmp_path / "dest" / "manifest.json").read_text())
    files = [e["path"] for e in manifest["shards"] + manifest["tokenized"]]
    assert result.ok and sorted(result.fetched) == sorted(files) and len(files) == 6
    assert (tmp_path / "dest" / "manifest.json").read_bytes() == (local_run / "manifest.json").read_bytes()
    for rel in files:
        assert (tmp_path / "dest" / rel).read_bytes() == (local_run / rel).read_bytes(), rel


def test_a_second_pull_skips_verified_files_and_refetches_a_corrupt_one(s3_run, tmp_path):
    dest = tmp_path / "dest"
    pull(s3_run, dest, progress=False)
    shard = dest / "shards/lang=ko/part-00000.parquet"
    good = sha256(shard)
    damaged = bytearray(shard.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    shard.write_bytes(bytes(damaged))

    again = pull(s3_run, dest, progress=False)
    assert again.ok
    assert again.fetched == ["shards/lang=ko/part-00000.parquet"]
    assert again.skipped == ["shards/lang=en/part-00000.parquet"]
    assert sha256(shard) == good


@pytest.mark.slow
def test_pull_exits_non_zero_when_the_stored_object_stays_wrong(s3_bucket, tmp_path):
    s3_run = f"{s3_bucket}/runs/damaged"
    run_serial(s3_run)
    store = open_storage(s3_run)
    good = store.read_bytes("shards/lang=ko/part-00000.parquet")
    store.write_bytes("shards/lang=ko/part-00000.parquet", b"not the shard the manifest lists")
    dest = tmp_path / "dest"
    answer = CliRunner().invoke(app, ["pull", s3_run, str(dest), "--no-progress"])
    assert answer.exit_code == 1
    assert "shards/lang=ko/part-00000.parquet" in answer.output and "do not match the manifest" in answer.output
    assert not (dest / "shards/lang=ko/part-00000.parquet").exists(), "a wrong file never takes a shard's name"
    assert (dest / "shards/lang=en/part-00000.parquet").exists()
    assert not (dest / "manifest.json").exists(), "an incomplete pull does not look complete"

    store.write_bytes("shards/lang=ko/part-00000.parquet", good)  # the object restored
    resumed = pull(s3_run, dest, progress=False)
    assert resumed.ok and resumed.fetched == ["shards/lang=ko/part-00000.parquet"]
    assert resumed.skipped == ["shards/lang=en/part-00000.parquet"] and (dest / "manifest.json").exists()


def test_pull_by_language_fetches_only_that_language(s3_run, tmp_path):
    answer = CliRunner().invoke(app, ["pull", s3_run, str(tmp_path / "ko"), "--lang", "ko", "--workers", "2", "--no-progress"])
    assert answer.exit_code == 0, answer.output
    pulled = sorted(p.relative_to(tmp_path / "ko").as_posix() for p in (tmp_path / "ko").rglob("*.parquet"))
    assert pulled == ["shards/lang=ko/part-00000.parquet"]


def test_pull_of_an_incomplete_run_says_so(s3_bucket, tmp_path):
    answer = CliRunner().invoke(app, ["pull", f"{s3_bucket}/nothing-here", str(tmp_path / "x"), "--no-progress"])
    assert answer.exit_code == 1 and "not complete" in answer.output


def test_ranks_together_read_every_document_exactly_once(s3_run, local_run):
    everything = [d["id"] for d in iter_documents(str(local_run), columns=["id"])]
    assert len(everything) > 50 and len(set(everything)) == len(everything)
    world = 4
    per_rank = [[d["id"] for d in iter_documents(s3_run, rank=r, world_size=world, columns=["id"])] for r in range(world)]
    assert all(per_rank), "every rank gets work"
    assert Counter(i for ids in per_rank for i in ids) == Counter(everything)
    assert per_rank[1] == [d["id"] for d in iter_documents(s3_run, rank=1, world_size=world, columns=["id"])]


def test_streaming_one_language_reads_only_its_documents(s3_run):
    docs = list(iter_documents(s3_run, lang="ko", rank=0, world_size=2))
    assert docs and {d["lang"] for d in docs} == {"ko"}
    assert all(d["text"] and d["n_tokens"] > 0 for d in docs)


def test_a_rank_outside_the_world_is_refused(s3_run):
    with pytest.raises(ValueError, match="rank"):
        next(iter_documents(s3_run, rank=2, world_size=2))


def test_a_pull_of_one_language_writes_the_manifest_of_what_it_pulled(s3_run, tmp_path):
    dest = tmp_path / "ko"
    assert pull(s3_run, dest, langs=["ko"], progress=False).ok
    original = json.loads(open_storage(s3_run).read_bytes("manifest.json"))
    pulled = json.loads((dest / "manifest.json").read_text())
    assert {k: pulled[k] for k in ("run_id", "config_sha256", "created", "tokenizer")} == {
        k: original[k] for k in ("run_id", "config_sha256", "created", "tokenizer")
    }
    assert pulled["subset"] == {"languages": ["ko"], "tokenized": False}
    assert pulled["languages"] == {"ko": original["languages"]["ko"]} and "tokenized" not in pulled
    assert [s["path"] for s in pulled["shards"]] == ["shards/lang=ko/part-00000.parquet"]

    korean = [d["id"] for d in iter_documents(s3_run, lang="ko", columns=["id"])]
    assert [d["id"] for d in iter_documents(str(dest), columns=["id"])] == korean
    copy = pull(str(dest), tmp_path / "copy", progress=False)  # verifies every file the pulled manifest lists
    assert copy.ok and copy.fetched == ["shards/lang=ko/part-00000.parquet"]
    assert (tmp_path / "copy" / "manifest.json").read_bytes() == (dest / "manifest.json").read_bytes()


def test_a_pull_without_the_megatron_files_does_not_list_them(s3_run, tmp_path):
    dest = tmp_path / "shards-only"
    assert pull(s3_run, dest, progress=False).ok
    pulled = json.loads((dest / "manifest.json").read_text())
    assert "tokenized" not in pulled and pulled["subset"] == {"languages": ["en", "ko"], "tokenized": False}
    assert pull(str(dest), tmp_path / "copy", tokenized=True, progress=False).ok


def test_pull_of_a_language_the_run_lacks_names_the_ones_it_has(s3_run, tmp_path):
    answer = CliRunner().invoke(app, ["pull", s3_run, str(tmp_path / "kr"), "--lang", "kr", "--no-progress"])
    assert answer.exit_code == 2, answer.output
    assert "no documents in kr: it has en, ko" in " ".join(answer.output.split())
    assert not (tmp_path / "kr").exists()


def test_streaming_a_language_the_run_lacks_names_the_ones_it_has(s3_run):
    with pytest.raises(UnknownLanguage, match="no documents in kr: it has en, ko"):
        next(iter_documents(s3_run, lang="kr"))


@pytest.mark.slow
def test_a_resumed_pull_removes_the_part_file_an_interrupted_one_left(s3_bucket, tmp_path):
    run, shard = f"{s3_bucket}/runs/big", "shards/lang=ko/part-00000.parquet"
    blob = os.urandom(64 * 1024 * 1024)
    publish_fake_run(run, {shard: blob})
    dest = tmp_path / "dest"
    folder = dest / "shards/lang=ko"
    command = [sys.executable, "-c", "from corpus_cli.main import main; main()", "pull", run, str(dest), "--no-progress"]
    puller = subprocess.Popen(command, env={**os.environ, "PYTHONPATH": str(REPO)})
    deadline = time.monotonic() + 120
    while puller.poll() is None and time.monotonic() < deadline and not _partial_files(folder):
        time.sleep(0.002)
    puller.kill()
    puller.wait()
    left = _partial_files(folder)
    assert left and not (folder / "part-00000.parquet").exists(), "the pull was killed mid-file"

    resumed = pull(run, dest, progress=False)
    assert resumed.ok and resumed.fetched == [shard]
    assert [p.name for p in folder.rglob("*")] == ["part-00000.parquet"], "no .part file stays behind"
    assert (folder / "part-00000.parquet").read_bytes() == blob


def _partial_files(folder):
    """Non-empty scratch files a pull has under `folder`; ones renamed away meanwhile are skipped."""
    found = []
    for path in folder.rglob("*") if folder.is_dir() else []:
        try:
            if path.name != "part-00000.parquet" and path.is_file() and path.stat().st_size > 0:
                found.append(path)
        except FileNotFoundError:
            pass
    return found


@pytest.mark.parametrize("lang", [None, "ko"])
def test_ranks_split_by_rows_whatever_the_row_group_size(demo_run_filters_off, local_run, lang):
    for run in (demo_run_filters_off, local_run):  # default row groups (8,192 rows: one per shard), and small ones
        everything = [d["id"] for d in iter_documents(str(run), lang=lang, columns=["id"])]
        for world in (2, 3, 8):
            per_rank = [[d["id"] for d in iter_documents(str(run), lang, r, world, ["id"])] for r in range(world)]
            assert Counter(i for ids in per_rank for i in ids) == Counter(everything), "each document once"
            share = len(everything) / world
            assert all(abs(len(ids) - share) < 1 for ids in per_rank), [len(ids) for ids in per_rank]
