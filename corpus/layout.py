"""Where things are in a run's output and a crawl's (DESIGN.md, "Output of a run"): each path, relative to OUT, spelled once.

Every reader and writer (finalize, the unit ledger, dedup, the claim, publish,
pull, the report, the portfolio, the crawler) names these instead of
repeating the strings, so the layout changes in one place. Paths use '/'
whatever the store.
"""

from __future__ import annotations

# --- a run: what consumers read ------------------------------------------------------------
SHARDS = "shards"  # final documents: shards/lang=XX/part-NNNNN.parquet
TOKENIZED = "tokenized"  # optional Megatron .bin/.idx pairs, named after their shards
REMOVED = "removed"  # what the filters removed, with every figure, cut like shards
LISTED = (SHARDS, TOKENIZED, REMOVED)  # the folders manifest.json lists, each under the key of its name
STATS_JSON = "stats.json"
COST_JSON = "cost.json"
COST_CSV = "cost.csv"
REPORT_HTML = "report.html"
MANIFEST = "manifest.json"  # written last: its presence means the run is complete

# --- a run: _work/, staged parts and the resume ledger; not for consumers -------------------
WORK = "_work"
UNITS_DIR = f"{WORK}/units/"  # one ledger entry (JSON) per finished input file
CLAIM = f"{WORK}/claim.json"  # who is writing the output (corpus/claim.py)
SELECTION_LEDGER = f"{WORK}/selection.json"  # what the Common Crawl index selection read
SCORED_SETTINGS = f"{WORK}/scored_settings.json"  # the settings removed/ was scored with, for recut
DEDUP_DIR = f"{WORK}/dedup"  # per unit: the rows near-dedup removes


def shard_dir(lang: str, folder: str = SHARDS) -> str:
    """The folder of one language's final shards (`folder` REMOVED: what the filters removed)."""
    return f"{folder}/lang={lang}/"


def shard_path(lang: str, index: int, folder: str = SHARDS) -> str:
    """The `index`-th shard of `lang`: deterministic, so a rerun cuts the same names."""
    return f"{shard_dir(lang, folder)}part-{index:05d}.parquet"


def tokenized_prefix(shard: str) -> str:
    """The `.bin`/`.idx` prefix (no suffix) of a shard's Megatron export: tokenized/lang=XX/part-NNNNN."""
    return shard.replace(f"{SHARDS}/", f"{TOKENIZED}/", 1).removesuffix(".parquet")


def shard_of_tokenized(prefix: str) -> str:
    """The shard a Megatron export prefix was made from (the inverse of `tokenized_prefix`)."""
    return prefix.replace(f"{TOKENIZED}/", f"{SHARDS}/", 1) + ".parquet"


def ledger_path(unit_id: str) -> str:
    """A finished unit's ledger entry, written last of its files."""
    return f"{UNITS_DIR}{unit_id}.json"


def staged_path(unit_id: str) -> str:
    """A unit's kept documents, staged for dedup and the shards."""
    return f"{WORK}/staged/{unit_id}.parquet"


def dropped_path(unit_id: str) -> str:
    """A unit's dropped rows (id, stage, reason), for audit and recut."""
    return f"{WORK}/dropped/{unit_id}.parquet"


def pool_path(unit_id: str) -> str:
    """A unit's removed pool (filters/recut.py): what `removed/` is cut from."""
    return f"{WORK}/{REMOVED}/{unit_id}.parquet"


def sample_path(stage: str, reason: str, lang: str) -> str:
    """Dropped documents kept as examples of one stage's reason, in one language (JSON lines)."""
    return f"{WORK}/samples/{stage}/{reason}/{lang}.jsonl"


# --- a crawl -----------------------------------------------------------------------------------
WARC_DIR = "warc"  # the crawl's WARC files
CRAWL_STATE = "_crawl"  # journals, checkpoints, robots rules and counts, for resuming
CRAWL_SCOPE = f"{CRAWL_STATE}/scope.json"
CRAWL_PARTITIONS = f"{CRAWL_STATE}/layout.json"  # how many host partitions the crawl has
CRAWL_USAGE = f"{CRAWL_STATE}/usage.json"  # what each crawl invocation held and used, for cost
JOURNAL_PREFIX, JOURNAL_SUFFIX = "frontier-", ".jsonl"


def crawl_journal(partition: int) -> str:
    """One host partition's frontier journal."""
    return f"{CRAWL_STATE}/{JOURNAL_PREFIX}{partition:05d}{JOURNAL_SUFFIX}"


def crawl_state_file(kind: str, partition: int) -> str:
    """One host partition's `kind` file (checkpoint, robots, report) as JSON."""
    return f"{CRAWL_STATE}/{kind}-{partition:05d}.json"
