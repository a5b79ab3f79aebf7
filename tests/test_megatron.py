"""Megatron-LM indexed dataset export, read back by a reader written from the format spec."""

import json
import struct

import numpy as np
import pytest

from corpus.config import TokenizerConfig
from corpus.megatron import MAGIC, IndexedDataset, token_dtype, write_indexed_dataset
from corpus.shards import iter_documents
from corpus.tokenizer import load_tokenizer
from tests.runs import run_serial


def test_token_ids_round_trip_with_an_end_of_document_token(tmp_path):
    rng = np.random.default_rng(7)
    documents = [rng.integers(1, 50_000, size=n).tolist() for n in (0, 1, 17, 4096, 3)]
    written = write_indexed_dataset(tmp_path / "part", documents, eod=0, dtype=token_dtype(50_000))
    dataset = IndexedDataset(tmp_path / "part")
    assert written == len(dataset) == len(documents)
    assert dataset.dtype == np.uint16
    for i, ids in enumerate(documents):
        assert dataset[i].tolist() == ids + [0]
    assert dataset.doc_index.tolist() == list(range(len(documents) + 1))


def test_index_header_follows_the_format(tmp_path):
    write_indexed_dataset(tmp_path / "part", [[5, 6, 7], [8]], eod=2, dtype=np.dtype(np.int32))
    raw = (tmp_path / "part.idx").read_bytes()
    assert raw[:9] == MAGIC == b"MMIDIDX\x00\x00"
    version, code, sequences, doc_entries = struct.unpack_from("<QBQQ", raw, 9)
    assert (version, code, sequences, doc_entries) == (1, 4, 2, 3)
    assert struct.unpack_from("<2i2q3q", raw, 34) == (4, 2, 0, 16, 0, 1, 2)
    assert (tmp_path / "part.bin").read_bytes() == np.array([5, 6, 7, 2, 8, 2], "<i4").tobytes()


def test_large_vocabularies_get_32_bit_ids(tmp_path):
    assert token_dtype(65_535) == np.uint16 and token_dtype(65_536) == np.int32
    write_indexed_dataset(tmp_path / "big", [[70_000, 1]], eod=99_999, dtype=token_dtype(100_000))
    assert IndexedDataset(tmp_path / "big")[0].tolist() == [70_000, 1, 99_999]


def test_a_file_that_is_not_an_index_is_refused(tmp_path):
    (tmp_path / "x.idx").write_bytes(b"TNTIDX\x00\x00" + bytes(40))
    (tmp_path / "x.bin").write_bytes(b"")
    with pytest.raises(ValueError, match="not a Megatron index"):
        IndexedDataset(tmp_path / "x")


@pytest.mark.slow
def test_run_export_holds_each_shard_documents_token_ids_in_order(tmp_path):
    out = tmp_path / "out"
    result = run_serial(str(out), **{"tokenizer.export_megatron": True})
    manifest = json.loads((out / "manifest.json").read_text())
    tokenizer = load_tokenizer(TokenizerConfig().resolved_path())
    eod = manifest["tokenizer"]["eod_id"]
    exported = {e["path"]: e for e in manifest["tokenized"]}
    for shard in result.manifest["shards"]:
        prefix = shard["path"].replace("shards/", "tokenized/").removesuffix(".parquet")
        assert {prefix + ".bin", prefix + ".idx"} <= set(exported)
        assert exported[prefix + ".bin"]["tokens"] == shard["tokens"]
        dataset = IndexedDataset(out / prefix)
        in_bin = (out / (prefix + ".bin")).stat().st_size // dataset.dtype.itemsize
        assert exported[prefix + ".bin"]["eod_tokens"] == shard["docs"], "one end-of-document token per document"
        assert in_bin == shard["tokens"] + exported[prefix + ".bin"]["eod_tokens"], "the .bin holds both counts"
        texts = [d["text"] for d in iter_documents(str(out), lang=shard["lang"], columns=["text"])]
        assert len(dataset) == len(texts) == shard["docs"]
        for i, text in enumerate(texts):
            assert dataset[i].tolist() == tokenizer.encode(text, add_special_tokens=False).ids + [eod]

