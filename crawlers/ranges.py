"""Fetching only the selected records of a WARC file, by byte-range GETs.

Common Crawl writes every WARC record as its own gzip member, so the bytes
`[offset, offset + length)` named by the index are a complete, readable
one-record WARC. Records closer together than `max_gap_bytes` share one GET
(a request costs about as much as a few KB of transfer), and GETs run
`concurrency` at a time because each one waits on the network. Each GET is
`corpus.storage.read_range`, which counts every request and byte through
`corpus.accounting.meter`, so cost.json prices what was actually fetched.
"""

from __future__ import annotations

import io
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Iterator, Sequence

from corpus.config import SelectConfig
from corpus.stats import Stats
from corpus.storage import read_range
from crawlers.warc import WarcRecord, iter_records

Range = tuple[int, int]  # (offset, length) of one record in its WARC file


@dataclass(frozen=True)
class Span:
    """One GET: bytes [start, end) of a file, covering the records in `members`."""

    start: int
    end: int
    members: tuple[Range, ...]


def iter_ranged_records(
    uri: str,
    ranges: Sequence[Range],
    stats: Stats,
    cfg: SelectConfig,
    max_payload_bytes: int,
    mime_types: tuple[str, ...],
) -> Iterator[WarcRecord]:
    """The page records at `ranges` of the WARC file `uri`, as `iter_records` gives them.

    Each record's `source` is `uri#offset` with its offset in the whole file,
    exactly as reading the whole file would name it, so document ids and
    sources do not depend on how the record was fetched.
    """
    for offset, member in fetch_members(uri, ranges, stats, cfg):
        source = f"{uri}#{offset}"
        for page in iter_records(source, stats, _opened(member), max_payload_bytes, mime_types):
            if page.record_id == f"<{page.source}>":
                page.record_id = f"<{source}>"
            page.source = source
            yield page


def fetch_members(uri: str, ranges: Sequence[Range], stats: Stats, cfg: SelectConfig) -> Iterator[tuple[int, bytes]]:
    """(offset, bytes) of each requested record, in offset order.

    A missing file or a failed GET is counted in `stats.errors` and costs only
    the records it covers; a record the file is too short for is reported as
    `short_range`.
    """
    spans = coalesce(ranges, cfg.max_gap_bytes, cfg.max_span_bytes)
    if not spans:
        return
    with ThreadPoolExecutor(max_workers=min(cfg.concurrency, len(spans)), thread_name_prefix="range-get") as pool:
        pending: deque[tuple[Span, Future]] = deque()
        queue = iter(spans)
        for span in queue:  # keep `concurrency` GETs ahead of the reader, no more
            pending.append((span, pool.submit(read_range, uri, span.start, span.end)))
            if len(pending) >= cfg.concurrency:
                break
        while pending:
            span, future = pending.popleft()
            nxt = next(queue, None)
            if nxt is not None:
                pending.append((nxt, pool.submit(read_range, uri, nxt.start, nxt.end)))
            yield from _split(uri, span, future, stats)


def coalesce(ranges: Sequence[Range], max_gap: int, max_span: int) -> list[Span]:
    """Group sorted, non-overlapping record ranges into GETs.

    A record joins the current GET when the gap before it is at most `max_gap`
    bytes and the GET stays within `max_span` bytes (a record longer than
    `max_span` gets a GET of its own).
    """
    spans: list[Span] = []
    members: list[Range] = []
    start = end = 0
    for offset, length in sorted(ranges):
        if length <= 0:
            continue
        if members and offset - end <= max_gap and offset + length - start <= max_span and offset >= end:
            members.append((offset, length))
            end = offset + length
            continue
        if members:
            spans.append(Span(start, end, tuple(members)))
        members, start, end = [(offset, length)], offset, offset + length
    if members:
        spans.append(Span(start, end, tuple(members)))
    return spans


def _split(uri: str, span: Span, future: Future, stats: Stats) -> Iterator[tuple[int, bytes]]:
    try:
        data = future.result()
    except FileNotFoundError:
        stats.error("missing_file", uri, "no such file")
        return
    except Exception as exc:  # noqa: BLE001 - network and store errors: lose this span's records only
        stats.error("range_get_failed", f"{uri} bytes={span.start}-{span.end - 1}", f"{type(exc).__name__}: {exc}")
        return
    for offset, length in span.members:
        member = data[offset - span.start : offset - span.start + length]
        if len(member) < length:
            stats.error("short_range", f"{uri}#{offset}", f"asked for {length} bytes, the file had {len(member)}")
            continue
        yield offset, member


def _opened(member: bytes):
    return lambda _uri: io.BytesIO(member)
