"""An interrupted crawl resumes: nothing archived is fetched again, nothing queued is lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawlers.crawl import run_crawl
from tests.conftest import REPO
from tests.crawl_site import LocalSite, crawl_config, html_page, korquad_articles, page

pytestmark = pytest.mark.timeout(90)
N_PAGES = 12


def _site(data_dir):
    articles = korquad_articles(data_dir, N_PAGES)
    routes = {f"/doc/{i}": page(html_page(*a, links=[f"/doc/{(i + 1) % N_PAGES}"])) for i, a in enumerate(articles)}
    routes["/"] = page(html_page("목록", "위키백과 문서", [f"/doc/{i}" for i in range(0, N_PAGES, 3)]))
    return routes


def _archived(out):
    urls = Counter()
    for path in sorted((out / "warc").glob("*.warc.gz")):
        with open(path, "rb") as handle:
            try:
                for record in ArchiveIterator(handle):
                    if record.rec_type == "response":
                        urls[record.rec_headers["WARC-Target-URI"]] += 1
            except Exception:  # a record torn by a kill: what precedes it is still archived
                pass
    return urls


def test_resume_after_kill_refetches_nothing_already_archived(tmp_path, data_dir):
    script = (
        "import sys; from crawlers.crawl import run_crawl; from tests.crawl_site import crawl_config; "
        "run_crawl(crawl_config(delay_seconds=0.2), [sys.argv[1]], sys.argv[2])"
    )
    with LocalSite(_site(data_dir)) as site:
        child = subprocess.Popen([sys.executable, "-c", script, site.url("/"), str(tmp_path)], cwd=REPO)
        deadline = time.monotonic() + 30
        while sum(p.startswith("/doc/") for p in site.paths()) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
        before = Counter(site.paths())
        archived_before_kill = set(_archived(tmp_path))
        assert 0 < sum(before[p] for p in before if p.startswith("/doc/")) < N_PAGES  # killed mid-crawl
        report = run_crawl(crawl_config(delay_seconds=0.0), [site.url("/")], tmp_path)
        again = Counter(site.paths()) - before
    assert len(archived_before_kill) >= 3
    assert not any(again[p] for p in before if site.url(p) in archived_before_kill), again
    pages = {p: before[p] + again[p] for p in before | again if p != "/robots.txt"}
    assert set(pages) == {"/", *(f"/doc/{i}" for i in range(N_PAGES))}
    # one host, one connection: only the page in flight at the kill may be asked for twice
    assert sum(n - 1 for n in pages.values()) <= 1, pages
    archived = _archived(tmp_path)
    assert set(archived) == {site.url(p) for p in pages} and set(archived.values()) == {1}
    assert report.pending == 0 and report.finished_total == N_PAGES + 1


def test_page_archived_but_not_journaled_is_not_refetched(tmp_path, data_dir):
    """A kill between the WARC write and the journal entry: the WARC is the proof of fetching."""
    with LocalSite(_site(data_dir)) as site:
        run_crawl(crawl_config(max_pages=5), [site.url("/")], tmp_path)
        journal = tmp_path / "_crawl/frontier-00000.jsonl"
        lines = journal.read_text().splitlines()
        journal.write_text("\n".join(x for x in lines if '"f"' not in x) + '\n{"a": "http://127.0.0.1:1/to')
        first = Counter(site.paths())
        report = run_crawl(crawl_config(), [site.url("/")], tmp_path)
    again = Counter(site.paths()) - first
    assert not any(again[p] for p in first if p != "/robots.txt")  # nothing fetched twice
    assert sum(again[p] for p in again if p.startswith("/doc/")) == N_PAGES - 4  # and the rest was crawled
    assert report.stats["counters"]["resume_archived_not_journaled"] == 5


def test_torn_warc_tail_is_cut_and_its_page_fetched_again(tmp_path, data_dir):
    with LocalSite(_site(data_dir)) as site:
        report = run_crawl(crawl_config(max_depth=0), [site.url("/")], tmp_path)
        [warc] = report.warc_files
        data = open(warc, "rb").read()
        with open(warc, "wb") as handle:  # the response record of "/" cut in half
            handle.write(data[: len(data) - 200])
        journal = tmp_path / "_crawl/frontier-00000.jsonl"
        journal.write_text("".join(x + "\n" for x in journal.read_text().splitlines() if '"f"' not in x))
        run_crawl(crawl_config(max_depth=0), [site.url("/")], tmp_path)
    assert site.paths().count("/") == 2
    assert _archived(tmp_path) == Counter({site.url("/"): 1})


def test_journal_replays_the_queue_of_an_unfinished_crawl(tmp_path, data_dir):
    with LocalSite(_site(data_dir)) as site:
        partial = run_crawl(crawl_config(max_pages=3), [site.url("/")], tmp_path)
        assert partial.pending > 0 and partial.finished_total == 3
        rest = run_crawl(crawl_config(), [], tmp_path)  # no seeds: the journal alone drives it
    assert rest.finished_total == N_PAGES + 1 and rest.pending == 0
    entries = [json.loads(x) for x in (tmp_path / "_crawl/frontier-00000.jsonl").read_text().splitlines()]
    assert len({e["f"] for e in entries if "f" in e}) == N_PAGES + 1
