"""The S3 backend: S3 (or any S3-compatible store) as run storage and as an input source.

A write is one PUT, or a multipart upload completed only when every part is
in, so a reader sees the whole object or none; a create-only write sends
`If-None-Match: *`. The boto3 client is made here and nowhere else.

The client comes from boto3's standard chain: credentials from the environment,
shared files or an instance role; the endpoint from `AWS_ENDPOINT_URL` when set,
so MinIO, SeaweedFS, R2 or a test server work unchanged. Throttling and 5xx
answers are retried with exponential backoff and jitter (botocore's standard
retry mode, 10 attempts). Every upload carries
`ChecksumSHA256`, so the store itself refuses bytes damaged in transit. Every
request is counted through `corpus.accounting.meter`, because requests are part of what a
run costs.
"""

from __future__ import annotations

import fnmatch
import io
import os
import threading
from pathlib import Path
from typing import Any, BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from corpus.accounting import meter
from corpus.storage.atomic import atomic_file

MULTIPART_THRESHOLD = 64 * 1024 * 1024
PART_SIZE = 64 * 1024 * 1024
READ_BUFFER = 8 * 1024 * 1024
RETRIES = Config(retries={"max_attempts": 10, "mode": "standard"}, connect_timeout=10, read_timeout=120)
GLOB_CHARS = "*?["
S3_SCHEME = "s3://"


class ObjectExists(FileExistsError):
    """A create-only write found the object already there (HTTP 412)."""


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/key/path` -> (`bucket`, `key/path`); the key may be empty."""
    if not uri.startswith(S3_SCHEME):
        raise ValueError(f"not an s3:// URI: {uri!r}")
    bucket, _, key = uri[len(S3_SCHEME) :].partition("/")
    if not bucket:
        raise ValueError(f"no bucket in {uri!r}: expected s3://BUCKET/PREFIX")
    return bucket, key


def s3_client():
    """One client per process and endpoint setting; boto3 clients are thread-safe."""
    key = (os.getpid(), os.environ.get("AWS_ENDPOINT_URL"), os.environ.get("AWS_ENDPOINT_URL_S3"))
    with _clients_lock:
        if key not in _clients:
            _clients[key] = boto3.session.Session().client("s3", config=RETRIES)
        return _clients[key]


_clients: dict[tuple, Any] = {}
_clients_lock = threading.Lock()


class S3Storage:
    """A bucket prefix holding a run; relative paths use '/' like LocalStorage."""

    def __init__(self, uri: str, part_size: int = PART_SIZE, multipart_threshold: int = MULTIPART_THRESHOLD) -> None:
        self.bucket, prefix = parse_s3_uri(uri.rstrip("/"))
        self.prefix = f"{prefix}/" if prefix else ""
        self.uri = f"s3://{self.bucket}/{prefix}".rstrip("/")
        self.part_size, self.multipart_threshold = part_size, multipart_threshold

    def key(self, rel: str) -> str:
        return self.prefix + rel

    def url(self, rel: str) -> str:
        return f"s3://{self.bucket}/{self.key(rel)}"

    def checked_url(self, rel: str) -> str:
        """The URL of `rel`: a key has no symlinks to lead it out of the prefix."""
        return self.url(rel)

    def write_bytes(self, rel: str, data: bytes) -> None:
        self._put(rel, data)

    def create_exclusive(self, rel: str, data: bytes) -> None:
        """Create `rel` only if no object is there (`If-None-Match: *`); else raise
        ObjectExists, a FileExistsError as for local storage."""
        try:
            self._put(rel, data, IfNoneMatch="*")
        except ClientError as exc:
            if _status(exc) == 412 or _code(exc) == "PreconditionFailed":
                raise ObjectExists(self.url(rel)) from None
            raise

    def upload_file(self, rel: str, local_path: str | Path) -> None:
        size = os.path.getsize(local_path)
        if size < self.multipart_threshold:
            self._put(rel, Path(local_path).read_bytes())
        else:
            self._multipart(rel, Path(local_path))

    def read_bytes(self, rel: str) -> bytes:
        body = get_object(self.bucket, self.key(rel))["Body"].read()
        meter.count_request("GET", len(body))
        return body

    def download_file(self, rel: str, local_path: str | Path) -> None:
        """Streams to a temp file beside `local_path`, renamed into place when whole."""
        n = 0
        try:
            with atomic_file(Path(local_path), suffix=".part") as tmp:
                body = get_object(self.bucket, self.key(rel))["Body"]
                with open(tmp, "wb") as handle:
                    for chunk in body.iter_chunks(1024 * 1024):
                        handle.write(chunk)
                        n += len(chunk)
        finally:
            meter.count_request("GET", n)

    def exists(self, rel: str) -> bool:
        return head_object(self.bucket, self.key(rel)) is not None

    def list(self, prefix: str = "") -> list[str]:
        return sorted(key[len(self.prefix) :] for key in list_keys(self.bucket, self.key(prefix)))

    def delete(self, rel: str) -> None:
        s3_client().delete_object(Bucket=self.bucket, Key=self.key(rel))
        meter.count_request("DELETE")

    def _put(self, rel: str, data: bytes, **extra: Any) -> None:
        meter.count_request("PUT", len(data))
        s3_client().put_object(
            Bucket=self.bucket, Key=self.key(rel), Body=data, ChecksumAlgorithm="SHA256", **extra
        )

    def _multipart(self, rel: str, local_path: Path) -> None:
        """Parts of `part_size`, each with its own SHA-256; aborted on any failure so
        no half-object and no orphaned parts stay behind."""
        client, key = s3_client(), self.key(rel)
        meter.count_request("PUT")
        upload_id = client.create_multipart_upload(Bucket=self.bucket, Key=key, ChecksumAlgorithm="SHA256")["UploadId"]
        parts = []
        try:
            with open(local_path, "rb") as handle:
                while chunk := handle.read(self.part_size):
                    number = len(parts) + 1
                    meter.count_request("PUT", len(chunk))
                    answer = client.upload_part(
                        Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number,
                        Body=chunk, ChecksumAlgorithm="SHA256",
                    )
                    parts.append({"PartNumber": number, "ETag": answer["ETag"], "ChecksumSHA256": answer["ChecksumSHA256"]})
            meter.count_request("POST")
            client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except BaseException:
            meter.count_request("DELETE")
            client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise


def get_object(bucket: str, key: str, **extra: Any) -> dict:
    """The GET answer (its `Body` still to read); FileNotFoundError when there is no such object."""
    try:
        return s3_client().get_object(Bucket=bucket, Key=key, **extra)
    except ClientError as exc:
        if _code(exc) in ("NoSuchKey", "404"):
            raise FileNotFoundError(f"s3://{bucket}/{key}: no such object") from None
        raise


def head_object(bucket: str, key: str) -> dict | None:
    """The object's metadata, or None when there is no such object."""
    meter.count_request("HEAD")
    try:
        return s3_client().head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if _status(exc) == 404 or _code(exc) in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def list_keys(bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    for page in s3_client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        meter.count_request("LIST")
        keys.extend(obj["Key"] for obj in page.get("Contents", []))
    return keys


def open_s3_object(uri: str) -> io.BufferedReader:
    """A seekable binary stream over one object, read in ranged GETs of READ_BUFFER.

    Seekable so Parquet readers fetch only the footer and the row groups they
    need; sequential readers (WARC) see one GET per buffer. Raises
    FileNotFoundError when there is no such object.
    """
    bucket, key = parse_s3_uri(uri)
    head = head_object(bucket, key)
    if head is None:
        raise FileNotFoundError(f"{uri}: no such object")
    return io.BufferedReader(_RangeReader(bucket, key, int(head["ContentLength"])), buffer_size=READ_BUFFER)


def expand_s3(pattern: str) -> list[str]:
    """Object URIs matching an s3:// glob, or the object itself, or every object under a prefix."""
    bucket, key = parse_s3_uri(pattern)
    glob_at = min((key.index(c) for c in GLOB_CHARS if c in key), default=None)
    if glob_at is None:
        if key and head_object(bucket, key) is not None:
            return [pattern]
        prefix = key if not key or key.endswith("/") else key + "/"
        return [f"s3://{bucket}/{k}" for k in list_keys(bucket, prefix) if not k.endswith("/")]
    keys = list_keys(bucket, key[:glob_at])
    return [f"s3://{bucket}/{k}" for k in keys if fnmatch.fnmatchcase(k, key)]


class S3Backend:
    """`s3://BUCKET/KEY` on AWS or any S3-compatible store."""

    local = False

    def open_storage(self, uri: str) -> S3Storage:
        return S3Storage(uri)

    def open_input(self, uri: str) -> BinaryIO:
        return open_s3_object(uri)

    def input_identity(self, uri: str) -> dict[str, object]:
        head = head_object(*parse_s3_uri(uri))
        if head is None:
            return {"size": None}
        return {"size": int(head["ContentLength"]), "etag": head.get("ETag")}

    def expand(self, pattern: str) -> list[str]:
        return expand_s3(pattern)

    def read_range(self, uri: str, start: int, end: int) -> bytes:
        """Bytes [start, end) of the object, in one ranged GET; FileNotFoundError when it is not there."""
        try:
            answer = get_object(*parse_s3_uri(uri), Range=f"bytes={start}-{end - 1}")
        except (ClientError, FileNotFoundError):
            meter.count_request("GET")
            raise
        data = answer["Body"].read()
        meter.count_request("GET", len(data))
        return data


class _RangeReader(io.RawIOBase):
    def __init__(self, bucket: str, key: str, size: int) -> None:
        self.bucket, self.key, self.size, self.pos = bucket, key, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def readinto(self, buffer) -> int:
        if self.pos >= self.size or len(buffer) == 0:
            return 0
        end = min(self.size, self.pos + len(buffer)) - 1
        answer = s3_client().get_object(Bucket=self.bucket, Key=self.key, Range=f"bytes={self.pos}-{end}")
        data = answer["Body"].read()
        meter.count_request("GET", len(data))
        buffer[: len(data)] = data
        self.pos += len(data)
        return len(data)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
