"""Datasketch-scheme signatures are datasketch's, bit for bit; LSH bands are
datasketch's choice; the default one-permutation scheme hashes the Shingler's
shingles and estimates Jaccard as well as datasketch does."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
from datasketch import LeanMinHash, MinHash, MinHashLSH
from datasketch.lsh import _optimal_param

from dedup.lsh import band_hashes, optimal_bands
from dedup.minhash import MinHasher, OnePermutationHasher
from corpus.normalize import normalize
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


def _pairs_exact_jaccard(sets, window=40, low=0.2, high=0.95):
    """Pairs of nearby documents (the variants of one page sit together) with
    exact Jaccard in (low, high), and that Jaccard."""
    out = []
    for i in range(len(sets)):
        for j in range(i + 1, min(len(sets), i + window)):
            union = len(sets[i] | sets[j])
            jac = len(sets[i] & sets[j]) / union if union else 0.0
            if low < jac < high:
                out.append((i, j, jac))
    return out


@pytest.mark.parametrize(
    "name,kind,size,n",
    [("article_extraction_variants", "word", 5, 200), ("ko_news_comments", "char", 5, 400), ("web_docs_mixed", "word", 2, 100)],
)
def test_shingle_hashes_are_the_shinglers_shingles(data_dir, name, kind, size, n):
    """Per document as many distinct hashes as shingles, and any two documents
    share as many hashes as shingles: the same windows, hashed consistently."""
    texts = _docs(data_dir, name, n) + ["", "short", "two words"]
    shingler = Shingler(kind, size)
    sets = [set(shingler(t)) for t in texts]
    hashes, owners = shingler.hashes([normalize(t) for t in texts], seed=1)
    hash_sets = [set(hashes[owners == i].tolist()) for i in range(len(texts))]
    assert [len(h) for h in hash_sets] == [len(s) for s in sets]
    for i, j in zip(range(len(texts)), range(1, len(texts))):
        assert len(hash_sets[i] & hash_sets[j]) == len(sets[i] & sets[j])
    assert sum(len(sets[i] & sets[i + 1]) for i in range(len(texts) - 1)) > 0  # the check above had overlaps to see


def test_shingle_hashes_do_not_depend_on_the_batch_and_follow_the_seed(data_dir):
    norms = [normalize(t) for t in _docs(data_dir, "ko_news_comments", 50)]
    shingler = Shingler("char", 5)
    whole, owners = shingler.hashes(norms, seed=1)
    alone, _ = shingler.hashes(norms[7:8], seed=1)
    assert np.array_equal(np.sort(whole[owners == 7]), np.sort(alone))
    other, _ = shingler.hashes(norms[7:8], seed=2)
    assert not set(other.tolist()) & set(alone.tolist())


def _oph(shingler, texts, num_perm=128, seed=1):
    hashes, owners = shingler.hashes([normalize(t) for t in texts], seed)
    return OnePermutationHasher(num_perm, seed).signatures(hashes, owners, len(texts))


@pytest.mark.slow
def test_one_permutation_estimates_jaccard_as_well_as_datasketch(data_dir):
    """Unbiased, and no noisier than 128 independent permutations, on 5,000+
    pairs of one page's extractions (exact Jaccard 0.2 to 0.95)."""
    texts = _docs(data_dir, "article_extraction_variants", 1528)
    shingler = Shingler("word", 5)
    sets = [set(shingler(t)) for t in texts]
    pairs = _pairs_exact_jaccard(sets)
    assert len(pairs) > 5000
    ours = _oph(shingler, texts)
    theirs = MinHasher(128, 1, "affine32").signatures([list(s) for s in sets])
    err_ours = np.array([(ours[i] == ours[j]).mean() - jac for i, j, jac in pairs])
    err_theirs = np.array([(theirs[i] == theirs[j]).mean() - jac for i, j, jac in pairs])
    assert abs(err_ours.mean()) < 0.005
    assert np.sqrt((err_ours**2).mean()) <= 1.1 * np.sqrt((err_theirs**2).mean())


def test_one_permutation_fills_every_position_of_short_documents():
    """A document with fewer shingles than positions has empty bins; each
    borrows a filled one, so a one-shingle document's signature is that
    shingle's value everywhere, and equal shingle sets give equal signatures
    however often a shingle repeats. A text without shingles is all maximum."""
    sigs = _oph(Shingler("char", 2), ["abab", "ababab ", "x", "", "abc"], num_perm=100)
    assert np.array_equal(sigs[0], sigs[1])  # {ab, ba} both
    assert len(set(sigs[2].tolist())) == 1 and sigs[2][0] != np.iinfo(np.uint32).max
    assert (sigs[3] == np.iinfo(np.uint32).max).all()
    assert not np.array_equal(sigs[0], sigs[4])
    assert (sigs[4] != np.iinfo(np.uint32).max).all()


def test_one_permutation_signatures_are_deterministic_across_batches(data_dir):
    texts = _docs(data_dir, "web_docs_mixed", 50)
    shingler = Shingler("word", 5)
    whole = _oph(shingler, texts)
    assert np.array_equal(whole, np.vstack([_oph(shingler, texts[:17]), _oph(shingler, texts[17:])]))
    assert not np.array_equal(whole, _oph(shingler, texts, seed=2))
