"""MinHash signatures for many documents at once, in one of three schemes.

`oph` (the default, `OnePermutationHasher`): one-permutation MinHash with
optimal densification (Li, Owen & Zhang 2012; Shrivastava 2017) over the
64-bit shingle hashes `Shingler.hashes` computes. Each shingle is hashed once
and lands in one of `num_perm` bins, where its low 32 bits compete for the
minimum; an empty bin borrows the value of the first non-empty bin along a
fixed, seeded probe order. Two documents agree at any position with
probability equal to their Jaccard similarity, as with `num_perm` independent
permutations, so LSH bands and the signature check mean the same; the work is
O(shingles) instead of O(shingles x num_perm) (bench/RESULTS.md).

`affine32` and `legacy` (`MinHasher`): datasketch's, bit for bit.
`MinHasher(num_perm, seed, scheme).signatures(shingle_sets)` equals, row by
row, `datasketch.MinHash(num_perm, seed=seed, scheme=scheme)` updated with the
same shingles (default hash: datasketch's `sha1_hash32`). So a signature can be
handed to `datasketch.MinHash(hashvalues=..., scheme=...)`, `LeanMinHash` or
`MinHashLSH`. The speed comes from hashing each shingle once, then applying all
permutations to a whole batch of documents as one matrix operation.
"""

from __future__ import annotations

import hashlib
from typing import Literal, Sequence

import numpy as np

Scheme = Literal["oph", "affine32", "legacy"]
DatasketchScheme = Literal["affine32", "legacy"]

MERSENNE_61 = np.uint64((1 << 61) - 1)
MAX_HASH_32 = np.uint64((1 << 32) - 1)
# Shingle hashes permuted together: big enough to amortise numpy calls, small
# enough that a (rows x num_perm) block stays in cache.
BLOCK_ROWS = 2048
# MurmurHash3 fmix32 constants (datasketch pre-mixes every hash with them).
_FMIX32 = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35), np.uint32(16))


class MinHasher:
    """Permutations drawn once (as datasketch draws them), applied to batches."""

    def __init__(self, num_perm: int = 128, seed: int = 1, scheme: DatasketchScheme = "affine32") -> None:
        if num_perm < 1:
            raise ValueError(f"num_perm must be at least 1, got {num_perm}")
        self.num_perm, self.seed, self.scheme = num_perm, seed, scheme
        self.a, self.b = _permutations(num_perm, seed, scheme)
        self.dtype = np.uint32 if scheme == "affine32" else np.uint64
        self.empty = np.iinfo(np.uint32).max

    def signatures(self, shingle_sets: Sequence[Sequence[bytes]]) -> np.ndarray:
        """(documents x num_perm) signatures; a document without shingles gets
        the all-maximum signature of an empty datasketch MinHash."""
        out = np.full((len(shingle_sets), self.num_perm), self.empty, dtype=self.dtype)
        hashes, owners = _hash_all(shingle_sets)
        if hashes.size == 0:
            return out
        hashes = self._premix(hashes)
        for start in range(0, hashes.size, BLOCK_ROWS):
            block_owner = owners[start : start + BLOCK_ROWS]
            permuted = self._permute(hashes[start : start + BLOCK_ROWS])
            cuts = np.flatnonzero(np.r_[True, block_owner[1:] != block_owner[:-1]])
            docs = block_owner[cuts]
            out[docs] = np.minimum(out[docs], np.minimum.reduceat(permuted, cuts, axis=0))
        return out

    def _premix(self, hashes: np.ndarray) -> np.ndarray:
        if self.scheme == "legacy":
            return hashes.astype(np.uint64)
        s1, m1, s2, m2, s3 = _FMIX32
        h = hashes ^ (hashes >> s1)
        h = h * m1
        h = h ^ (h >> s2)
        h = h * m2
        return h ^ (h >> s3)

    def _permute(self, hashes: np.ndarray) -> np.ndarray:
        """a*h+b per permutation; legacy reduces mod 2^61-1 and keeps 32 bits."""
        values = hashes[:, None] * self.a[None, :] + self.b[None, :]  # wraps, as datasketch's
        if self.scheme == "affine32":
            return values
        # x mod (2^61 - 1) without a division: fold the high bits onto the low ones.
        folded = (values & MERSENNE_61) + (values >> np.uint64(61))
        folded -= MERSENNE_61 * (folded >= MERSENNE_61)
        return folded & MAX_HASH_32


class OnePermutationHasher:
    """Signatures from shingle hashes: one bin per hash, densified (module docstring)."""

    empty = np.iinfo(np.uint32).max

    def __init__(self, num_perm: int = 128, seed: int = 1) -> None:
        if num_perm < 1:
            raise ValueError(f"num_perm must be at least 1, got {num_perm}")
        self.num_perm = num_perm
        gen = np.random.RandomState(seed)
        others = [np.delete(np.arange(num_perm), i) for i in range(num_perm)]
        # probes[i]: bin i itself, then every other bin in a random order of its own.
        self.probes = np.array([np.r_[i, gen.permutation(rest)] for i, rest in enumerate(others)], dtype=np.int64)

    def signatures(self, hashes: np.ndarray, owners: np.ndarray, n_docs: int) -> np.ndarray:
        """(n_docs x num_perm) uint32 signatures of `hashes` (uint64, any order)
        grouped by `owners` (the document of each); a document without hashes
        gets the all-maximum signature."""
        k = self.num_perm
        bins = ((hashes >> np.uint64(32)) * np.uint64(k)) >> np.uint64(32)  # high 32 bits scaled to [0, k)
        cells = owners.astype(np.int64) * k + bins.astype(np.int64)
        signatures = np.full(n_docs * k, self.empty, np.uint32)
        np.minimum.at(signatures, cells, (hashes & MAX_HASH_32).astype(np.uint32))
        filled = np.zeros(n_docs * k, bool)
        filled[cells] = True
        return self._densify(signatures.reshape(n_docs, k), filled.reshape(n_docs, k))

    def _densify(self, signatures: np.ndarray, filled: np.ndarray) -> np.ndarray:
        """Every empty bin of a non-empty document takes the value of the first
        filled bin along its probe order. The order is the same for every
        document, which keeps P(two documents agree at a bin) = Jaccard."""
        rows = np.flatnonzero(filled.any(axis=1) & ~filled.all(axis=1))
        values, have = signatures[rows], filled[rows]
        dense, todo = values.copy(), ~have
        live = np.arange(rows.size)
        for step in range(1, self.num_perm):
            if live.size == 0:
                break
            source = self.probes[:, step]
            pending = todo[live]
            take = pending & have[live][:, source]
            block = dense[live]
            block[take] = values[live][:, source][take]
            dense[live] = block
            pending &= ~take
            todo[live] = pending
            live = live[pending.any(axis=1)]
        signatures[rows] = dense
        return signatures


def _hash_all(shingle_sets: Sequence[Sequence[bytes]]) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's sha1_hash32 of every shingle (first 4 digest bytes, little
    endian), and the index of the document each belongs to."""
    sha1 = hashlib.sha1
    digests = b"".join([sha1(s).digest() for shingles in shingle_sets for s in shingles])
    hashes = np.frombuffer(digests, dtype="<u4").reshape(-1, 5)[:, 0].astype(np.uint32)
    counts = np.fromiter((len(s) for s in shingle_sets), dtype=np.int64, count=len(shingle_sets))
    owners = np.repeat(np.arange(len(shingle_sets), dtype=np.int64), counts)
    return hashes, owners


def _permutations(num_perm: int, seed: int, scheme: DatasketchScheme) -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) datasketch draws from `RandomState(seed)` for `scheme`."""
    gen = np.random.RandomState(seed)
    if scheme == "affine32":
        a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
        b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
        return a, b
    if scheme == "legacy":
        pairs = [
            (gen.randint(1, MERSENNE_61, dtype=np.uint64), gen.randint(0, MERSENNE_61, dtype=np.uint64))
            for _ in range(num_perm)
        ]
        params = np.array(pairs, dtype=np.uint64).T
        return params[0], params[1]
    raise ValueError(f"unknown MinHash scheme {scheme!r}; use 'affine32' or 'legacy'")
