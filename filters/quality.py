"""The quality stage: score every document, then decide with per-language thresholds.

Dolma's "score first, decide later": `figures` adds one `q_*` column per
measurement (and `quality_score` from the classifier) to every document; `decide`
compares them with the thresholds of the document's language. The first failing
check, in the configured rule order, names the drop reason
(`gopher_quality:word_count`, `korean:hangul_share`, `quality_classifier`, ...).
The columns stay in the shards, so a trainer can re-slice without re-running.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from spacy.lang.en.stop_words import STOP_WORDS as EN_STOP_WORDS

from corpus.config import QualityConfig
from filters import korean
from filters.rule import DocContext, Rule
from filters.rule_registry import RULES
from filters.text_stats import Doc, WordSplitter


class QualityFilter:
    """Stage `quality`: loads spaCy, the Korean ending list and what each rule needs (lexicon, blocklist, classifier) once, in the worker."""

    name = "quality"

    def __init__(self, cfg: QualityConfig) -> None:
        self.cfg = cfg
        self.splitter = WordSplitter()
        self.korean_stop_words = korean.KoreanStopWords(cfg.stop_word_chars)
        measures = [(rule, rule.measure(cfg)) for rule in RULES.values()]
        self.doc_measures = [(rule, m) for rule, m in measures if m is not None and rule.per_document]
        self.batch_measures = [(rule, m) for rule, m in measures if m is not None and not rule.per_document]

    def apply(self, table: pa.Table, stats: Stats) -> tuple[pa.Table, pa.Array]:
        domains = table["domain"].to_pylist() if "domain" in table.column_names else None
        columns = self.figures(table["text"].to_pylist(), _langs(table), domains)
        for name, values in columns.items():
            table = table.append_column(name, values)
        return table, self.decide(table)

    def figures(
        self, texts: list[str | None], langs: list[str], domains: list[str | None] | None = None
    ) -> dict[str, pa.Array]:
        """Every `q_*` figure, and `quality_score` when the classifier is on, one value per document.

        Per-document rules first, in rule order, then per-batch ones: `q_blocklisted`
        is there only when a blocklist is configured (it needs `domains`).
        """
        docs = self.splitter.docs(texts, langs)
        stop_words = self._stop_words(docs)
        rows = [self._doc_figures(doc, n_stop) for doc, n_stop in zip(docs, stop_words)]
        columns: dict[str, pa.Array] = {}
        for name in rows[0] if rows else self._doc_figures(_EMPTY, 0):
            columns[name] = _typed(name, [row[name] for row in rows], self.doc_measures)
        for rule, measure in self.batch_measures:
            for name, values in measure(docs, domains or [None] * len(docs)).items():
                columns[name] = _typed(name, values, [(rule, measure)])
        return columns

    def decide(self, table: pa.Table) -> pa.Array:
        """Drop reason per row (null = keep): the first failing check in rule order."""
        langs = np.array(_langs(table), dtype=object)
        reasons = np.full(table.num_rows, None, dtype=object)
        for lang in sorted(set(langs)):
            rows = np.flatnonzero(langs == lang)
            for reason, column, bound, value in self.checks(lang):
                values = table[column].to_numpy(zero_copy_only=False)[rows]
                failing = values < value if bound == "min" else values > value
                undecided = np.array([r is None for r in reasons[rows]], bool)
                reasons[rows[failing & undecided]] = reason
        return pa.array(reasons.tolist(), pa.string())

    def checks(self, lang: str) -> list[tuple[str, str, str, float]]:
        """The active checks for one language, in rule order."""
        return active_checks(self.cfg, lang)

    def _stop_words(self, docs: list[Doc]) -> list[int]:
        """English stop words among words; Korean documents add eojeol ending in a particle or ending (their English quotes count too)."""
        counts = [sum(w.lower() in EN_STOP_WORDS for w in d.words) for d in docs]
        korean_rows = [i for i, d in enumerate(docs) if d.lang == "ko"]
        for i, n in zip(korean_rows, self.korean_stop_words.count([docs[i].text for i in korean_rows])):
            counts[i] += n
        return counts

    def _doc_figures(self, doc: Doc, stop_words: int) -> dict[str, float]:
        context = DocContext(self.cfg.thresholds(doc.lang), stop_words)
        figures: dict[str, float] = {}
        for _, measure in self.doc_measures:
            figures.update(measure(doc, context))
        return figures


_EMPTY = Doc(text="", lang="en", lines=[], paragraphs=[], words=[])


def _typed(name: str, values: list, measures: list[tuple[Rule, object]]) -> pa.Array:
    """A figure column: int32 when its rule lists it among its integer columns, float32 otherwise."""
    integer = any(name in rule.int_columns for rule, _ in measures)
    return pa.array(values, pa.int32() if integer else pa.float32())


def _langs(table: pa.Table) -> list[str]:
    if "lang" not in table.column_names:
        return ["und"] * table.num_rows
    return [lang or "und" for lang in table["lang"].to_pylist()]


def active_checks(cfg: QualityConfig, lang: str) -> list[tuple[str, str, str, float]]:
    """The checks `cfg` applies to one language, in rule order: (reason, figure column, bound, value).

    Decided from the config alone, so `corpus recut` re-decides stored figures with the same list.
    A rule whose checks need an option that is not set (the blocklist file) is off: it has no figure to check.
    """
    th = cfg.thresholds(lang)
    active = []
    for name in cfg.rules:
        rule = RULES[name]
        if rule.active(cfg):
            active.extend((check.reason, check.column, check.bound, check.value(th)) for check in rule.checks)
    return [check for check in active if check[3] is not None]
