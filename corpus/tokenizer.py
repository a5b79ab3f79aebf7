"""Byte-level BPE: trained on a run's own shards, then used to count tokens.

Token counts are what trainers budget in, so every document carries `n_tokens`
under a named tokenizer (its file's sha256 goes into the manifest). Training
samples each language to its configured share of characters, so a run that is
mostly English still yields a tokenizer that splits Korean sensibly; a language
short of its share is repeated (at most `max_upsample` times) rather than left
underweighted.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pyarrow as pa
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

from corpus.config import REPO_ROOT, TokenizerConfig, TokenizerTrainConfig
from corpus.publish import file_sha256
from corpus.stats import Stats

EOD = "<|endoftext|>"
MAX_DOC_CHARS = 100_000

log = logging.getLogger(__name__)


@dataclass
class TrainReport:
    output: str
    vocab_size: int
    sha256: str
    chars: dict[str, int] = field(default_factory=dict)
    docs: dict[str, int] = field(default_factory=dict)
    repeats: dict[str, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)


def train_tokenizer(run_uri: str, cfg: TokenizerTrainConfig, output: str | Path) -> TrainReport:
    """Train on a language-balanced sample of the shards of the complete run at `run_uri`.

    Writes `output` (tokenizer.json) and reports how much of each language it saw.
    Raises ValueError when none of the configured languages has any text.
    """
    plan = _sample_plan(run_uri, cfg)
    if not any(p.ids for p in plan.values()):
        raise ValueError(f"{run_uri} has no documents in {sorted(cfg.weights)}: nothing to train on")
    tokenizer = _empty_byte_level_bpe()
    trainer = trainers.BpeTrainer(
        vocab_size=cfg.vocab_size,
        min_frequency=cfg.min_frequency,
        special_tokens=[EOD],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(_sample_texts(run_uri, plan), trainer=trainer)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(output))
    write_loader_files(output)
    return TrainReport(
        output=str(output),
        vocab_size=tokenizer.get_vocab_size(),
        sha256=file_sha256(output),
        chars={lang: p.chars for lang, p in plan.items()},
        docs={lang: len(p.ids) for lang, p in plan.items()},
        repeats={lang: p.repeats for lang, p in plan.items()},
        missing=sorted(lang for lang, p in plan.items() if not p.ids),
    )


def load_tokenizer(path: str | Path) -> Tokenizer:
    """A tokenizer.json by path; a clear error when it is missing or not one."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"tokenizer {path} not found: train one with `corpus tokenizer train RUN`")
    try:
        return Tokenizer.from_file(str(path))
    except Exception as exc:  # noqa: BLE001 - the Rust side raises plain Exception
        raise ValueError(f"{path} is not a Hugging Face tokenizer.json: {exc}") from None


def write_loader_files(path: str | Path) -> list[Path]:
    """Write `tokenizer_config.json` and `special_tokens_map.json` beside the tokenizer.json at `path`.

    Hugging Face `transformers` (`AutoTokenizer.from_pretrained(FOLDER)`) reads
    these to learn the tokenizer class and its special tokens; without them it
    loads the vocabulary but knows no end-of-sequence token, so a trainer would
    not end documents the way the Megatron export and the token counts do.
    Returns the two paths.
    """
    path = Path(path)
    tokenizer = load_tokenizer(path)
    eod_id(tokenizer)  # refuses a tokenizer without an end-of-document token to name
    special = {
        str(token_id): {
            "content": token.content,
            "lstrip": token.lstrip,
            "normalized": token.normalized,
            "rstrip": token.rstrip,
            "single_word": token.single_word,
            "special": token.special,
        }
        for token_id, token in sorted(tokenizer.get_added_tokens_decoder().items())
    }
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "eos_token": EOD,
        "add_bos_token": False,
        "add_eos_token": False,
        "clean_up_tokenization_spaces": False,
        "added_tokens_decoder": special,
    }
    files = {path.with_name("tokenizer_config.json"): config, path.with_name("special_tokens_map.json"): {"eos_token": EOD}}
    for target, content in files.items():
        target.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n")
    return list(files)


def tokenizer_info(path: str | Path) -> dict:
    """What the manifest says about the tokenizer: name, file hash, vocab, end-of-document id."""
    path = Path(path).resolve()
    tokenizer = load_tokenizer(path)
    try:
        name = str(path.relative_to(REPO_ROOT))
    except ValueError:
        name = path.name
    return {
        "name": name,
        "sha256": file_sha256(path),
        "vocab_size": tokenizer.get_vocab_size(),
        "eod_token": EOD,
        "eod_id": eod_id(tokenizer),
    }


def eod_id(tokenizer: Tokenizer) -> int:
    token_id = tokenizer.token_to_id(EOD)
    if token_id is None:
        raise ValueError(f"the tokenizer has no {EOD} token to end documents with")
    return token_id


def encode(tokenizer: Tokenizer, texts: list[str | None]) -> list[list[int]]:
    """Token ids of each text (no special tokens); None counts as empty."""
    return [e.ids for e in tokenizer.encode_batch_fast([t or "" for t in texts], add_special_tokens=False)]


class TokenCounter:
    """Stage `tokens`: adds `n_tokens` under the configured tokenizer; drops nothing."""

    name = "tokens"

    def __init__(self, cfg: TokenizerConfig) -> None:
        self.tokenizer = load_tokenizer(cfg.resolved_path())
        self.batch_docs = cfg.batch_docs

    def apply(self, table: pa.Table, stats: Stats) -> tuple[pa.Table, None]:
        texts = table["text"].to_pylist()
        counts: list[int] = []
        for start in range(0, len(texts), self.batch_docs):
            counts.extend(len(ids) for ids in encode(self.tokenizer, texts[start : start + self.batch_docs]))
        return table.append_column("n_tokens", pa.array(counts, pa.int64())), None


@dataclass
class _LangPlan:
    ids: set[str]
    chars: int
    repeats: int


def _sample_plan(run_uri: str, cfg: TokenizerTrainConfig) -> dict[str, _LangPlan]:
    """Which documents of each language go in, and how often.

    Ids are taken in seeded-hash order until the language's share of
    `sample_chars` is filled. The language best filled relative to its weight
    sets the mix; the others are repeated (up to `max_upsample`, never past
    their share) towards their weight, so repetition balances languages.
    """
    from corpus.shards import UnknownLanguage, iter_documents

    total = sum(cfg.weights.values())
    quotas = {lang: int(cfg.sample_chars * weight / total) for lang, weight in cfg.weights.items()}
    chosen: dict[str, tuple[set[str], int]] = {}
    for lang, quota in sorted(quotas.items()):
        try:
            docs = sorted(
                (_seeded_hash(cfg.seed, d["id"]), d["id"], min(d["n_chars"] or 0, MAX_DOC_CHARS))
                for d in iter_documents(run_uri, lang=lang, columns=["id", "n_chars"])
            )
        except UnknownLanguage:
            docs = []
        ids, chars = set(), 0
        for _, doc, n in docs:
            if chars >= quota:
                break
            ids.add(doc)
            chars += n
        if not ids:
            log.warning("no %s documents in %s: the tokenizer will not have seen %s", lang, run_uri, lang)
        chosen[lang] = (ids, chars)
    scale = max(chars / cfg.weights[lang] for lang, (_, chars) in chosen.items())
    plan: dict[str, _LangPlan] = {}
    for lang, (ids, chars) in chosen.items():
        wanted = min(scale * cfg.weights[lang], quotas[lang])
        repeats = min(cfg.max_upsample, max(1, round(wanted / chars))) if chars else 1
        plan[lang] = _LangPlan(ids, chars * repeats, repeats)
    return plan


def _sample_texts(run_uri: str, plan: dict[str, _LangPlan]) -> Iterator[str]:
    from corpus.shards import iter_documents

    for lang, lang_plan in plan.items():
        if not lang_plan.ids:
            continue
        texts = [
            (d["text"] or "")[:MAX_DOC_CHARS]
            for d in iter_documents(run_uri, lang=lang, columns=["id", "text"])
            if d["id"] in lang_plan.ids
        ]
        for _ in range(lang_plan.repeats):
            yield from texts


def _empty_byte_level_bpe() -> Tokenizer:
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    return tokenizer


def _seeded_hash(seed: int, doc_id: str) -> str:
    return hashlib.sha256(f"{seed}:{doc_id}".encode()).hexdigest()
