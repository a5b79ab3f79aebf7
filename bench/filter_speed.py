"""Filtering cost per document against extraction cost, on the same documents.

Extracts every HTML record of the constructed WARC (scrapinghub article pages
and Korean EUC-KR feeds), then times each quality rule, the classifier and PII
over the extracted texts, three rounds, and prints median docs/s per core
(process CPU time, so other users of the machine do not count) and the ratio to
extraction. `--korean N` adds Korean-heavy text: up to N evenly spaced texts
of each Korean set of the evaluation set (blogs, forum threads, 1920s prose,
news, encyclopedic, Instagram ads).

Usage: .venv/bin/python bench/filter_speed.py [--data ../shared/data] [--rounds 3] [--korean 60]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import pyarrow as pa

from corpus.config import ExtractConfig, LangIdConfig, QualityConfig
from corpus.stats import Stats
from corpus.storage import open_input
from crawlers.decode import charset_from_content_type, decode_html
from crawlers.extract import extract_main_text, make_extractor
from crawlers.warc import iter_records
from filters import c4, fineweb, gopher, hashtags, korean, listing
from filters.classifier import QualityClassifier
from filters.eval_sets import evaluation_sets
from filters.langid import LanguageIdentifier
from filters.pii import KINDS, PIIRedactor
from filters.quality import QualityFilter
from filters.spam import SpamLexicon

WARC = "warc/constructed/aeb_and_korean_feeds.warc.gz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--korean", type=int, default=0, help="add up to N Korean texts per set of the evaluation set")
    args = parser.parse_args()
    pages = [(r.payload, r.content_type, r.url) for r in iter_records(
        str(args.data / WARC), Stats(), open_input, 10 << 20, ("text/html", "application/xhtml+xml", "application/rss+xml", "text/xml"))
        if r.payload]
    extractor = make_extractor(ExtractConfig())
    texts: list[str] = []

    def extract() -> None:
        texts.clear()
        for body, content_type, url in pages:
            html, _ = decode_html(body, charset_from_content_type(content_type))
            result = extract_main_text(html, url, extractor)
            if result is not None:
                texts.append(result.text)

    extract_rate = _rate(extract, len(pages), args.rounds)
    if args.korean:
        texts += [sample.text for labelled in evaluation_sets(args.data, args.korean)
                  if labelled.lang == "ko" and labelled.source != "constructed"
                  for sample in labelled.samples if sample.text]
    langs, _ = LanguageIdentifier(LangIdConfig()).predict(texts)
    quality = QualityFilter(QualityConfig())
    lexicon, classifier = SpamLexicon(), QualityClassifier(QualityConfig().classifier_path())
    docs = quality.splitter.docs(texts, langs)
    n = len(docs)
    stops = quality._stop_words(docs)
    redactor = PIIRedactor(list(KINDS), key=b"bench")
    steps = {
        "split (spaCy words, lines)": lambda: quality.splitter.docs(texts, langs),
        "stop words (spaCy en / Kiwi ko)": lambda: quality._stop_words(docs),
        "spam lexicon": lambda: [lexicon.figures(d) for d in docs],
        "hashtags": lambda: [hashtags.figures(d) for d in docs],
        "listing": lambda: [listing.figures(d) for d in docs],
        "korean": lambda: [korean.figures(d) for d in docs],
        "gopher_quality": lambda: [gopher.quality_figures(d, s) for d, s in zip(docs, stops)],
        "gopher_repetition": lambda: [gopher.repetition_figures(d) for d in docs],
        "c4": lambda: [c4.figures(d, 3) for d in docs],
        "fineweb": lambda: [fineweb.figures(d, 30) for d in docs],
        "quality_classifier": lambda: classifier.score(texts),
        "pii": lambda: [redactor.redact(t) for t in texts],
    }
    table = pa.table({"text": texts, "lang": langs})
    steps["total (quality stage + pii)"] = lambda: redactor.apply(quality.apply(table, Stats())[0], Stats())
    print(f"{len(pages)} pages extracted to {n} documents ({sum(map(len, texts)):,} chars; "
          f"{langs.count('ko')} ko, {langs.count('en')} en)")
    print(f"{'step':34s} {'docs/s/core':>12s} {'x extraction':>13s}")
    print(f"{'extraction (trafilatura)':34s} {extract_rate:12.0f} {1.0:13.1f}")
    for name, step in steps.items():
        rate = _rate(step, n, args.rounds)
        print(f"{name:34s} {rate:12.0f} {rate / extract_rate:13.1f}")


def _rate(step, n: int, rounds: int) -> float:
    """Median documents per CPU-second over `rounds` runs."""
    seconds = []
    for _ in range(rounds):
        start = time.process_time()
        step()
        seconds.append(time.process_time() - start)
    return n / statistics.median(seconds)


if __name__ == "__main__":
    main()
