"""Pass rate of every quality rule, per labelled set of ../shared/data: the README's table.

Each rule runs alone (all its checks, the default thresholds of the set's
language), then all rules together in the default order. Clean sets should pass
at >= 95%; web sets show what each rule catches. The NSMC and news-comment
rows take groups past the first 300, which the shipped classifier trained on.

Usage: .venv/bin/python bench/pass_rates.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pyarrow as pa

from corpus.config import QualityConfig
from corpus.stats import Stats
from filters import reference_text as rt
from filters.quality import QualityFilter
from ray_jobs.quality_training import warc_texts

RULES = ["korean", "gopher_quality", "gopher_repetition", "c4", "fineweb", "quality_classifier"]


def labelled_sets(data: Path) -> list[tuple[str, str, list[str]]]:
    """(name, lang, texts) per set, clean ones first."""
    return [
        ("KorQuAD paragraphs", "ko", rt.korquad_paragraphs(data)),
        ("KLUE documents", "ko", rt.klue_documents(data)),
        ("English gold articles", "en", rt.english_articles(data)),
        ("Common Crawl WET (en)", "en", rt.common_crawl_text(data, lang="en")),
        ("NSMC review groups", "ko", rt.nsmc_review_groups(data, limit=600)[300:]),
        ("news comment groups", "ko", rt.news_comment_groups(data, limit=600)[300:]),
        ("spam WARC extractions", "en", warc_texts([data / "warc/resiliparse/warcfile.warc.gz"])),
    ]


def pass_rate(rules: list[str], lang: str, texts: list[str]) -> float:
    _, reasons = QualityFilter(QualityConfig(rules=rules)).apply(pa.table({"text": texts, "lang": [lang] * len(texts)}), Stats())
    return sum(r is None for r in reasons.to_pylist()) / len(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("CORPUS_DATA", "/work/shared/data")))
    args = parser.parse_args()
    print("| set | lang | docs | " + " | ".join(RULES) + " | all |")
    print("|---|---|---|" + "---|" * (len(RULES) + 1))
    for name, lang, texts in labelled_sets(args.data):
        rates = [pass_rate([rule], lang, texts) for rule in RULES] + [pass_rate(RULES, lang, texts)]
        print(f"| {name} | {lang} | {len(texts)} | " + " | ".join(f"{r:.1%}" for r in rates) + " |")


if __name__ == "__main__":
    main()
