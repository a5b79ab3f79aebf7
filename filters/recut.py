"""Recut: decide again from stored figures, without reading WARC or extracting again.

Dolma's "score first, decide later". A run keeps, per work unit, two pools:
the staged documents it kept (before dedup) and the documents language ID
(below its threshold, in a wanted language) and the quality stage removed,
each carried through every later stage as annotation (PII, signatures, token
counts), so any of them can be readmitted as it is. `recut_unit` re-applies
language-ID and quality thresholds to the union of both pools and returns the
new pools and the unit's stats; dedup, shards, tokens, report and manifest are
then rebuilt by the usual finalize.

A figure is only as good as the settings it was measured with: `refusals`
names every setting of a new config that the stored figures cannot answer
(a changed model, a figure-shaping option, a language whose documents were
never kept), and `missing_figures` every check whose column was never stored.
With the run's own settings every decision is the one the run made, so the
shards come out byte for byte the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from corpus.config import QualityConfig, QualityThresholds, RunConfig
from corpus.publish import file_sha256
from corpus.stages import apply_decisions, text_bytes
from corpus.stats import Stats
from filters.langid import LanguageIdentifier, resolve_model_path
from filters.quality import QualityFilter, active_checks

# Columns of the pools (see ray_jobs/unit.py): why a removed row left, the text
# bytes language ID and quality saw, and the first later stage that would drop it.
STAGE, REASON = "stage", "drop_reason"
SCORED_BYTES = "_scored_bytes"
LATER_STAGE, LATER_REASON = "_later_stage", "_later_reason"
POOL_COLUMNS = (STAGE, REASON, LATER_STAGE, LATER_REASON)
REMOVING_STAGES = ("langid", "quality")
# Options of a thresholds section that are bounds (decisions); every other option
# shapes a figure (short_line_chars, c4_min_words_per_line, ...).
BOUND_PREFIXES = ("min_", "max_")


class RecutRefused(ValueError):
    """The new settings need what the run did not store: a usage error (exit 2)."""


def scored_settings(cfg: RunConfig) -> dict[str, Any]:
    """The config (no secrets) and the model files' digests a run's figures come from."""
    classifier = cfg.quality.enabled and "quality_classifier" in cfg.quality.rules
    return {
        "config": cfg.model_dump(mode="json", exclude={"pii": {"key"}}),
        "models": {
            "langid": file_sha256(resolve_model_path(cfg.langid)),
            "quality_classifier": file_sha256(cfg.quality.classifier_path()) if classifier else None,
        },
    }


def refusals(scored: dict[str, Any], cfg: RunConfig) -> list[str]:
    """Each language-ID or quality setting of `cfg` that the stored figures cannot answer, and why."""
    old = scored["config"]
    now = scored_settings(cfg)
    problems = _langid_refusals(old["langid"], now["config"]["langid"], scored["models"], now["models"])
    if cfg.quality.enabled and not old["quality"]["enabled"]:
        problems.append("quality.enabled: the run did not score quality, so there are no figures to decide from")
    elif cfg.quality.enabled:
        problems += _quality_refusals(old["quality"], cfg.quality)
        was, model = scored["models"]["quality_classifier"], now["models"]["quality_classifier"]
        if was and model and was != model:
            problems.append("quality.classifier: the model differs from the one that scored the run (quality_score)")
    return problems


def missing_figures(cfg: QualityConfig, langs: Iterable[str], columns: Iterable[str]) -> list[str]:
    """Each active check whose figure column is not among `columns`."""
    have, missing = set(columns), []
    for lang in sorted(set(langs)):
        for reason, column, _, _ in active_checks(cfg, lang):
            if column not in have:
                missing.append(
                    f"quality.rules: {reason} ({lang}) needs the figure {column}, which the run did not store "
                    "(the rule was off when it ran)"
                )
    return sorted(set(missing))


def recut_unit(
    kept: pa.Table | None,
    removed: pa.Table | None,
    scored: dict[str, Any],
    cfg: RunConfig,
    doc_stages: list[str],
    stats: Stats,
) -> tuple[pa.Table, pa.Table, pa.Table]:
    """New (kept, removed, dropped) rows of one unit under `cfg`; `stats` (the unit's) is corrected in place.

    `dropped` is every row of the pools that leaves, with its stage and reason
    (the removed ones and those a later stage drops).

    `doc_stages` are the unit's stages after language ID, in order. Kept rows
    keep their columns and record order; a readmitted row takes its place
    among them; a row a later stage would drop (its `_later_*`) is counted
    there and leaves.
    """
    pool, kept_columns = _pool(kept, removed)
    old = _old_decisions(pool, doc_stages)
    new = _new_decisions(pool, scored, cfg, doc_stages)
    stats.merge(_negated(_flows(pool, old)))
    stats.merge(_flows(pool, new))
    _prune(stats, [name for name, _ in old])
    first = _first_stage(pool.num_rows, new)
    keep = pc.is_null(pa.array(first[0], pa.string()))
    new_kept = pool.filter(keep).select(kept_columns)
    gone = pool.set_column(pool.schema.get_field_index(STAGE), STAGE, pa.array(first[0], pa.string()))
    gone = gone.set_column(gone.schema.get_field_index(REASON), REASON, pa.array(first[1], pa.string()))
    dropped = gone.filter(pc.invert(keep))
    gone = gone.filter(pc.is_in(gone[STAGE], pa.array(REMOVING_STAGES)))
    if removed is not None and removed.num_rows:  # as the run wrote it (nullability included)
        gone = gone.select(removed.column_names).cast(removed.schema)
    return new_kept, gone, dropped


def _langid_refusals(old: dict, new: dict, old_models: dict, new_models: dict) -> list[str]:
    problems = [
        f"langid.{name}: it shapes lang and lang_score, which were measured with {old[name]!r}"
        for name in ("model", "max_chars")
        if old[name] != new[name]
    ]
    if old_models["langid"] != new_models["langid"] and not problems:
        problems.append("langid.model: the model file differs from the one that measured lang and lang_score")
    added = sorted(set(new["languages"]) - set(old["languages"]))
    if added:
        problems.append(
            f"langid.languages: adds {', '.join(added)}, whose documents the run did not keep (only "
            f"{', '.join(old['languages'])} below their thresholds are in removed/)"
        )
    return problems


def _quality_refusals(old: dict, cfg: QualityConfig) -> list[str]:
    """Options that shape the figures (not bounds, rules or on/off) must be as the run had them."""
    new, problems = cfg.model_dump(mode="json"), []
    for name, value in new.items():
        if name in ("enabled", "rules"):
            continue
        if isinstance(getattr(cfg, name), QualityThresholds):
            problems += [
                f"quality.{name}.{key}: it shapes figures measured with {old[name].get(key)!r}"
                for key, v in value.items()
                if not key.startswith(BOUND_PREFIXES) and old[name].get(key) != v
            ]
        elif old.get(name) != value:
            problems.append(f"quality.{name}: it shapes figures measured with {old.get(name)!r}")
    return problems


def _pool(kept: pa.Table | None, removed: pa.Table | None) -> tuple[pa.Table, list[str]]:
    """Both pools as one table in record order, and the kept pool's columns (schema kept as it was)."""
    if removed is None or removed.num_rows == 0:
        return _with_pool_columns(kept, pa.string()), kept.column_names
    columns = [c for c in removed.column_names if c not in POOL_COLUMNS]
    if kept is None or kept.num_rows == 0:
        return removed, columns
    columns = kept.column_names
    kept = _with_pool_columns(kept, removed.schema.field(STAGE).type)
    pool = pa.concat_tables([kept, removed.select(kept.column_names).cast(kept.schema)])
    return pool.take(record_order(pool)), columns


def pool_layout(removed: pa.Table, kept_columns: list[str]) -> pa.Table:
    """The removed pool as a run stores it and a recut rebuilds it: the kept pool's
    columns, then the pool's own; rows in record order. So the same settings give the same bytes."""
    if removed.num_rows == 0:
        return removed
    columns = [c for c in kept_columns if c in removed.column_names]
    columns += [c for c in removed.column_names if c not in columns and c not in POOL_COLUMNS]
    return removed.select(columns + list(POOL_COLUMNS)).take(record_order(removed))


def record_order(table: pa.Table) -> np.ndarray:
    """Row indices sorting `table` by WARC record offset (`source` is `URI#OFFSET`): the order a unit
    read them in. A source without an offset (a worker's synthetic warm-up page) sorts first, stably."""
    offsets = []
    for source in table["source"].to_pylist():
        _, sep, offset = (source or "").rpartition("#")
        offsets.append(int(offset) if sep and offset.isdigit() else -1)
    return np.argsort(offsets, kind="stable")


def _with_pool_columns(kept: pa.Table, kind: pa.DataType) -> pa.Table:
    for name in POOL_COLUMNS:
        kept = kept.append_column(name, pa.nulls(kept.num_rows, kind))
    return kept


Decisions = list[tuple[str, pa.Array]]


def _old_decisions(pool: pa.Table, doc_stages: list[str]) -> Decisions:
    """What the run decided: each removed row's stage and reason; kept rows passed every stage."""
    decisions = [("langid", _reasons_of(pool, "langid"))]
    for name in doc_stages:
        decisions.append((name, _reasons_of(pool, name) if name in REMOVING_STAGES else _later(pool, name)))
    return decisions


def _new_decisions(pool: pa.Table, scored: dict[str, Any], cfg: RunConfig, doc_stages: list[str]) -> Decisions:
    """Language ID and quality from the stored figures under `cfg`; later stages as the annotation found."""
    if scored["config"]["langid"] == cfg.langid.model_dump(mode="json"):
        langid = _reasons_of(pool, "langid")  # the run's own decision, not one from a rounded score
    else:
        policy = _Deciders(cfg.langid)
        scores = pool["lang_score"].to_pylist()
        langid = pa.array(
            [LanguageIdentifier.decide(policy, lang, score) for lang, score in zip(pool["lang"].to_pylist(), scores)],
            pa.string(),
        )
    decisions = [("langid", langid)]
    for name in doc_stages:
        if name == "quality" and cfg.quality.enabled:
            decisions.append((name, _quality_reasons(pool, cfg.quality)))
        elif name not in REMOVING_STAGES:
            decisions.append((name, _later(pool, name)))
    return decisions


def _quality_reasons(pool: pa.Table, cfg: QualityConfig) -> pa.Array:
    langs = [lang or "und" for lang in pool["lang"].to_pylist()]
    missing = missing_figures(cfg, langs, pool.column_names)
    if missing:
        raise RecutRefused("; ".join(missing))
    return QualityFilter.decide(_Deciders(cfg), pool)


class _Deciders:
    """Stands in for the loaded filters: their `decide` reads only `cfg` and `checks`, never a model."""

    def __init__(self, cfg: Any) -> None:
        self.cfg = cfg

    def checks(self, lang: str) -> list[tuple[str, str, str, float]]:
        return active_checks(self.cfg, lang)


def _reasons_of(pool: pa.Table, stage: str) -> pa.Array:
    """The reason of the rows `stage` removed, null elsewhere."""
    return _flat(pc.if_else(pc.equal(pool[STAGE], stage), pool[REASON], pa.scalar(None, pa.string())))


def _later(pool: pa.Table, stage: str) -> pa.Array:
    """The reason `stage` would have dropped a removed row for (its annotation), null elsewhere."""
    return _flat(pc.if_else(pc.equal(pool[LATER_STAGE], stage), pool[LATER_REASON], pa.scalar(None, pa.string())))


def _flat(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _flows(pool: pa.Table, decisions: Decisions) -> Stats:
    """The counts `decisions` give the pool, stage by stage, as apply_decisions counts a run."""
    stats = Stats()
    reaching = pa.array(np.ones(pool.num_rows, bool))
    for stage, reasons in decisions:
        rows = pool.filter(reaching)
        sizes = rows[SCORED_BYTES] if stage in REMOVING_STAGES else text_bytes(rows)
        apply_decisions(rows, reasons.filter(reaching), stage, stats, sizes=_flat(pc.fill_null(sizes, 0)))
        reaching = pc.and_(reaching, pc.is_null(reasons))
    return stats


def _first_stage(n: int, decisions: Decisions) -> tuple[list[str | None], list[str | None]]:
    """Per row, the first stage whose decision drops it, and its reason (None: kept)."""
    stages: list[str | None] = [None] * n
    reasons: list[str | None] = [None] * n
    for stage, column in decisions:
        for i, reason in enumerate(column.to_pylist()):
            if reason is not None and stages[i] is None:
                stages[i], reasons[i] = stage, reason
    return stages, reasons


def _negated(stats: Stats) -> Stats:
    data = stats.to_dict()
    for langs in data["stages"].values():
        for entry in langs.values():
            for key in ("docs_in", "bytes_in", "docs_out", "bytes_out"):
                entry[key] = -entry[key]
            for slot in entry["dropped"].values():
                slot["docs"], slot["bytes"] = -slot["docs"], -slot["bytes"]
    negated = Stats()
    negated.merge_dict({"stages": data["stages"]})
    return negated


def _prune(stats: Stats, stages: list[str]) -> None:
    """Drop the zero entries a recut leaves (a reason no document has any more)."""
    for stage in stages:
        langs = stats.stages.get(stage, {})
        for lang in list(langs):
            entry = langs[lang]
            entry["dropped"] = {r: slot for r, slot in entry["dropped"].items() if slot["docs"] or slot["bytes"]}
            if not entry["dropped"] and not any(entry[k] for k in ("docs_in", "bytes_in", "docs_out", "bytes_out")):
                del langs[lang]
        if stage in stats.stages and not langs:
            del stats.stages[stage]
