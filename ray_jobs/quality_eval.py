"""Run labelled sets through the real pipeline stages and count what each register keeps.

HTML samples go through `ray_jobs/unit.py:run_stages` as WARC records would
(read, extract, language ID, quality); text samples through the same language
ID and quality stages, in the same order, with `corpus.stages.apply_decisions`
deciding. So a figure printed here is what `corpus run` would do with the same
config. PII, dedup and token counting drop nothing and are left off.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pyarrow as pa

from corpus.config import RunConfig
from corpus.schema import doc_id
from corpus.stages import apply_decisions, timed
from corpus.stats import Stats
from crawlers.warc import WarcRecord
from filters.eval_sets import LabelledSet, Sample
from ray_jobs.unit import UnitModels, run_stages

BATCH = 256


@dataclass
class SetResult:
    """One labelled set's outcome: documents, how many kept, and the drop reasons."""

    name: str
    lang: str
    clean: bool
    docs: int
    kept: int
    reasons: Counter = field(default_factory=Counter)

    @property
    def kept_share(self) -> float:
        return self.kept / self.docs if self.docs else 0.0

    @property
    def dropped_share(self) -> float:
        return 1.0 - self.kept_share if self.docs else 0.0

    @property
    def passed(self) -> bool:
        """Meets the target: clean sets keep >= 97%, junk sets drop >= 95%."""
        return self.kept_share >= 0.97 if self.clean else self.dropped_share >= 0.95


def eval_config(cfg: RunConfig) -> RunConfig:
    """The run's config with the stages that never drop turned off."""
    return cfg.model_copy(
        update={
            "pii": cfg.pii.model_copy(update={"enabled": False}),
            "dedup": cfg.dedup.model_copy(update={"enabled": False}),
            "tokenizer": cfg.tokenizer.model_copy(update={"count": False}),
        }
    )


def evaluate(sets: list[LabelledSet], cfg: RunConfig | None = None, models: UnitModels | None = None) -> list[SetResult]:
    """Kept count and drop reasons per set, through the stages `cfg` (default: the product's defaults) configures."""
    models = models or UnitModels(eval_config(cfg or RunConfig()))
    results = []
    for labelled in sets:
        reasons = [reason for start in range(0, len(labelled.samples), BATCH)
                   for reason in drop_reasons(labelled.samples[start : start + BATCH], models)]
        dropped = Counter(r for r in reasons if r is not None)
        results.append(SetResult(labelled.name, labelled.lang, labelled.clean, len(reasons),
                                 reasons.count(None), dropped))
    return results


def drop_reasons(samples: list[Sample], models: UnitModels) -> list[str | None]:
    """`stage:reason` (quality reasons are already `rule:check`) per sample, None where kept."""
    stats = Stats()
    ids = [doc_id(s.url or f"eval:{s.key}", s.key) for s in samples]
    html = [s for s in samples if s.html is not None]
    text = [s for s in samples if s.html is None]
    gone: list[pa.Table] = []
    if html:
        _, dropped, _ = run_stages([_record(s) for s in html], models, stats)
        gone.extend(dropped)
    if text:
        gone.extend(_text_stages(text, models, stats))
    by_id: dict[str, str] = {}
    for table in gone:
        for row in table.select(["id", "stage", "drop_reason"]).to_pylist():
            by_id[row["id"]] = row["drop_reason"] if row["stage"] == "quality" else f"{row['stage']}:{row['drop_reason']}"
    return [by_id.get(i) for i in ids]


def _text_stages(samples: list[Sample], models: UnitModels, stats: Stats) -> list[pa.Table]:
    table = pa.table({
        "id": [doc_id(s.url or f"eval:{s.key}", s.key) for s in samples],
        "url": [s.url for s in samples],
        "text": [s.text for s in samples],
    })
    gone = []
    with timed(stats, "langid"):
        table, reasons = models.langid.apply(table, stats)
        table, dropped = apply_decisions(table, reasons, "langid", stats)
        gone.append(dropped)
    for stage in models.doc_stages:
        table, reasons = stage.apply(table, stats)
        if reasons is not None:
            table, dropped = apply_decisions(table, reasons, stage.name, stats)
            gone.append(dropped)
    return gone


def _record(sample: Sample) -> WarcRecord:
    return WarcRecord(
        url=sample.url,
        record_id=sample.key,
        fetch_time=None,
        source=f"eval:{sample.key}",
        status=200,
        content_type="text/html",
        payload=sample.html,
        payload_size=len(sample.html or b""),
        truncated=False,
    )
