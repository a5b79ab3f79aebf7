"""Crawl output is standard WARC: warcio reads it, and the pipeline turns it into text."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from warcio.archiveiterator import ArchiveIterator

from corpus.config import load_config
from corpus.storage import open_storage
from crawlers.crawl import run_crawl
from ray_jobs.unit import UnitModels, WorkUnit, process_unit
from tests.crawl_site import LocalSite, crawl_config, english_pages, html_page, korquad_articles, page, redirect

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def korean_and_english_crawl(tmp_path_factory, data_dir):
    """A small site in UTF-8, EUC-KR (declared in the header) and CP949 (undeclared), plus English."""
    out = tmp_path_factory.mktemp("crawl")
    articles = korquad_articles(data_dir, 3)
    english = english_pages(data_dir, 2)
    cp949_page = (data_dir / "encoding/chardet/EUC-KR/_chromium_windows-949_with_no_encoding_specified.html").read_bytes()
    routes = {
        "/": page(html_page("목록", "문서 목록", ["/ko/utf8", "/ko/euckr", "/ko/cp949", "/en/0", "/en/1", "/old"])),
        "/ko/utf8": page(html_page(*articles[0])),
        "/ko/euckr": page(html_page(*articles[1], charset="euc-kr"), "text/html; charset=EUC-KR"),
        "/ko/cp949": page(cp949_page, "text/html"),
        "/en/0": page(english[0][0]),
        "/en/1": page(english[1][0]),
        "/old": redirect("/ko/new", 301),
        "/ko/new": page(html_page(*articles[2])),
    }
    with LocalSite(routes) as site:
        report = run_crawl(crawl_config(max_depth=1), [site.url("/")], out)
    return out, report, site, articles, english


def _records(path):
    with open(path, "rb") as handle:
        iterator = ArchiveIterator(handle)
        for record in iterator:
            body = record.content_stream().read()
            yield record, body, iterator.get_record_offset()


def test_warc_has_request_and_response_pairs_gzipped_per_record(korean_and_english_crawl):
    out, report, site, articles, _ = korean_and_english_crawl
    [path] = report.warc_files
    records = list(_records(path))
    raw = open(path, "rb").read()
    assert all(raw[offset : offset + 2] == b"\x1f\x8b" for _, _, offset in records)  # one gzip member each
    kinds = [r.rec_type for r, _, _ in records]
    assert kinds[0] == "warcinfo" and kinds.count("request") == kinds.count("response") == 8
    responses = {r.rec_headers["WARC-Record-ID"]: r for r, _, _ in records if r.rec_type == "response"}
    for request, _, _ in (x for x in records if x[0].rec_type == "request"):
        response = responses[request.rec_headers["WARC-Concurrent-To"]]
        assert response.rec_headers["WARC-Target-URI"] == request.rec_headers["WARC-Target-URI"]
        assert request.http_headers.get_header("User-Agent") == crawl_config().user_agent
    by_url = {r.rec_headers["WARC-Target-URI"]: (r, body) for r, body, _ in records if r.rec_type == "response"}
    redirect_record, _ = by_url[site.url("/old")]
    assert redirect_record.http_headers.get_statuscode() == "301"
    euc_kr, body = by_url[site.url("/ko/euckr")]
    assert euc_kr.http_headers.get_header("Content-Type") == "text/html; charset=EUC-KR"
    assert articles[1][0] in body.decode("cp949")


@pytest.mark.slow
def test_pipeline_reads_the_crawl_into_korean_and_english_text(korean_and_english_crawl, tmp_path):
    out, report, site, articles, english = korean_and_english_crawl
    cfg = load_config(None, {"input": report.warc_files, "output": str(tmp_path), "ray.progress": False})
    entry = process_unit(WorkUnit.for_input(report.warc_files[0]), UnitModels(cfg), open_storage(str(tmp_path)))
    staged = pq.read_table(tmp_path / entry["staged"]).to_pylist()
    text = {row["url"]: (row["lang"], row["text"]) for row in staged}
    for path, (title, body) in zip(["/ko/utf8", "/ko/euckr", "/ko/new"], articles):
        lang, got = text[site.url(path)]
        assert lang == "ko" and body.split("\n\n")[0][:80] in got
    lang, got = text[site.url("/ko/cp949")]
    assert lang == "ko" and "\ufffd" not in got
    gold_words = set(english[0][1].split()[:60])
    lang, got = text[site.url("/en/0")]
    assert lang == "en" and len(gold_words & set(got.split())) > 0.8 * len(gold_words)


def test_warc_files_rotate_by_size_with_deterministic_names(tmp_path, data_dir):
    articles = korquad_articles(data_dir, 8)
    routes = {f"/{i}": page(html_page(*a)) for i, a in enumerate(articles)}
    routes["/"] = page(html_page("목록", "문서", [f"/{i}" for i in range(len(articles))]))
    with LocalSite(routes) as site:
        report = run_crawl(crawl_config(warc_max_bytes=8000, warc_prefix="kowiki"), [site.url("/")], tmp_path)
    names = [p.rsplit("/", 1)[1] for p in report.warc_files]
    assert len(names) > 2 and names == [f"kowiki-00000-{i:05d}.warc.gz" for i in range(len(names))]
    urls = [r.rec_headers["WARC-Target-URI"] for p in report.warc_files for r, _, _ in _records(p) if r.rec_type == "response"]
    assert sorted(urls) == sorted(site.url(p) for p in routes)


def test_gzip_level_trades_size_for_speed_and_records_read_back_the_same(tmp_path, data_dir):
    articles = korquad_articles(data_dir, 6)
    routes = {f"/{i}": page(html_page(*a)) for i, a in enumerate(articles)}
    routes["/"] = page(html_page("목록", "문서", [f"/{i}" for i in range(len(articles))]))
    sizes, bodies = {}, {}
    with LocalSite(routes) as site:
        for level in (1, 9):
            report = run_crawl(crawl_config(warc_gzip_level=level), [site.url("/")], tmp_path / str(level))
            [path] = report.warc_files
            sizes[level] = (tmp_path / str(level) / "warc" / path.rsplit("/", 1)[1]).stat().st_size
            bodies[level] = {r.rec_headers["WARC-Target-URI"]: body for r, body, _ in _records(path) if r.rec_type == "response"}
    assert sizes[9] < sizes[1]  # the level reaches zlib
    assert bodies[1] == bodies[9] and len(bodies[9]) == len(routes)
