"""Connected components of the candidate graph, and one survivor per component.

Components come from alternating large-star and small-star rounds (Kiveris et
al., "Connected Components in MapReduce and Beyond", 2014): every round is a
pass over edges grouped by their first node, so it runs partition by partition
with nothing held for all documents in one place. At convergence every edge is
(node, smallest node of its component).

Where the partitions live is the caller's business: an `Exchange`
(dedup/exchange.py) maps parts and regroups them by a key (in this process, or a Ray shuffle).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dedup.exchange import Exchange
from dedup.lsh import EDGE_SCHEMA

LABEL_SCHEMA = pa.schema([("doc", pa.int64()), ("root", pa.int64())])
DECISION_SCHEMA = pa.schema(
    [
        ("doc", pa.int64()),
        ("id", pa.string()),
        ("cluster_id", pa.string()),
        ("reason", pa.string()),
        ("cluster_size", pa.int64()),
    ]
)
MAX_ROUNDS = 200


def connected_components(exchange: Exchange, edges: list[Any]) -> list[Any]:
    """(doc, root) for every node of the edge parts (src, dst); root = smallest
    doc of the node's component, roots included as (root, root)."""
    for _ in range(MAX_ROUNDS):
        edges = exchange.shuffle([exchange.map(edges, symmetric)], "src", large_star)
        changed = exchange.total(edges, _changed)
        edges = exchange.shuffle([exchange.map(edges, symmetric)], "src", small_star)
        changed += exchange.total(edges, _changed)
        if changed == 0:
            return exchange.map(edges, _labels)
    raise RuntimeError(f"connected components did not converge in {MAX_ROUNDS} rounds")


def symmetric(edges: pa.Table) -> pa.Table:
    """Both directions of every edge, without self-loops."""
    src, dst = edges["src"].to_numpy(), edges["dst"].to_numpy()
    keep = src != dst
    src, dst = src[keep], dst[keep]
    return pa.table({"src": np.r_[src, dst], "dst": np.r_[dst, src]}, schema=EDGE_SCHEMA)


def large_star(edges: pa.Table) -> pa.Table:
    """Link each node's larger neighbours to the smallest of its neighbourhood."""
    src, dst, starts, lengths = _grouped(edges)
    if src.size == 0:
        return _star_table(src, dst, np.zeros(0, bool))
    smallest = np.minimum(np.minimum.reduceat(dst, starts), src[starts])
    m = np.repeat(smallest, lengths)
    up = dst > src
    return _star_table(dst[up], m[up], m[up] != src[up])


def small_star(edges: pa.Table) -> pa.Table:
    """Link each node and its smaller neighbours to the smallest of those."""
    edges = edges.filter(pc.less(edges["dst"], edges["src"]))
    src, dst, starts, lengths = _grouped(edges)
    if src.size == 0:
        return _star_table(src, dst, np.zeros(0, bool))
    smallest = np.minimum.reduceat(dst, starts)
    m = np.repeat(smallest, lengths)
    moved = dst != m
    return _star_table(
        np.r_[dst[moved], src[starts]], np.r_[m[moved], smallest], np.r_[np.ones(moved.sum(), bool), np.zeros(starts.size, bool)]
    )


def join_labels(labels: pa.Table, attrs: pa.Table) -> pa.Table:
    """Attributes (doc, id, quality) of labelled documents, with `group` = root."""
    labels = pa.table({"doc": labels["doc"], "group": labels["root"]}).group_by("doc").aggregate([("group", "min")])
    joined = labels.join(attrs, "doc", join_type="inner")
    return joined.select(["doc", "id", "quality", "group_min"]).rename_columns(["doc", "id", "quality", "group"])


def pick_survivors(members: pa.Table, reason: str) -> pa.Table:
    """One survivor per `group`: highest quality (missing = lowest), then smallest id,
    then smallest doc number (the same record read from two copies of a file has
    one id; exact and near dedup must still pick the same copy).

    `members`: doc, id, quality, group. Returns doc, id, cluster_id (the
    survivor's id), reason (`reason` for the others, null for the survivor) and
    cluster_size (members of the group, for FineWeb-2 style rehydration).
    """
    if members.num_rows == 0:
        return DECISION_SCHEMA.empty_table()
    quality = pc.fill_null(members["quality"].cast(pa.float64()), -np.inf)
    members = members.set_column(members.schema.get_field_index("quality"), "quality", quality)
    ordered = members.sort_by(
        [("group", "ascending"), ("quality", "descending"), ("id", "ascending"), ("doc", "ascending")]
    )
    group = ordered["group"].to_numpy()
    first = np.r_[True, group[1:] != group[:-1]]
    leader = np.maximum.accumulate(np.where(first, np.arange(group.size), 0))
    counts = np.diff(np.r_[np.flatnonzero(first), group.size])
    ids = ordered["id"].combine_chunks()
    reasons = pa.array(np.where(first, None, reason), pa.string())
    return pa.table(
        {
            "doc": ordered["doc"],
            "id": ids,
            "cluster_id": ids.take(pa.array(leader)),
            "reason": reasons,
            "cluster_size": np.repeat(counts, counts).astype(np.int64),
        },
        schema=DECISION_SCHEMA,
    )


def _grouped(edges: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct edges sorted by src, with each src group's start and length."""
    src = edges["src"].to_numpy()
    dst = edges["dst"].to_numpy()
    if src.size:
        pairs = np.unique(np.stack([src, dst], axis=1), axis=0)
        src, dst = pairs[:, 0], pairs[:, 1]
    starts = np.flatnonzero(np.r_[True, src[1:] != src[:-1]]) if src.size else np.zeros(0, np.int64)
    lengths = np.diff(np.r_[starts, src.size])
    return src, dst, starts, lengths


def _star_table(src: np.ndarray, dst: np.ndarray, changed: np.ndarray) -> pa.Table:
    return pa.table({"src": src.astype(np.int64), "dst": dst.astype(np.int64), "changed": changed})


def _changed(edges: pa.Table) -> int:
    return int(pc.sum(edges["changed"]).as_py() or 0)


def _labels(edges: pa.Table) -> pa.Table:
    src, dst = edges["src"].to_numpy(), edges["dst"].to_numpy()
    roots = np.unique(dst)
    return pa.table({"doc": np.r_[src, roots], "root": np.r_[dst, roots]}, schema=LABEL_SCHEMA)
