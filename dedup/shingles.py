"""Shingles: the units whose sets MinHash compares.

English uses word n-grams. Korean has three candidates, chosen by measurement
(bench/korean_shingles.py, README "Deduplication"): eojeol (space-separated
word) n-grams, Kiwi morpheme n-grams, and character n-grams.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from corpus.normalize import normalize

ShingleKind = Literal["word", "char", "morpheme"]


class Shingler:
    """Turns a document into its shingle set (as UTF-8 bytes, ready to hash).

    Text is normalized first, the same form exact dedup compares, so exact
    duplicates always get identical signatures. A document shorter than one
    shingle is one shingle (itself); an empty one has none.
    """

    def __init__(self, kind: ShingleKind, size: int) -> None:
        if size < 1:
            raise ValueError(f"shingle size must be at least 1, got {size}")
        self.kind, self.size = kind, size

    def __call__(self, text: str | None) -> list[bytes]:
        norm = normalize(text)
        if not norm:
            return []
        grams = _ngrams(norm, self.size, "") if self.kind == "char" else _ngrams(self._tokens(norm), self.size, " ")
        return [g.encode("utf-8", "surrogatepass") for g in grams]

    def _tokens(self, norm: str) -> list[str]:
        if self.kind == "word":
            return norm.split(" ")
        return [token.form for token in _kiwi().tokenize(norm)]


@lru_cache(maxsize=1)
def _kiwi():
    """One Kiwi per process: loading its model takes seconds, tokenizing is fast."""
    from kiwipiepy import Kiwi

    return Kiwi()


def _ngrams(units, size: int, sep: str) -> set[str]:
    """Distinct n-grams of a string (characters) or token list (joined by `sep`)."""
    if len(units) <= size:
        return {sep.join(units)} if len(units) else set()
    if isinstance(units, str):
        return {units[i : i + size] for i in range(len(units) - size + 1)}
    return {sep.join(gram) for gram in zip(*(units[i:] for i in range(size)))}
