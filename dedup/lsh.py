"""LSH banding: which documents become candidate near-duplicates.

A signature of `num_perm` values is cut into `b` bands of `r` rows; two
documents are candidates when any band is identical. `(b, r)` is the choice
datasketch's `MinHashLSH` makes for a threshold (the one minimising the
weighted false-positive and false-negative areas), so the same threshold means
the same thing here and there. Each band is reduced to one 64-bit hash so the
rows that travel between workers are `(band, band_hash, doc)`: 18 bytes.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyarrow as pa

from dedup.hashing import GOLDEN, splitmix64

NEAR_REASON = "near_duplicate"
BAND_ROW_SCHEMA = pa.schema([("band", pa.int16()), ("band_hash", pa.uint64()), ("doc", pa.int64())])
EDGE_SCHEMA = pa.schema([("src", pa.int64()), ("dst", pa.int64())])


@lru_cache(maxsize=64)
def optimal_bands(threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5) -> tuple[int, int]:
    """(bands, rows) as datasketch's `_optimal_param` picks them.

    The areas under the S-curve are integrated exactly: 1-(1-s^r)^b is a
    polynomial of degree b*r <= num_perm, and Gauss-Legendre with n nodes is
    exact up to degree 2n-1.
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be between 0 and 1 (exclusive), got {threshold}")
    nodes, weights = np.polynomial.legendre.leggauss(num_perm // 2 + 2)
    below = (nodes + 1) * threshold / 2, weights * threshold / 2
    above = threshold + (nodes + 1) * (1 - threshold) / 2, weights * (1 - threshold) / 2
    best, best_error = (0, 0), float("inf")
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            fp = float(np.dot(below[1], 1 - (1 - below[0] ** r) ** b))
            fn = float(np.dot(above[1], (1 - above[0] ** r) ** b))
            error = fp * fp_weight + fn * fn_weight
            if error < best_error:
                best, best_error = (b, r), error
    return best


def band_hashes(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(documents x bands) uint64: band i hashes signature values [i*r, (i+1)*r),
    the ranges datasketch's MinHashLSH uses, mixed with splitmix64."""
    values = signatures.astype(np.uint64, copy=False)
    out = np.empty((values.shape[0], bands), dtype=np.uint64)
    for band in range(bands):
        h = np.full(values.shape[0], ((band + 1) * int(GOLDEN)) % (1 << 64), dtype=np.uint64)
        for col in range(band * rows, (band + 1) * rows):
            h = splitmix64(h ^ values[:, col])
        out[:, band] = h
    return out


def bucket_edges(rows: pa.Table) -> pa.Table:
    """Candidate pairs from band rows: each document in a shared bucket is
    linked to the bucket's smallest doc (a star, so a bucket of n costs n-1
    edges, not n^2). All rows of a bucket must be present."""
    if rows.num_rows == 0:
        return EDGE_SCHEMA.empty_table()
    rows = rows.sort_by([("band", "ascending"), ("band_hash", "ascending"), ("doc", "ascending")])
    band = rows["band"].to_numpy()
    bucket = rows["band_hash"].to_numpy()
    doc = rows["doc"].to_numpy()
    starts = np.r_[True, (band[1:] != band[:-1]) | (bucket[1:] != bucket[:-1])]
    first = doc[np.maximum.accumulate(np.where(starts, np.arange(doc.size), 0))]
    keep = ~starts & (first != doc)
    return unique_edges(first[keep], doc[keep])


def unique_edges(src: np.ndarray, dst: np.ndarray) -> pa.Table:
    """Distinct (src, dst) pairs, sorted."""
    pairs = np.unique(np.stack([src, dst], axis=1), axis=0) if src.size else np.empty((0, 2), np.int64)
    return pa.table({"src": pairs[:, 0].astype(np.int64), "dst": pairs[:, 1].astype(np.int64)}, schema=EDGE_SCHEMA)
