"""SSRF guard: internal addresses are refused on every hop, before any connection is made."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest
from aiohttp.abc import AbstractResolver

from crawlers.crawl import run_crawl
from crawlers.fetch import Fetcher
from crawlers.ssrf import AddressPolicy, BlockedAddress, GuardedResolver
from tests.crawl_site import LocalSite, crawl_config, html_page, korquad_articles, page, redirect

pytestmark = pytest.mark.timeout(60)

INTERNAL = [
    "127.0.0.1",
    "127.5.5.5",
    "10.0.0.1",
    "172.16.3.4",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # carrier-grade NAT
    "0.0.0.0",
    "224.0.0.1",
    "240.0.0.1",
    "::1",
    "fe80::1",
    "fc00::1",
    "ff02::1",
    "::ffff:169.254.169.254",  # IPv4-mapped
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # Teredo, client 10.0.0.1
]


@pytest.mark.parametrize("address", INTERNAL)
def test_internal_addresses_are_refused(address):
    assert AddressPolicy().check_ip(address) is not None


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "64:ff9b::808:808"])
def test_public_addresses_are_allowed(address):
    assert AddressPolicy().check_ip(address) is None


def test_allow_list_opens_only_the_listed_network():
    policy = AddressPolicy(["127.0.0.1/32"])
    assert policy.check_ip("127.0.0.1") is None
    assert policy.check_ip("127.0.0.2") is not None
    assert policy.check_ip("169.254.169.254") is not None
    # A wrapped form of an allowed address is allowed; of another, refused.
    assert policy.check_ip("::ffff:127.0.0.1") is None
    assert policy.check_ip("::ffff:10.0.0.1") is not None


def test_allow_list_rejects_non_networks():
    with pytest.raises(ValueError, match="not a network"):
        AddressPolicy(["localhost"])


@pytest.mark.parametrize(
    "url, kind",
    [
        ("file:///etc/passwd", "bad_scheme"),
        ("gopher://127.0.0.1:70/", "bad_scheme"),
        ("ftp://example.com/x", "bad_scheme"),
        ("javascript:alert(1)", "bad_scheme"),
        ("http:///nohost", "bad_url"),
        ("http://example.com:99999/", "bad_url"),
        ("http://169.254.169.254/latest/meta-data/", "blocked_address"),
        ("http://[::ffff:a9fe:a9fe]/", "blocked_address"),
        ("http://10.0.0.1/", "blocked_address"),
    ],
)
def test_urls_refused_before_any_lookup(url, kind):
    refused = AddressPolicy(["127.0.0.1/32"]).check_url(url)
    assert refused is not None and refused[0] == kind


def test_resolver_filters_the_system_answer_for_localhost():
    async def resolve(policy):
        return await GuardedResolver(policy).resolve("localhost", 80, socket.AF_UNSPEC)

    answers = asyncio.run(resolve(AddressPolicy(["127.0.0.1/32"])))
    assert answers and {a["host"] for a in answers} == {"127.0.0.1"}
    with pytest.raises(BlockedAddress, match="localhost"):
        asyncio.run(resolve(AddressPolicy()))


class NameTable(AbstractResolver):
    """DNS for tests: fixed names to fixed addresses (what a hostile DNS server could answer)."""

    def __init__(self, table: dict[str, str]) -> None:
        self.table, self.asked = table, []

    async def resolve(self, host, port=0, family=socket.AF_INET):
        self.asked.append(host)
        address = self.table[host]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [dict(hostname=host, host=address, port=port, family=family, proto=0, flags=0)]

    async def close(self):
        pass


def _fetch_counting_connections(cfg, url, resolver=None):
    """Fetch through the real client, counting the TCP connections aiohttp completes."""
    opened: list[str] = []

    async def on_connection(session, ctx, params):
        opened.append("connection")

    async def main():
        trace = aiohttp.TraceConfig()
        trace.on_connection_create_end.append(on_connection)
        async with Fetcher(cfg, AddressPolicy(cfg.allow_networks), resolver, [trace]) as fetcher:
            return await fetcher.fetch(url, follow_offsite=True)

    return asyncio.run(main()), opened


@pytest.mark.parametrize(
    "target", ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/admin", "http://[64:ff9b::a9fe:a9fe]/"]
)
def test_redirect_to_internal_address_is_refused_without_connecting(data_dir, target):
    title, text = korquad_articles(data_dir, 1)[0]
    with LocalSite({"/go": redirect(target), "/page": page(html_page(title, text))}) as site:
        result, opened = _fetch_counting_connections(crawl_config(), site.url("/go"))
    assert result.problem == "blocked_address"
    assert result.attempts == 1  # refused by the URL check: no request was even started for the hop
    assert len(opened) == 1  # the test server only
    assert site.paths() == ["/go"]


def test_name_resolving_to_metadata_address_is_refused_at_connection(data_dir):
    dns = NameTable({"site.test": "127.0.0.1", "metadata.test": "169.254.169.254"})
    title, text = korquad_articles(data_dir, 1)[0]
    with LocalSite({"/go": redirect("http://metadata.test/latest/"), "/p": page(html_page(title, text))}) as site:
        ok, _ = _fetch_counting_connections(crawl_config(), f"http://site.test:{site.port}/p", dns)
        result, opened = _fetch_counting_connections(crawl_config(), f"http://site.test:{site.port}/go", dns)
    assert ok.problem is None and title.encode() in ok.body
    assert result.problem == "blocked_address" and "169.254.169.254" in result.detail
    assert "resolves only to refused addresses" in result.detail  # the resolver refused: no socket opened
    assert "metadata.test" in dns.asked and len(opened) == 1


def test_crawl_counts_links_and_redirects_to_internal_addresses(tmp_path, data_dir):
    """Even with the internal hosts in scope, the crawl never reaches them and carries on."""
    articles = korquad_articles(data_dir, 2)
    links = ["/a", "http://10.0.0.1/x", "http://169.254.169.254/latest/", "/to-metadata"]
    routes = {
        "/": page(html_page("index", "시작", links)),
        "/a": page(html_page(*articles[0])),
        "/to-metadata": redirect("http://169.254.169.254/latest/user-data"),
    }
    cfg = crawl_config(domains=["127.0.0.1", "10.0.0.1", "169.254.169.254"])
    with LocalSite(routes) as site:
        report = run_crawl(cfg, [site.url("/")], tmp_path)
    counters = report.stats["counters"]
    assert report.archived == 2
    assert counters["outcome_blocked_address"] == 3  # the address guard refused them, not their robots.txt
    assert "outcome_robots_disallowed" not in counters and "robots_unreachable" not in report.stats["errors"]
    assert report.stats["errors"]["blocked_address"]["count"] == 2  # two hosts
    assert sorted(set(site.paths())) == ["/", "/a", "/robots.txt", "/to-metadata"]
