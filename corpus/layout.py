"""The run's output layout (DESIGN.md, "Output of a run"): each path, relative to OUT, spelled once.

Readers and writers of a run (the report, the portfolio, the shard writer)
name these instead of repeating the strings, so the layout changes in one place.
"""

from __future__ import annotations

WORK = "_work"  # staged parts and the resume ledger; not for consumers
UNITS_DIR = f"{WORK}/units/"  # one ledger entry (JSON) per finished input file
STATS_JSON = "stats.json"
COST_JSON = "cost.json"
COST_CSV = "cost.csv"
REPORT_HTML = "report.html"
MANIFEST = "manifest.json"  # written last: its presence means the run is complete


def shard_dir(lang: str, folder: str = "shards") -> str:
    """The folder of one language's final shards (`folder` "removed": what the filters removed)."""
    return f"{folder}/lang={lang}/"


def shard_path(lang: str, index: int, folder: str = "shards") -> str:
    """The `index`-th shard of `lang`: deterministic, so a rerun cuts the same names."""
    return f"{shard_dir(lang, folder)}part-{index:05d}.parquet"
