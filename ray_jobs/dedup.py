"""Dedup wired into a run: the corpus-wide pass (dedup/plan.py) on Ray, or in this process.

`deduplicate` is finalize's entry point; it picks the exchange (`dedup.executor`):
`RayExchange` runs each step as Ray tasks with a hash shuffle, so memory per
task is one part or one partition, never the corpus.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import pyarrow as pa
import xxhash

from corpus.config import DedupConfig
from corpus.storage import Storage
from dedup.exchange import Exchange, LocalExchange, concat_parts
from dedup.plan import DedupDecisions, find_duplicates

DOCS_PER_PARTITION = 100_000


def deduplicate(cfg: DedupConfig, out: Storage, staged: list[str], run_id: str, n_docs: int) -> DedupDecisions | None:
    """finalize's entry point: decide duplicates, return what applies them (None when off)."""
    if not cfg.enabled or not (cfg.exact or cfg.near):
        return None
    find_duplicates(cfg, out, staged, run_id, exchange_for(cfg, n_docs))
    return DedupDecisions(out)


def exchange_for(cfg: DedupConfig, n_docs: int) -> Exchange:
    """`dedup.executor`'s exchange (auto: Ray when it is running)."""
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
        tables.append(concat_parts(list(pieces[start : start + count])))
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
