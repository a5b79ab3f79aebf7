"""A whole run with dedup on: injected copies in a WARC come out once, counted and clustered."""

from __future__ import annotations

import gzip
import json
import random

import pyarrow.parquet as pq

from corpus.config import load_config
from ray_jobs.pipeline import run
from tests.warc_factory import article, write_warc


def _originals(data_dir, n):
    with gzip.open(data_dir / "near_dup" / "web_docs_mixed.docs.jsonl.gz", "rt") as f:
        docs = [json.loads(line)["text"] for line in f]
    long = [t for t in docs if 200 <= len(t.split()) <= 1500 and t.isascii()]
    return long[:n]


def _edited(text: str, rng: random.Random) -> str:
    """About 1% of the words replaced: a templated copy of the same page."""
    words = text.split(" ")
    for i in rng.sample(range(len(words)), max(1, len(words) // 100)):
        words[i] = "changed"
    return " ".join(words)


def test_run_keeps_one_document_per_cluster_and_counts_the_rest(tmp_path, data_dir):
    rng = random.Random(3)
    originals = _originals(data_dir, 8)
    pages = [(f"http://site{i}.test/a", article(t.replace("\n", "\n\n")), "text/html") for i, t in enumerate(originals)]
    pages += [(f"http://mirror{i}.test/a", article(originals[i].replace("\n", "\n\n")), "text/html") for i in range(2)]
    pages += [(f"http://copy{i}.test/a", article(_edited(originals[i], rng).replace("\n", "\n\n")), "text/html") for i in range(2, 5)]
    write_warc(tmp_path / "in.warc.gz", pages)
    settings = {
        "input": [str(tmp_path / "in.warc.gz")],
        "output": str(tmp_path / "out"),
        "ray.progress": False,
        "quality.enabled": False,
        "pii.enabled": False,
        "langid.thresholds": {"en": 0.0},  # every page reaches dedup: this test is about dedup
    }
    run(load_config(None, settings), executor="serial")

    out = tmp_path / "out"
    stats = json.loads((out / "stats.json").read_text())
    exact = stats["stages"]["dedup_exact"]["en"]["dropped"]["exact_duplicate"]["docs"]
    near = stats["stages"]["dedup_near"]["en"]["dropped"]["near_duplicate"]["docs"]
    assert (exact, near) == (2, 3)
    manifest = json.loads((out / "manifest.json").read_text())
    docs = [row for shard in manifest["shards"] for row in pq.read_table(out / shard["path"]).to_pylist()]
    assert len(docs) == len(originals)
    texts = [d["text"] for d in docs]
    assert len(set(texts)) == len(texts)
    assert all(d["dup_cluster"] == d["id"] for d in docs)  # every survivor heads its own cluster
    decisions = pq.read_table(out / "_work" / "dedup").to_pylist()
    removed = [r for r in decisions if r["reason"]]
    kept_ids = {d["id"] for d in docs}
    assert len(removed) == 5 and all(r["cluster_id"] in kept_ids for r in removed)
