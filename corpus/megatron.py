"""Pre-tokenized export in the Megatron-LM indexed dataset format (`.bin` + `.idx`).

`.bin` is every document's token ids back to back, each document followed by
the end-of-document token. `.idx` (all little-endian) is:

    magic      9 bytes  b"MMIDIDX\\x00\\x00"
    version    uint64   1
    dtype      uint8    code of the token dtype (uint16 = 8, int32 = 4, ...)
    sequences  uint64   S, here one sequence per document
    doc_index  uint64   D = S + 1 entries
    lengths    int32[S] tokens per sequence
    pointers   int64[S] byte offset of each sequence in .bin
    doc_index  int64[D] sequence index where each document starts, then S

Megatron loaders take the common path prefix (without extension). The reader
here is written from that layout alone and is what the tests check against.
"""

from __future__ import annotations

import struct
import tempfile
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import pyarrow.parquet as pq

from corpus.layout import tokenized_prefix
from corpus.publish import file_sha256
from corpus.shard_entry import ShardEntry
from corpus.storage import Storage, open_input
from corpus.tokenizer import encode

MAGIC = b"MMIDIDX\x00\x00"
VERSION = 1
DTYPE_CODES = {
    np.dtype(np.uint8): 1,
    np.dtype(np.int8): 2,
    np.dtype(np.int16): 3,
    np.dtype(np.int32): 4,
    np.dtype(np.int64): 5,
    np.dtype(np.float64): 6,
    np.dtype(np.float32): 7,
    np.dtype(np.uint16): 8,
}
CODE_DTYPES = {code: dtype for dtype, code in DTYPE_CODES.items()}


def token_dtype(vocab_size: int) -> np.dtype:
    """uint16 while every id fits, else int32 (Megatron's own choice)."""
    return np.dtype(np.uint16) if vocab_size <= 65535 else np.dtype(np.int32)


def write_indexed_dataset(prefix: str | Path, documents: Iterable[list[int]], eod: int, dtype: np.dtype) -> int:
    """Write `prefix.bin` and `prefix.idx`; each document gets `eod` appended. Returns documents written."""
    prefix = Path(prefix)
    lengths: list[int] = []
    with open(prefix.with_suffix(".bin"), "wb") as data:
        for ids in documents:
            array = np.asarray(list(ids) + [eod], dtype=dtype)
            data.write(array.tobytes(order="C"))
            lengths.append(len(array))
    sizes = np.asarray(lengths, dtype=np.int32)
    pointers = np.zeros(len(lengths), dtype=np.int64)
    if len(lengths) > 1:
        np.cumsum(sizes[:-1].astype(np.int64) * dtype.itemsize, out=pointers[1:])
    doc_index = np.arange(len(lengths) + 1, dtype=np.int64)
    with open(prefix.with_suffix(".idx"), "wb") as index:
        index.write(MAGIC)
        index.write(struct.pack("<Q", VERSION))
        index.write(struct.pack("<B", DTYPE_CODES[dtype]))
        index.write(struct.pack("<Q", len(lengths)))
        index.write(struct.pack("<Q", len(doc_index)))
        index.write(sizes.astype("<i4").tobytes())
        index.write(pointers.astype("<i8").tobytes())
        index.write(doc_index.astype("<i8").tobytes())
    return len(lengths)


class IndexedDataset:
    """Reads `prefix.idx` / `prefix.bin` into per-document token arrays (EOD included)."""

    def __init__(self, prefix: str | Path) -> None:
        prefix = Path(prefix)
        raw = prefix.with_suffix(".idx").read_bytes()
        if raw[:9] != MAGIC:
            raise ValueError(f"{prefix}.idx is not a Megatron index: header {raw[:9]!r}")
        version, code = struct.unpack_from("<QB", raw, 9)
        if version != VERSION:
            raise ValueError(f"{prefix}.idx has index version {version}, expected {VERSION}")
        self.dtype = CODE_DTYPES[code]
        n_seq, n_doc = struct.unpack_from("<QQ", raw, 18)
        at = 34
        self.lengths = np.frombuffer(raw, "<i4", n_seq, at)
        at += 4 * n_seq
        self.pointers = np.frombuffer(raw, "<i8", n_seq, at)
        at += 8 * n_seq
        self.doc_index = np.frombuffer(raw, "<i8", n_doc, at)
        if at + 8 * n_doc != len(raw):
            raise ValueError(f"{prefix}.idx: {len(raw) - at - 8 * n_doc} unexpected trailing bytes")
        self.data = np.memmap(prefix.with_suffix(".bin"), dtype=self.dtype, mode="r")

    def __len__(self) -> int:
        return len(self.lengths)

    def __getitem__(self, i: int) -> np.ndarray:
        start = int(self.pointers[i]) // self.dtype.itemsize
        return np.asarray(self.data[start : start + int(self.lengths[i])])


def export_shards(out: Storage, shards: list[dict], tokenizer, eod: int) -> list[dict]:
    """One `.bin`/`.idx` pair per shard under `tokenized/`, mirroring `shards/` names.

    `tokens` excludes the end-of-document tokens, so it equals the shard's
    `tokens`; `eod_tokens` counts them (one per document), so the `.bin` holds
    `tokens + eod_tokens` ids. Returns manifest entries (path, lang, docs,
    tokens, bytes, sha256, eod_tokens) for both files.
    """
    dtype = token_dtype(tokenizer.get_vocab_size())
    entries: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="corpus-megatron-") as tmp:
        for shard in shards:
            rel = tokenized_prefix(shard["path"])
            local = Path(tmp) / "part"
            counted: list[int] = []
            docs = write_indexed_dataset(local, _tokenized(out, shard["path"], tokenizer, counted), eod, dtype)
            for suffix in (".bin", ".idx"):
                path = local.with_suffix(suffix)
                out.upload_file(rel + suffix, path)
                entry = ShardEntry(rel + suffix, shard["lang"], docs, sum(counted), path.stat().st_size, file_sha256(path))
                entries.append({**entry.to_dict(), "eod_tokens": docs})
    return entries


def _tokenized(out: Storage, rel: str, tokenizer, counted: list[int]) -> Iterator[list[int]]:
    with open_input(out.url(rel)) as stream:
        for batch in pq.ParquetFile(stream).iter_batches(columns=["text"], batch_size=256):
            for ids in encode(tokenizer, batch.column(0).to_pylist()):
                counted.append(len(ids))
                yield ids
