"""Where the corpus-wide dedup steps run: the exchange protocol, and its in-process form.

An algorithm over partitions (dedup/components.py, dedup/plan.py) is written
once against `Exchange`; `LocalExchange` runs it in this process (tests,
serial runs), `ray_jobs/dedup.py:RayExchange` as Ray tasks.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol

import pyarrow as pa


class Exchange(Protocol):
    """Runs per-partition functions over a list of parts (opaque handles)."""

    def scatter(self, items: list[Any]) -> list[Any]:
        """Parts holding `items`, one each, where the exchange runs its steps."""
        ...

    def map(self, parts: list[Any], fn: Callable[[pa.Table], pa.Table]) -> list[Any]: ...

    def shuffle(self, inputs: list[list[Any]], key: str, fn: Callable[..., pa.Table]) -> list[Any]:
        """Regroup every input by `key` (the same key value lands in the same
        partition for all inputs) and call `fn(table_of_input_0, ...)` per partition."""
        ...

    def total(self, parts: list[Any], fn: Callable[[pa.Table], int]) -> int: ...


class LocalExchange:
    """Every step in this process: a shuffle is one partition holding everything."""

    def scatter(self, items: list[Any]) -> list[Any]:
        return list(items)

    def map(self, parts: list[Any], fn: Callable) -> list[Any]:
        return [fn(p) for p in parts]

    def shuffle(self, inputs: list[list[pa.Table]], key: str, fn: Callable[..., pa.Table]) -> list[pa.Table]:
        return [fn(*[concat_parts(parts) for parts in inputs])]

    def total(self, parts: list[Any], fn: Callable[[Any], int]) -> int:
        return sum(fn(p) for p in parts)


def concat_parts(tables: list[pa.Table]) -> pa.Table:
    """One table of a partition's pieces (schemas unified)."""
    tables = [t for t in tables if t is not None]
    return pa.concat_tables(tables, promote_options="default") if len(tables) > 1 else tables[0]
