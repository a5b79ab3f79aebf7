"""What a live crawl used, kept beside its WARC so runs over that WARC can carry its cost.

`corpus crawl` appends one session per invocation to `OUT/_crawl/usage.json`: the
vCPU time it held (each partition holds one CPU for as long as it runs, busy or
waiting out politeness delays, so that is what a rented machine bills), the CPU
time it actually used, pages archived, and the size of every WARC file it wrote.

A run whose inputs are `CRAWL/warc/*.warc.gz` is charged the crawl's held vCPU
time in proportion to the WARC bytes it read, so processing half a crawl's files
carries half its cost, and two runs over disjoint halves carry it once between them.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from corpus.accounting import meter
from corpus.layout import CRAWL_USAGE, WARC_DIR
from corpus.storage import open_storage

log = logging.getLogger(__name__)


def record_session(
    output: str,
    *,
    held_cpu_seconds: float,
    busy_cpu_seconds: float,
    wall_seconds: float,
    pages_archived: int,
    partitions: int,
    warc_bytes: dict[str, int],
    workers: list[str],
) -> dict[str, Any]:
    """Append this invocation to the crawl's usage file; returns the file's new content."""
    store = open_storage(output)
    usage = json.loads(store.read_bytes(CRAWL_USAGE)) if store.exists(CRAWL_USAGE) else {"sessions": [], "warc_bytes": {}}
    usage["sessions"].append(
        {
            "finished": time.time(),
            "held_cpu_seconds": held_cpu_seconds,
            "busy_cpu_seconds": busy_cpu_seconds,
            "wall_seconds": wall_seconds,
            "pages_archived": pages_archived,
            "partitions": partitions,
            "workers": workers,
            "hardware": meter.hardware(),
        }
    )
    usage["warc_bytes"].update(warc_bytes)  # a resumed local crawl appends to its last file: the newest size holds
    store.write_bytes(CRAWL_USAGE, json.dumps(usage, indent=1).encode())
    return usage


def crawls_behind(inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The crawls whose WARC a run read (`inputs` as in cost.json), each with the
    share of its WARC bytes the run read and its totals; inputs from elsewhere are skipped."""
    read: dict[str, int] = {}
    for item in inputs:
        root, sep, name = item["uri"].rpartition(f"/{WARC_DIR}/")
        if sep and "/" not in name and name.endswith(".warc.gz"):
            read[root] = read.get(root, 0) + (item["input_bytes"] or 0)
    found = []
    for root, n_bytes in sorted(read.items()):
        store = open_storage(root)
        try:
            if not store.exists(CRAWL_USAGE):
                continue
            usage = json.loads(store.read_bytes(CRAWL_USAGE))
        except (OSError, ValueError) as exc:  # the run's cost must not fail over a crawl's bookkeeping
            log.warning("%s/%s unreadable (%s): the crawl's cost is left out", root, CRAWL_USAGE, exc)
            continue
        total = sum(usage["warc_bytes"].values())
        sessions = usage["sessions"]
        found.append(
            {
                "crawl": root,
                "share": min(n_bytes / total, 1.0) if total else 0.0,
                "warc_bytes": total,
                "held_cpu_seconds": sum(s["held_cpu_seconds"] for s in sessions),
                "busy_cpu_seconds": sum(s["busy_cpu_seconds"] for s in sessions),
                "wall_seconds": sum(s["wall_seconds"] for s in sessions),
                "pages_archived": sum(s["pages_archived"] for s in sessions),
            }
        )
    return found
