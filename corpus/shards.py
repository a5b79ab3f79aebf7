"""Final shards: zstd Parquet per language, cut by size, named deterministically.

Documents arrive in a fixed order (units sorted by id, rows in record order), so
the same input and config always cut the same shards with the same bytes.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from corpus.config import ShardConfig
from corpus.stages import text_bytes
from corpus.storage import Storage


@dataclass
class ShardEntry:
    path: str
    lang: str
    docs: int
    tokens: int
    bytes: int
    sha256: str

    def to_dict(self) -> dict:
        return asdict(self)


def public_columns(table: pa.Table) -> pa.Table:
    """Columns starting with `_` are working data for later stages (signatures,
    band hashes), not for trainers: they stay in `_work/` and out of shards."""
    return table.select([name for name in table.column_names if not name.startswith("_")])


def shard_path(lang: str, index: int) -> str:
    return f"shards/lang={lang}/part-{index:05d}.parquet"


class ShardWriter:
    """Streams one language's documents into shards of about `target_bytes` of text."""

    def __init__(self, out: Storage, lang: str, cfg: ShardConfig) -> None:
        self.out, self.lang, self.cfg = out, lang, cfg
        self.entries: list[ShardEntry] = []
        self._tmp = tempfile.TemporaryDirectory(prefix="corpus-shards-")
        self._writer: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None
        self._local: Path | None = None
        self._docs = self._tokens = self._text_bytes = 0

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        sizes, target = self._sizes(table)
        start = 0
        for i, size in enumerate(sizes):
            self._text_bytes += size
            if self._text_bytes >= target:
                self._append(table.slice(start, i + 1 - start))
                self._roll()
                start = i + 1
        if start < table.num_rows:
            self._append(table.slice(start))

    def close(self) -> list[ShardEntry]:
        self._roll()
        self._tmp.cleanup()
        return self.entries

    def _sizes(self, table: pa.Table) -> tuple[list[int], int]:
        """What a shard's target counts: text bytes, or tokens when `target_tokens` is set."""
        if self.cfg.target_tokens is None:
            return text_bytes(table).to_pylist(), self.cfg.target_bytes
        if "n_tokens" not in table.column_names:
            raise ValueError("shards.target_tokens needs token counts: the tokens stage did not run")
        return pc.fill_null(table["n_tokens"], 0).to_pylist(), self.cfg.target_tokens

    def _append(self, table: pa.Table) -> None:
        table = public_columns(table)
        if self._writer is None:
            self._schema = self._schema or table.schema
            self._local = Path(self._tmp.name) / f"part-{len(self.entries):05d}.parquet"
            compression = None if self.cfg.compression == "none" else self.cfg.compression
            self._writer = pq.ParquetWriter(
                self._local, self._schema, compression=compression, write_statistics=True
            )
        table = table.select(self._schema.names).cast(self._schema)
        self._writer.write_table(table, row_group_size=self.cfg.row_group_rows)
        self._docs += table.num_rows
        if "n_tokens" in table.column_names:
            self._tokens += int(pc.sum(table["n_tokens"]).as_py() or 0)

    def _roll(self) -> None:
        if self._writer is None:
            self._text_bytes = 0
            return
        self._writer.close()
        path = shard_path(self.lang, len(self.entries))
        data = self._local.read_bytes()
        self.out.upload_file(path, self._local)
        self.entries.append(
            ShardEntry(path, self.lang, self._docs, self._tokens, len(data), hashlib.sha256(data).hexdigest())
        )
        self._local.unlink()
        self._writer, self._docs, self._tokens, self._text_bytes = None, 0, 0, 0


def iter_documents(
    uri: str, lang: str | None = None, rank: int = 0, world_size: int = 1, columns: list[str] | None = None
) -> Iterator[dict]:
    """Documents of the complete run at `uri` (local or s3://), streamed row group by row group.

    The shards the manifest lists (of `lang`, or all) are cut into row groups in
    manifest order; rank r of `world_size` reads every row group whose position
    is r modulo `world_size`. So the ranks together read each document exactly
    once, the split is the same on every machine, and nothing is downloaded
    beyond each shard's footer and the row groups a rank reads.
    """
    from corpus.publish import read_manifest
    from corpus.storage import open_input, open_storage

    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"rank must be in [0, world_size); got rank={rank}, world_size={world_size}")
    storage = open_storage(uri)
    position = 0
    for shard in read_manifest(storage)["shards"]:
        if lang is not None and shard["lang"] != lang:
            continue
        with open_input(storage.url(shard["path"])) as stream:
            parquet = pq.ParquetFile(stream)
            for group in range(parquet.num_row_groups):
                if position % world_size == rank:
                    yield from parquet.read_row_group(group, columns=columns).to_pylist()
                position += 1
