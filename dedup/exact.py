"""Exact duplicates: the same text after `normalize`, one survivor per group."""

from __future__ import annotations

import pyarrow as pa
import xxhash

from corpus.normalize import normalize
from dedup.components import pick_survivors

EXACT_REASON = "exact_duplicate"


def exact_key(text: str | None) -> str:
    """128-bit hex digest of the normalized text; empty texts share one key."""
    return normalized_key(normalize(text))


def normalized_key(norm: str) -> str:
    """`exact_key` of a text already `normalize`d (so a caller that needs the
    normal form for shingles too computes it once)."""
    return xxhash.xxh3_128_hexdigest(norm.encode("utf-8", "surrogatepass"))


def exact_groups(rows: pa.Table) -> pa.Table:
    """Decisions for every document whose key is shared by another.

    `rows`: doc (int64), id, quality (float64), key; all rows of a key must be
    present (the caller partitions by key). Returns doc, id, cluster_id and
    reason (`exact_duplicate` for all but the survivor, null for it).
    """
    if rows.num_rows == 0:
        return pick_survivors(rows.rename_columns(["doc", "id", "quality", "group"]), EXACT_REASON)
    counts = rows.group_by("key").aggregate([("doc", "count")])
    shared = counts.filter(pa.compute.greater(counts["doc_count"], 1))["key"]
    members = rows.filter(pa.compute.is_in(rows["key"], value_set=shared.combine_chunks()))
    members = members.select(["doc", "id", "quality", "key"]).rename_columns(["doc", "id", "quality", "group"])
    return pick_survivors(members, EXACT_REASON)
