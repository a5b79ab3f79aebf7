"""Crawler throughput against a local server, politeness relaxed: pages/s and CPU per page.

Peer: a bare aiohttp loop fetching the same URLs at the same concurrency with no
robots.txt, SSRF guard, caps, link extraction, journal or WARC. The ratio is
the price of crawling safely and resumably. The server runs in its own process
so it does not share the crawler's interpreter. The crawler also runs at gzip
level 9 (warcio's fixed level) to show what `crawl.warc_gzip_level` buys.

    .venv/bin/python bench/crawl.py [--pages 400] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from corpus.config import CrawlConfig  # noqa: E402
from crawlers.crawl import run_crawl  # noqa: E402
from tests.conftest import DATA  # noqa: E402
from tests.crawl_site import LocalSite, crawl_config, english_pages, html_page, korquad_articles, page  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    port_queue: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(args.pages, port_queue), daemon=True)
    server.start()
    base = f"http://127.0.0.1:{port_queue.get(timeout=60)}"
    urls = [f"{base}/"] + [f"{base}/p/{i}" for i in range(args.pages)]
    level = CrawlConfig().warc_gzip_level
    ours, level9, peer, warc_bytes = [], [], [], {}
    for _ in range(args.repeats):
        ours.append(_time(lambda: _crawl(base, args.concurrency, level, warc_bytes)))
        level9.append(_time(lambda: _crawl(base, args.concurrency, 9, warc_bytes)))
        peer.append(_time(lambda: asyncio.run(_bare(urls, args.concurrency))))
    server.terminate()
    _print(f"crawler (robots, SSRF, caps, links, journal, WARC gzip {level})", ours, len(urls))
    _print("crawler, WARC gzip 9", level9, len(urls))
    _print("bare aiohttp loop (peer)", peer, len(urls))
    ratio = statistics.median(o[0] for o in ours) / statistics.median(p[0] for p in peer)
    cpu_ratio = statistics.median(o[1] for o in ours) / statistics.median(p[1] for p in peer)
    gzip_cpu = statistics.median(o[1] for o in level9) / statistics.median(o[1] for o in ours)
    print(f"WARC bytes/page: gzip {level} {warc_bytes[level] / len(urls):,.0f}, gzip 9 {warc_bytes[9] / len(urls):,.0f}")
    print(f"ratio gzip 9/gzip {level}: CPU {gzip_cpu:.2f}x, WARC size {warc_bytes[9] / warc_bytes[level]:.3f}x")
    print(f"ratio crawler/peer: wall {ratio:.2f}x, CPU {cpu_ratio:.2f}x (pages={len(urls)}, concurrency={args.concurrency})")


def _crawl(base: str, concurrency: int, level: int, warc_bytes: dict[int, int]) -> int:
    with tempfile.TemporaryDirectory() as out:
        cfg = crawl_config(
            concurrency=concurrency, per_host_concurrency=concurrency, max_pages=100000, max_depth=2, warc_gzip_level=level
        )
        report = run_crawl(cfg, [f"{base}/"], out)
        warc_bytes[level] = sum(Path(p).stat().st_size for p in report.warc_files)
        return report.archived


async def _bare(urls: list[str], concurrency: int) -> int:
    queue = list(urls)
    done = 0

    async def worker(session):
        nonlocal done
        while queue:
            async with session.get(queue.pop()) as response:
                await response.read()
                done += 1

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return done


def _time(fn) -> tuple[float, float, int]:
    cpu, wall = time.process_time(), time.perf_counter()
    n = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, n


def _print(name: str, runs: list[tuple[float, float, int]], pages: int) -> None:
    wall = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[1] for r in runs)
    print(f"{name}: {pages / wall:,.0f} pages/s, {1000 * cpu / pages:.2f} ms CPU/page (median of {len(runs)}; pages {runs[0][2]})")


def _serve(n_pages: int, port_queue) -> None:
    """Real pages: KorQuAD articles (UTF-8 and EUC-KR) and English benchmark pages, round robin."""
    articles = korquad_articles(DATA, 60)
    english = [html for html, _ in english_pages(DATA, 20)]
    routes = {"/robots.txt": page("User-agent: *\nAllow: /\n", "text/plain")}
    routes["/"] = page(html_page("목록", "문서", [f"/p/{i}" for i in range(n_pages)]))
    for i in range(n_pages):
        kind = i % 3
        if kind == 0:
            routes[f"/p/{i}"] = page(html_page(*articles[i % len(articles)]))
        elif kind == 1:
            body = html_page(*articles[i % len(articles)], charset="euc-kr")
            routes[f"/p/{i}"] = page(body, "text/html; charset=EUC-KR")
        else:
            routes[f"/p/{i}"] = page(english[i % len(english)])
    with LocalSite(routes) as site:
        port_queue.put(site.port)
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
