"""Exact + near dedup wired into a run: signatures per unit, one corpus-wide pass.

Per unit (inside `process_unit`, in parallel): `SignatureStage` adds the
internal columns `_dedup_key` (exact key), `_minhash_bands` (LSH band hashes)
and, with `verify`, `_minhash` (the signature as bytes).

Corpus-wide (`find_duplicates`, called by finalize before shards): only small
rows move between workers: (key, doc, id, quality) for exact groups,
(band, band_hash, doc) for LSH buckets, (src, dst) edges for components. The
same steps run in this process (`LocalExchange`) or as Ray tasks with a hash
shuffle (`RayExchange`); the result is the same by construction. Decisions
land in `_work/dedup/<unit>.parquet`, which the shard loop applies.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any, Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xxhash

from corpus.config import DedupConfig
from corpus.layout import DEDUP_DIR
from corpus.stages import apply_decisions
from corpus.stats import Stats
from corpus.storage import Storage, open_storage
from dedup.components import DECISION_SCHEMA, Exchange, connected_components, join_labels, pick_survivors
from dedup.exact import EXACT_REASON, exact_groups, normalized_key
from dedup.index import SignatureIndex
from dedup.lsh import BAND_ROW_SCHEMA, NEAR_REASON, band_hashes, bucket_edges, optimal_bands, unique_edges
from dedup.minhash import MinHasher, OnePermutationHasher
from corpus.normalize import normalize
from dedup.shingles import Shingler

KEY_COL, BANDS_COL, SIG_COL = "_dedup_key", "_minhash_bands", "_minhash"
DOCS_PER_PARTITION = 100_000
SIGNATURE_BATCH = 2048
SIGNATURE_CHARS = 1 << 22  # ~32 MB per uint64 array of a batch's code points
PART_SHIFT = 32


class SignatureStage:
    """DocStage: exact key and LSH band hashes of every document (never drops)."""

    name = "dedup_signatures"

    def __init__(self, cfg: DedupConfig) -> None:
        self.cfg = cfg
        self.bands, self.rows = optimal_bands(cfg.threshold, cfg.num_perm)
        if cfg.scheme == "oph":
            self.hasher: MinHasher | OnePermutationHasher = OnePermutationHasher(cfg.num_perm, cfg.seed)
        else:
            self.hasher = MinHasher(cfg.num_perm, cfg.seed, cfg.scheme)
        self._shinglers: dict[tuple[str, int], Shingler] = {}

    def apply(self, table: pa.Table, stats: Stats) -> tuple[pa.Table, None]:
        norms = [normalize(t) for t in table["text"].to_pylist()]
        langs = table["lang"].to_pylist() if "lang" in table.column_names else [None] * len(norms)
        table = table.append_column(KEY_COL, pa.array([normalized_key(n) for n in norms], pa.string()))
        if not self.cfg.near:
            return table, None
        signatures, empty = self._signatures(norms, langs)
        hashes = band_hashes(signatures, self.bands, self.rows)
        flat = pa.array(hashes.reshape(-1), pa.uint64())
        offsets = pa.array(np.arange(0, hashes.size + 1, self.bands, dtype=np.int32))
        bands = pa.ListArray.from_arrays(offsets, flat, mask=pa.array(empty))
        table = table.append_column(BANDS_COL, bands)
        if self.cfg.verify:
            table = table.append_column(SIG_COL, _signature_bytes(signatures))
        return table, None

    def _signatures(self, norms: list[str], langs: list) -> tuple[np.ndarray, np.ndarray]:
        """Signatures and which documents have no shingles, a batch of at most
        `SIGNATURE_BATCH` documents and `SIGNATURE_CHARS` characters at a time:
        shingle sets (or hash arrays) are large, a unit may be too."""
        signatures, empty = [], []
        for batch in _batches(norms, SIGNATURE_BATCH, SIGNATURE_CHARS):
            shinglers = [self._shingler(langs[i]) for i in batch]
            texts = [norms[i] for i in batch]
            if isinstance(self.hasher, OnePermutationHasher):
                hashes, owners = self._shingle_hashes(texts, shinglers)
                signatures.append(self.hasher.signatures(hashes, owners, len(texts)))
                empty.append(np.bincount(owners, minlength=len(texts)) == 0)
            else:
                shingle_sets = [shingler.shingles(text) for shingler, text in zip(shinglers, texts)]
                signatures.append(self.hasher.signatures(shingle_sets))
                empty.append(np.array([not s for s in shingle_sets], dtype=bool))
        if not signatures:
            return np.zeros((0, self.cfg.num_perm), np.uint64 if self.cfg.scheme == "legacy" else np.uint32), np.zeros(0, bool)
        return np.vstack(signatures), np.concatenate(empty)

    def _shingle_hashes(self, texts: list[str], shinglers: list[Shingler]) -> tuple[np.ndarray, np.ndarray]:
        """Shingle hashes of a batch, one `Shingler.hashes` call per shingle kind."""
        groups: dict[Shingler, list[int]] = {}
        for i, shingler in enumerate(shinglers):
            groups.setdefault(shingler, []).append(i)
        hashes, owners = [], []
        for shingler, members in groups.items():
            h, o = shingler.hashes([texts[i] for i in members], self.cfg.seed)
            hashes.append(h)
            owners.append(np.asarray(members, np.int64)[o])
        return np.concatenate(hashes), np.concatenate(owners)

    def _shingler(self, lang: str | None) -> Shingler:
        spec = self.cfg.shingle(lang)
        key = (spec.kind, spec.size)
        if key not in self._shinglers:
            self._shinglers[key] = Shingler(spec.kind, spec.size)
        return self._shinglers[key]


def _batches(texts: list[str], max_docs: int, max_chars: int) -> list[range]:
    """Consecutive index ranges of at most `max_docs` texts and `max_chars`
    characters (a longer text alone is its own batch)."""
    batches, start, chars = [], 0, 0
    for i, text in enumerate(texts):
        if i > start and (i - start >= max_docs or chars + len(text) > max_chars):
            batches.append(range(start, i))
            start, chars = i, 0
        chars += len(text)
    if texts:
        batches.append(range(start, len(texts)))
    return batches


def deduplicate(cfg: DedupConfig, out: Storage, staged: list[str], run_id: str, n_docs: int) -> "DedupDecisions | None":
    """finalize's entry point: decide duplicates, return what applies them (None when off)."""
    if not cfg.enabled or not (cfg.exact or cfg.near):
        return None
    find_duplicates(cfg, out, staged, run_id, n_docs)
    return DedupDecisions(out)


def find_duplicates(cfg: DedupConfig, out: Storage, staged: list[str], run_id: str, n_docs: int) -> None:
    """Decide every duplicate among the staged parts (and against the index);
    write `_work/dedup/<unit>.parquet` per part that has any."""
    for stale in out.list(DEDUP_DIR + "/"):
        out.delete(stale)
    if not staged:
        return
    exchange = _exchange(cfg, n_docs)
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


def index_settings(cfg: DedupConfig) -> dict:
    """What must match for band hashes of two runs to be comparable."""
    dump = cfg.model_dump(mode="json")
    return {k: dump[k] for k in ("threshold", "num_perm", "seed", "scheme", "shingles", "default_shingles")}


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


def _signature_bytes(signatures: np.ndarray) -> pa.Array:
    """Each row's signature as one binary value, without a Python object per row."""
    rows = np.ascontiguousarray(signatures)
    width = rows.shape[1] * rows.itemsize
    fixed = pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), len(rows), [None, pa.py_buffer(rows.tobytes())])
    return fixed.cast(pa.binary())


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


# --- where the steps run ---------------------------------------------------------


def _exchange(cfg: DedupConfig, n_docs: int) -> Exchange:
    executor = cfg.executor
    if executor == "auto":
        import ray

        executor = "ray" if ray.is_initialized() else "local"
    if executor == "local":
        return LocalExchange()
    return RayExchange(partition_count(cfg, n_docs))


def partition_count(cfg: DedupConfig, n_docs: int) -> int:
    """Shuffle partitions: one per `DOCS_PER_PARTITION` documents, so a reduce
    task's memory depends on that constant, not on the corpus (at least two, so
    both CPUs of a small machine work)."""
    return cfg.partitions or max(2, math.ceil(n_docs / DOCS_PER_PARTITION))


class LocalExchange:
    """Every step in this process: a shuffle is one partition holding everything."""

    def scatter(self, items: list[Any]) -> list[Any]:
        return list(items)

    def map(self, parts: list[Any], fn: Callable) -> list[Any]:
        return [fn(p) for p in parts]

    def shuffle(self, inputs: list[list[pa.Table]], key: str, fn: Callable[..., pa.Table]) -> list[pa.Table]:
        return [fn(*[_concat(parts) for parts in inputs])]

    def total(self, parts: list[Any], fn: Callable[[Any], int]) -> int:
        return sum(fn(p) for p in parts)


class RayExchange:
    """Parts are Ray object refs; a shuffle hash-partitions every part by key
    (map tasks) and hands partition p of every input to reduce task p. Memory
    per task is one part or one partition, never the corpus."""

    def __init__(self, partitions: int) -> None:
        import ray

        self.ray, self.partitions = ray, partitions
        self._map = ray.remote(_ray_map)
        self._split = ray.remote(_ray_split)
        self._reduce = ray.remote(_ray_reduce)
        self._total = ray.remote(_ray_total)

    def scatter(self, items: list[Any]) -> list[Any]:
        return [self.ray.put(item) for item in items]

    def map(self, parts: list[Any], fn: Callable) -> list[Any]:
        fn_ref = self.ray.put(fn)
        return [self._map.remote(fn_ref, p) for p in parts]

    def shuffle(self, inputs: list[list[Any]], key: str, fn: Callable[..., pa.Table]) -> list[Any]:
        p = self.partitions
        split = [[self._split.options(num_returns=p).remote(part, key, p) for part in parts] for parts in inputs]
        split = [[refs if p > 1 else [refs] for refs in parts] for parts in split]
        fn_ref = self.ray.put(fn)
        counts = [len(parts) for parts in inputs]
        return [
            self._reduce.remote(fn_ref, counts, *[refs[i] for parts in split for refs in parts]) for i in range(p)
        ]

    def total(self, parts: list[Any], fn: Callable[[Any], int]) -> int:
        fn_ref = self.ray.put(fn)
        return sum(self.ray.get([self._total.remote(fn_ref, part) for part in parts]))


def _ray_map(fn: Callable, part: Any) -> Any:
    return fn(part)


def _ray_split(table: pa.Table, key: str, partitions: int) -> tuple[pa.Table, ...] | pa.Table:
    target = _partition_of(table[key], partitions)
    pieces = tuple(table.filter(pa.array(target == i)) for i in range(partitions))
    return pieces if partitions > 1 else pieces[0]


def _ray_reduce(fn: Callable, counts: list[int], *pieces: pa.Table) -> pa.Table:
    tables, start = [], 0
    for count in counts:
        tables.append(_concat(list(pieces[start : start + count])))
        start += count
    return fn(*tables)


def _ray_total(fn: Callable, part: Any) -> int:
    return fn(part)


def _partition_of(column: pa.ChunkedArray, partitions: int) -> np.ndarray:
    """Partition number of every key: the same key, the same partition, everywhere."""
    if pa.types.is_string(column.type):
        hashes = np.fromiter((xxhash.xxh64_intdigest(v.encode()) for v in column.to_pylist()), np.uint64, len(column))
    else:
        hashes = column.to_numpy().astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        hashes ^= hashes >> np.uint64(29)
    return (hashes % np.uint64(partitions)).astype(np.int64)


def _concat(tables: list[pa.Table]) -> pa.Table:
    tables = [t for t in tables if t is not None]
    return pa.concat_tables(tables, promote_options="default") if len(tables) > 1 else tables[0]
