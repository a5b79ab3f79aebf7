"""The document contract every stage reads and extends.

A stage adds columns and never renames or drops another stage's column, so the
schema grows left to right along the pipeline. Column order here is the order in
the final shards.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

import pyarrow as pa

from corpus.timestamps import DATE_TYPE, FETCH_TIME_TYPE

# Columns produced by reading and extracting one WARC record.
RECORD_FIELDS: list[pa.Field] = [
    pa.field("id", pa.string(), nullable=False),
    pa.field("url", pa.string()),
    pa.field("domain", pa.string()),
    pa.field("fetch_time", FETCH_TIME_TYPE),
    pa.field("source", pa.string()),
    pa.field("charset", pa.string()),
    pa.field("truncated", pa.bool_()),
    pa.field("title", pa.string()),
    pa.field("date", DATE_TYPE),
    pa.field("text", pa.string()),
    pa.field("n_chars", pa.int64()),
]

LANG_FIELDS: list[pa.Field] = [
    pa.field("lang", pa.string()),
    pa.field("lang_score", pa.float32()),
]

RECORD_SCHEMA = pa.schema(RECORD_FIELDS)
DOC_SCHEMA = pa.schema(RECORD_FIELDS + LANG_FIELDS)

# Dropped documents keep this much of themselves in `_work/dropped/`: enough to
# account for every document that left, not the text itself.
DROPPED_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string()),
        pa.field("url", pa.string()),
        pa.field("lang", pa.string()),
        pa.field("stage", pa.string()),
        pa.field("drop_reason", pa.string()),
        pa.field("n_bytes", pa.int64()),
    ]
)


def doc_id(target_uri: str, record_id: str) -> str:
    """Stable document id: the same record gets the same id wherever its WARC lives.

    WARC-Record-ID is globally unique by the WARC standard, the target URI makes
    the id meaningful for records that reuse ids (some old crawlers do).
    """
    digest = hashlib.sha256(f"{target_uri}\n{record_id}".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:32]


def domain_of(url: str | None) -> str | None:
    """Registered host of a URL, lower-cased, without port or `www.`."""
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if not host:
        return None
    return host[4:] if host.startswith("www.") else host


def empty_table(schema: pa.Schema) -> pa.Table:
    return schema.empty_table()
