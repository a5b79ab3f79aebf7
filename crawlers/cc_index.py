"""Choosing Common Crawl records from its URL indexes, before any WARC byte is fetched.

Common Crawl describes every capture twice: in the columnar index (Parquet, one
row per capture with language, MIME type, TLD and the record's place in its
WARC file) and in the CDX index (one line per capture: `SURT TIMESTAMP {json}`,
or bare JSON). Both are read here into one Arrow table of wanted records,
sorted by WARC file and offset, so crawlers/ranges.py can fetch just their
bytes. Korean is under 1% of a crawl: choosing here is where the money is saved.
"""

from __future__ import annotations

import gzip
import json
from typing import BinaryIO, Iterator
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from corpus.config import SelectConfig
from corpus.stats import Stats
from corpus.storage import expand_inputs, open_input

# Index columns a selection reads (Common Crawl's names); the rest are never fetched.
INDEX_COLUMNS = [
    "url",
    "url_host_name",
    "url_host_tld",
    "content_languages",
    "content_mime_detected",
    "fetch_status",
    "warc_filename",
    "warc_record_offset",
    "warc_record_length",
]
CDX_BATCH_ROWS = 100_000

SELECTION_SCHEMA = pa.schema(
    [
        pa.field("url", pa.string()),
        pa.field("url_host_name", pa.string()),
        pa.field("url_host_tld", pa.string()),
        pa.field("content_languages", pa.string()),
        pa.field("content_mime_detected", pa.string()),
        pa.field("fetch_status", pa.int32()),
        pa.field("warc_filename", pa.string()),
        pa.field("warc_record_offset", pa.int64()),
        pa.field("warc_record_length", pa.int64()),
    ]
)


class BadIndex(ValueError):
    """An index file that cannot be used; the message names the file and what is wrong."""


def select_records(cfg: SelectConfig, stats: Stats | None = None) -> pa.Table:
    """Rows of every index file in `cfg.index` that pass the filters of `cfg`.

    Returns SELECTION_SCHEMA rows sorted by (warc_filename, warc_record_offset),
    each capture once. Counters `index_rows_scanned` and `index_rows_selected`
    go to `stats`. Raises BadIndex for a Parquet file that is not a usable
    columnar index (CDX lines that cannot be parsed are counted and skipped).
    """
    stats = stats if stats is not None else Stats()
    expression = selection_filter(cfg)
    parts = []
    for uri in expand_inputs(cfg.index):
        part, scanned = _read_index(uri, expression, stats)
        stats.bump("index_rows_scanned", scanned)
        parts.append(part)
    table = _unique_sorted(pa.concat_tables(parts) if parts else SELECTION_SCHEMA.empty_table())
    stats.bump("index_rows_selected", table.num_rows)
    return table


def selection_filter(cfg: SelectConfig) -> pc.Expression:
    """The filters of `cfg` as one Arrow expression over index columns.

    As an expression it is pushed down into the Parquet reader, which skips
    row groups whose statistics rule them out (the columnar index is sorted by
    SURT key, so a TLD filter skips most of a file).
    """
    expression = pc.is_valid(pc.field("warc_filename"))
    if cfg.languages:
        codes = "|".join(sorted(set(cfg.languages)))
        pattern = f"^({codes})(,|$)" if cfg.primary_language_only else f"(^|,)({codes})(,|$)"
        expression &= pc.match_substring_regex(pc.field("content_languages"), pattern)
    if cfg.tlds:
        expression &= pc.field("url_host_tld").isin([t.lower().lstrip(".") for t in cfg.tlds])
    if cfg.hosts:
        expression &= _host_filter([h.lower() for h in cfg.hosts])
    if cfg.mime_types:
        expression &= pc.field("content_mime_detected").isin(cfg.mime_types)
    if cfg.fetch_status:
        expression &= pc.field("fetch_status").isin(cfg.fetch_status)
    return expression


def read_cdx(stream: BinaryIO, source: str, stats: Stats, batch_rows: int = CDX_BATCH_ROWS) -> Iterator[pa.Table]:
    """CDX lines (`SURT TIMESTAMP {json}` or bare `{json}`, gzipped or not) as tables of index rows.

    Streams: a Common Crawl CDX file is about a gigabyte unpacked, so rows come
    in tables of `batch_rows`. A line that cannot be parsed, or lacks the
    record's location, is counted as a `bad_index_line` error and skipped.
    """
    lines = gzip.GzipFile(fileobj=stream) if stream.peek(2)[:2] == b"\x1f\x8b" else stream
    rows: dict[str, list] = {field.name: [] for field in SELECTION_SCHEMA}
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        try:
            entry = _cdx_entry(line)
        except (ValueError, KeyError, TypeError) as exc:
            stats.error("bad_index_line", f"{source}:{number}", f"{type(exc).__name__}: {exc}")
            continue
        for name, value in entry.items():
            rows[name].append(value)
        if len(rows["url"]) >= batch_rows:
            yield pa.table(rows, schema=SELECTION_SCHEMA)
            rows = {name: [] for name in rows}
    yield pa.table(rows, schema=SELECTION_SCHEMA)


def _read_index(uri: str, expression: pc.Expression, stats: Stats) -> tuple[pa.Table, int]:
    with open_input(uri) as stream:
        if uri.endswith(".parquet") or stream.peek(4)[:4] == b"PAR1":
            # The Parquet reader plans its own (coalesced) reads of just the needed
            # column chunks; a read-ahead buffer under it would fetch more than the file.
            return _read_parquet(uri, getattr(stream, "raw", stream), expression)
        kept, scanned = [], 0
        for batch in read_cdx(stream, uri, stats):
            scanned += batch.num_rows
            kept.append(batch.filter(expression))
    return pa.concat_tables(kept), scanned


def _read_parquet(uri: str, stream, expression: pc.Expression) -> tuple[pa.Table, int]:
    """One footer read, then only the column chunks of row groups the filter's statistics allow."""
    try:
        fragment = ds.ParquetFileFormat().make_fragment(stream)
        names = set(fragment.physical_schema.names)
        scanned = fragment.metadata.num_rows
    except (pa.ArrowInvalid, OSError) as exc:
        raise BadIndex(f"{uri}: not a readable Parquet index ({exc})") from None
    missing = [c for c in INDEX_COLUMNS if c not in names and c != "url_host_name"]
    if missing:
        raise BadIndex(f"{uri}: index lacks column(s) {', '.join(missing)}; expected Common Crawl's columnar index")
    columns = [c for c in INDEX_COLUMNS if c in names]
    if "url_host_name" in names:
        table = fragment.to_table(columns=columns, filter=expression)
    else:  # older indexes: derive the host, then filter here
        table = fragment.to_table(columns=columns)
        table = table.append_column("url_host_name", pa.array([_host(u) for u in table["url"].to_pylist()]))
        table = table.filter(expression)
    return table.select(SELECTION_SCHEMA.names).cast(SELECTION_SCHEMA), scanned


def _host_filter(hosts: list[str]) -> pc.Expression:
    """Exact host names, plus whole domains for entries written '.example.com'."""
    host = pc.field("url_host_name")
    exact = [h for h in hosts if not h.startswith(".")]
    expression = host.isin(exact + [h[1:] for h in hosts if h.startswith(".")])
    for suffix in (h for h in hosts if h.startswith(".")):
        expression |= pc.ends_with(host, suffix)
    return expression


def _cdx_entry(line: bytes) -> dict:
    start = line.index(b"{")
    fields = json.loads(line[start:])
    url = fields["url"]
    host = _host(url)
    status = fields.get("status")
    return {
        "url": url,
        "url_host_name": host,
        "url_host_tld": host.rsplit(".", 1)[-1] if host else None,
        "content_languages": fields.get("languages"),
        "content_mime_detected": fields.get("mime-detected") or fields.get("mime"),
        "fetch_status": int(status) if status not in (None, "", "-") else None,
        "warc_filename": fields["filename"],
        "warc_record_offset": int(fields["offset"]),
        "warc_record_length": int(fields["length"]),
    }


def _host(url: str | None) -> str | None:
    try:
        return (urlsplit(url).hostname or None) if url else None
    except ValueError:
        return None


def _unique_sorted(table: pa.Table) -> pa.Table:
    """Sorted by WARC file and offset; a capture listed twice (overlapping index files) once."""
    table = table.sort_by([("warc_filename", "ascending"), ("warc_record_offset", "ascending")])
    files, offsets = table["warc_filename"].to_pylist(), table["warc_record_offset"].to_pylist()
    keep = [i == 0 or (files[i], offsets[i]) != (files[i - 1], offsets[i - 1]) for i in range(len(files))]
    return table.filter(pa.array(keep, pa.bool_()))
