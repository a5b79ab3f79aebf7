"""Signature index: what earlier runs kept, so a new run does not re-admit it.

Layout at a folder or s3:// URI (any `corpus.storage` root):
  index.json                 the MinHash/LSH settings every part was made with
  parts/<run_id>-<n>.parquet id, key (exact), bands (list<uint64>) per kept document,
                             and sig (the MinHash bytes) when the run had `verify` on
A run reads every part except its own (a rerun must not find itself) and adds
its survivors as new parts, so next month's crawl is deduplicated against this
month's corpus. Settings that differ would make band hashes incomparable, so
they are refused.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq

from corpus.storage import open_storage

INDEX_SCHEMA = pa.schema(
    [("id", pa.string()), ("key", pa.string()), ("bands", pa.list_(pa.uint64())), ("sig", pa.binary())]
)
SETTINGS_FILE = "index.json"  # the index's own layout (above), apart from a run's


class IndexMismatch(ValueError):
    """The index was built with other MinHash/LSH settings than this run's."""


class SignatureIndex:
    def __init__(self, uri: str, settings: dict) -> None:
        self.uri, self.settings = uri, settings
        self.storage = open_storage(uri)
        if self.storage.exists(SETTINGS_FILE):
            stored = json.loads(self.storage.read_bytes(SETTINGS_FILE))
            theirs, ours = stored.get("scheme", "affine32"), settings.get("scheme")
            if theirs != ours:
                raise IndexMismatch(
                    f"signature index {uri} holds {theirs!r} MinHash signatures, this run computes {ours!r}; "
                    "signatures of two schemes cannot be compared. Set `dedup.scheme: "
                    f"{theirs}` to use this index, or give `dedup.index` a new location"
                )
            if stored != settings:
                raise IndexMismatch(
                    f"signature index {uri} was built with {stored}, this run uses {settings}; "
                    "use the same dedup settings or a new index"
                )

    def parts(self, exclude_run: str) -> list[str]:
        """Index parts written by other runs than `exclude_run`, in a fixed order."""
        return [p for p in self.storage.list("parts/") if p.endswith(".parquet") and not _run_of(p) == exclude_run]

    def append(self, run_id: str, name: str, table: pa.Table) -> None:
        """Add the kept documents of one staged part; rewriting the same part is harmless."""
        if not self.storage.exists(SETTINGS_FILE):
            self.storage.write_bytes(SETTINGS_FILE, json.dumps(self.settings, sort_keys=True).encode())
        sink = pa.BufferOutputStream()
        pq.write_table(table.select(INDEX_SCHEMA.names).cast(INDEX_SCHEMA), sink, compression="zstd")
        self.storage.write_bytes(f"parts/{run_id}-{name}.parquet", sink.getvalue().to_pybytes())


def _run_of(rel: str) -> str:
    return rel.rsplit("/", 1)[-1].split("-", 1)[0]
