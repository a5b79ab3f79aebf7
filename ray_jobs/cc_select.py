"""Common Crawl index selection turned into work units: one per WARC file with wanted records.

The selection runs once, on the driver, before any unit starts; each unit then
carries its file's (offset, length) ranges, so a worker fetches just those bytes.
What reading the index cost (GETs, bytes, rows) is kept in `_work/selection.json`
(corpus/layout.py, SELECTION_LEDGER) and
merged into the run's stats.json and cost.json by finalize.
"""

from __future__ import annotations

import logging

import pyarrow as pa

from corpus.accounting import meter
from corpus.config import SelectConfig
from corpus.stats import Stats
from corpus.storage import is_local
from crawlers.cc_index import select_records
from ray_jobs.unit import WorkUnit

log = logging.getLogger(__name__)


def selection_units(cfg: SelectConfig, stats: Stats | None = None) -> list[WorkUnit]:
    """Work units for the records of `cfg.index` that pass `cfg`'s filters, sorted by file.

    The index rows read and the storage requests made go to `stats`.
    """
    stats = stats if stats is not None else Stats()
    before = meter.snapshot()
    table = select_records(cfg, stats)
    for counter, value in meter.since(before).items():
        stats.bump(counter, value)
    units = units_for_selection(table, cfg.warc_prefix)
    log.info(
        "index selection: %d of %d captures in %d WARC files",
        stats.counters.get("index_rows_selected", 0),
        stats.counters.get("index_rows_scanned", 0),
        len(units),
    )
    return units


def units_for_selection(table: pa.Table, warc_prefix: str) -> list[WorkUnit]:
    """Group a selection table (crawlers/cc_index.SELECTION_SCHEMA) into one unit per WARC file."""
    by_file: dict[str, list[tuple[int, int]]] = {}
    for name, offset, length in zip(
        table["warc_filename"].to_pylist(),
        table["warc_record_offset"].to_pylist(),
        table["warc_record_length"].to_pylist(),
    ):
        by_file.setdefault(warc_uri(name, warc_prefix), []).append((offset, length))
    return [WorkUnit.for_input(uri, tuple(sorted(ranges))) for uri, ranges in sorted(by_file.items())]


def warc_uri(warc_filename: str, warc_prefix: str) -> str:
    """The index names files relative to the crawl's bucket; absolute names are kept as they are."""
    if warc_filename.startswith("/") or not is_local(warc_filename):
        return warc_filename
    return warc_prefix.rstrip("/") + "/" + warc_filename.lstrip("/")
