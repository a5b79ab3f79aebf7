"""What a quality rule is: its figures and its checks, in one object each rule file exports.

A rule *measures* (one `q_*` column or more per document) and *checks* (a
column against a bound from its language's thresholds). `filters/quality.py`
runs every registered rule (filters/rule_registry.py) the same way: it loads
each rule's measure once per worker, merges the figures into columns, types
them (int32 for the rule's integer columns, float32 otherwise) and decides
from the checks. A rule's thresholds are named in the config's table
(corpus/quality_thresholds.py), under the rule's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Literal

from corpus.config import QualityConfig
from filters.text_stats import Doc


@dataclass(frozen=True)
class DocContext:
    """What a per-document figure may read besides the document: its language's
    thresholds (figure-shaping settings such as `short_line_chars`) and its stop
    words, counted once for all rules (filters/quality.py)."""

    thresholds: Any
    stop_words: int


# Per document: the figures of one document. Per batch: one list of values per column.
DocFigures = Callable[[Doc, DocContext], dict[str, float]]
BatchFigures = Callable[[list[Doc], list[str | None]], dict[str, list]]


@dataclass(frozen=True)
class Check:
    """Drop with `reason` when `column` is below (`min`) or above (`max`) the threshold.

    `threshold` names a field of the language's thresholds (with `key`, an entry
    of a dict field: the n of an n-gram bound), or is a fixed number. A None
    threshold turns the check off.
    """

    reason: str
    column: str
    bound: Literal["min", "max"]
    threshold: str | float
    key: int | None = None

    def value(self, thresholds: Any) -> float | None:
        if not isinstance(self.threshold, str):
            return self.threshold
        value = getattr(thresholds, self.threshold)
        return value.get(self.key) if self.key is not None else value

    @property
    def field(self) -> str | None:
        """The threshold's config name (`max_dup_ngram_char_frac.5` for a dict entry); None when fixed."""
        if not isinstance(self.threshold, str):
            return None
        return self.threshold if self.key is None else f"{self.threshold}.{self.key}"


@dataclass(frozen=True)
class Rule:
    """One quality rule.

    `measure(cfg)` loads what the rule needs (a lexicon, a model) once per worker
    and returns its figure function, per document or, with `per_document`
    False, per batch (it sees every document and its domain); None when the
    rule measures nothing under `cfg`. `requires` names a config option the
    checks need set (the blocklist file): without it they are off.
    """

    name: str
    measure: Callable[[QualityConfig], DocFigures | BatchFigures | None]
    checks: tuple[Check, ...]
    int_columns: frozenset[str] = frozenset()
    per_document: bool = True
    requires: str | None = None

    def active(self, cfg: QualityConfig) -> bool:
        return self.requires is None or bool(getattr(cfg, self.requires))


def loads_nothing(figures: DocFigures) -> Callable[[QualityConfig], DocFigures]:
    """The `measure` of a rule whose figures need nothing loaded."""
    return lambda cfg: figures
