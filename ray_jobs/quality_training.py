"""`corpus train-quality`: assemble labelled text and train the classifier.

By default the labelled text comes from the shared data. Positives are curated
reference text, negatives random web text: raw Common Crawl WET documents, the
main text that our own extractor pulls out of spammy/commercial crawl WARCs,
and informal Korean reviews and comments. A data team with its own curated
and web text passes files instead (`--positive` / `--negative`). Long texts are
cut into pieces of similar size on both sides, so length alone cannot separate
the classes.
"""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pyarrow.parquet as pq

from corpus.config import ExtractConfig, ReadConfig
from corpus.stats import Stats
from corpus.storage import open_input
from crawlers.decode import charset_from_content_type, decode_html, looks_binary
from crawlers.extract import extract_main_text, make_extractor
from crawlers.warc import iter_records
from filters import reference_text as rt
from filters.text_stats import HANGUL_SYLLABLE, LETTER
from filters.classifier import Evaluation, QualityClassifier, TrainSettings, train

WEB_WARCS = ("warc/resiliparse/warcfile.warc.gz", "warc/resiliparse/clueweb-quirk.warc.gz", "warc/dolma/sample-0000.warc.gz")


def train_from_sources(
    sources: dict[tuple[str, int], list[str]], output: Path, settings: TrainSettings, lang: str | None
) -> tuple[QualityClassifier, Evaluation, dict[str, int]]:
    """Train on (source name, label) → texts (label 1 curated, 0 web); return the
    model, its held-back evaluation and the examples per source.

    `lang` "ko" or "en" trains a per-language model on the texts whose script
    says so (Hangul share of letters at least / below one half); None a joint one.
    """
    if lang is not None:
        sources = {key: [t for t in docs if _script_lang(t) == lang] for key, docs in sources.items()}
    texts: list[str] = []
    labels: list[int] = []
    for (name, label), docs in sources.items():
        texts.extend(docs)
        labels.extend([label] * len(docs))
    model, evaluation = train(texts, labels, output, settings)
    return model, evaluation, {f"{name} ({'hq' if label else 'lq'})": len(d) for (name, label), d in sources.items()}


def labelled_sources(data: Path) -> dict[tuple[str, int], list[str]]:
    """(source name, label) → texts; label 1 = curated, 0 = web."""
    return {
        ("korquad", 1): rt.korquad_paragraphs(data),
        ("klue", 1): rt.klue_documents(data),
        ("english_gold_articles", 1): rt.chunks(rt.english_articles(data)),
        ("english_readability_pages", 1): rt.chunks(rt.readability_articles(data)),
        ("common_crawl_wet", 0): rt.chunks(rt.common_crawl_text(data)),
        ("web_warc_extractions", 0): rt.chunks(warc_texts([data / p for p in WEB_WARCS])),
        ("nsmc_reviews", 0): rt.nsmc_review_groups(data, limit=300),
        ("news_comments", 0): rt.news_comment_groups(data, limit=300),
    }


def file_sources(positives: list[str], negatives: list[str]) -> tuple[dict[tuple[str, int], list[str]], dict[str, int]]:
    """(file, label) → texts for the files a user labelled, and lines skipped per file.

    A file is JSON lines with a `text` field (`.jsonl`, `.jsonl.gz`), Parquet with
    a `text` column (`.parquet`: a run's shards work as they are) or plain text
    with one document per line; local or s3://. A line that is not JSON or has
    no text is skipped and counted, not fatal.
    """
    sources: dict[tuple[str, int], list[str]] = {}
    skipped: dict[str, int] = {}
    for label, uris in ((1, positives), (0, negatives)):
        for uri in uris:
            texts, bad = read_labelled_file(uri)
            sources[(uri, label)] = rt.chunks(texts)
            skipped[uri] = bad
    return sources, skipped


def read_labelled_file(uri: str) -> tuple[list[str], int]:
    """(texts, lines skipped) of one labelled file."""
    name = uri.lower().removesuffix(".gz")
    with open_input(uri) as raw:
        data = raw.read()
    if name.endswith(".parquet"):
        table = pq.read_table(io.BytesIO(data), columns=["text"])
        texts = [t for t in table["text"].to_pylist() if t and t.strip()]
        return texts, table.num_rows - len(texts)
    if uri.lower().endswith(".gz"):
        data = gzip.decompress(data)
    lines = data.decode("utf-8", errors="replace").splitlines()
    if not name.endswith((".jsonl", ".json")):
        texts = [line for line in lines if line.strip()]
        return texts, 0
    texts, bad = [], 0
    for line in lines:
        if not line.strip():
            continue
        try:
            text = json.loads(line).get("text")
        except (json.JSONDecodeError, AttributeError):
            text = None
        if isinstance(text, str) and text.strip():
            texts.append(text)
        else:
            bad += 1
    return texts, bad


def _script_lang(text: str) -> str:
    letters = len(LETTER.findall(text))
    return "ko" if letters and len(HANGUL_SYLLABLE.findall(text)) / letters >= 0.5 else "en"


def warc_texts(paths: list[Path]) -> list[str]:
    """Main text of every HTML page in the WARCs, as the pipeline's extractor sees it."""
    read, extractor = ReadConfig(), make_extractor(ExtractConfig())
    texts = []
    for path in paths:
        for record in iter_records(str(path), Stats(), open_input, read.max_payload_bytes, tuple(read.mime_types)):
            if record.problem or not record.payload or looks_binary(record.payload):
                continue
            html, _ = decode_html(record.payload, charset_from_content_type(record.content_type))
            try:
                extraction = extract_main_text(html, record.url, extractor)
            except Exception:  # noqa: BLE001 - a page trafilatura cannot parse is simply not an example
                continue
            if extraction is not None and extraction.text.strip():
                texts.append(extraction.text)
    return texts
