"""Exact dedup: same text after NFKC, case and whitespace folding; fixed survivor."""

from __future__ import annotations

import gzip
import json
from collections import Counter

import pyarrow as pa

from corpus.normalize import normalize
from dedup.exact import exact_groups, exact_key


def test_normalize_folds_width_case_and_whitespace():
    assert normalize("Ｈｅｌｌｏ\u3000 WORLD\n\t!") == "hello world !"
    assert normalize(None) == "" and normalize(" \n ") == ""


def test_keys_equal_exactly_for_normalised_copies():
    assert exact_key("뉴스  기사\n본문") == exact_key("뉴스 기사 본문")
    assert exact_key("news") != exact_key("news.")


def test_real_korean_review_duplicates_group_with_one_survivor(data_dir):
    with gzip.open(data_dir / "korean_text" / "nsmc" / "nsmc_raw_reviews_sample.jsonl.gz", "rt") as f:
        reviews = [json.loads(line)["review"] for _, line in zip(range(3000), f)]
    rows = pa.table(
        {
            "doc": pa.array(range(len(reviews)), pa.int64()),
            "id": [f"r{i:05d}" for i in range(len(reviews))],
            "quality": pa.nulls(len(reviews), pa.float64()),
            "key": [exact_key(r) for r in reviews],
        }
    )
    decided = exact_groups(rows)
    copies = Counter(normalize(r) for r in reviews)
    shared = {text: n for text, n in copies.items() if n > 1}
    assert shared, "the sample has repeated reviews"
    assert decided.num_rows == sum(shared.values())
    survivors = decided.filter(pa.compute.is_null(decided["reason"]))
    assert survivors.num_rows == len(shared)
    first_id = {}
    for i, r in enumerate(reviews):
        first_id.setdefault(normalize(r), f"r{i:05d}")
    assert set(survivors["id"].to_pylist()) == {first_id[t] for t in shared}  # no quality: smallest id


def test_highest_quality_survives_then_smallest_id():
    rows = pa.table(
        {
            "doc": pa.array([0, 1, 2, 3], pa.int64()),
            "id": ["b", "a", "c", "d"],
            "quality": pa.array([0.9, 0.2, 0.9, None], pa.float64()),
            "key": ["k"] * 4,
        }
    )
    decided = {r["id"]: r for r in exact_groups(rows).to_pylist()}
    assert decided["b"]["reason"] is None
    assert {decided[i]["reason"] for i in "acd"} == {"exact_duplicate"}
    assert {r["cluster_id"] for r in decided.values()} == {"b"}
