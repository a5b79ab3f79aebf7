"""S3 storage against a real S3 HTTP server: checksums, multipart, conditional writes, S3 inputs."""

import base64
import hashlib
import http.client
import http.server
import os
import stat
import threading

import boto3
import pytest
from botocore.exceptions import ClientError

from corpus.accounting import meter
from corpus.storage.s3 import ObjectExists, S3Storage, expand_s3, open_s3_object, parse_s3_uri
from corpus.stats import Stats
from corpus.storage import expand_inputs, open_input, open_storage
from crawlers.warc import iter_records


def raw_client():
    return boto3.client("s3")


def test_server_answers_412_to_a_second_if_none_match_write(s3_bucket):
    """The commit protocol relies on this; without it the publish tests would pass vacuously."""
    bucket, _ = parse_s3_uri(s3_bucket)
    raw_client().put_object(Bucket=bucket, Key="manifest.json", Body=b"first", IfNoneMatch="*")
    with pytest.raises(ClientError) as caught:
        raw_client().put_object(Bucket=bucket, Key="manifest.json", Body=b"second", IfNoneMatch="*")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert raw_client().get_object(Bucket=bucket, Key="manifest.json")["Body"].read() == b"first"


def test_storage_round_trip_lists_and_deletes_under_its_prefix(s3_bucket):
    store = open_storage(f"{s3_bucket}/runs/a")
    assert isinstance(store, S3Storage)
    store.write_bytes("shards/lang=ko/part-00000.parquet", "한국어".encode())
    store.write_bytes("stats.json", b"{}")
    open_storage(f"{s3_bucket}/runs/ab").write_bytes("other.txt", b"not mine")
    assert store.read_bytes("shards/lang=ko/part-00000.parquet") == "한국어".encode()
    assert store.list() == ["shards/lang=ko/part-00000.parquet", "stats.json"]
    assert store.list("shards/") == ["shards/lang=ko/part-00000.parquet"]
    assert store.exists("stats.json") and not store.exists("nothing.json")
    store.delete("stats.json")
    assert not store.exists("stats.json")
    assert store.url("x/y") == f"{s3_bucket}/runs/a/x/y"


def test_every_request_is_metered(s3_bucket):
    store = open_storage(s3_bucket)
    before = meter.snapshot()
    store.write_bytes("a.bin", b"x" * 1000)
    store.read_bytes("a.bin")
    store.exists("a.bin")
    store.list()
    counted = meter.since(before)
    assert counted["storage_put_requests"] == 1 and counted["storage_put_bytes"] == 1000
    assert counted["storage_get_requests"] == 1 and counted["storage_get_bytes"] == 1000
    assert counted["storage_head_requests"] == 1 and counted["storage_list_requests"] == 1


def test_uploads_carry_a_sha256_checksum_the_server_checked(s3_bucket, tmp_path):
    store = open_storage(s3_bucket)
    data = b"corpus shard bytes" * 1000
    store.write_bytes("one.bin", data)
    local = tmp_path / "two.bin"
    local.write_bytes(data[::-1])
    store.upload_file("two.bin", local)
    bucket, _ = parse_s3_uri(s3_bucket)
    for key, body in (("one.bin", data), ("two.bin", data[::-1])):
        head = raw_client().head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        assert head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(body).digest()).decode()


def test_large_file_goes_up_in_parts_and_comes_back_whole(s3_bucket, tmp_path):
    part = 5 * 1024 * 1024  # the smallest part S3 accepts
    store = S3Storage(s3_bucket, part_size=part, multipart_threshold=part)
    data = (b"0123456789abcdef" * (part // 16)) * 2 + b"tail"
    local = tmp_path / "big.bin"
    local.write_bytes(data)
    before = meter.snapshot()
    store.upload_file("big.bin", local)
    assert meter.since(before)["storage_put_requests"] == 1 + 3  # create + three parts
    bucket, _ = parse_s3_uri(s3_bucket)
    assert raw_client().head_object(Bucket=bucket, Key="big.bin")["ETag"].strip('"').endswith("-3")
    store.download_file("big.bin", tmp_path / "back.bin")
    assert (tmp_path / "back.bin").read_bytes() == data
    assert raw_client().list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_create_only_write_refuses_an_existing_object(s3_bucket):
    store = open_storage(s3_bucket)
    store.create_exclusive("manifest.json", b"run A")
    with pytest.raises(ObjectExists):
        store.create_exclusive("manifest.json", b"run B")
    assert store.read_bytes("manifest.json") == b"run A"


def test_s3_object_stream_seeks_and_reads_ranges(s3_bucket):
    data = bytes(range(256)) * 4096
    open_storage(s3_bucket).write_bytes("blob.bin", data)
    with open_s3_object(f"{s3_bucket}/blob.bin") as stream:
        assert stream.read(10) == data[:10]
        stream.seek(-100, 2)
        assert stream.read() == data[-100:]
        stream.seek(500_000)
        assert stream.read(3) == data[500_000:500_003]
    with pytest.raises(FileNotFoundError):
        open_s3_object(f"{s3_bucket}/missing.warc.gz")


def test_s3_globs_and_prefixes_expand_to_objects(s3_bucket):
    store = open_storage(s3_bucket)
    for key in ("crawl/a.warc.gz", "crawl/b.warc.gz", "crawl/notes.txt", "crawl2/c.warc.gz"):
        store.write_bytes(key, b"x")
    assert expand_s3(f"{s3_bucket}/crawl/*.warc.gz") == [f"{s3_bucket}/crawl/a.warc.gz", f"{s3_bucket}/crawl/b.warc.gz"]
    assert expand_s3(f"{s3_bucket}/crawl") == [f"{s3_bucket}/crawl/{n}" for n in ("a.warc.gz", "b.warc.gz", "notes.txt")]
    assert expand_s3(f"{s3_bucket}/crawl/a.warc.gz") == [f"{s3_bucket}/crawl/a.warc.gz"]
    assert expand_inputs([f"{s3_bucket}/crawl*/*.warc.gz"]) == sorted(
        f"{s3_bucket}/{k}" for k in ("crawl/a.warc.gz", "crawl/b.warc.gz", "crawl2/c.warc.gz")
    )


def test_warc_read_from_s3_gives_the_same_records_as_from_disk(s3_bucket, data_dir):
    local = data_dir / "warc" / "dolma" / "sample-0000.warc.gz"
    uri = f"{s3_bucket}/in/sample-0000.warc.gz"
    open_storage(s3_bucket).upload_file("in/sample-0000.warc.gz", local)

    def records(path):
        found = iter_records(path, Stats(), open_input, 10 * 1024 * 1024, ("text/html",))
        return [(r.url, r.record_id, r.payload) for r in found]

    from_disk = records(str(local))
    assert len(from_disk) > 10
    assert records(uri) == from_disk


@pytest.mark.slow
def test_a_run_reading_its_warc_from_s3_gives_the_same_documents(s3_bucket, tmp_path, data_dir):
    from corpus.shards import iter_documents
    from tests.runs import run_serial

    local = data_dir / "warc" / "dolma" / "sample-0000.warc.gz"
    open_storage(s3_bucket).upload_file("crawl/sample-0000.warc.gz", local)
    from_s3 = run_serial(str(tmp_path / "from-s3"), inputs=[f"{s3_bucket}/crawl/*.warc.gz"])
    from_disk = run_serial(str(tmp_path / "from-disk"), inputs=[str(local)])
    assert from_disk.manifest["languages"]["en"]["docs"] > 5
    for lang, totals in from_disk.manifest["languages"].items():  # bytes differ: `source` names the WARC's URI
        assert (from_s3.manifest["languages"][lang]["docs"], from_s3.manifest["languages"][lang]["tokens"]) == (
            totals["docs"], totals["tokens"]
        )

    def docs(out):
        return [(d["id"], d["text"]) for d in iter_documents(str(out), columns=["id", "text"])]

    assert docs(tmp_path / "from-s3") == docs(tmp_path / "from-disk")


class Throttling(http.server.BaseHTTPRequestHandler):
    """Answers `SlowDown` (503) to the first `failures` requests, then forwards to the S3 server."""

    failures = 0
    upstream = ""
    seen: list[tuple[str, int]] = []

    def _handle(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if len(self.seen) < Throttling.failures:
            self.seen.append((self.command, 503))
            error = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
            self.send_response(503)
            self.send_header("Content-Length", str(len(error)))
            self.end_headers()
            self.wfile.write(error)
            return
        self.seen.append((self.command, 200))
        connection = http.client.HTTPConnection(*Throttling.upstream.split(":"))
        headers = {k: v for k, v in self.headers.items() if k.lower() != "expect"}
        connection.request(self.command, self.path, body=body or None, headers=headers)
        answer = connection.getresponse()
        data = answer.read()
        self.send_response(answer.status)
        for key, value in answer.getheaders():
            if key.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _handle

    def log_message(self, *args):
        pass


def test_throttled_requests_are_retried_until_they_succeed(s3_bucket, s3_endpoint, monkeypatch):
    Throttling.upstream, Throttling.failures, Throttling.seen = s3_endpoint.removeprefix("http://"), 1, []
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Throttling)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{proxy.server_address[1]}")
        store = open_storage(s3_bucket)
        store.write_bytes("stats.json", b'{"ok": true}')
        assert Throttling.seen == [("PUT", 503), ("PUT", 200)]
        assert store.read_bytes("stats.json") == b'{"ok": true}'
    finally:
        proxy.shutdown()


def test_downloaded_files_take_their_mode_from_the_umask(s3_bucket, tmp_path):
    """What `corpus pull` writes is readable by the group under umask 022, not mkstemp's 0600."""
    store = open_storage(s3_bucket)
    store.write_bytes("shards/part.parquet", b"bytes")
    old = os.umask(0o022)
    try:
        store.download_file("shards/part.parquet", tmp_path / "part.parquet")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "part.parquet").stat().st_mode) == 0o644
