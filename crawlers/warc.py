"""Reading WARC (and legacy ARC) files into candidate page records.

The reader never raises for bad input: a corrupt or truncated file yields the
records before the damage and reports the damage in `Stats.errors`; a record
it cannot use comes back with a `problem` so the read stage drops it with that
reason. So one bad file (or record) never costs the good ones beside it.
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass
from typing import BinaryIO, Callable, Iterator

import brotli
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import BufferedReader
from warcio.exceptions import ArchiveLoadFailed

from corpus.stats import Stats

PAGE_RECORD_TYPES = ("response", "resource")


class _BrotliDecompressor:
    """warcio sets `unused_data` on brotli's decompressor, which brotli >= 1.1
    no longer allows, so `Content-Encoding: br` bodies fail; this adapter gives
    warcio the zlib-like interface it expects."""

    def __init__(self) -> None:
        self._inner = brotli.Decompressor()
        self.unused_data = None

    def decompress(self, data: bytes) -> bytes:
        return self._inner.process(data)

    def flush(self) -> bytes:
        return b""


BufferedReader.DECOMPRESSORS["br"] = _BrotliDecompressor


@dataclass(slots=True)
class WarcRecord:
    """One response (or resource) record, payload already de-chunked and decompressed."""

    url: str | None
    record_id: str
    fetch_time: str | None
    source: str
    status: int | None
    content_type: str | None
    payload: bytes | None
    payload_size: int
    truncated: bool
    problem: str | None = None


Opener = Callable[[str], BinaryIO]


def iter_records(
    uri: str, stats: Stats, opener: Opener, max_payload_bytes: int, mime_types: tuple[str, ...]
) -> Iterator[WarcRecord]:
    """Yield the page records of one WARC/ARC file, counting everything else.

    `opener` opens the URI as a binary stream (local file or S3 object).
    """
    try:
        stream = opener(uri)
    except FileNotFoundError:
        stats.error("missing_file", uri, "no such file")
        return
    except OSError as exc:
        stats.error("unreadable_file", uri, str(exc))
        return
    with stream:
        head = stream.read(_SNIFF_BYTES)
        if not head:
            stats.error("empty_file", uri, "the file is empty")
            return
        if not _looks_like_archive(head):
            stats.error("not_warc", uri, f"does not start like a WARC or ARC file: {head[:40]!r}")
            return
        yield from _iterate(uri, _Prefixed(head, stream), stats, max_payload_bytes, mime_types)


def _iterate(
    uri: str, stream: BinaryIO, stats: Stats, max_payload_bytes: int, mime_types: tuple[str, ...]
) -> Iterator[WarcRecord]:
    iterator = ArchiveIterator(stream, arc2warc=True, check_digests=False)
    seen = 0
    try:
        for record in iterator:
            seen += 1
            stats.bump("records_read")
            stats.bump(f"records_{record.rec_type}")
            if record.rec_type not in PAGE_RECORD_TYPES:
                continue
            page = _page_record(uri, record, max_payload_bytes, mime_types, stats)
            # The offset is known only once the record has been read to its end;
            # bytes still owed then mean the file itself was cut short.
            page.source = f"{uri}#{iterator.get_record_offset()}"
            page.record_id = page.record_id or f"<{page.source}>"
            missing = getattr(record.raw_stream, "limit", 0)
            if missing:
                page.truncated = True
                stats.error("truncated_file", uri, f"record {seen} ({page.url}) is missing {missing} bytes")
            yield page
    except ArchiveLoadFailed as exc:
        kind = "not_warc" if seen == 0 else "corrupt_warc"
        stats.error(kind, uri, _first_line(exc))
    except (zlib.error, EOFError, OSError) as exc:
        stats.error("corrupt_gzip", uri, f"after {seen} records: {_first_line(exc)}")
    except (ValueError, IndexError, UnicodeDecodeError) as exc:
        stats.error("corrupt_warc", uri, f"after {seen} records: {_first_line(exc)}")
    if seen == 0 and not _has_error_for(stats, uri):
        stats.error("empty_file", uri, "no WARC records")


def _page_record(
    uri: str, record, max_payload_bytes: int, mime_types: tuple[str, ...], stats: Stats
) -> WarcRecord:
    headers = record.rec_headers
    http = record.http_headers
    status = None
    content_type = headers.get_header("Content-Type")
    if http is not None:
        try:
            status = int(http.get_statuscode() or 0) or None
        except (TypeError, ValueError):
            status = None
        content_type = http.get_header("Content-Type") or content_type
    page = WarcRecord(
        url=headers.get_header("WARC-Target-URI"),
        record_id=headers.get_header("WARC-Record-ID") or "",
        fetch_time=headers.get_header("WARC-Date"),
        source=uri,
        status=status,
        content_type=content_type,
        payload=None,
        payload_size=0,
        truncated=bool(headers.get_header("WARC-Truncated")),
    )
    if status is not None and status != 200:
        page.problem = "http_status"
        return page
    if not _is_page_type(content_type, mime_types):
        page.problem = "not_html"
        return page
    try:
        body = record.content_stream().read(max_payload_bytes + 1)
    except Exception as exc:  # noqa: BLE001 - any codec failure means this body is unusable
        stats.error("undecodable_body", f"{uri} {page.url}", _first_line(exc))
        page.problem = "undecodable_body"
        return page
    page.payload_size = len(body)
    if len(body) > max_payload_bytes:
        page.problem = "too_large"
        return page
    page.payload = body
    return page


def _is_page_type(content_type: str | None, mime_types: tuple[str, ...]) -> bool:
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    return not mime or mime in mime_types  # many old crawls omit the type; extraction decides


_SNIFF_BYTES = 64 * 1024
_ARCHIVE_STARTS = (b"WARC/", b"filedesc://")


def _looks_like_archive(head: bytes) -> bool:
    """WARC files start with 'WARC/', ARC files with 'filedesc://', gzipped or not."""
    if head[:2] == b"\x1f\x8b":
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 64)
        except zlib.error:
            return False
    return head.lstrip(b"\r\n").startswith(_ARCHIVE_STARTS)


class _Prefixed(io.RawIOBase):
    """A stream whose first bytes were already read for sniffing (S3 bodies cannot seek)."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head, self._rest = memoryview(head), rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _has_error_for(stats: Stats, uri: str) -> bool:
    return any(ex.startswith(uri) for slot in stats.errors.values() for ex in slot["examples"])


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"
