"""Decontamination: index build time and documents/s, and what the defaults catch.

Benchmark: KorQuAD 1.0 dev (every question, context and answer), KLUE NLI and
STS dev (every sentence): the items a Korean team would decontaminate against,
about 9,500 distinct texts. Documents: real web and reference text from
../shared/data (Common Crawl WET English, Korean news comments and movie
reviews, English gold articles), a tenth of them Korean pages with an item of
60 characters or more planted
(half exact, half with one word in ten changed and punctuation and spacing
altered), in Arrow batches of 256 through `Decontaminator.apply`, three rounds.
Prints the median documents/s per core (process CPU time: other users of the
machine do not count), the index build, and recall on the planted documents.

Usage: .venv/bin/python bench/decontam.py [--data ../shared/data] [--rounds 3] [--docs 20000]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import resource
import statistics
import tempfile
import time
from pathlib import Path

import pyarrow as pa

from corpus.config import load_config
from corpus.stats import Stats
from filters import reference_text as rt
from filters.decontam import Decontaminator

BATCH = 256


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--docs", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config, items = _benchmark_files(args.data, Path(tmp))
        cpu0, rss0 = time.process_time(), _rss_mib()
        stage = Decontaminator(load_config(None, config).decontam)
        build_cpu, rss = time.process_time() - cpu0, _rss_mib() - rss0
    for (kind, size, _), index in stage.indexes.items():
        print(f"index {kind} {size}-grams: {index.items:,} items judged, {index.skipped:,} too short, {len(index.keys):,} n-grams")
    print(f"build: {build_cpu:.1f} CPU s for {len(items):,} distinct texts; RSS +{rss:.0f} MiB")
    texts, langs, planted = _documents(args.data, items, args.docs)
    mib = sum(len(t.encode()) for t in texts) / 2**20
    rates, reasons = [], []
    for _ in range(args.rounds):
        cpu0 = time.process_time()
        reasons = []
        for start in range(0, len(texts), BATCH):
            batch = pa.table({"text": texts[start : start + BATCH], "lang": langs[start : start + BATCH]})
            reasons += stage.apply(batch, Stats())[1].to_pylist()
        rates.append(len(texts) / (time.process_time() - cpu0))
    rate = statistics.median(rates)
    print(f"{len(texts):,} documents ({mib:.1f} MiB): median {rate:,.0f} docs/s per core, {rate * mib / len(texts):.2f} MiB/s (rounds: {', '.join(f'{r:,.0f}' for r in rates)})")
    for kind in ("exact", "light"):
        rows = [i for i, k in planted.items() if k == kind]
        print(f"planted {kind}: {sum(reasons[i] is not None for i in rows) / len(rows):.4f} caught of {len(rows):,}")
    clean = [i for i in range(len(texts)) if i not in planted]
    matched = [i for i in clean if reasons[i] is not None]
    print(f"unplanted documents matched: {len(matched)} of {len(clean):,} ({len({texts[i] for i in matched})} distinct texts)")


def _benchmark_files(data: Path, root: Path) -> tuple[dict, list[str]]:
    with gzip.open(data / "korean_text/korquad/KorQuAD_v1.0_dev.json.gz", "rt", encoding="utf-8") as fh:
        korquad = json.load(fh)["data"]
    records = [
        {"question": q["question"], "context": p["context"], "answers": q["answers"]}
        for a in korquad for p in a["paragraphs"] for q in p["qas"]
    ]
    (root / "korquad.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    klue = []
    for name in ("nli", "sts"):
        with gzip.open(data / f"korean_text/klue/klue-{name}-v1.1_dev.json.gz", "rt", encoding="utf-8") as fh:
            klue += [{"a": r.get("premise") or r["sentence1"], "b": r.get("hypothesis") or r["sentence2"]} for r in json.load(fh)]
    (root / "klue.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in klue), encoding="utf-8")
    items = list(dict.fromkeys(
        [t for r in records for t in (r["question"], r["context"])] + [t for r in klue for t in (r["a"], r["b"])]
    ))
    config = {"decontam.benchmarks": [
        {"name": "korquad", "files": str(root / "korquad.jsonl")},
        {"name": "klue", "files": str(root / "klue.jsonl")},
    ]}
    return config, items


def _documents(data: Path, items: list[str], n: int) -> tuple[list[str], list[str], dict[int, str]]:
    rng = random.Random(0)
    korean = rt.news_comment_groups(data) + rt.nsmc_review_groups(data)
    pool = [(t, "en") for t in rt.common_crawl_text(data, "en") + rt.english_articles(data)] + [(t, "ko") for t in korean]
    long_items = [t for t in items if len(t) >= 60]
    texts, langs, planted = [], [], {}
    for i in range(n):
        text, lang = pool[i % len(pool)]
        if i % 10 == 0:  # planted into a Korean page
            kind = "exact" if i % 20 == 0 else "light"
            item = rng.choice(long_items)
            text, lang = f"{rng.choice(korean)}\n{item if kind == 'exact' else _light(item, rng)}", "ko"
            planted[i] = kind
        texts.append(text)
        langs.append(lang)
    return texts, langs, planted


def _light(text: str, rng: random.Random) -> str:
    words = text.split()
    for i in rng.sample(range(len(words)), max(1, len(words) // 10)):
        words[i] = rng.choice(["그리고", "정말", "바로", "또한"])
    return "  ".join(words).replace(".", " !").replace(",", "")


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
