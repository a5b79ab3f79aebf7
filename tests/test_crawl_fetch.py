"""Fetching against a real local server: politeness, retries, caps, and bad input as outcomes."""

from __future__ import annotations

import asyncio
import gzip
import time
import zlib

import brotli
import pytest

from crawlers.crawl import run_crawl
from crawlers.fetch import Fetcher
from crawlers.ssrf import AddressPolicy
from tests.crawl_site import (
    LocalSite,
    crawl_config,
    encoded,
    english_pages,
    html_page,
    korquad_articles,
    page,
    redirect,
    trickle,
)

pytestmark = pytest.mark.timeout(60)
BOMB_BYTES = 64 * 1024 * 1024  # what the bombs expand to
CAP = 1024 * 1024


def _fetch(cfg, url):
    async def main():
        async with Fetcher(cfg, AddressPolicy(cfg.allow_networks)) as fetcher:
            return await fetcher.fetch(url)

    return asyncio.run(main())


def _retry_once(first_status, retry_after):
    calls = []

    async def handler(request):
        from aiohttp import web

        calls.append(time.monotonic())
        if len(calls) == 1:
            return web.Response(status=first_status, headers={"Retry-After": retry_after})
        return web.Response(body=html_page("ok", "다시 시도하면 됩니다"), content_type="text/html")

    return handler, calls


def test_user_agent_from_config_is_sent(tmp_path, data_dir):
    title, text = korquad_articles(data_dir, 1)[0]
    with LocalSite({"/": page(html_page(title, text))}) as site:
        run_crawl(crawl_config(user_agent="test-bot/1.0 (+mailto:data@example.org)"), [site.url("/")], tmp_path)
    assert {hit.user_agent for hit in site.log} == {"test-bot/1.0 (+mailto:data@example.org)"}


@pytest.mark.parametrize("status", [503, 429])
def test_retry_waits_for_retry_after(status):
    handler, calls = _retry_once(status, "1")
    with LocalSite({"/": handler}) as site:
        result = _fetch(crawl_config(retries=2), site.url("/"))
    assert result.problem is None and result.status == 200 and result.attempts == 2
    assert calls[1] - calls[0] >= 0.95


def test_retry_after_beyond_the_limit_gives_up_at_once():
    handler, calls = _retry_once(429, "3600")
    with LocalSite({"/": handler}) as site:
        result = _fetch(crawl_config(retries=3, max_retry_after=60), site.url("/"))
    assert result.problem == "retry_after_too_long" and len(calls) == 1


def test_persistent_server_errors_are_retried_with_backoff_then_counted():
    with LocalSite({"/": page("down", status=502)}) as site:
        result = _fetch(crawl_config(retries=2, backoff_seconds=0.1), site.url("/"))
    assert result.problem == "http_status" and result.status == 502 and len(site.log) == 3
    gaps = [b.at - a.at for a, b in zip(site.log, site.log[1:])]
    assert gaps[0] >= 0.05 and gaps[1] >= 0.1  # 0.1·2^k·[0.5, 1.5)


@pytest.mark.parametrize(
    "encoding, compress",
    [
        ("gzip", lambda data: gzip.compress(data, 9)),
        ("deflate", lambda data: zlib.compress(data, 9)),
        ("br", lambda data: brotli.compress(data, quality=5)),
    ],
)
def test_decompression_bomb_is_capped(encoding, compress, data_dir):
    bomb = compress(b"<html><body>" + b"A" * BOMB_BYTES)
    english, _ = english_pages(data_dir, 1)[0]
    routes = {"/bomb": encoded(bomb, encoding), "/page": encoded(compress(english), encoding)}
    assert len(bomb) < CAP  # small on the wire: only the decoded cap can stop it
    with LocalSite(routes) as site:
        result = _fetch(crawl_config(max_decoded_bytes=CAP), site.url("/bomb"))
        fine = _fetch(crawl_config(max_decoded_bytes=CAP), site.url("/page"))
    assert result.problem == "decoded_too_large" and result.body == b""
    assert fine.problem is None and fine.body == english
    headers = dict(fine.final.response_headers)
    assert headers["X-Crawler-Content-Encoding"] == encoding and "Content-Encoding" not in headers
    assert headers["Content-Length"] == str(len(english))


def test_huge_bodies_are_refused_with_or_without_content_length():
    big = b"<html><body>" + b"x" * (3 * CAP) + b"</body></html>"
    with LocalSite({"/declared": page(big), "/streamed": trickle(big[:CAP], 0.0, 4)}) as site:
        declared = _fetch(crawl_config(max_body_bytes=CAP), site.url("/declared"))
        streamed = _fetch(crawl_config(max_body_bytes=CAP), site.url("/streamed"))
    assert declared.problem == "too_large" and "Content-Length" in declared.detail
    assert streamed.problem == "too_large" and "on the wire" in streamed.detail


def test_slow_loris_server_costs_at_most_the_total_timeout():
    with LocalSite({"/": trickle(b"<p>.", 0.2, 100)}) as site:
        started = time.monotonic()
        result = _fetch(crawl_config(total_timeout=1.0, read_timeout=5.0, retries=2), site.url("/"))
        elapsed = time.monotonic() - started
    assert result.problem == "timeout" and result.attempts == 1  # timeouts are not retried
    assert elapsed < 3.0


def test_redirect_chains_are_limited():
    loop = {f"/loop/{i}": redirect(f"/loop/{i + 1}") for i in range(20)}
    cycle = {"/a": redirect("/b"), "/b": redirect("/a")}
    with LocalSite({**loop, **cycle}) as site:
        endless = _fetch(crawl_config(max_redirects=5), site.url("/loop/0"))
        circular = _fetch(crawl_config(), site.url("/a"))
    assert endless.problem == "too_many_redirects" and len(endless.exchanges) == 6
    assert circular.problem == "redirect_loop"


def test_non_html_and_binary_bodies_are_refused(data_dir):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    routes = {"/image": page(png, "image/png"), "/fake-html": page(png, "text/html")}
    with LocalSite(routes) as site:
        image = _fetch(crawl_config(), site.url("/image"))
        fake = _fetch(crawl_config(), site.url("/fake-html"))
    assert image.problem == "not_html" and image.detail == "image/png"
    assert fake.problem == "binary_body"


def test_korean_charset_is_kept_and_an_invalid_one_noted(data_dir):
    title, text = korquad_articles(data_dir, 1)[0]
    euc_kr = html_page(title, text, charset="euc-kr")
    routes = {
        "/euc-kr": page(euc_kr, "text/html; charset=EUC-KR"),
        "/bogus": page(html_page(title, text), "text/html; charset=x-no-such-charset"),
    }
    with LocalSite(routes) as site:
        korean = _fetch(crawl_config(), site.url("/euc-kr"))
        bogus = _fetch(crawl_config(), site.url("/bogus"))
    assert korean.problem is None and korean.charset == "EUC-KR" and korean.body == euc_kr
    assert title in korean.body.decode("cp949")
    assert bogus.problem is None and "x-no-such-charset" in bogus.note


def test_per_host_requests_are_serialised_and_spaced(tmp_path, data_dir):
    articles = korquad_articles(data_dir, 6)
    routes = {f"/{i}": page(html_page(*a)) for i, a in enumerate(articles)}
    routes["/"] = page(html_page("목록", "문서", [f"/{i}" for i in range(len(articles))]))
    with LocalSite(routes) as site:
        run_crawl(crawl_config(delay_seconds=0.15, concurrency=8), [site.url("/")], tmp_path)
    starts = [hit.at for hit in site.log if hit.path != "/robots.txt"]
    assert len(starts) == 7 and min(b - a for a, b in zip(starts, starts[1:])) >= 0.14


def test_bad_input_is_counted_and_never_stops_the_crawl(tmp_path, data_dir):
    articles = korquad_articles(data_dir, 2)
    links = [
        "/good", "/image", "/slow", "/loop/0", "/bomb", "/gone", "/bad-charset",
        "http://[::1", "javascript:void(0)", "http://exa mple.com/", "ftp://127.0.0.1/x",
    ]
    routes = {
        "/": page(html_page("목록", "여러 가지 나쁜 입력", links)),
        "/good": page(html_page(*articles[0])),
        "/image": page(b"\x89PNG\r\n\x1a\n" + bytes(200), "image/png"),
        "/slow": trickle(b"<p>.", 0.2, 100),
        "/bomb": encoded(gzip.compress(b"A" * BOMB_BYTES), "gzip"),
        "/gone": page("gone", status=410),
        "/bad-charset": page(html_page(*articles[1]), "text/html; charset=no-such"),
        **{f"/loop/{i}": redirect(f"/loop/{i + 1}") for i in range(10)},
    }
    cfg = crawl_config(total_timeout=1.0, max_decoded_bytes=CAP, retries=0)
    with LocalSite(routes) as site:
        report = run_crawl(cfg, [site.url("/")], tmp_path)
    counters = report.stats["counters"]
    assert report.archived == 3  # index, good, bad-charset (decoded later from <meta> or detection)
    for outcome in ("not_html", "timeout", "too_many_redirects", "decoded_too_large", "http_status"):
        assert counters[f"outcome_{outcome}"] == 1, outcome
        assert report.stats["errors"][outcome]["examples"]
    assert counters["links_not_http"] == 4 and "invalid_charset" in report.stats["errors"]
    assert report.pending == 0
