"""Tokenizer training on a run's shards, and the token counts every shard carries."""

import gzip
import hashlib
import json
import shutil

import pyarrow as pa
import pytest
from tokenizers import Tokenizer
from typer.testing import CliRunner

from corpus.config import TokenizerConfig, TokenizerTrainConfig
from corpus.shards import iter_documents
from corpus.stats import Stats
from corpus.tokenizer import EOD, TokenCounter, load_tokenizer, tokenizer_info, train_tokenizer, write_loader_files
from corpus_cli.main import app
from tests.runs import run_serial


def small(**fields) -> TokenizerTrainConfig:
    return TokenizerTrainConfig(**{"vocab_size": 1000, "sample_chars": 400_000, **fields})


def test_trained_tokenizer_round_trips_english_and_korean(demo_run_filters_off, tmp_path):
    report = train_tokenizer(str(demo_run_filters_off), small(), tmp_path / "tokenizer.json")
    tokenizer = load_tokenizer(tmp_path / "tokenizer.json")
    assert tokenizer.get_vocab_size() == report.vocab_size <= 1000
    assert tokenizer.token_to_id(EOD) is not None
    for lang in ("en", "ko"):
        texts = [d["text"] for d in iter_documents(str(demo_run_filters_off), lang=lang, columns=["text"])][:5]
        for text in texts:
            ids = tokenizer.encode(text, add_special_tokens=False).ids
            assert tokenizer.decode(ids) == text
            assert len(ids) < len(text.encode()), "merges learnt: fewer tokens than bytes"


def test_training_writes_the_files_transformers_reads_with_the_end_of_document_token(demo_run_filters_off, tmp_path):
    train_tokenizer(str(demo_run_filters_off), small(), tmp_path / "tokenizer.json")
    config = json.loads((tmp_path / "tokenizer_config.json").read_text())
    special = json.loads((tmp_path / "special_tokens_map.json").read_text())
    eod = tokenizer_info(tmp_path / "tokenizer.json")["eod_id"]
    assert config["tokenizer_class"] == "PreTrainedTokenizerFast"
    assert config["eos_token"] == special["eos_token"] == EOD
    assert config["added_tokens_decoder"][str(eod)] == {
        "content": EOD, "lstrip": False, "normalized": False, "rstrip": False, "single_word": False, "special": True
    }
    tokenizer = Tokenizer.from_file(str(tmp_path / "tokenizer.json"))
    assert tokenizer.token_to_id(config["eos_token"]) == eod
    assert tokenizer.decode([eod], skip_special_tokens=True) == "", "a special token, not text"


def test_the_shipped_tokenizer_has_its_loader_files(tmp_path):
    shipped = TokenizerConfig().resolved_path()
    shutil.copy(shipped, tmp_path / "tokenizer.json")
    for written in write_loader_files(tmp_path / "tokenizer.json"):
        assert written.read_bytes() == (shipped.parent / written.name).read_bytes(), written.name


def test_sample_follows_the_language_weights(demo_run_filters_off, tmp_path):
    even = train_tokenizer(str(demo_run_filters_off), small(), tmp_path / "even.json")
    korean_heavy = train_tokenizer(str(demo_run_filters_off), small(weights={"en": 1, "ko": 3}), tmp_path / "ko.json")
    assert 0.5 < even.chars["ko"] / even.chars["en"] < 2
    assert 2 < korean_heavy.chars["ko"] / korean_heavy.chars["en"] < 4
    assert korean_heavy.repeats["en"] == 1 and korean_heavy.repeats["ko"] > 1


def test_sample_size_caps_what_each_language_contributes(demo_run_filters_off, tmp_path):
    report = train_tokenizer(str(demo_run_filters_off), small(sample_chars=20_000), tmp_path / "t.json")
    assert 0 < report.docs["ko"] < sum(1 for _ in iter_documents(str(demo_run_filters_off), lang="ko", columns=["id"]))
    assert report.chars["ko"] < 10_000 + max(d["n_chars"] for d in iter_documents(str(demo_run_filters_off), lang="ko", columns=["n_chars"]))


def test_training_is_reproducible(demo_run_filters_off, tmp_path):
    first = train_tokenizer(str(demo_run_filters_off), small(), tmp_path / "a.json")
    second = train_tokenizer(str(demo_run_filters_off), small(), tmp_path / "b.json")
    assert first.sha256 == second.sha256


def test_a_language_missing_from_the_run_is_reported(demo_run_filters_off, tmp_path):
    report = train_tokenizer(str(demo_run_filters_off), small(weights={"ko": 1, "ja": 1}), tmp_path / "t.json")
    assert report.missing == ["ja"] and report.docs["ko"] > 0


def test_every_document_counts_tokens_with_the_tokenizer_the_manifest_names(demo_run_filters_off):
    manifest = json.loads((demo_run_filters_off / "manifest.json").read_text())
    path = TokenizerConfig().resolved_path()
    assert manifest["tokenizer"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    tokenizer = load_tokenizer(path)
    docs = list(iter_documents(str(demo_run_filters_off), columns=["text", "n_tokens", "lang"]))
    for doc in docs:
        assert doc["n_tokens"] == len(tokenizer.encode(doc["text"], add_special_tokens=False).ids)
    for lang, totals in manifest["languages"].items():
        assert totals["tokens"] == sum(d["n_tokens"] for d in docs if d["lang"] == lang)


def test_token_counter_counts_real_korean_across_batch_boundaries(data_dir):
    with gzip.open(data_dir / "korean_text/klue/klue-sts-v1.1_dev.json.gz") as handle:
        sentences = [row["sentence1"] for row in json.load(handle)[:50]]
    stage = TokenCounter(TokenizerConfig(batch_docs=7))
    table, reasons = stage.apply(pa.table({"text": sentences + [None]}), Stats())
    expected = [len(stage.tokenizer.encode(s, add_special_tokens=False).ids) for s in sentences] + [0]
    assert reasons is None and table["n_tokens"].to_pylist() == expected


def test_a_missing_tokenizer_file_says_how_to_make_one(tmp_path):
    with pytest.raises(FileNotFoundError, match="corpus tokenizer train"):
        TokenCounter(TokenizerConfig(path=str(tmp_path / "none.json")))


@pytest.mark.slow
def test_shards_can_be_cut_by_tokens(tmp_path):
    run_serial(str(tmp_path / "out"), **{"shards.target_tokens": 8000})
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    korean = [s for s in manifest["shards"] if s["lang"] == "ko"]
    assert len(korean) >= 3
    assert all(s["tokens"] >= 8000 for s in korean[:-1])
    assert [s["path"] for s in korean] == [f"shards/lang=ko/part-{i:05d}.parquet" for i in range(len(korean))]


def test_cli_trains_a_tokenizer_from_a_run(demo_run_filters_off, tmp_path):
    target = tmp_path / "cli.json"
    answer = CliRunner().invoke(
        app,
        ["tokenizer", "train", str(demo_run_filters_off), "--output", str(target), "--vocab-size", "600", "--weight", "en=1", "--weight", "ko=2"],
    )
    assert answer.exit_code == 0, answer.output
    assert load_tokenizer(target).get_vocab_size() <= 600
    assert "en:" in answer.output and "ko:" in answer.output
