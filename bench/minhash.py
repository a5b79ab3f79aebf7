"""MinHash signatures per second on one core: ours against datasketch and rensa.

Same real documents for every contender (near_dup/article_extraction_variants
English pages with word 5-grams, ko_news_comments Korean comments with char
5-grams), shingled once up front, so only signature work is timed. Each
contender runs `--repeats` times; medians are reported. Thread pools are pinned
to one thread, so docs/s is per core.

  .venv/bin/pip install -e '.[dev,bench]' && .venv/bin/python bench/minhash.py

Last line: `ratio_vs_datasketch: X` = ours over datasketch's per-token `update` loop.
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

from dedup.minhash import MinHasher  # noqa: E402
from dedup.shingles import Shingler  # noqa: E402

DATA = Path(os.environ.get("CORPUS_DATA", "/work/shared/data")) / "near_dup"
NUM_PERM = 128


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--korean", type=int, default=4000, help="Korean comments to include")
    args = parser.parse_args()

    sets = [Shingler("word", 5)(t) for t in _texts("article_extraction_variants", None)]
    sets += [Shingler("char", 5)(t) for t in _texts("ko_news_comments", args.korean)]
    strs = [[s.decode("utf-8", "surrogatepass") for s in shingles] for shingles in sets]
    n_shingles = sum(len(s) for s in sets)
    print(f"documents: {len(sets)}, shingles: {n_shingles}, num_perm: {NUM_PERM}, repeats: {args.repeats}")

    ours = MinHasher(NUM_PERM, 1, "affine32")
    reference = _datasketch_update(sets)
    assert np.array_equal(ours.signatures(sets), reference), "ours must equal datasketch bit for bit"

    contenders: dict[str, Callable[[], object]] = {
        "ours (MinHasher.signatures)": lambda: ours.signatures(sets),
        "datasketch update loop": lambda: _datasketch_update(sets),
        "datasketch update_batch": lambda: _datasketch_batch(sets),
        "rensa RMinHash update": lambda: _rensa(strs),
    }
    rates = {}
    for name, fn in contenders.items():
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        rates[name] = len(sets) / statistics.median(times)
        print(f"{name:30s} {rates[name]:10.0f} docs/s/core  (median of {args.repeats}: {statistics.median(times):.3f} s)")
    base = rates["datasketch update loop"]
    ours_rate = rates["ours (MinHasher.signatures)"]
    print(f"ratio_vs_datasketch_update_batch: {ours_rate / rates['datasketch update_batch']:.2f}")
    print(f"ratio_vs_rensa: {ours_rate / rates['rensa RMinHash update']:.2f}  (rensa is not datasketch-compatible)")
    print(f"ratio_vs_datasketch: {ours_rate / base:.2f}")


def _texts(name: str, limit: int | None) -> list[str]:
    with gzip.open(DATA / f"{name}.docs.jsonl.gz", "rt") as f:
        texts = [json.loads(line)["text"] for line in f]
    return texts[:limit] if limit else texts


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
