"""`corpus train-quality`: assemble labelled text and train the classifier.

By default the labelled text is the evaluation set's (filters/eval_sets.py):
positives are clean text of every register, Korean and English (encyclopedic,
news, civic, reviews, forum comments, essay and developer blogs, archaic
prose, news and blog pages as extracted), negatives real junk: Instagram ad
captions, portal front pages, blog list and tag pages, raw Common Crawl WET
text and the main text our own extractor pulls out of spammy/commercial crawl
WARCs.
The model trains on the calibration half and is judged on the held-back half,
register by register, so a register it learns to reject shows. Constructed
junk (filters/junk_pages.py) stays out: its templates would be learnt, not junk.
A data team with its own curated and web text passes files instead
(`--positive` / `--negative`). Long texts are cut into pieces of similar size on
both sides, so length alone cannot separate the classes.
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
from filters.classifier import Evaluation, QualityClassifier, TrainSettings, fit, train
from filters.eval_sets import HALVES, evaluation_sets, half_of
from filters.text_stats import HANGUL_SYLLABLE, LETTER

WEB_WARCS = ("warc/resiliparse/warcfile.warc.gz", "warc/resiliparse/clueweb-quirk.warc.gz", "warc/dolma/sample-0000.warc.gz")
MAX_PER_SOURCE = 1500

Sources = dict[tuple[str, int], list[str]]


def train_by_register(
    halves: dict[str, Sources], output: Path, settings: TrainSettings, lang: str | None
) -> tuple[QualityClassifier, Evaluation, dict[tuple[str, int], tuple[int, int, float]]]:
    """Fit on the calibration half, judge on the held-back half.

    Returns the model, its overall held-back evaluation at 0.5, and per
    (source, label): examples trained on, examples held back, and the held-back
    share the model gets right at 0.5 (recall of a clean register, the share
    caught of a junk type).
    """
    if lang is not None:
        halves = {h: {k: [t for t in v if _script_lang(t) == lang] for k, v in src.items()} for h, src in halves.items()}
    train_src, held_src = halves[HALVES[0]], halves[HALVES[1]]
    texts = [t for docs in train_src.values() for t in docs]
    labels = [label for (_, label), docs in train_src.items() for _ in docs]
    model = fit(texts, labels, output, settings)
    held_texts = [t for docs in held_src.values() for t in docs]
    held_labels = [label for (_, label), docs in held_src.items() for _ in docs]
    per_source = {}
    for key, docs in held_src.items():
        scores = model.score(docs)
        right = (scores >= 0.5) if key[1] else (scores < 0.5)
        per_source[key] = (len(train_src.get(key, [])), len(docs), float(right.mean()) if len(docs) else 0.0)
    return model, model.evaluate(held_texts, held_labels), per_source


def register_halves(data: Path) -> dict[str, Sources]:
    """half → (source, label) → texts: every set of the evaluation set but constructed junk (pages as
    the pipeline extracts them), plus web text."""
    halves: dict[str, Sources] = {h: {} for h in HALVES}
    extractor = make_extractor(ExtractConfig())
    for labelled in evaluation_sets(data):
        if labelled.source == "constructed":
            continue
        for half in HALVES:
            samples = labelled.half(half).samples
            texts = rt.chunks([s.text if s.html is None else _page_text(s.html, s.url, extractor) for s in samples])
            step = max(1, -(-len(texts) // MAX_PER_SOURCE))
            halves[half][(f"{labelled.lang} {labelled.name}", int(labelled.clean))] = texts[::step]
    for name, texts in (
        ("web: Common Crawl WET", rt.chunks(rt.common_crawl_text(data))),
        ("web: extractions of crawl WARCs", rt.chunks(warc_texts([data / p for p in WEB_WARCS]))),
    ):
        for half in HALVES:
            halves[half][(name, 0)] = [t for i, t in enumerate(texts) if half_of(name, str(i)) == half]
    return halves


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


def _page_text(html: bytes, url: str | None, extractor) -> str:
    """A page's main text as the pipeline extracts it; empty where there is none."""
    decoded, _ = decode_html(html, None)
    try:
        extraction = extract_main_text(decoded, url, extractor)
    except Exception:  # noqa: BLE001 - a page trafilatura cannot parse is simply not an example
        return ""
    return extraction.text if extraction is not None else ""


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
