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
from corpus.stats import Stats
from filters import blocklist, c4, fineweb, gopher, hashtags, korean, listing, spam
from filters.blocklist import DomainBlocklist
from filters.classifier import QualityClassifier
from filters.text_stats import Doc, WordSplitter

CLASSIFIER_CHECK = ("quality_classifier", "quality_score", "min")
RULE_CHECKS = {
    "blocklist": blocklist.checks,
    "spam": spam.checks,
    "hashtags": hashtags.checks,
    "listing": listing.checks,
    "korean": korean.checks,
    "gopher_quality": gopher.quality_checks,
    "gopher_repetition": gopher.repetition_checks,
    "c4": c4.checks,
    "fineweb": fineweb.checks,
}
INT_COLUMNS = {"q_word_count", "q_stop_words", "q_c4_lorem_ipsum", "q_c4_curly_braces", "q_hashtags", "q_blocklisted", "q_longest_run_words",
               *(f"q_spam_{category}" for category in spam.CATEGORIES)}


class QualityFilter:
    """DocStage `quality`: loads spaCy, Kiwi, the spam lexicon, the blocklist and the classifier once, in the worker."""

    name = "quality"

    def __init__(self, cfg: QualityConfig) -> None:
        self.cfg = cfg
        self.splitter = WordSplitter()
        self.korean_stop_words = korean.KoreanStopWords(cfg.stop_word_chars)
        self.spam = spam.SpamLexicon(cfg.spam_terms)
        self.blocklist = DomainBlocklist(cfg.blocklist) if cfg.blocklist and "blocklist" in cfg.rules else None
        self.classifier = None
        if "quality_classifier" in cfg.rules:
            self.classifier = QualityClassifier(cfg.classifier_path(), cfg.classifier_max_chars)

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

        `q_blocklisted` is there only when a blocklist is configured (it needs `domains`).
        """
        docs = self.splitter.docs(texts, langs)
        stop_words = self._stop_words(docs)
        rows = [self._doc_figures(doc, n_stop) for doc, n_stop in zip(docs, stop_words)]
        columns: dict[str, pa.Array] = {}
        for name in rows[0] if rows else _figure_names(self):
            values = [row[name] for row in rows]
            columns[name] = pa.array(values, pa.int32() if name in INT_COLUMNS else pa.float32())
        if self.blocklist is not None:
            columns["q_blocklisted"] = pa.array(self.blocklist.figures(domains or [None] * len(docs)), pa.int32())
        if self.classifier is not None:
            columns["quality_score"] = pa.array(self.classifier.score([d.text for d in docs]), pa.float32())
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
        """English stop words among words; Korean documents add Kiwi's stop-word morphemes (their English quotes count too)."""
        counts = [sum(w.lower() in EN_STOP_WORDS for w in d.words) for d in docs]
        korean_rows = [i for i, d in enumerate(docs) if d.lang == "ko"]
        for i, n in zip(korean_rows, self.korean_stop_words.count([docs[i].text for i in korean_rows])):
            counts[i] += n
        return counts

    def _doc_figures(self, doc: Doc, stop_words: int) -> dict[str, float]:
        th = self.cfg.thresholds(doc.lang)
        return {
            **self.spam.figures(doc),
            **hashtags.figures(doc),
            **listing.figures(doc),
            **korean.figures(doc),
            **gopher.quality_figures(doc, stop_words),
            **gopher.repetition_figures(doc),
            **c4.figures(doc, th.c4_min_words_per_line),
            **fineweb.figures(doc, th.short_line_chars),
        }


def _figure_names(quality: QualityFilter) -> list[str]:
    empty = Doc(text="", lang="en", lines=[], paragraphs=[], words=[])
    return list(quality._doc_figures(empty, 0))


def _langs(table: pa.Table) -> list[str]:
    if "lang" not in table.column_names:
        return ["und"] * table.num_rows
    return [lang or "und" for lang in table["lang"].to_pylist()]


def active_checks(cfg: QualityConfig, lang: str) -> list[tuple[str, str, str, float]]:
    """The checks `cfg` applies to one language, in rule order: (reason, figure column, bound, value).

    Decided from the config alone, so `corpus recut` re-decides stored figures with the same list.
    The blocklist rule is off without a blocklist file: it has no figure to check.
    """
    th = cfg.thresholds(lang)
    active = []
    for rule in cfg.rules:
        if rule == "quality_classifier":
            active.append((*CLASSIFIER_CHECK, th.min_quality_score))
        elif rule == "blocklist":
            active.extend(blocklist.checks(th) if cfg.blocklist else [])
        else:
            active.extend(RULE_CHECKS[rule](th))
    return [check for check in active if check[3] is not None]
