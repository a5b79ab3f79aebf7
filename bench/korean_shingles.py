"""Which shingles find Korean near-duplicates: eojeol vs Kiwi morpheme vs character n-grams.

Every candidate runs the pipeline's own dedup (`SignatureStage` then
`find_duplicates`, local exchange) over all documents of a labelled set, at the
configured threshold and num_perm. A labelled pair counts as merged when both
documents end in one cluster. The labels (shared/data/near_dup, exact all-pairs
Jaccard; every pair with char-5 J >= 0.3 is listed) give:

  merged share per label: exact_dup / near_dup (J >= 0.8) should be ~1,
                          borderline (0.5-0.8) is either, related (< 0.5) should be ~0
  precision: merged pairs that are exact_dup or near_dup (strict) or at least
             borderline (lenient); a merged pair that is not listed has J < 0.3

`--english` instead scores the defaults on article_extraction_variants (pairs of
the same article vs different articles) and web_docs_mixed (a low-duplication
control: the share of documents removed is the false-positive rate), at several
thresholds.

  .venv/bin/python bench/korean_shingles.py [--english]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import itertools
import json
import os
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from corpus.config import DedupConfig, ShingleConfig
from corpus.stats import Stats
from corpus.storage import LocalStorage
from corpus.layout import DEDUP_DIR
from dedup.exchange import LocalExchange
from dedup.plan import find_duplicates
from dedup.signatures import SignatureStage

DATA = Path(os.environ.get("CORPUS_DATA", "/work/shared/data")) / "near_dup"
KOREAN = [("word", 1), ("word", 2), ("word", 3), ("morpheme", 2), ("morpheme", 3), ("morpheme", 5), ("char", 3), ("char", 4), ("char", 5)]
LABELS = ["exact_dup", "near_dup", "borderline", "related"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--english", action="store_true", help="score the defaults on the English sets instead")
    args = parser.parse_args()
    if args.english:
        return english()
    docs, pairs = load("ko_news_comments")
    base = DedupConfig()
    print(f"ko_news_comments: {len(docs)} documents, {len(pairs)} labelled pairs, threshold {base.threshold}, num_perm {base.num_perm}")
    print("| shingles | " + " | ".join(f"{label} merged" for label in LABELS) + " | precision strict | precision lenient | s |")
    print("|---" * (len(LABELS) + 4) + "|")
    for kind, size in KOREAN:
        cfg = base.model_copy(update={"shingles": {**base.shingles, "ko": ShingleConfig(kind=kind, size=size)}})
        start = time.perf_counter()
        clusters = cluster(cfg, docs)
        row = score(clusters, pairs)
        cells = [row[label] for label in LABELS] + [row["precision_strict"], row["precision_lenient"]]
        print(f"| {kind} {size} | " + " | ".join(cells) + f" | {time.perf_counter() - start:.1f} |")


def english() -> None:
    print("| threshold | same_article merged | different article merged | precision (same_article) | web_docs_mixed removed (of 633) | web_docs_mixed J>=0.8 pairs merged |")
    print("|---|---|---|---|---|---|")
    variants, vpairs = load("article_extraction_variants")
    web, wpairs = load("web_docs_mixed")
    for threshold in (0.5, 0.6, 0.7, 0.8, 0.9):
        cfg = DedupConfig(threshold=threshold)
        clusters = cluster(cfg, variants)
        same = [clusters[a] == clusters[b] for a, b, row in vpairs if row["same_article"] == "True"]
        other = [clusters[a] == clusters[b] for a, b, row in vpairs if row["same_article"] != "True"]
        members = defaultdict(list)
        for doc, root in clusters.items():
            members[root].append(doc)
        article = {d: d.split(":", 1)[0] for d in clusters}
        merged_pairs = [p for group in members.values() for p in itertools.combinations(group, 2)]
        true_pairs = sum(article[a] == article[b] for a, b in merged_pairs)
        web_clusters = cluster(cfg, web)
        removed = len(web_clusters) - len(set(web_clusters.values()))
        web_near = [web_clusters[a] == web_clusters[b] for a, b, row in wpairs if row["label"] in ("exact_dup", "near_dup")]
        print(
            f"| {threshold} | {_share(same)} | {_share(other)} | {_ratio(true_pairs, len(merged_pairs))} "
            f"| {removed} | {sum(web_near)}/{len(web_near)} |"
        )


def load(name: str) -> tuple[list[dict], list[tuple[str, str, dict]]]:
    with gzip.open(DATA / f"{name}.docs.jsonl.gz", "rt") as f:
        docs = [json.loads(line) for line in f]
    path = DATA / f"{name}.pairs.tsv.gz"
    opener = gzip.open if path.exists() else open
    with opener(path if path.exists() else DATA / f"{name}.pairs.tsv", "rt") as f:
        pairs = [(row["id_a"], row["id_b"], row) for row in csv.DictReader(f, delimiter="\t")]
    return docs, pairs


def cluster(cfg: DedupConfig, docs: list[dict]) -> dict[str, str]:
    """Cluster id of every document after the pipeline's exact + near dedup."""
    table = pa.table(
        {
            "id": [d["id"] for d in docs],
            "lang": [d.get("lang") or "en" for d in docs],
            "text": [d["text"] for d in docs],
            "quality_score": pa.nulls(len(docs), pa.float64()),
        }
    )
    table, _ = SignatureStage(cfg.model_copy(update={"executor": "local"})).apply(table, Stats())
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "_work/staged").mkdir(parents=True)
        pq.write_table(table, f"{tmp}/_work/staged/part.parquet")
        find_duplicates(cfg, LocalStorage(tmp), ["_work/staged/part.parquet"], "bench", LocalExchange())
        decided = Path(tmp) / DEDUP_DIR
        decisions = pq.read_table(str(decided)).to_pylist() if decided.exists() else []
    clusters = {d["id"]: d["id"] for d in docs}
    clusters.update({row["id"]: row["cluster_id"] for row in decisions})
    return clusters


def score(clusters: dict[str, str], pairs: list[tuple[str, str, dict]]) -> dict[str, str]:
    merged, total = Counter(), Counter()
    label_of = {}
    for a, b, row in pairs:
        total[row["label"]] += 1
        merged[row["label"]] += clusters[a] == clusters[b]
        label_of[frozenset((a, b))] = row["label"]
    members = defaultdict(list)
    for doc, root in clusters.items():
        members[root].append(doc)
    predicted = [label_of.get(frozenset(p), "unlisted") for group in members.values() for p in itertools.combinations(group, 2)]
    strict = sum(label in ("exact_dup", "near_dup") for label in predicted)
    lenient = strict + sum(label == "borderline" for label in predicted)
    out = {label: f"{merged[label]}/{total[label]} ({_ratio(merged[label], total[label])})" for label in LABELS}
    out["precision_strict"] = _ratio(strict, len(predicted))
    out["precision_lenient"] = _ratio(lenient, len(predicted))
    return out


def _share(flags: list[bool]) -> str:
    return f"{sum(flags)}/{len(flags)} ({_ratio(sum(flags), len(flags))})"


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "n/a"


if __name__ == "__main__":
    main()
