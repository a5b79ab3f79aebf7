"""Final shards: zstd Parquet per language, cut by size, named deterministically.

Documents arrive in a fixed order (units sorted by id, rows in record order), so
the same input and config always cut the same shards with the same bytes.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from corpus.config import ShardConfig
from corpus.layout import LISTED, SHARDS, shard_path
from corpus.shard_entry import ShardEntry
from corpus.stages import text_bytes
from corpus.storage import Storage


def public_columns(table: pa.Table) -> pa.Table:
    """Columns starting with `_` are working data for later stages (signatures,
    band hashes), not for trainers: they stay in `_work/` and out of shards."""
    return table.select([name for name in table.column_names if not name.startswith("_")])


class ShardWriter:
    """Streams one language's documents into shards of about `target_bytes` of text."""

    def __init__(self, out: Storage, lang: str, cfg: ShardConfig, folder: str = SHARDS) -> None:
        self.out, self.lang, self.cfg, self.folder = out, lang, cfg, folder
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
        path = shard_path(self.lang, len(self.entries), self.folder)
        data = self._local.read_bytes()
        self.out.upload_file(path, self._local)
        self.entries.append(
            ShardEntry(path, self.lang, self._docs, self._tokens, len(data), hashlib.sha256(data).hexdigest())
        )
        self._local.unlink()
        self._writer, self._docs, self._tokens, self._text_bytes = None, 0, 0, 0


class UnknownLanguage(ValueError):
    """A language was asked for that the run has no documents of."""


def iter_documents(
    uri: str, lang: str | None = None, rank: int = 0, world_size: int = 1, columns: list[str] | None = None
) -> Iterator[dict]:
    """Documents of the complete run at `uri` (local or s3://), streamed row group by row group.

    The documents of the shards the manifest lists (of `lang`, or all) are
    numbered 0..N-1 in manifest order, and rank r of `world_size` reads the
    contiguous rows [r*N // world_size, (r+1)*N // world_size). So every rank
    gets its share within one document whatever the row-group size, the ranks
    together read each document exactly once, the split is the same on every
    machine, and a rank downloads only the footers of the shards its rows are
    in and the row groups that hold them. A `lang` the run has no documents of
    raises UnknownLanguage naming the languages it has.
    """
    from corpus.manifest import read_manifest
    from corpus.storage import open_storage

    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"rank must be in [0, world_size); got rank={rank}, world_size={world_size}")
    storage = open_storage(uri)
    manifest = read_manifest(storage)
    check_languages(manifest, None if lang is None else [lang], storage.uri)
    shards = [s for s in listed_files(manifest, (SHARDS,)) if lang is None or s["lang"] == lang]
    total = sum(s["docs"] for s in shards)
    start, stop = rank * total // world_size, (rank + 1) * total // world_size
    first = 0
    for shard in shards:
        lo, hi = max(start, first), min(stop, first + shard["docs"])
        if lo < hi:
            yield from _read_rows(storage, shard, lo - first, hi - first, columns)
        first += shard["docs"]


def run_languages(manifest: dict) -> list[str]:
    """The languages the run has documents of."""
    return sorted({shard["lang"] for shard in manifest.get("shards", [])})


def check_languages(manifest: dict, langs: list[str] | None, uri: str) -> None:
    """UnknownLanguage when a language in `langs` has no shards in the run, naming those it has."""
    have = run_languages(manifest)
    unknown = sorted(set(langs or []) - set(have))
    if unknown:
        has = f"it has {', '.join(have)}" if have else "it has no documents at all"
        raise UnknownLanguage(f"the run at {uri} has no documents in {', '.join(unknown)}: {has}")


def listed_files(manifest: dict, kinds: tuple[str, ...] = LISTED) -> list[dict]:
    """The manifest's entries under `kinds`, each path checked to stay inside the run, none twice."""
    from corpus.manifest import checked_path

    entries, seen = [], set()
    for kind in kinds:
        for i, entry in enumerate(manifest.get(kind, [])):
            path = checked_path(entry.get("path") if isinstance(entry, dict) else None, f"{kind}[{i}]")
            if path in seen:
                raise ValueError(f"manifest entry {kind}[{i}] lists {path!r} a second time: the manifest is damaged")
            seen.add(path)
            entries.append(entry)
    return entries


def _read_rows(storage: Storage, shard: dict, lo: int, hi: int, columns: list[str] | None) -> Iterator[dict]:
    """Rows [lo, hi) of one shard, reading only the row groups that hold them."""
    from corpus.storage import open_input

    with open_input(storage.checked_url(shard["path"])) as stream:
        parquet = pq.ParquetFile(stream)
        if parquet.metadata.num_rows != shard["docs"]:
            raise ValueError(
                f"{storage.url(shard['path'])} has {parquet.metadata.num_rows} rows but the manifest lists "
                f"{shard['docs']} documents: it is not the shard the manifest names (pull it again)"
            )
        at = 0
        for group in range(parquet.num_row_groups):
            n = parquet.metadata.row_group(group).num_rows
            if at < hi and lo < at + n:
                table = parquet.read_row_group(group, columns=columns)
                yield from table.slice(max(lo - at, 0), min(hi, at + n) - max(lo, at)).to_pylist()
            at += n
