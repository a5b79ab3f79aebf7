"""WARC files a crawl partition writes: request and response records, gzip per record, rotated by size.

Names are deterministic, `{prefix}-{partition:05d}-{sequence:05d}.warc.gz`, so a
rerun or a resumed crawl continues the same series. Each file opens with a
warcinfo record. Opening a partition repairs a file cut short by a kill (the
torn last record is cut off) and reports which URLs are already archived, which
is what lets a resumed crawl refetch nothing.
"""

from __future__ import annotations

import io
import logging
import re
import zlib
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawlers.fetch import Exchange

log = logging.getLogger(__name__)


class PartitionWarcWriter:
    """Appends exchanges to the WARC series of one host partition."""

    def __init__(
        self,
        out_dir: Path,
        prefix: str,
        partition: int,
        max_bytes: int,
        software: str,
        first_sequence: int = 0,
        gzip_level: int = 6,
    ) -> None:
        self.out_dir, self.prefix, self.partition = Path(out_dir), prefix, partition
        self.max_bytes, self.software, self.gzip_level = max_bytes, software, gzip_level
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.archived: set[str] = set()
        self.repaired_bytes = 0
        existing = self.files()
        for path in existing:
            self._scan(path, repair=path == existing[-1])
        self._sequence = _sequence_of(existing[-1]) if existing else 0
        if existing and existing[-1].stat().st_size >= max_bytes:
            self._sequence += 1
        self._sequence = max(self._sequence, first_sequence)  # files already published elsewhere
        self._handle = None
        self._writer: WARCWriter | None = None

    def files(self) -> list[Path]:
        """This partition's WARC files, in sequence order."""
        pattern = re.compile(rf"^{re.escape(self.prefix)}-{self.partition:05d}-(\d{{5,}})\.warc\.gz$")
        return sorted((p for p in self.out_dir.iterdir() if pattern.match(p.name)), key=_sequence_of)

    def write(self, exchange: Exchange) -> None:
        """Archive one exchange as a response record and its request record; flushed on return."""
        writer = self._open()
        date = datetime.fromtimestamp(exchange.fetched_at, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        warc_headers = {"WARC-Date": date}
        if exchange.peer:
            warc_headers["WARC-IP-Address"] = exchange.peer
        response = writer.create_warc_record(
            exchange.url,
            "response",
            payload=io.BytesIO(exchange.body),
            http_headers=StatusAndHeaders(
                f"{exchange.status} {exchange.reason}".strip(), exchange.response_headers, protocol="HTTP/1.1"
            ),
            warc_headers_dict=dict(warc_headers),
        )
        request = writer.create_warc_record(
            exchange.url,
            "request",
            payload=io.BytesIO(b""),
            http_headers=StatusAndHeaders(
                f"GET {_request_target(exchange.url)} HTTP/1.1", exchange.request_headers, is_http_request=True
            ),
            warc_headers_dict={**warc_headers, "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID")},
        )
        writer.write_record(request)
        writer.write_record(response)
        self._handle.flush()
        self.archived.add(exchange.url)
        if self._handle.tell() >= self.max_bytes:
            self.rotate()

    def rotate(self) -> None:
        """Close the file being written, if any, so it can be published whole; the next record opens the next file."""
        if self._handle is not None:
            self._close_file()
            self._sequence += 1

    def close(self) -> None:
        self._close_file()

    @property
    def current_path(self) -> Path:
        return self.out_dir / f"{self.prefix}-{self.partition:05d}-{self._sequence:05d}.warc.gz"

    def _open(self) -> WARCWriter:
        if self._writer is None:
            path = self.current_path
            fresh = not path.exists() or path.stat().st_size == 0
            self._handle = open(path, "ab")
            self._writer = _LevelledWARCWriter(self._handle, self.gzip_level)
            if fresh:
                info = {"software": self.software, "format": "WARC File Format 1.1", "partition": str(self.partition)}
                self._writer.write_record(self._writer.create_warcinfo_record(path.name, info))
        return self._writer

    def _close_file(self) -> None:
        if self._handle is not None:
            self._handle.close()
        self._handle, self._writer = None, None

    def _scan(self, path: Path, repair: bool) -> None:
        """Collect archived response URLs; cut a torn tail off the last file first."""
        if repair:
            good_end, size = _complete_members_end(path), path.stat().st_size
            if good_end < size:
                with open(path, "r+b") as handle:
                    handle.truncate(good_end)
                self.repaired_bytes = size - good_end
                log.warning("%s: cut %d bytes of an unfinished record", path, self.repaired_bytes)
        with open(path, "rb") as handle:
            try:
                for record in ArchiveIterator(handle, check_digests=False):
                    url = record.rec_headers.get_header("WARC-Target-URI")
                    if record.rec_type == "response" and url:
                        self.archived.add(url)
            except (ArchiveLoadFailed, zlib.error, EOFError, OSError, ValueError) as exc:
                log.warning("%s: unreadable after %d archived URLs (%s)", path, len(self.archived), exc)


class _LevelledWARCWriter(WARCWriter):
    """warcio's writer, each record one gzip member at a chosen level: warcio fixes
    level 9, which on HTML costs the crawler about 8% more CPU per page than level 6
    for files 0.5% smaller (bench/crawl.py)."""

    def __init__(self, handle, level: int) -> None:
        super().__init__(handle, gzip=False, warc_version="1.1")
        self.level = level

    def write_record(self, record, params=None) -> None:
        plain = io.BytesIO()
        self._write_warc_record(plain, record)
        member = zlib.compressobj(self.level, zlib.DEFLATED, zlib.MAX_WBITS + 16)
        self.out.write(member.compress(plain.getbuffer()) + member.flush())


def _complete_members_end(path: Path) -> int:
    """Byte offset where the last complete gzip member (one record) of `path` ends."""
    end = position = 0
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            while chunk:
                try:
                    decompressor.decompress(chunk)
                except zlib.error:
                    return end
                if not decompressor.eof:
                    position += len(chunk)
                    break
                position += len(chunk) - len(decompressor.unused_data)
                end, chunk = position, decompressor.unused_data
                decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    return end


def _sequence_of(path: Path) -> int:
    return int(path.name.rsplit("-", 1)[1].split(".", 1)[0])


def _request_target(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
