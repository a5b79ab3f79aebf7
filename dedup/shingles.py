"""Shingles: the units whose sets MinHash compares.

English uses word n-grams. Korean has three candidates, chosen by measurement
(bench/korean_shingles.py, README "Deduplication"): eojeol (space-separated
word) n-grams, Kiwi morpheme n-grams, and character n-grams.

Two forms of the same shingles: `Shingler(text)` gives each one as UTF-8 bytes
(what datasketch-compatible signatures hash), `Shingler.hashes(texts)` gives a
64-bit hash of each one for a whole batch of texts, computed with numpy and no
Python object per shingle (what the default signature scheme consumes).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal, Sequence

import numpy as np
import xxhash

from corpus.normalize import normalize
from dedup.hashing import splitmix64

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
        return self.shingles(normalize(text))

    def shingles(self, norm: str) -> list[bytes]:
        """The shingle set of a text already `normalize`d."""
        if not norm:
            return []
        grams = _ngrams(norm, self.size, "") if self.kind == "char" else _ngrams(self._tokens(norm), self.size, " ")
        return [g.encode("utf-8", "surrogatepass") for g in grams]

    def hashes(self, normalized: Sequence[str], seed: int) -> tuple[np.ndarray, np.ndarray]:
        """A 64-bit hash of every shingle of every text (already `normalize`d),
        and the index of the text each belongs to.

        The shingles are `__call__`'s: character or word (or morpheme) windows
        of `size`, or the whole text when it is shorter. A shingle repeated in
        a text is hashed each time (MinHash ignores repeats). Equal shingles
        get equal hashes in any text, batch or process; `seed` picks the hash
        function.
        """
        if self.kind == "morpheme":
            normalized = [" ".join(t for t in self._tokens(n) if t) if n else "" for n in normalized]
        units, counts = _char_units(normalized) if self.kind == "char" else _word_units(normalized)
        return _window_hashes(units, counts, self.size, seed)

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


def _char_units(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Code points of all texts end to end, and each text's length."""
    points = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), np.uint32)
    return points.astype(np.uint64), np.fromiter(map(len, texts), np.int64, len(texts))


def _word_units(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """xxh3-64 of every space-separated word of all texts (UTF-8, as `__call__`
    encodes), and each text's word count."""
    counts = np.fromiter((t.count(" ") + 1 if t else 0 for t in texts), np.int64, len(texts))
    words = " ".join(t for t in texts if t).encode("utf-8", "surrogatepass").split(b" ")
    return np.fromiter(map(xxhash.xxh3_64_intdigest, words), np.uint64, int(counts.sum())), counts


def _window_hashes(units: np.ndarray, counts: np.ndarray, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Hash of every window of `size` consecutive units inside one text (and of
    the whole text when it has fewer units), with the text each belongs to.

    A window's hash chains splitmix64 over its units, h = mix(h ^ u), so it
    depends on their order; a window of t units is extended to t + 1 for all
    positions at once, `size` numpy passes in all.
    """
    ends = np.cumsum(counts)
    starts = ends - counts
    owner = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    chained = splitmix64(units ^ splitmix64(np.array([seed], np.uint64)))
    hashes, owners = [], []
    for length in range(1, size + 1):
        if length > 1:
            chained = splitmix64(chained[:-1] ^ units[length - 1 :])
        short = np.flatnonzero(counts == length) if length < size else np.zeros(0, np.int64)
        hashes.append(chained[starts[short]])
        owners.append(short)
    first = np.arange(chained.size)
    whole = first + size <= ends[owner[: chained.size]]
    hashes.append(chained[whole])
    owners.append(owner[: chained.size][whole])
    return np.concatenate(hashes), np.concatenate(owners)
