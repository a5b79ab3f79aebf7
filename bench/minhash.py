"""MinHash signatures per CPU second on one core: ours (both schemes) against rensa and datasketch.

Same real documents for every contender (near_dup/article_extraction_variants
English pages with word 5-grams, ko_news_comments Korean comments with char
5-grams), 128 permutations. Two boundaries are timed, each contender in turn
within every repeat, and medians of CPU time (`time.process_time`, so other
processes on the machine do not count) are reported:

  text -> signature   what a pipeline pays per document: normalize, shingle,
                      sign. Ours `oph` hashes shingles straight from the text;
                      rensa and datasketch have no shingler, so they get our
                      `Shingler`'s sets (the same shingles), converted to
                      what their `update` takes.
  shingles -> signature
                      rensa's `update` + `digest` on ready shingle strings, and
                      ours from ready 64-bit shingle hashes (`oph`) or ready
                      shingle bytes (`affine32`), i.e. each scheme's own input.

Thread pools are pinned to one thread. `affine32` is asserted equal to
datasketch before timing. Install: `.venv/bin/pip install -e '.[dev,bench]'`
(`make bench` does). Last line: `ratio_vs_rensa: X`, text -> signature.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Callable  # noqa: E402

import datasketch  # noqa: E402
import numpy as np  # noqa: E402
import rensa  # noqa: E402

from dedup.minhash import MinHasher, OnePermutationHasher  # noqa: E402
from corpus.normalize import normalize  # noqa: E402
from dedup.shingles import Shingler  # noqa: E402

DATA = Path(os.environ.get("CORPUS_DATA", "/work/shared/data")) / "near_dup"
NUM_PERM = 128


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--korean", type=int, default=4000, help="Korean comments to include")
    parser.add_argument(
        "--datasketch-loop", action="store_true", help="also time datasketch's per-shingle update loop (slow: ~1 min a pass)"
    )
    args = parser.parse_args()

    words, chars = Shingler("word", 5), Shingler("char", 5)
    corpus = [(t, words) for t in _texts("article_extraction_variants", None)]
    corpus += [(t, chars) for t in _texts("ko_news_comments", args.korean)]
    texts = [t for t, _ in corpus]
    sets = [shingler(t) for t, shingler in corpus]
    strs = [[s.decode("utf-8", "surrogatepass") for s in shingles] for shingles in sets]
    print(f"documents: {len(texts)}, shingles: {sum(map(len, sets))}, num_perm: {NUM_PERM}, repeats: {args.repeats}")

    oph, affine = OnePermutationHasher(NUM_PERM, 1), MinHasher(NUM_PERM, 1, "affine32")
    assert np.array_equal(affine.signatures(sets[:200]), _datasketch_update(sets[:200])), "affine32 must equal datasketch"
    hashes, owners = _shingle_hashes(corpus)

    contenders: dict[str, Callable[[], object]] = {
        "text: ours oph": lambda: oph.signatures(*_shingle_hashes(corpus), len(corpus)),
        "text: ours affine32 (datasketch-compatible)": lambda: affine.signatures(_shingle_sets(corpus)),
        "text: rensa RMinHash (our shingles)": lambda: _rensa([[s.decode() for s in ss] for ss in _shingle_sets(corpus)]),
        "text: datasketch update_batch (our shingles)": lambda: _datasketch_batch(_shingle_sets(corpus)),
        "shingles: ours oph (from shingle hashes)": lambda: oph.signatures(hashes, owners, len(corpus)),
        "shingles: ours affine32 (from shingle bytes)": lambda: affine.signatures(sets),
        "shingles: rensa RMinHash (from shingle strings)": lambda: _rensa(strs),
    }
    if args.datasketch_loop:
        contenders["shingles: datasketch update loop"] = lambda: _datasketch_update(sets)
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(args.repeats):
        for name, fn in contenders.items():
            start = time.process_time()
            fn()
            times[name].append(time.process_time() - start)
    rates = {name: len(texts) / statistics.median(t) for name, t in times.items()}
    for name, rate in rates.items():
        print(f"{name:50s} {rate:10.0f} docs/CPU-s  (median {statistics.median(times[name]):.3f} s)")
    print(f"ratio_affine32_vs_rensa: {rates['text: ours affine32 (datasketch-compatible)'] / rates['text: rensa RMinHash (our shingles)']:.2f}")
    print(f"ratio_vs_rensa_shingles_in: {rates['shingles: ours oph (from shingle hashes)'] / rates['shingles: rensa RMinHash (from shingle strings)']:.2f}")
    print(f"ratio_vs_rensa: {rates['text: ours oph'] / rates['text: rensa RMinHash (our shingles)']:.2f}")


def _texts(name: str, limit: int | None) -> list[str]:
    with gzip.open(DATA / f"{name}.docs.jsonl.gz", "rt") as f:
        texts = [json.loads(line)["text"] for line in f]
    return texts[:limit] if limit else texts


def _shingle_hashes(corpus: list[tuple[str, Shingler]]) -> tuple[np.ndarray, np.ndarray]:
    """The pipeline's oph path: normalize, then one `Shingler.hashes` call per shingle kind."""
    groups: dict[Shingler, list[int]] = {}
    for i, (_, shingler) in enumerate(corpus):
        groups.setdefault(shingler, []).append(i)
    hashes, owners = [], []
    for shingler, members in groups.items():
        h, o = shingler.hashes([normalize(corpus[i][0]) for i in members], seed=1)
        hashes.append(h)
        owners.append(np.asarray(members)[o])
    return np.concatenate(hashes), np.concatenate(owners)


def _shingle_sets(corpus: list[tuple[str, Shingler]]) -> list[list[bytes]]:
    return [shingler(text) for text, shingler in corpus]


def _datasketch_update(sets: list[list[bytes]]) -> np.ndarray:
    rows = []
    for shingles in sets:
        m = datasketch.MinHash(num_perm=NUM_PERM, seed=1)
        for s in shingles:
            m.update(s)
        rows.append(m.hashvalues)
    return np.array(rows)


def _datasketch_batch(sets: list[list[bytes]]) -> list:
    out = []
    for shingles in sets:
        m = datasketch.MinHash(num_perm=NUM_PERM, seed=1)
        m.update_batch(shingles)
        out.append(m.hashvalues)
    return out


def _rensa(strs: list[list[str]]) -> list:
    out = []
    for shingles in strs:
        m = rensa.RMinHash(num_perm=NUM_PERM, seed=1)
        m.update(shingles)
        out.append(m.digest())
    return out


if __name__ == "__main__":
    main()
