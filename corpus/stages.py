"""The stage contract, and the one place where documents leave the pipeline.

A stage (the language screen, extraction, language ID, quality, PII, a
deduplicator's signatures, token counting) only *decides*: it adds columns and
returns a reason column, null where the document stays. `apply_decisions` does the rest the same
way for every stage: splits kept from dropped, counts both per language and
reason, and hands the dropped rows back so the caller can record them. No stage
counts for itself, so no stage can forget to.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Iterator, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from corpus.stats import UNKNOWN_LANG, Stats


class Stage(Protocol):
    """One step of a work unit over a batch of documents (ray_jobs/unit.py lists them in order).

    `apply` returns the batch with the stage's columns added (same rows, no
    column renamed or dropped, except extraction, which turns pages into
    documents) and each row's drop reason (null = keep), or None when the stage
    never drops. `stats` is for errors worth recording (a page that timed out);
    the counting is `apply_decisions`'s.
    """

    name: str

    def apply(self, table: pa.Table, stats: Stats) -> tuple[pa.Table, pa.Array | None]: ...


def text_bytes(table: pa.Table, column: str = "text") -> pa.Array:
    """UTF-8 size of each document's text, 0 where there is none."""
    if table.num_rows == 0:
        return pa.array([], pa.int64())
    return pc.fill_null(pc.binary_length(table[column]), 0).cast(pa.int64()).combine_chunks()


def apply_decisions(
    table: pa.Table,
    reasons: pa.Array | pa.ChunkedArray | list[str | None],
    stage: str,
    stats: Stats,
    sizes: pa.Array | None = None,
    sizes_out: pa.Array | None = None,
) -> tuple[pa.Table, pa.Table]:
    """Split `table` by `reasons` (null = keep) and count the flow of `stage`.

    Returns (kept, dropped); `dropped` carries the extra columns `stage` and
    `drop_reason`. `sizes` gives each row's bytes in (default: UTF-8 text size);
    `sizes_out` its bytes out where the stage changes them (extraction: HTML in,
    text out).
    """
    reasons = _as_string_array(reasons, table.num_rows)
    sizes = text_bytes(table) if sizes is None else sizes
    sizes_out = sizes if sizes_out is None else sizes_out
    langs = _langs(table)
    keep = pc.is_null(reasons)
    _count(stage, stats, langs, reasons, sizes, sizes_out, keep)
    kept = table.filter(keep)
    dropped = table.filter(pc.invert(keep))
    dropped_reasons = reasons.filter(pc.invert(keep))
    dropped = dropped.append_column("stage", pa.array([stage] * dropped.num_rows, pa.string()))
    dropped = dropped.append_column("drop_reason", dropped_reasons)
    return kept, dropped


@contextmanager
def timed(stats: Stats, stage: str) -> Iterator[None]:
    """Meter a stage's CPU (this process) and wall seconds into `stats`."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    try:
        yield
    finally:
        stats.add_time(stage, time.process_time() - cpu0, time.perf_counter() - wall0)


def _as_string_array(reasons, n: int) -> pa.Array:
    if isinstance(reasons, pa.ChunkedArray):
        reasons = reasons.combine_chunks()
    if not isinstance(reasons, pa.Array):
        reasons = pa.array(reasons, pa.string())
    if len(reasons) != n:
        raise ValueError(f"a stage returned {len(reasons)} decisions for {n} documents")
    return reasons.cast(pa.string())


def _langs(table: pa.Table) -> pa.Array:
    if "lang" not in table.column_names:
        return pa.array([UNKNOWN_LANG] * table.num_rows, pa.string())
    return pc.fill_null(table["lang"], UNKNOWN_LANG).combine_chunks()


def _count(stage: str, stats: Stats, langs, reasons, sizes, sizes_out, keep) -> None:
    summary = pa.table(
        {
            "lang": langs,
            "reason": pc.fill_null(reasons, ""),
            "kept": keep,
            "bytes": sizes,
            "bytes_out": sizes_out,
        }
    ).group_by(["lang", "reason", "kept"]).aggregate([("bytes", "sum"), ("bytes", "count"), ("bytes_out", "sum")])
    for row in summary.to_pylist():
        docs, n_bytes, n_out = row["bytes_count"], row["bytes_sum"] or 0, row["bytes_out_sum"] or 0
        stats.flow(stage, row["lang"], docs, n_bytes, docs if row["kept"] else 0, n_out if row["kept"] else 0)
        if not row["kept"]:
            stats.drop(stage, row["lang"], row["reason"], docs, n_bytes)
