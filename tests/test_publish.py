"""Atomic publish: manifest last and create-only, on S3 and on local disk."""

import json
import os
import stat
import time

import pytest

from corpus.config import load_config
from corpus.layout import MANIFEST
from corpus.manifest import manifest_bytes, read_manifest
from corpus.publish import PublishRefused, publish_manifest
from corpus.storage.s3 import S3Storage, parse_s3_uri, s3_client
from corpus.storage import open_storage
from ray_jobs.finalize import finalize
from ray_jobs.pipeline import plan_units
from ray_jobs.unit import UnitModels, process_unit
from tests.conftest import DEMO_WARC
from tests.runs import FILTERS_OFF, run_serial


@pytest.fixture(params=["local", "s3"])
def output(request, tmp_path):
    if request.param == "local":
        return str(tmp_path / "out")
    return request.getfixturevalue("s3_bucket") + "/runs/demo"


def objects(uri: str) -> dict[str, tuple]:
    """Every object under `uri` with what would change if it were rewritten."""
    store = open_storage(uri)
    if isinstance(store, S3Storage):
        pages = s3_client().get_paginator("list_objects_v2").paginate(Bucket=store.bucket, Prefix=store.prefix)
        return {o["Key"]: (o["ETag"], o["LastModified"]) for p in pages for o in p.get("Contents", [])}
    return {p: (store.read_bytes(p), store.path(p).stat().st_mtime_ns) for p in store.list()}


class DroppedConnection(S3Storage):
    """Real S3, except the connection drops while the Korean shard goes up."""

    def upload_file(self, rel, local_path):
        if rel.startswith("shards/lang=ko/"):
            raise ConnectionError("connection reset by peer")
        super().upload_file(rel, local_path)


@pytest.mark.slow
def test_interrupted_upload_leaves_no_manifest_and_a_rerun_completes(s3_bucket):
    uri = f"{s3_bucket}/runs/cut"
    cfg = load_config(None, {"input": [str(DEMO_WARC)], "output": uri, "ray.progress": False, **FILTERS_OFF})
    units = plan_units(cfg)
    models = UnitModels(cfg)
    for unit in units:
        process_unit(unit, models, open_storage(uri))
    with pytest.raises(ConnectionError):
        finalize(cfg, units, DroppedConnection(uri))
    store = open_storage(uri)
    assert store.exists("shards/lang=en/part-00000.parquet"), "the cut came after some shards were up"
    assert not store.exists(MANIFEST)
    with pytest.raises(FileNotFoundError, match="not complete"):
        read_manifest(store)

    result = run_serial(uri)
    manifest = read_manifest(store)
    assert manifest == result.manifest and {s["lang"] for s in manifest["shards"]} == {"en", "ko"}
    assert all(store.exists(s["path"]) for s in manifest["shards"])


@pytest.mark.slow
def test_rerunning_a_complete_run_changes_nothing(output):
    first = run_serial(output)
    before = objects(output)
    time.sleep(1.1)  # S3 LastModified has one-second resolution
    again = run_serial(output)
    assert again.manifest == first.manifest
    assert objects(output) == before


@pytest.mark.slow
def test_a_different_run_is_refused_and_the_published_run_stays(output):
    run_serial(output)
    before = objects(output)
    with pytest.raises(PublishRefused, match="already holds the complete run"):
        run_serial(output, **{"shards.row_group_rows": 100})
    assert objects(output) == before


def test_the_loser_of_a_publish_race_is_refused_by_the_store(output):
    """Both writers passed the up-front check; only the create-only write decides."""
    store = open_storage(output)
    ours = {"format": 1, "run_id": "run-a", "shards": []}
    theirs = {"format": 1, "run_id": "run-b", "shards": []}
    assert publish_manifest(store, ours) is True
    with pytest.raises(PublishRefused, match="run-a"):
        publish_manifest(store, theirs)
    assert store.read_bytes(MANIFEST) == manifest_bytes(ours)
    assert publish_manifest(store, ours) is False


def test_a_manifest_listing_a_missing_shard_is_not_published(output):
    store = open_storage(output)
    manifest = {"format": 1, "run_id": "run-a", "shards": [{"path": "shards/lang=ko/part-00000.parquet"}]}
    with pytest.raises(FileNotFoundError, match="part-00000"):
        publish_manifest(store, manifest)
    assert not store.exists(MANIFEST)


@pytest.mark.slow
def test_manifest_names_the_tokenizer_and_token_totals(s3_bucket):
    result = run_serial(f"{s3_bucket}/runs/tok")
    bucket, _ = parse_s3_uri(s3_bucket)
    raw = s3_client().get_object(Bucket=bucket, Key="runs/tok/manifest.json")["Body"].read()
    manifest = json.loads(raw)
    assert manifest == result.manifest
    assert manifest["tokenizer"]["name"] == "models/tokenizer.json" and len(manifest["tokenizer"]["sha256"]) == 64
    for lang, totals in manifest["languages"].items():
        assert totals["tokens"] == sum(s["tokens"] for s in manifest["shards"] if s["lang"] == lang) > 0


@pytest.mark.slow
def test_every_file_a_local_run_writes_is_readable_as_the_umask_says(tmp_path):
    """Shards, manifest, report and work files: 0644 under umask 022, not mkstemp's 0600."""
    old = os.umask(0o022)
    try:
        run_serial(str(tmp_path / "out"))
    finally:
        os.umask(old)
    files = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert {"manifest.json", "report.html", "stats.json", "part-00000.parquet"} <= {p.name for p in files}
    modes = {str(p.relative_to(tmp_path)): stat.S_IMODE(p.stat().st_mode) for p in files}
    assert set(modes.values()) == {0o644}, modes


def test_local_writes_take_their_mode_from_the_umask(tmp_path):
    store = open_storage(str(tmp_path / "out"))
    source = tmp_path / "part.bin"
    source.write_bytes(b"x")
    old = os.umask(0o027)
    try:
        store.write_bytes("a/written.json", b"{}")
        store.upload_file("a/uploaded.bin", source)
        store.create_exclusive("a/created.json", b"{}")
    finally:
        os.umask(old)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "out" / "a").iterdir()}
    assert modes == {"written.json": 0o640, "uploaded.bin": 0o640, "created.json": 0o640}
