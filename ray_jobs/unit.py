"""One work unit (one input file) through every per-document stage, without Ray.

`process_unit` is what a Ray actor calls and what tests call directly, so the
Ray path and the plain path cannot drift apart. A unit's outputs are named
after it and its ledger entry is written last. The entry carries the unit's
key: the input's identity (URI, byte ranges, size and modification time or
ETag), a digest of each config section that shapes a unit's output, and the
unit format. A rerun skips a unit only when its entry exists and its key
matches this run (`ledger_mismatch`); otherwise the unit is redone.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import tempfile
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import psutil
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

import corpus
from corpus import layout
from corpus.accounting import meter
from corpus.config import RunConfig
from corpus.publish import file_sha256
from filters.recut import LATER_REASON, LATER_STAGE, REMOVING_STAGES, SCORED_BYTES, pool_layout
from corpus.schema import DROPPED_SCHEMA, doc_id, domain_of
from corpus.stages import Stage, apply_decisions, text_bytes, timed
from corpus.stats import Stats
from corpus.storage import Storage, input_identity, open_input
from corpus.timestamps import fetch_time_array
from corpus.tokenizer import TokenCounter
from crawlers.extract_stage import PAYLOAD, ExtractStage
from crawlers.ranges import iter_ranged_records
from crawlers.screen import LanguageScreen
from crawlers.warc import WarcRecord, iter_records
from dedup.signatures import SignatureStage, index_settings
from filters.decontam import Decontaminator
from filters.langid import LanguageIdentifier, resolve_model_path
from filters.pii import build_redactor
from filters.quality import QualityFilter
from ray_jobs.warm_up import warm_up_records

PAYLOAD_SIZE = "payload_size"
SAMPLES_PER_REASON = 3
# Bump when the same input and settings would stage different parts (a stage's
# logic or the staged columns changed); every finished unit is then redone.
UNIT_FORMAT = 4  # 4: fetch_time and date typed (corpus/timestamps.py)
# The removed pool (filters/recut.py): what language ID (below its threshold, in
# a wanted language) and the quality stage removed, annotated by every later
# stage as if kept, so `corpus recut` can decide again without extracting again.
HELD_REASONS = {"langid": "low_confidence"}


@dataclass(frozen=True)
class WorkUnit:
    uri: str
    unit_id: str
    # (offset, length) of the only records to read, fetched by range GETs (Common
    # Crawl index selection); empty: the whole file.
    ranges: tuple[tuple[int, int], ...] = ()

    @classmethod
    def for_input(cls, uri: str, ranges: tuple[tuple[int, int], ...] = ()) -> "WorkUnit":
        """Deterministic, readable id: file name plus a hash of the full URI (and ranges)."""
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", uri.rstrip("/").rsplit("/", 1)[-1])[:60]
        key = uri + (json.dumps(ranges) if ranges else "")
        return cls(uri=uri, unit_id=f"{name}-{hashlib.sha256(key.encode()).hexdigest()[:10]}", ranges=tuple(ranges))

    @property
    def ledger_path(self) -> str:
        return layout.ledger_path(self.unit_id)

    @property
    def staged_path(self) -> str:
        return layout.staged_path(self.unit_id)

    @property
    def dropped_path(self) -> str:
        return layout.dropped_path(self.unit_id)

    @property
    def removed_path(self) -> str:
        return layout.pool_path(self.unit_id)


def unit_stages(cfg: RunConfig, environ: Mapping[str, str]) -> list[Stage]:
    """Every stage a work unit's documents go through after reading, in order.

    The one list of stages: each loads its model here, once per worker.
    """
    langid = LanguageIdentifier(cfg.langid)
    stages: list[Stage] = []
    if cfg.screen.enabled:  # a cheap language guess before extraction; reuses the LID model
        stages.append(LanguageScreen(cfg.screen, cfg.langid, langid.model))
    stages += [ExtractStage(cfg.extract), langid]
    if cfg.quality.enabled:
        stages.append(QualityFilter(cfg.quality))
    if cfg.decontam.enabled:
        stages.append(Decontaminator(cfg.decontam))
    if cfg.pii.enabled:
        stages.append(build_redactor(cfg.pii, environ))
    if cfg.dedup.enabled:
        stages.append(SignatureStage(cfg.dedup))
    if cfg.tokenizer.count:  # last: it counts only what every other stage kept
        stages.append(TokenCounter(cfg.tokenizer))
    return stages


class UnitModels:
    """Everything heavy a worker loads once and reuses for every unit it runs: the unit's stages."""

    def __init__(self, cfg: RunConfig) -> None:
        self.cfg = cfg
        self.settings = unit_settings(cfg, os.environ)
        self.stages = unit_stages(cfg, os.environ)
        self.langid = next(stage for stage in self.stages if stage.name == "langid")
        # The stages after language ID (recut re-decides from what they stored).
        self.doc_stages = self.stages[self.stages.index(self.langid) + 1 :]
        self.retired = False
        # First-use loads happen now, as start-up, not in the first unit (see ray_jobs/warm_up.py).
        run_stages(warm_up_records(), self, Stats())
        meter.mark_started()

    def retire_if_over_memory(self) -> bool:
        """True (once, and from then on `retired`) when this process's resident
        memory has passed `ray.worker_rss_limit_mb`: leaks in parsers and model
        vocabularies grow with every page, so the worker is replaced between units."""
        limit = self.cfg.ray.worker_rss_limit_mb
        if self.retired or not limit or psutil.Process().memory_info().rss <= limit * 1024 * 1024:
            return False
        self.retired = True
        return True


def process_unit(unit: WorkUnit, models: UnitModels, out: Storage) -> dict[str, Any]:
    """Run one input file through read → extract → language ID and stage the result.

    Returns the unit's ledger entry (also written to `_work/units/`).
    """
    cfg = models.cfg
    stats = Stats()
    requests_before = meter.snapshot()
    key = unit_key(unit, models.settings)  # before reading: the version of the input that is read
    samples: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="corpus-unit-") as tmp:
        staged_local = Path(tmp) / "staged.parquet"
        dropped_local = Path(tmp) / "dropped.parquet"
        removed_local = Path(tmp) / "removed.parquet"
        staged = _PartWriter(staged_local)
        dropped = _PartWriter(dropped_local, DROPPED_SCHEMA)
        removed = _PartWriter(removed_local)
        if unit.ranges:
            records = iter_ranged_records(
                unit.uri, unit.ranges, stats, cfg.select, cfg.read.max_payload_bytes, tuple(cfg.read.mime_types)
            )
        else:
            records = iter_records(
                unit.uri, stats, open_input, cfg.read.max_payload_bytes, tuple(cfg.read.mime_types)
            )
        for batch in _metered_batches(records, cfg.read.records_per_batch, stats):
            kept, gone, held = run_stages(batch, models, stats)
            staged.write(kept)
            removed.write(held)
            for table in gone:
                dropped.write(dropped_rows(table))
                _collect_samples(table, samples)
        staged.close()
        dropped.close()
        removed.close()
        for counter, value in meter.since(requests_before).items():
            stats.bump(counter, value)
        if models.retire_if_over_memory():
            stats.bump("worker_recycled")
        entry = {
            "unit": unit.unit_id,
            "uri": unit.uri,
            "key": key,
            "staged": unit.staged_path if staged.rows else None,
            "docs": staged.rows,
            "dropped": dropped.rows,
            "removed": unit.removed_path if removed.rows else None,
            "removed_docs": removed.rows,
            "stats": stats.to_dict(),
            "process": meter.process_snapshot(),
            "doc_stages": [stage.name for stage in models.doc_stages],
            "samples": [dict(stage=k[0], reason=k[1], lang=k[2], docs=v) for k, v in sorted(samples.items())],
        }
        if staged.rows:
            out.upload_file(unit.staged_path, staged_local)
        if dropped.rows:
            out.upload_file(unit.dropped_path, dropped_local)
        if removed.rows:
            out.upload_file(unit.removed_path, removed_local)
    out.write_bytes(unit.ledger_path, json.dumps(entry, ensure_ascii=False).encode())
    return entry


def unit_settings(cfg: RunConfig, environ: Mapping[str, str]) -> dict[str, str]:
    """A digest per config section that shapes what a unit stages, models' bytes included.

    Left out: what only moves work around or is read after the units (ray,
    output, shards, cost, dedup's corpus-wide settings, tokenizer export) and
    pure batching knobs. A disabled stage's digest is only "off", so retuning
    a stage that is off redoes nothing.
    """
    sections: dict[str, Any] = {
        "format": {"unit": UNIT_FORMAT, "code": corpus.__version__},
        "read": cfg.read.model_dump(mode="json", exclude={"records_per_batch"}),
        "screen": cfg.screen.model_dump(mode="json") if cfg.screen.enabled else "off",
        "extract": cfg.extract.model_dump(mode="json"),
        "langid": {**cfg.langid.model_dump(mode="json"), "model_sha256": file_sha256(resolve_model_path(cfg.langid))},
        "quality": _quality_settings(cfg) if cfg.quality.enabled else "off",
        "pii": _pii_settings(cfg, environ) if cfg.pii.enabled else "off",
        "dedup": _dedup_settings(cfg) if cfg.dedup.enabled else "off",
        "tokenizer": _tokenizer_settings(cfg) if cfg.tokenizer.count else "off",
    }
    return {name: _digest(value) for name, value in sections.items()}


def forget_unit(unit: WorkUnit, out: Storage) -> None:
    """Remove a finished unit's ledger entry, then its parts, so it is redone from scratch.

    The entry goes first: a crash in between leaves a pending unit, never an
    entry vouching for parts that are gone.
    """
    for rel in (unit.ledger_path, unit.staged_path, unit.dropped_path, unit.removed_path):
        out.delete(rel)


def unit_key(unit: WorkUnit, settings: dict[str, str]) -> dict[str, Any]:
    """What a unit's staged output was made from; stored in its ledger entry."""
    return {"input": {"uri": unit.uri, "ranges": [list(r) for r in unit.ranges], **input_identity(unit.uri)},
            "settings": settings}  # fmt: skip


def ledger_mismatch(entry: dict[str, Any], unit: WorkUnit, settings: dict[str, str]) -> str | None:
    """Why a finished unit's entry does not fit this run (None: it fits and the unit is skipped)."""
    key = entry.get("key")
    if not isinstance(key, dict):
        return "its ledger entry was written by an older version"
    changed = sorted(name for name in settings.keys() | key["settings"].keys()
                     if settings.get(name) != key["settings"].get(name))  # fmt: skip
    if "format" in changed:
        return "its ledger entry was written by another version of the code"
    if changed:
        return "config changed: " + ", ".join(changed)
    now = unit_key(unit, settings)["input"]
    if now != key["input"]:
        fields = sorted(f for f in now.keys() | key["input"].keys() if now.get(f) != key["input"].get(f))
        return "input changed: " + ", ".join(fields)
    return None


def _quality_settings(cfg: RunConfig) -> dict[str, Any]:
    settings = cfg.quality.model_dump(mode="json")
    if "quality_classifier" in cfg.quality.rules:
        settings["classifier_sha256"] = file_sha256(cfg.quality.classifier_path())
    return settings


def _pii_settings(cfg: RunConfig, environ: Mapping[str, str]) -> dict[str, Any]:
    """The pseudonym key enters only as an HMAC check value, never as itself."""
    secret = (cfg.pii.key or environ.get(cfg.pii.key_env)) if cfg.pii.mode == "pseudonym" else None
    check = hmac.new(secret.encode(), b"corpus-builder unit ledger", "sha256").hexdigest()[:16] if secret else None
    return {**cfg.pii.model_dump(mode="json", exclude={"key", "key_env"}), "key_check": check}


def _dedup_settings(cfg: RunConfig) -> dict[str, Any]:
    return {**index_settings(cfg.dedup), "exact": cfg.dedup.exact, "near": cfg.dedup.near, "verify": cfg.dedup.verify}


def _tokenizer_settings(cfg: RunConfig) -> dict[str, Any]:
    path = cfg.tokenizer.resolved_path()
    return {"path": cfg.tokenizer.path, "sha256": file_sha256(path)}


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]


def run_stages(
    records: list[WarcRecord], models: UnitModels, stats: Stats
) -> tuple[pa.Table, list[pa.Table], pa.Table]:
    """All per-document stages on one batch.

    Returns the kept docs, each stage's dropped rows, and the removed pool:
    the rows language ID (low confidence) and quality dropped, carried through
    the remaining stages as annotation only (uncounted, their time the stage's).
    """
    gone: list[pa.Table] = []
    with timed(stats, "read"):
        table = _records_table(records, stats)
        table, dropped = apply_decisions(table, [r.problem for r in records], "read", stats, sizes=table[PAYLOAD_SIZE])
        gone.append(dropped)
    held = None
    for stage in models.stages:
        with timed(stats, stage.name):
            if held is not None:
                held = _annotate_removed(stage, held)
            table, dropped = _run_stage(stage, table, stats)
            gone.append(dropped)
            if stage.name == "langid":  # the removed pool starts at language ID
                table = table.append_column(SCORED_BYTES, text_bytes(table))
                held = _removed_rows(dropped, "langid")
            elif stage.name in REMOVING_STAGES:
                held = _concat_removed(held, _removed_rows(dropped, stage.name))
    return table, gone, pool_layout(held, table.column_names)


def _run_stage(stage: Stage, table: pa.Table, stats: Stats) -> tuple[pa.Table, pa.Table]:
    """One stage over a batch: its columns added, its dropped rows split off and counted.

    Bytes are the page's until a stage makes text of it (extraction: HTML in,
    text out), the text's from then on."""
    before = table
    table, reasons = stage.apply(table, stats)
    if reasons is None:
        reasons = pa.nulls(table.num_rows, pa.string())
    if PAYLOAD_SIZE in table.column_names:
        sizes = sizes_out = table[PAYLOAD_SIZE]
    else:
        sizes_out = text_bytes(table)
        sizes = before[PAYLOAD_SIZE] if PAYLOAD_SIZE in before.column_names else sizes_out
    return apply_decisions(table, reasons, stage.name, stats, sizes=sizes, sizes_out=sizes_out)


def _removed_rows(dropped: pa.Table, stage: str) -> pa.Table:
    """The rows of `stage` that join the removed pool, with the pool's own columns."""
    wanted = HELD_REASONS.get(stage)
    if wanted is not None:
        dropped = dropped.filter(pc.equal(dropped["drop_reason"], wanted))
        dropped = dropped.append_column(SCORED_BYTES, text_bytes(dropped))
    n = dropped.num_rows
    dropped = dropped.append_column(LATER_STAGE, pa.nulls(n, pa.string()))
    return dropped.append_column(LATER_REASON, pa.nulls(n, pa.string()))


def _annotate_removed(stage: Stage, held: pa.Table) -> pa.Table:
    """Run `stage` over removed rows for its columns; counted nowhere, its first drop noted."""
    if held.num_rows == 0:
        return held
    annotated, reasons = stage.apply(held, Stats())
    if reasons is None or stage.name in REMOVING_STAGES:  # recut re-decides quality from its figures
        return annotated
    first = pc.and_(pc.is_null(annotated[LATER_STAGE]), pc.is_valid(reasons))
    stage_col = pc.if_else(first, pa.scalar(stage.name), annotated[LATER_STAGE])
    reason_col = pc.if_else(first, reasons, annotated[LATER_REASON])
    annotated = annotated.set_column(annotated.schema.get_field_index(LATER_STAGE), LATER_STAGE, stage_col)
    return annotated.set_column(annotated.schema.get_field_index(LATER_REASON), LATER_REASON, reason_col)


def _concat_removed(held: pa.Table, more: pa.Table) -> pa.Table:
    if more.num_rows == 0:
        return held
    if held.num_rows == 0:
        return more
    return pa.concat_tables([held, more.select(held.column_names)])


def _records_table(records: list[WarcRecord], stats: Stats) -> pa.Table:
    """The batch's records as rows, each page's raw body in `payload` (for the screen and extraction)."""
    fetch_times, unparsed = fetch_time_array(r.fetch_time for r in records)
    if unparsed:
        stats.bump("fetch_time_unparsed", unparsed)
    return pa.table(
        {
            "id": [doc_id(r.url or "", r.record_id) for r in records],
            "url": [r.url for r in records],
            "domain": [domain_of(r.url) for r in records],
            "fetch_time": fetch_times,
            "source": [r.source for r in records],
            "content_type": [r.content_type for r in records],
            "truncated": [r.truncated for r in records],
            PAYLOAD_SIZE: pa.array([r.payload_size for r in records], pa.int64()),
            PAYLOAD: pa.array([r.payload for r in records], pa.large_binary()),
        }
    )


def dropped_rows(table: pa.Table) -> pa.Table:
    """What `_work/dropped/` keeps of a stage's dropped rows (DROPPED_SCHEMA)."""
    n = table.num_rows
    lang = table["lang"] if "lang" in table.column_names else pa.nulls(n, pa.string())
    size = table[PAYLOAD_SIZE] if PAYLOAD_SIZE in table.column_names else text_bytes(table)
    return pa.table(
        {
            "id": table["id"],
            "url": table["url"],
            "lang": lang,
            "stage": table["stage"],
            "drop_reason": table["drop_reason"],
            "n_bytes": size,
        },
        schema=DROPPED_SCHEMA,
    )


def _collect_samples(table: pa.Table, samples: dict) -> None:
    if table.num_rows == 0 or "text" not in table.column_names:
        return
    langs = table["lang"].to_pylist() if "lang" in table.column_names else ["und"] * table.num_rows
    for row, lang in zip(table.select(["id", "url", "stage", "drop_reason", "text"]).to_pylist(), langs):
        bucket = samples.setdefault((row["stage"], row["drop_reason"], lang or "und"), [])
        if len(bucket) < SAMPLES_PER_REASON:
            bucket.append({"id": row["id"], "url": row["url"], "text": (row["text"] or "")[:2000]})


def _metered_batches(records: Iterable[WarcRecord], size: int, stats: Stats) -> Iterator[list[WarcRecord]]:
    """Batches of records; the time spent reading and decompressing them is the read stage's."""
    iterator = iter(records)
    while True:
        with timed(stats, "read"):
            batch = list(islice(iterator, size))
        if not batch:
            return
        yield batch


class _PartWriter:
    """Parquet part written incrementally so a unit's memory stays one batch."""

    def __init__(self, path: Path, schema: pa.Schema | None = None) -> None:
        self.path, self.schema, self.rows, self._writer = path, schema, 0, None

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        if self._writer is None:
            self.schema = self.schema or table.schema
            self._writer = pq.ParquetWriter(self.path, self.schema, compression="zstd")
        self._writer.write_table(table.select(self.schema.names).cast(self.schema))
        self.rows += table.num_rows

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
