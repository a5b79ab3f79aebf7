"""`corpus recut`: a complete run's kept and removed pools, decided again, finalized into a new output.

No WARC is read and nothing is extracted or scored again: each unit's staged
(kept) and removed pools are re-decided by filters/recut.py, written to the new
output's `_work/` with a ledger entry keyed to the new settings (so the new
output can itself be recut, or resumed by `corpus run`), and `finalize` builds
dedup, shards, tokens, stats, cost and report from them as a run does.
Per-unit work is plain and light; dedup inside finalize uses Ray when it runs.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from corpus.claim import claimed
from corpus.config import RunConfig
from corpus.layout import SCORED_SETTINGS, UNITS_DIR
from corpus.manifest import read_manifest
from corpus.publish import published_run
from filters.recut import (
    RecutRefused,
    missing_figures,
    recut_unit,
    refusals,
)
from corpus.stages import timed
from corpus.stats import Stats
from corpus.storage import Storage, open_input, open_storage
from ray_jobs.finalize import RunResult, already_published, finalize, run_id_for
from ray_jobs.unit import WorkUnit, dropped_rows, unit_settings

# Unit settings a recut may change: the others shape what a unit holds.
DECIDED_AGAIN = ("langid", "quality")


def original_config(source: str) -> dict[str, Any]:
    """The config the complete run at `source` was made with (no secrets): the default base of a recut."""
    src = open_storage(source)
    read_manifest(src)
    return _scored(src)["config"]


def recut(source: str, cfg: RunConfig) -> RunResult:
    """Recut the complete run at `source` into `cfg.output` under `cfg`'s thresholds.

    Raises RecutRefused, before writing anything, when `cfg` needs figures
    the run did not store or changes what only a new run can change.
    """
    src = open_storage(source)
    read_manifest(src)  # a complete run only
    scored = _scored(src)
    entries = _entries(src)
    units = [_unit(entry) for entry in entries]
    settings = unit_settings(cfg, os.environ)
    problems = refusals(scored, cfg) + _changed_sections(entries, settings, cfg) + _missing(src, entries, cfg)
    if problems:
        raise RecutRefused(
            f"cannot recut {src.uri} with these settings:\n  " + "\n  ".join(problems)
            + "\nrecut re-applies language-ID and quality thresholds to stored figures; for the rest run `corpus run`"
        )
    out = open_storage(cfg.output)
    run_id = run_id_for(cfg, units)
    published = published_run(out, run_id)
    if published is not None:
        return already_published(out, published)
    with claimed(out, run_id, cfg.sha256()):
        for entry, unit in zip(entries, units):
            _recut_one(src, out, unit, entry, scored, cfg, settings)
        return finalize(cfg, units, out)


def _recut_one(
    src: Storage, out: Storage, unit: WorkUnit, entry: dict, scored: dict, cfg: RunConfig, settings: dict
) -> None:
    """One unit's new pools and ledger entry (entry last, as a run writes it)."""
    stats = Stats.from_dict(entry["stats"])
    with timed(stats, "recut"):
        kept = _read(src, entry["staged"])
        removed = _read(src, entry.get("removed"))
        dropped = _read(src, unit.dropped_path if entry["dropped"] else None)
        if kept is None and removed is None:
            new_kept = new_removed = None
        else:
            new_kept, new_removed, left = recut_unit(kept, removed, scored, cfg, entry["doc_stages"], stats)
            dropped = _redropped(dropped, [kept, removed], left)
        staged_rel = _write(out, unit.staged_path, new_kept)
        removed_rel = _write(out, unit.removed_path, new_removed)
        _write(out, unit.dropped_path, dropped)
    new_entry = {
        **entry,
        "key": {**entry["key"], "settings": settings},
        "staged": staged_rel,
        "docs": new_kept.num_rows if staged_rel else 0,
        "removed": removed_rel,
        "removed_docs": new_removed.num_rows if removed_rel else 0,
        "dropped": dropped.num_rows if dropped is not None else 0,
        "stats": stats.to_dict(),
    }
    out.write_bytes(unit.ledger_path, json.dumps(new_entry, ensure_ascii=False).encode())


def _redropped(dropped: pa.Table | None, pools: list[pa.Table | None], left: pa.Table) -> pa.Table | None:
    """`_work/dropped/`: the run's rows for documents outside the pools, then the pools' new drops."""
    pooled = pa.concat_arrays([t["id"].combine_chunks() for t in pools if t is not None])
    parts = [] if dropped is None else [dropped.filter(pc.invert(pc.is_in(dropped["id"], value_set=pooled)))]
    parts.append(dropped_rows(left))
    table = pa.concat_tables(parts)
    return table if table.num_rows else None


def _scored(src: Storage) -> dict[str, Any]:
    try:
        return json.loads(src.read_bytes(SCORED_SETTINGS))
    except FileNotFoundError:
        raise RecutRefused(
            f"{src.uri} has no {SCORED_SETTINGS}: it was made before runs kept their removed documents "
            "(or its _work/ folder is gone); run it again with `corpus run` to recut it later"
        ) from None


def _entries(src: Storage) -> list[dict[str, Any]]:
    names = sorted(rel for rel in src.list(UNITS_DIR) if rel.endswith(".json"))
    entries = [json.loads(src.read_bytes(rel)) for rel in names]
    old = [e["unit"] for e in entries if "doc_stages" not in e]
    if old:
        raise RecutRefused(f"units of {src.uri} were made before runs kept their removed documents ({old[0]}, ...)")
    return entries


def _unit(entry: dict[str, Any]) -> WorkUnit:
    ranges = tuple(tuple(r) for r in entry["key"]["input"].get("ranges", []))
    return WorkUnit(uri=entry["uri"], unit_id=entry["unit"], ranges=ranges)


def _changed_sections(entries: list[dict], settings: dict[str, str], cfg: RunConfig) -> list[str]:
    """Sections other than language ID and quality must be as the run had them; so must dedup's index."""
    changed = sorted({
        name for e in entries for name in settings.keys() | e["key"]["settings"].keys()
        if name not in DECIDED_AGAIN and settings.get(name) != e["key"]["settings"].get(name)
    })  # fmt: skip
    problems = [
        f"{name}: differs from the run's (a stage's code, settings, model or key): only a new run can change it"
        for name in changed
    ]
    if cfg.dedup.enabled and cfg.dedup.index:
        problems.append("dedup.index: the run's documents are in the index already; recut without an index")
    return problems


def _missing(src: Storage, entries: list[dict], cfg: RunConfig) -> list[str]:
    """Checks of `cfg` whose figures no pool holds (read from the parts' footers only)."""
    if not cfg.quality.enabled:
        return []
    problems: set[str] = set()
    for entry in entries:
        for rel in filter(None, (entry["staged"], entry.get("removed"))):
            with open_input(src.url(rel)) as stream:
                columns = pq.read_schema(stream).names
            problems.update(missing_figures(cfg.quality, cfg.langid.languages, columns))
    return sorted(problems)


def _read(src: Storage, rel: str | None) -> pa.Table | None:
    return None if not rel else pq.read_table(pa.BufferReader(src.read_bytes(rel)))


def _write(out: Storage, rel: str, table: pa.Table | None) -> str | None:
    if table is None or table.num_rows == 0:
        return None
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    out.write_bytes(rel, sink.getvalue().to_pybytes())
    return rel
