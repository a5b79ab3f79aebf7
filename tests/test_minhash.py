"""Signatures are datasketch's, bit for bit; LSH bands are datasketch's choice."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
from datasketch import LeanMinHash, MinHash, MinHashLSH
from datasketch.lsh import _optimal_param

from dedup.lsh import band_hashes, optimal_bands
from dedup.minhash import MinHasher
from dedup.shingles import Shingler


def _docs(data_dir, name, n):
    with gzip.open(data_dir / "near_dup" / f"{name}.docs.jsonl.gz", "rt") as f:
        return [json.loads(line)["text"] for _, line in zip(range(n), f)]


def _datasketch(shingle_sets, num_perm, seed, scheme):
    rows = []
    for shingles in shingle_sets:
        m = MinHash(num_perm=num_perm, seed=seed, scheme=scheme)
        for s in shingles:
            m.update(s)
        rows.append(m.hashvalues)
    return np.array(rows)


@pytest.mark.parametrize("scheme", ["affine32", "legacy"])
@pytest.mark.parametrize("num_perm,seed", [(128, 1), (64, 7)])
def test_signatures_equal_datasketch_on_english_documents(data_dir, scheme, num_perm, seed):
    sets = [Shingler("word", 5)(t) for t in _docs(data_dir, "article_extraction_variants", 40)]
    ours = MinHasher(num_perm, seed, scheme).signatures(sets)
    theirs = _datasketch(sets, num_perm, seed, scheme)
    assert ours.dtype == theirs.dtype
    assert np.array_equal(ours, theirs)


@pytest.mark.parametrize("kind,size", [("char", 5), ("word", 2)])
def test_signatures_equal_datasketch_on_korean_comments(data_dir, kind, size):
    sets = [Shingler(kind, size)(t) for t in _docs(data_dir, "ko_news_comments", 60)]
    assert np.array_equal(MinHasher().signatures(sets), _datasketch(sets, 128, 1, "affine32"))


def test_empty_and_tiny_documents_match_datasketch():
    shingler = Shingler("word", 5)
    sets = [shingler(""), shingler("   "), shingler("hi"), shingler("two words")]
    assert sets[0] == [] and sets[1] == [] and len(sets[2]) == 1
    assert np.array_equal(MinHasher().signatures(sets), _datasketch(sets, 128, 1, "affine32"))


def test_datasketch_indexes_and_queries_our_signatures(data_dir):
    texts = _docs(data_dir, "article_extraction_variants", 30)
    sigs = MinHasher().signatures([Shingler("word", 5)(t) for t in texts])
    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    for i, sig in enumerate(sigs):
        lsh.insert(i, LeanMinHash(MinHash(hashvalues=sig, scheme="affine32")))
    for i, sig in enumerate(sigs):
        assert i in lsh.query(MinHash(hashvalues=sig, scheme="affine32"))


def test_signatures_are_deterministic_across_batches(data_dir):
    sets = [Shingler("word", 5)(t) for t in _docs(data_dir, "web_docs_mixed", 50)]
    hasher = MinHasher()
    whole = hasher.signatures(sets)
    pieces = np.vstack([hasher.signatures(sets[:17]), hasher.signatures(sets[17:])])
    assert np.array_equal(whole, pieces)
    assert np.array_equal(whole, MinHasher().signatures(sets))


@pytest.mark.parametrize("num_perm,threshold", [(32, 0.5), (128, 0.8), (64, 0.9)])
def test_bands_and_rows_are_datasketchs_optimum(num_perm, threshold):
    assert optimal_bands(threshold, num_perm) == _optimal_param(threshold, num_perm, 0.5, 0.5)


def test_band_hashes_split_only_where_bands_differ():
    hasher = MinHasher()
    a = hasher.signatures([[b"x%d" % i for i in range(200)]])
    b = a.copy()
    b[0, 5] ^= 1  # one value in band 0 (rows = 9 at 0.8/128)
    bands, rows = optimal_bands(0.8, 128)
    ha, hb = band_hashes(a, bands, rows), band_hashes(b, bands, rows)
    assert ha[0, 0] != hb[0, 0]
    assert np.array_equal(ha[0, 1:], hb[0, 1:])
