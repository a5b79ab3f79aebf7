"""LSH buckets become star edges; large/small-star rounds find the components."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from dedup.components import connected_components, pick_survivors
from dedup.lsh import bucket_edges
from dedup.exchange import LocalExchange


def _reference_components(n, src, dst):
    parent = list(range(n))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in zip(src, dst):
        ra, rb = find(a), find(b)
        parent[max(ra, rb)] = min(ra, rb)
    return [find(x) for x in range(n)]


def test_bucket_members_link_to_the_smallest_doc():
    rows = pa.table(
        {"band": pa.array([0, 0, 0, 1, 1, 2], pa.int16()), "band_hash": pa.array([7, 7, 7, 7, 9, 5], pa.uint64()), "doc": pa.array([5, 3, 9, 4, 8, 1], pa.int64())}
    )
    edges = bucket_edges(rows)
    assert sorted(zip(edges["src"].to_pylist(), edges["dst"].to_pylist())) == [(3, 5), (3, 9)]


def test_components_match_union_find_on_random_graphs():
    rng = np.random.default_rng(3)
    for _ in range(15):
        n, m = 400, int(rng.integers(50, 600))
        src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
        keep = src != dst
        src, dst = src[keep], dst[keep]
        labels = pa.concat_tables(connected_components(LocalExchange(), [pa.table({"src": src, "dst": dst})]))
        got = dict(zip(labels["doc"].to_pylist(), labels["root"].to_pylist()))
        want = _reference_components(n, src, dst)
        assert set(got) == set(src) | set(dst)
        assert all(got[v] == want[v] for v in got)


def test_long_chain_converges_to_one_root():
    n = 2000
    labels = pa.concat_tables(connected_components(LocalExchange(), [pa.table({"src": np.arange(n - 1), "dst": np.arange(1, n)})]))
    assert set(labels["root"].to_pylist()) == {0}
    assert labels.num_rows == n


def test_pick_survivors_prefers_quality_then_id():
    members = pa.table({"doc": [1, 2, 3, 4], "id": ["z", "y", "x", "w"], "quality": [0.5, 0.5, None, 0.1], "group": [1, 1, 1, 4]})
    out = {r["id"]: r for r in pick_survivors(members, "near_duplicate").to_pylist()}
    assert out["y"]["reason"] is None and out["w"]["reason"] is None
    assert out["z"]["reason"] == out["x"]["reason"] == "near_duplicate"
    assert out["x"]["cluster_id"] == "y"
