"""A page that takes trafilatura too long is dropped with its reason; the rest of its file is kept.
A worker past its memory limit is replaced between units, and the replacement is counted."""

from __future__ import annotations

import gzip
import json

import pyarrow.parquet as pq
import pytest

from corpus.config import load_config
from corpus.stats import Stats
from corpus.storage import LocalStorage
from ray_jobs.pipeline import run
from ray_jobs.unit import UnitModels, WorkUnit, process_unit
from tests.warc_factory import article, write_warc

LIGHT = {"extract.mode": "fast", "quality.enabled": False, "pii.enabled": False, "dedup.enabled": False, "tokenizer.count": False}


def _pages(data_dir, n):
    """Real English pages (shared web_docs_mixed texts) as simple articles."""
    with gzip.open(data_dir / "near_dup" / "web_docs_mixed.docs.jsonl.gz", "rt") as f:
        texts = [t for t in (json.loads(line)["text"] for line in f) if 200 <= len(t.split()) <= 1500 and t.isascii()]
    return [(f"http://site{i}.test/a", article(t.replace("\n", "\n\n")), "text/html") for i, t in enumerate(texts[:n])]


def _slow_page() -> tuple[str, bytes, str]:
    """8,000 nested blocks: about 3 s of trafilatura CPU here, against a few ms for a normal page."""
    blocks = "".join(f"<div><p>Paragraph {i} with some words in it, and more words here.</p></div>" for i in range(8000))
    return ("http://slow.test/", f"<html><body>{blocks}</body></html>".encode(), "text/html")


def test_a_page_past_the_extraction_timeout_is_dropped_and_the_rest_kept(tmp_path, data_dir):
    pages = _pages(data_dir, 4)
    write_warc(tmp_path / "in.warc.gz", pages[:2] + [_slow_page()] + pages[2:])
    cfg = load_config(None, {**LIGHT, "extract.timeout_seconds": 1.0, "langid.thresholds": {"en": 0.0}})
    entry = process_unit(WorkUnit.for_input(str(tmp_path / "in.warc.gz")), UnitModels(cfg), LocalStorage(str(tmp_path / "out")))
    stats = Stats.from_dict(entry["stats"])
    assert stats.dropped_docs("extract", "extraction_timeout") == 1
    assert entry["docs"] == 4
    kept = pq.read_table(tmp_path / "out" / WorkUnit.for_input(str(tmp_path / "in.warc.gz")).staged_path)
    assert sorted(kept["url"].to_pylist()) == sorted(url for url, _, _ in pages)
    assert entry["stats"]["errors"]["extraction_timeout"]["count"] == 1


@pytest.mark.slow
def test_without_a_timeout_the_slow_page_is_extracted(tmp_path, data_dir):
    write_warc(tmp_path / "in.warc.gz", [_slow_page()])
    cfg = load_config(None, {**LIGHT, "extract.timeout_seconds": None, "langid.thresholds": {"en": 0.0}})
    entry = process_unit(WorkUnit.for_input(str(tmp_path / "in.warc.gz")), UnitModels(cfg), LocalStorage(str(tmp_path / "out")))
    assert entry["docs"] == 1


@pytest.mark.ray
def test_a_worker_over_its_memory_limit_is_replaced_between_units(tmp_path, data_dir, ray_local):
    """A 1 MB limit: every unit leaves its worker over it, so each next unit runs in a new process."""
    pages = _pages(data_dir, 6)
    inputs = []
    for i in range(3):
        write_warc(tmp_path / f"in{i}.warc.gz", pages[2 * i : 2 * i + 2])
        inputs.append(str(tmp_path / f"in{i}.warc.gz"))
    settings = {**LIGHT, "input": inputs, "output": str(tmp_path / "out"), "ray.workers": 1, "ray.progress": False}
    settings.update({"ray.worker_rss_limit_mb": 1, "langid.thresholds": {"en": 0.0}})
    run(load_config(None, settings))
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())
    assert stats["counters"]["worker_recycled"] == 3
    ledger = [json.loads(p.read_text()) for p in (tmp_path / "out" / "_work" / "units").glob("*.json")]
    assert len({entry["process"]["pid"] for entry in ledger}) == 3  # one process per unit
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["languages"]["en"]["docs"] == 6


def test_a_timeout_swallowed_where_it_landed_fires_again():
    """Python swallows an async exception that lands in a weakref or GC callback;
    the deadline must fire again rather than let the page run on unbounded."""
    from crawlers.extract import ExtractionTimeout, _cpu_deadline

    swallowed = 0
    with pytest.raises(ExtractionTimeout):
        with _cpu_deadline(0.1):
            while True:
                try:
                    while True:
                        sum(range(1000))
                except ExtractionTimeout:
                    swallowed += 1
                    if swallowed > 1:
                        raise
    assert swallowed == 2
