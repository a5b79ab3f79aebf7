"""After every unit is staged: corpus-wide stages, shards, stats, manifest last."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from corpus.accounting import meter
from corpus.config import RunConfig
from corpus.layout import REMOVED, SCORED_SETTINGS, SELECTION_LEDGER, STATS_JSON, sample_path
from corpus.manifest import build_manifest
from corpus.megatron import export_shards
from corpus.publish import publish_manifest, published_run
from corpus.accounting.report import write_run_report
from corpus.shard_entry import ShardEntry
from corpus.shards import ShardWriter
from filters.recut import scored_settings
from corpus.stages import timed
from corpus.stats import Stats
from corpus.storage import Storage
from corpus.timestamps import iso_utc
from corpus.tokenizer import eod_id, load_tokenizer, tokenizer_info
from ray_jobs.dedup import deduplicate
from ray_jobs.unit import WorkUnit, unit_settings

SAMPLES_PER_LANG = 20


class MixedUnits(RuntimeError):
    """Staged units were made with other settings than this run's; they are not mixed into one output."""


@dataclass
class RunResult:
    run_id: str
    output: str
    manifest: dict[str, Any]
    stats: Stats
    shards: list[ShardEntry] = field(default_factory=list)
    already_complete: bool = False  # the output held this run, published, before it started


def run_id_for(cfg: RunConfig, units: list[WorkUnit]) -> str:
    """Same inputs and config, same run id: what lets a rerun recognise its output."""
    key = json.dumps({"config": cfg.sha256(), "inputs": [u.uri for u in units]}, sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def finalize(cfg: RunConfig, units: list[WorkUnit], out: Storage) -> RunResult:
    run_id = run_id_for(cfg, units)
    published = published_run(out, run_id)
    if published is not None:
        return already_published(out, published)
    requests_before = meter.snapshot()
    entries = [json.loads(out.read_bytes(u.ledger_path)) for u in sorted(units, key=lambda u: u.unit_id)]
    _refuse_mixed(cfg, entries, out)
    stats = Stats()
    for entry in entries:
        stats.merge_dict(entry["stats"])
    if out.exists(SELECTION_LEDGER):  # Common Crawl index reads (ray_jobs/cc_select.py)
        stats.merge_dict(json.loads(out.read_bytes(SELECTION_LEDGER))["stats"])
    staged = [e["staged"] for e in entries if e["staged"]]
    with timed(stats, "dedup"):
        dedup = deduplicate(cfg.dedup, out, staged, run_id, sum(e["docs"] for e in entries))
    shards: list[ShardEntry] = []
    newest: dt.datetime | None = None
    with timed(stats, "shards"):
        langs = sorted(_languages(out, staged))
        for lang in langs:
            writer = ShardWriter(out, lang, cfg.shards)
            for rel in staged:
                table = _read_lang(out, rel, lang)
                if dedup is not None:
                    table = dedup.apply(rel, table, stats)
                if table.num_rows:
                    newest = max(filter(None, [newest, pc.max(table["fetch_time"]).as_py()]), default=None)
                writer.write(table)
            shards.extend(writer.close())
        removed = _write_removed(cfg, out, entries)
    for lang in langs:
        stats.flow("shards", lang, *_shard_flow(shards, lang))
    _write_samples(out, entries)
    out.write_bytes(STATS_JSON, stats.to_json().encode())
    counted = cfg.tokenizer.count or cfg.tokenizer.export_megatron
    named = tokenizer_info(cfg.tokenizer.resolved_path()) if counted else None
    out.write_bytes(SCORED_SETTINGS, json.dumps(scored_settings(cfg), indent=2).encode())
    manifest = build_manifest(run_id, iso_utc(newest), cfg.sha256(), named, shards, removed)
    if cfg.tokenizer.export_megatron:
        tokenizer = load_tokenizer(cfg.tokenizer.resolved_path())
        manifest["tokenized"] = export_shards(out, manifest["shards"], tokenizer, eod_id(tokenizer))
    write_run_report(out, cfg, run_id, stats, entries, manifest["languages"], meter.since(requests_before))
    publish_manifest(out, manifest)
    return RunResult(run_id, out.uri, manifest, stats, shards)


def _write_removed(cfg: RunConfig, out: Storage, entries: list[dict[str, Any]]) -> list[ShardEntry]:
    """`removed/lang=XX/`: the units' removed pools, cut like shards, in unit order."""
    pools = [e["removed"] for e in entries if e.get("removed")]
    parts: list[ShardEntry] = []
    for lang in sorted(_languages(out, pools)):
        writer = ShardWriter(out, lang, cfg.shards, folder=REMOVED)
        for rel in pools:
            writer.write(_read_lang(out, rel, lang))
        parts.extend(writer.close())
    return parts


def _refuse_mixed(cfg: RunConfig, entries: list[dict[str, Any]], out: Storage) -> None:
    """Dedup, shards and the manifest see only units staged with this run's settings."""
    settings = unit_settings(cfg, os.environ)
    mixed = [e["unit"] for e in entries if (e.get("key") or {}).get("settings") != settings]
    if mixed:
        raise MixedUnits(
            f"{len(mixed)} unit(s) at {out.uri} were staged with other settings than this run's "
            f"({', '.join(mixed[:5])}); rerun with `corpus run` to redo them"
        )


def already_published(out: Storage, manifest: dict[str, Any]) -> RunResult:
    """This run is complete at `out` already: report it, write nothing."""
    stats = Stats.from_dict(json.loads(out.read_bytes(STATS_JSON)))
    shards = [ShardEntry(**s) for s in manifest["shards"]]
    return RunResult(manifest["run_id"], out.uri, manifest, stats, shards, already_complete=True)


def _languages(out: Storage, staged: list[str]) -> set[str]:
    langs: set[str] = set()
    for rel in staged:
        langs.update(v for v in _read(out, rel, ["lang"])["lang"].unique().to_pylist() if v)
    return langs


def _read_lang(out: Storage, rel: str, lang: str) -> pa.Table:
    table = _read(out, rel)
    return table.filter(pc.equal(table["lang"], lang))


def _read(out: Storage, rel: str, columns: list[str] | None = None) -> pa.Table:
    return pq.read_table(pa.BufferReader(out.read_bytes(rel)), columns=columns)


def _shard_flow(shards: list[ShardEntry], lang: str) -> tuple[int, int, int, int]:
    docs = sum(s.docs for s in shards if s.lang == lang)
    n_bytes = sum(s.bytes for s in shards if s.lang == lang)
    return docs, n_bytes, docs, n_bytes


def _write_samples(out: Storage, entries: list[dict[str, Any]]) -> None:
    """A bounded sample of dropped documents per stage, reason and language."""
    merged: dict[tuple[str, str, str], list[dict]] = {}
    for entry in entries:
        for group in entry.get("samples", []):
            bucket = merged.setdefault((group["stage"], group["reason"], group["lang"]), [])
            bucket.extend(group["docs"][: SAMPLES_PER_LANG - len(bucket)])
    for (stage, reason, lang), docs in sorted(merged.items()):
        lines = [json.dumps({"lang": lang, **doc}, ensure_ascii=False) for doc in docs]
        out.write_bytes(sample_path(stage, reason, lang), ("\n".join(lines) + "\n").encode())
