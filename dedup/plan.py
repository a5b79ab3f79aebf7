"""The corpus-wide dedup pass, written once over an exchange: in this process or on Ray.

After every unit has staged its signatures (dedup/signatures.py), only small
rows move between workers: (key, doc, id, quality) for exact groups,
(band, band_hash, doc) for LSH buckets, (src, dst) edges for components. The
same steps run in this process (`LocalExchange`, dedup/exchange.py) or as Ray
tasks with a hash shuffle (ray_jobs/dedup.py); the result is the same by
construction. Decisions land in `_work/dedup/<unit>.parquet`, which the shard
loop applies through `DedupDecisions`.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from corpus.config import DedupConfig
from corpus.layout import DEDUP_DIR
from corpus.stages import apply_decisions
from corpus.stats import Stats
from corpus.storage import Storage, open_storage
from dedup.components import DECISION_SCHEMA, connected_components, join_labels, pick_survivors
from dedup.exact import EXACT_REASON, exact_groups
from dedup.exchange import Exchange
from dedup.index import SignatureIndex
from dedup.lsh import BAND_ROW_SCHEMA, NEAR_REASON, bucket_edges, unique_edges
from dedup.signatures import BANDS_COL, KEY_COL, SIG_COL, index_settings


PART_SHIFT = 32


def find_duplicates(cfg: DedupConfig, out: Storage, staged: list[str], run_id: str, exchange: Exchange) -> None:
    """Decide every duplicate among the staged parts (and against the index);
    write `_work/dedup/<unit>.parquet` per part that has any."""
    for stale in out.list(DEDUP_DIR + "/"):
        out.delete(stale)
    if not staged:
        return
    index = SignatureIndex(cfg.index, index_settings(cfg)) if cfg.index else None
    sources = [("staged", out.uri, rel, i) for i, rel in enumerate(staged)]
    if index is not None:
        sources += [("index", cfg.index, rel, i) for i, rel in enumerate(index.parts(run_id))]
    nodes = exchange.map(exchange.scatter(sources), partial(_read_nodes, cfg.verify))
    decided: list[list[Any]] = []
    if cfg.exact:
        keys = exchange.map(nodes, lambda t: t.select(["doc", "id", "quality", "key"]))
        decided.append(exchange.shuffle([keys], "key", exact_groups))
    if cfg.near:
        decided.append(_near(cfg, exchange, nodes))
    if decided:
        tagged = [exchange.map(parts, _with_part) for parts in decided]
        while len(tagged) < 2:
            tagged.append(exchange.map(tagged[0], lambda t: t.slice(0, 0)))
        names = [rel.rsplit("/", 1)[-1] for rel in staged]
        exchange.total(exchange.shuffle(tagged, "part", partial(_write_decisions, out.uri, names)), len)
    if index is not None:
        appended = partial(_append_index, cfg, out.uri, run_id)
        exchange.total(exchange.map(exchange.scatter(list(enumerate(staged))), appended), len)


class DedupDecisions:
    """Applies a part's decisions in the shard loop: `dup_cluster` and
    `dup_cluster_size` (1 for a unique document) on every document, duplicates
    dropped through `apply_decisions` as dedup_exact / dedup_near."""

    def __init__(self, out: Storage) -> None:
        self.out = out

    def apply(self, rel: str, table: pa.Table, stats: Stats) -> pa.Table:
        decided = self._decisions(rel)
        where = pc.index_in(table["id"], value_set=decided["id"])
        cluster = pc.coalesce(pc.take(decided["cluster_id"], where), table["id"])
        table = table.append_column("dup_cluster", cluster)
        size = pc.coalesce(pc.take(decided["cluster_size"], where), pa.scalar(1, pa.int64()))
        table = table.append_column("dup_cluster_size", size)
        reasons = pc.take(decided["reason"], where)
        for stage, reason in (("dedup_exact", EXACT_REASON), ("dedup_near", NEAR_REASON)):
            mine = pc.if_else(pc.equal(reasons, reason), reasons, pa.scalar(None, pa.string()))
            keep_mask = pc.invert(pc.fill_null(pc.equal(reasons, reason), False))
            table, _ = apply_decisions(table, mine, stage, stats)
            reasons = reasons.filter(keep_mask)
        return table

    def _decisions(self, rel: str) -> pa.Table:
        path = f"{DEDUP_DIR}/{rel.rsplit('/', 1)[-1]}"
        if not self.out.exists(path):
            return DECISION_SCHEMA.empty_table()
        return pq.read_table(pa.BufferReader(self.out.read_bytes(path)))


# --- the corpus-wide steps ---------------------------------------------------------


def _near(cfg: DedupConfig, exchange: Exchange, nodes: list[Any]) -> list[Any]:
    band_rows = exchange.map(nodes, _band_rows)
    edges = exchange.shuffle([band_rows], "band_hash", bucket_edges)
    if cfg.verify:
        sigs = exchange.map(nodes, lambda t: t.select(["doc", "sig"]))
        edges = exchange.shuffle([exchange.map(edges, _keyed_by("src")), sigs], "doc", _attach_src_sig)
        verified = partial(_verify, cfg.threshold, 8 if cfg.scheme == "legacy" else 4)
        edges = exchange.shuffle([exchange.map(edges, _keyed_by("dst")), sigs], "doc", verified)
    labels = connected_components(exchange, edges)
    attrs = exchange.map(nodes, lambda t: t.select(["doc", "id", "quality"]))
    members = exchange.shuffle([labels, attrs], "doc", join_labels)
    return exchange.shuffle([members], "group", partial(pick_survivors, reason=NEAR_REASON))


def _signature_matrix(column: pa.ChunkedArray) -> np.ndarray:
    """The inverse of `_signature_bytes`: one row of bytes per signature, read
    from Arrow's buffer rather than through a Python bytes object per row."""
    width = pc.max(pc.binary_length(column)).as_py()
    fixed = column.combine_chunks().cast(pa.binary(width))
    values = np.frombuffer(fixed.buffers()[1], np.uint8)
    return values[fixed.offset * width : (fixed.offset + len(fixed)) * width].reshape(len(fixed), width)


def _read_nodes(verify: bool, source: tuple[str, str, str, int]) -> pa.Table:
    """One staged part (or index part) as doc numbers with the small columns.

    doc = part << 32 | row for staged parts; index parts get negative numbers
    and infinite quality, so an already published document always survives.
    """
    kind, uri, rel, ordinal = source
    data = open_storage(uri).read_bytes(rel)
    sig_col = "sig" if kind == "index" else SIG_COL
    wanted = {"id", "key", "bands", "quality_score", KEY_COL, BANDS_COL} | ({sig_col} if verify else set())
    present = pq.read_schema(pa.BufferReader(data)).names
    raw = pq.read_table(pa.BufferReader(data), columns=[c for c in present if c in wanted])
    n = raw.num_rows
    rows = np.arange(n, dtype=np.int64)
    sig = raw[sig_col] if sig_col in raw.column_names else pa.nulls(n, pa.binary())
    if kind == "index":
        doc, quality = -((ordinal << PART_SHIFT) | rows) - 1, pa.array(np.full(n, np.inf))
        key, bands = raw["key"], raw["bands"]
    else:
        doc = (ordinal << PART_SHIFT) | rows
        quality = raw["quality_score"].cast(pa.float64()) if "quality_score" in raw.column_names else pa.nulls(n, pa.float64())
        key = raw[KEY_COL]
        bands = raw[BANDS_COL] if BANDS_COL in raw.column_names else pa.nulls(n, pa.list_(pa.uint64()))
    return pa.table({"doc": doc, "id": raw["id"], "quality": quality, "key": key, "bands": bands, "sig": sig})


def _band_rows(nodes: pa.Table) -> pa.Table:
    bands = nodes["bands"].combine_chunks()
    lengths = pc.fill_null(pc.list_value_length(bands), 0).to_numpy()
    values = pc.list_flatten(bands).to_numpy()
    band = (np.arange(values.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)).astype(np.int16)
    doc = np.repeat(nodes["doc"].to_numpy(), lengths)
    return pa.table({"band": band, "band_hash": values, "doc": doc}, schema=BAND_ROW_SCHEMA)


def _keyed_by(column: str) -> Callable[[pa.Table], pa.Table]:
    return lambda t: t.append_column("doc", t[column])


def _attach_src_sig(edges: pa.Table, sigs: pa.Table) -> pa.Table:
    joined = edges.join(sigs, "doc", join_type="inner")
    return joined.select(["src", "dst", "sig"]).rename_columns(["src", "dst", "sig_src"])


def _verify(threshold: float, width: int, edges: pa.Table, sigs: pa.Table) -> pa.Table:
    """Keep edges whose signatures agree on at least `threshold` of positions
    (`width` bytes per signature value). An edge to a document without a stored
    signature (an index part written without `verify`) cannot be checked and
    stays, as LSH alone decided it."""
    joined = edges.join(sigs, "doc", join_type="inner")
    checkable = pc.and_(pc.is_valid(joined["sig_src"]), pc.is_valid(joined["sig"])).to_numpy(zero_copy_only=False)
    keep = ~checkable
    if checkable.any():
        pairs = joined.filter(pa.array(checkable))
        a, b = _signature_matrix(pairs["sig_src"]), _signature_matrix(pairs["sig"])
        agree = (a.reshape(len(a), -1, width) == b.reshape(len(b), -1, width)).all(axis=2).mean(axis=1)
        keep[checkable] = agree >= threshold
    return unique_edges(joined["src"].to_numpy()[keep], joined["dst"].to_numpy()[keep])


def _with_part(decisions: pa.Table) -> pa.Table:
    decisions = decisions.filter(pc.greater_equal(decisions["doc"], 0))
    return decisions.append_column("part", pc.shift_right(decisions["doc"], PART_SHIFT))


def _write_decisions(uri: str, names: list[str], exact: pa.Table, near: pa.Table) -> pa.Table:
    """One file per staged part: id, cluster_id and cluster_size (near cluster
    wins: it contains the exact one) and reason (exact_duplicate before near_duplicate)."""
    out = open_storage(uri)
    merged = near.select(["part", "doc", "id", "cluster_id", "reason", "cluster_size"]).join(
        exact.select(["doc", "id", "cluster_id", "reason", "cluster_size"]).rename_columns(
            ["doc", "xid", "xcluster", "xreason", "xsize"]
        ),
        "doc",
        join_type="full outer",
    )
    table = pa.table(
        {
            "part": pc.coalesce(merged["part"], pc.shift_right(merged["doc"], PART_SHIFT)),
            "id": pc.coalesce(merged["id"], merged["xid"]),
            "cluster_id": pc.coalesce(merged["cluster_id"], merged["xcluster"]),
            "reason": pc.coalesce(merged["xreason"], merged["reason"]),
            "cluster_size": pc.coalesce(merged["cluster_size"], merged["xsize"]),
            "doc": merged["doc"],
        }
    ).sort_by("doc")
    for part in pc.unique(table["part"]).to_pylist():
        rows = table.filter(pc.equal(table["part"], part)).select(["id", "cluster_id", "reason", "cluster_size"])
        sink = pa.BufferOutputStream()
        pq.write_table(rows, sink, compression="zstd")
        out.write_bytes(f"{DEDUP_DIR}/{names[part]}", sink.getvalue().to_pybytes())
    return table.select(["doc"])


def _append_index(cfg: DedupConfig, uri: str, run_id: str, item: tuple[int, str]) -> pa.Table:
    ordinal, rel = item
    out = open_storage(uri)
    data = out.read_bytes(rel)
    columns = ["id", KEY_COL, BANDS_COL] + [SIG_COL] * (cfg.verify and SIG_COL in pq.read_schema(pa.BufferReader(data)).names)
    raw = pq.read_table(pa.BufferReader(data), columns=columns)
    dropped = DedupDecisions(out)._decisions(rel)
    dropped_ids = dropped.filter(pc.is_valid(dropped["reason"]))["id"]
    kept = raw.filter(pc.invert(pc.is_in(raw["id"], value_set=dropped_ids.combine_chunks())))
    sig = kept[SIG_COL] if SIG_COL in kept.column_names else pa.nulls(kept.num_rows, pa.binary())
    table = pa.table({"id": kept["id"], "key": kept[KEY_COL], "bands": kept[BANDS_COL], "sig": sig})
    SignatureIndex(cfg.index, index_settings(cfg)).append(run_id, f"{ordinal:05d}", table)
    return table.select(["id"])
