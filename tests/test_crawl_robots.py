"""robots.txt (RFC 9309) as the server sees it: disallowed paths never requested, delays kept."""

from __future__ import annotations

import asyncio

import pytest

from crawlers.crawl import run_crawl
from crawlers.fetch import Fetcher
from crawlers.robots import ALLOW_ALL, RULES, RobotsCache
from crawlers.ssrf import AddressPolicy
from tests.crawl_site import LocalSite, crawl_config, html_page, korquad_articles, page

pytestmark = pytest.mark.timeout(60)


def _site(data_dir, robots_handler, n=4):
    articles = korquad_articles(data_dir, n)
    paths = ["/ko/open/0.html", "/ko/closed/1.html", "/ko/closed/open/2.html", "/en/3.html"][:n]
    routes = {path: page(html_page(*article)) for path, article in zip(paths, articles)}
    routes["/"] = page(html_page("목록", "한국어 위키백과 문서", paths))
    if robots_handler is not None:
        routes["/robots.txt"] = robots_handler
    return routes, paths


def test_disallowed_paths_are_never_requested_longest_match_wins(tmp_path, data_dir):
    robots = "User-agent: *\nDisallow: /ko/closed/\nAllow: /ko/closed/open/\n"
    routes, _ = _site(data_dir, page(robots, "text/plain"))
    with LocalSite(routes) as site:
        report = run_crawl(crawl_config(), [site.url("/")], tmp_path)
    requested = site.paths()
    assert "/ko/closed/1.html" not in requested
    assert {"/ko/open/0.html", "/ko/closed/open/2.html", "/en/3.html"} <= set(requested)
    assert requested.count("/robots.txt") == 1  # cached for the host
    assert report.stats["counters"]["outcome_robots_disallowed"] == 1


def test_our_own_group_is_obeyed_over_the_wildcard(tmp_path, data_dir):
    robots = "User-agent: *\nDisallow: /\n\nUser-agent: corpus-builder\nDisallow: /en/\n"
    routes, _ = _site(data_dir, page(robots, "text/plain"))
    with LocalSite(routes) as site:
        run_crawl(crawl_config(), [site.url("/")], tmp_path)
    assert "/en/3.html" not in site.paths()
    assert "/ko/closed/1.html" in site.paths()


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_error_on_robots_blocks_the_whole_host(tmp_path, data_dir, status):
    routes, _ = _site(data_dir, page("oops", "text/plain", status=status))
    with LocalSite(routes) as site:
        report = run_crawl(crawl_config(retries=1), [site.url("/")], tmp_path)
    assert set(site.paths()) == {"/robots.txt"}  # retried, then nothing else
    assert report.archived == 0
    assert report.stats["counters"]["outcome_robots_disallowed"] == 1
    assert "robots_unreachable" in report.stats["errors"]


def test_unreachable_robots_blocks_the_host(tmp_path):
    # A port nothing listens on: connection refused.
    with LocalSite({}) as closed:
        dead = closed.url("/")
    report = run_crawl(crawl_config(retries=0), [dead], tmp_path)
    assert report.archived == 0 and report.stats["counters"]["outcome_robots_disallowed"] == 1


def test_missing_robots_allows_everything(tmp_path, data_dir):
    routes, paths = _site(data_dir, None)  # /robots.txt is a 404
    with LocalSite(routes) as site:
        report = run_crawl(crawl_config(), [site.url("/")], tmp_path)
    assert set(paths) <= set(site.paths())
    assert report.archived == 1 + len(paths)


def test_crawl_delay_is_respected_between_requests(tmp_path, data_dir):
    robots = "User-agent: *\nCrawl-delay: 0.4\n"
    routes, paths = _site(data_dir, page(robots, "text/plain"))
    with LocalSite(routes) as site:
        run_crawl(crawl_config(concurrency=8), [site.url("/")], tmp_path)
    pages = [hit.at for hit in site.log if hit.path != "/robots.txt"]
    assert len(pages) == 1 + len(paths)
    gaps = [b - a for a, b in zip(pages, pages[1:])]
    assert min(gaps) >= 0.39, gaps


def test_too_long_crawl_delay_skips_the_host(tmp_path, data_dir):
    routes, _ = _site(data_dir, page("User-agent: *\nCrawl-delay: 3600\n", "text/plain"))
    with LocalSite(routes) as site:
        report = run_crawl(crawl_config(max_crawl_delay=30), [site.url("/")], tmp_path)
    assert site.paths() == ["/robots.txt"]
    assert report.stats["counters"]["outcome_crawl_delay_too_long"] == 1


def test_cache_is_bounded_and_entries_expire():
    async def main(site_a, site_b, cfg):
        async with Fetcher(cfg, AddressPolicy(cfg.allow_networks)) as fetcher:
            cache = RobotsCache(fetcher, cfg)
            states = [(await cache.rules(site_a.url("/x"))).state, (await cache.rules(site_b.url("/x"))).state]
            await cache.rules(site_a.url("/y"))  # evicted by b (one host kept): fetched again
            await asyncio.sleep(0.3)
            await cache.rules(site_a.url("/z"))  # expired: fetched again
            return states, cache.fetches

    cfg = crawl_config(robots_cache_hosts=1, robots_ttl_seconds=0.2)
    with LocalSite({"/robots.txt": page("User-agent: *\nDisallow: /x\n", "text/plain")}) as a, LocalSite({}) as b:
        states, fetches = asyncio.run(main(a, b, cfg))
    assert states == [RULES, ALLOW_ALL]
    assert fetches == 4 and a.paths().count("/robots.txt") == 3


def test_concurrent_pages_share_one_robots_fetch():
    async def main(site, cfg):
        async with Fetcher(cfg, AddressPolicy(cfg.allow_networks)) as fetcher:
            cache = RobotsCache(fetcher, cfg)
            answers = await asyncio.gather(*(cache.allowed(site.url(f"/p{i}")) for i in range(8)))
            return answers, cache.fetches

    with LocalSite({"/robots.txt": page("User-agent: *\nDisallow: /p3\n", "text/plain")}) as site:
        answers, fetches = asyncio.run(main(site, crawl_config()))
    assert fetches == 1 and answers == [i != 3 for i in range(8)]


def test_a_partition_run_again_keeps_its_robots_rules_and_does_not_ask_again(tmp_path, data_dir):
    """A Ray round hands a partition more URLs of a host it crawled before: robots.txt is not fetched twice."""
    robots = "User-agent: *\nDisallow: /ko/closed/\n"
    routes, paths = _site(data_dir, page(robots, "text/plain"))
    with LocalSite(routes) as site:
        run_crawl(crawl_config(max_depth=0), [site.url("/")], tmp_path)
        later = run_crawl(crawl_config(max_depth=0), [site.url(paths[0]), site.url(paths[1])], tmp_path)
    assert site.paths().count("/robots.txt") == 1
    assert later.stats["counters"]["outcome_robots_disallowed"] == 1  # the restored rules still apply
    assert later.archived == 1


def test_expired_robots_rules_are_not_restored(tmp_path, data_dir):
    routes, paths = _site(data_dir, page("User-agent: *\nAllow: /\n", "text/plain"))
    with LocalSite(routes) as site:
        run_crawl(crawl_config(max_depth=0, robots_ttl_seconds=0.2), [site.url("/")], tmp_path)
        asyncio.run(asyncio.sleep(0.3))
        run_crawl(crawl_config(max_depth=0, robots_ttl_seconds=0.2), [site.url(paths[0])], tmp_path)
    assert site.paths().count("/robots.txt") == 2
