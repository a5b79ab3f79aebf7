"""Fit one language's quality thresholds to labelled clean and junk text (`corpus calibrate`).

FineWeb-2 derives each language's thresholds from data instead of carrying
English values over; this does the same for a data team's own samples. Every
figure is computed once (filters/quality.py), then thresholds are chosen
greedily: at each step the check and bound that drops the most junk not yet
dropped, while every clean register still keeps at least `keep` of its
documents with all chosen checks together. A check the junk gives no reason
for stays at its current value only if it costs no clean document; otherwise
it is turned off. The classifier's cut is one more check (`min_quality_score`).

The result is a config fragment (`quality: {LANG: {...}}`) that `corpus run`
takes as it is or merged into a larger file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from corpus.config import QualityConfig
from filters.quality import RULE_CHECKS, QualityFilter

LANGS = ("en", "ko")
MIN_DOCS = 20
INT_FIELDS = ("min_words", "max_words", "min_stop_words", "max_lorem_ipsum", "max_curly_braces", "max_run_words")


class CalibrationError(ValueError):
    """Inputs that cannot be calibrated on: empty, too small, or an unknown language."""


@dataclass
class Labelled:
    """One input file's texts: a clean register or a junk type."""

    name: str
    clean: bool
    texts: list[str]


@dataclass
class Calibration:
    thresholds: dict[str, Any]
    before: list[tuple[str, bool, int, float]]
    after: list[tuple[str, bool, int, float]]

    def fragment(self, lang: str) -> dict[str, Any]:
        return {"quality": {lang: self.thresholds}}


def calibrate(sets: list[Labelled], lang: str, keep: float = 0.97, cfg: QualityConfig | None = None) -> Calibration:
    """Thresholds for `lang` keeping >= `keep` of each clean set and dropping the most junk.

    `before` and `after` list (name, clean, docs, kept share) per set, under the
    current and the fitted thresholds.
    """
    validate(sets, lang, keep)
    cfg = cfg or QualityConfig()
    quality = QualityFilter(cfg)
    texts = [t for s in sets for t in s.texts]
    table = pa.table(quality.figures(texts, [lang] * len(texts)))
    owner = np.concatenate([np.full(len(s.texts), i) for i, s in enumerate(sets)])
    clean = np.array([sets[i].clean for i in owner])
    checks = _checks(quality, lang)
    current = {field: value for (_, _, _, field), value in zip(checks, _values(cfg.thresholds(lang), checks))}
    fails = {c: _fail_fn(table[c[1]].to_numpy(zero_copy_only=False), c[2]) for c in checks}
    before = _table(sets, owner, _kept(fails, current, len(texts)))
    chosen = _greedy(fails, checks, owner, clean, len(sets), keep, table)
    kept = _kept(fails, chosen, len(texts))
    for check in checks:
        field = check[3]
        if field in chosen or current[field] is None:
            continue
        trial = fails[check](current[field]) & kept & clean
        if not trial.any():
            chosen[field] = current[field]
            kept &= ~fails[check](current[field])
    thresholds = _thresholds(cfg.thresholds(lang), checks, chosen)
    return Calibration(thresholds, before, _table(sets, owner, kept))


def validate(sets: list[Labelled], lang: str, keep: float) -> None:
    """Raise CalibrationError naming what is wrong: the language, an empty or too small set, a missing side."""
    if lang not in LANGS:
        raise CalibrationError(f"unknown language {lang!r}: calibrate fits the thresholds of {' or '.join(LANGS)}")
    if not 0.0 < keep < 1.0:
        raise CalibrationError(f"--keep must be between 0 and 1 (a share of each clean register), got {keep}")
    for s in sets:
        if not s.texts:
            raise CalibrationError(f"{s.name}: no documents (empty file, or no `text` in any line)")
        if len(s.texts) < MIN_DOCS:
            raise CalibrationError(
                f"{s.name}: {len(s.texts)} documents, too few to calibrate on; give at least {MIN_DOCS} per file"
            )
    if not any(s.clean for s in sets) or all(s.clean for s in sets):
        raise CalibrationError("calibrate needs clean (--clean) and junk (--junk) documents")


def _checks(quality: QualityFilter, lang: str) -> list[tuple[str, str, str, str]]:
    """Active rules' checks as (reason, column, bound, config field), the field found by reading the checks."""
    recorder = _FieldRecorder()
    fields: list[tuple[str, str, str, str]] = []
    for rule in quality.cfg.rules:
        if rule == "quality_classifier":
            if quality.classifier is not None:
                fields.append(("quality_classifier", "quality_score", "min", "min_quality_score"))
        elif rule != "blocklist":
            fields.extend((r, col, bound, marker) for r, col, bound, marker in RULE_CHECKS[rule](recorder))
    return fields


class _FieldRecorder:
    """Stands in for a thresholds object: each attribute read returns its own name (dict fields: "name.key")."""

    def __getattr__(self, name: str) -> Any:
        if name.endswith("_char_frac") and name.startswith(("max_top_ngram", "max_dup_ngram")):
            return _DictField(name)
        return name


class _DictField:
    def __init__(self, name: str) -> None:
        self.name = name

    def get(self, key: int) -> str:
        return f"{self.name}.{key}"


def _values(th: Any, checks: list[tuple[str, str, str, str]]) -> list[Any]:
    out = []
    for *_, field in checks:
        name, _, key = field.partition(".")
        value = getattr(th, name)
        out.append(value.get(int(key)) if key else value)
    return out


def _fail_fn(values: np.ndarray, bound: str):
    values = values.astype(float)
    return (lambda t: values < t) if bound == "min" else (lambda t: values > t)


def _kept(fails: dict, thresholds: dict[str, Any], n: int) -> np.ndarray:
    kept = np.ones(n, bool)
    for check, fail in fails.items():
        value = thresholds.get(check[3])
        if value is not None:
            kept &= ~fail(value)
    return kept


def _greedy(fails, checks, owner, clean, n_sets, keep, table) -> dict[str, Any]:
    """Add the check and bound that drops the most remaining junk until none drops more within the budget."""
    chosen: dict[str, Any] = {}
    kept = np.ones(len(owner), bool)
    while True:
        best = None
        for check in checks:
            if check[3] in chosen:
                continue
            values = table[check[1]].to_numpy(zero_copy_only=False).astype(float)
            bound = _tightest(values, check[2], owner, clean, kept, n_sets, keep)
            if bound is None:
                continue
            gain = int((fails[check](bound) & kept & ~clean).sum())
            if gain > 0 and (best is None or gain > best[0]):
                best = (gain, check, bound)
        if best is None:
            return chosen
        _, check, bound = best
        chosen[check[3]] = _round(bound, check[2])
        kept &= ~fails[check](chosen[check[3]])


def _tightest(values, bound, owner, clean, kept, n_sets, keep) -> float | None:
    """The strictest bound that leaves every clean set at >= keep, given what is already dropped."""
    limits = []
    for i in range(n_sets):
        rows = (owner == i) & clean
        if not rows.any():
            continue
        allowed = int(kept[rows].sum()) - math.ceil(keep * int(rows.sum()))
        if allowed < 0:
            return None
        ordered = np.sort(values[rows & kept])
        if ordered.size == 0:
            continue
        # A "max" bound may drop the `allowed` largest values; a "min" bound the `allowed` smallest.
        limits.append(ordered[-(allowed + 1)] if bound == "max" else ordered[allowed])
    if not limits:
        return None
    return max(limits) if bound == "max" else min(limits)


def _round(value: float, bound: str) -> float:
    """Four decimals, rounded away from the clean side so the fitted bound keeps what it was fitted to keep."""
    scaled = value * 10_000
    return float((math.ceil(scaled) if bound == "max" else math.floor(scaled)) / 10_000)


def _thresholds(th: Any, checks, chosen: dict[str, Any]) -> dict[str, Any]:
    """Every fitted field, unchosen checks set to None (off); n-gram dicts complete."""
    out: dict[str, Any] = {}
    for *_, field in checks:
        name, _, key = field.partition(".")
        value = chosen.get(field)
        if isinstance(value, float) and name in INT_FIELDS:
            value = int(value)
        if key:
            out.setdefault(name, {})
            if value is not None:
                out[name][int(key)] = value
        else:
            out[name] = value
    return out


def _table(sets: list[Labelled], owner: np.ndarray, kept: np.ndarray) -> list[tuple[str, bool, int, float]]:
    return [(s.name, s.clean, len(s.texts), float(kept[owner == i].mean())) for i, s in enumerate(sets)]
