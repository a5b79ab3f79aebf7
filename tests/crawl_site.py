"""A real HTTP server on 127.0.0.1 for crawler tests, serving real pages from ../shared/data.

`LocalSite` runs aiohttp.web in a thread and logs every request it receives,
so tests assert on what the crawler actually asked for.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Awaitable, Callable

from aiohttp import web

from corpus.config import CrawlConfig
from ray_jobs.crawl import partition_of

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Hit:
    at: float
    method: str
    path: str
    user_agent: str


class LocalSite:
    """`with LocalSite(routes) as site:` serves `routes` (path → handler) until the block ends."""

    def __init__(self, routes: dict[str, Handler]) -> None:
        self.routes = dict(routes)
        self.log: list[Hit] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.port = 0

    def __enter__(self) -> "LocalSite":
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc_info) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}{path}"

    def paths(self) -> list[str]:
        return [hit.path for hit in self.log]

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path_qs
        self.log.append(Hit(time.monotonic(), request.method, path, request.headers.get("User-Agent", "")))
        handler = self.routes.get(path) or self.routes.get(request.path)
        if handler is None:
            return web.Response(status=404, text="not found")
        return await handler(request)


# --- handlers -----------------------------------------------------------------------------
def page(body: bytes | str, content_type: str = "text/html; charset=utf-8", status: int = 200, headers=None) -> Handler:
    data = body.encode() if isinstance(body, str) else body

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(body=data, status=status, headers={"Content-Type": content_type, **(headers or {})})

    return handler


def redirect(location: str, status: int = 302) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=status, headers={"Location": location})

    return handler


def trickle(chunk: bytes, interval: float, count: int) -> Handler:
    """A slow-loris server: headers at once, then `chunk` every `interval` seconds."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)
        for _ in range(count):
            await response.write(chunk)
            await asyncio.sleep(interval)
        return response

    return handler


def encoded(body: bytes, encoding: str, content_type: str = "text/html; charset=utf-8") -> Handler:
    """A response with a Content-Encoding body, sent as is."""

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(body=body, headers={"Content-Type": content_type, "Content-Encoding": encoding})

    return handler


# --- real content from ../shared/data -----------------------------------------------------
def korquad_articles(data_dir: Path, n: int) -> list[tuple[str, str]]:
    """(title, text) of the first `n` KorQuAD Wikipedia articles (first three paragraphs)."""
    with gzip.open(data_dir / "korean_text/korquad/KorQuAD_v1.0_dev.json.gz", "rt", encoding="utf-8") as handle:
        data = json.load(handle)["data"]
    return [(a["title"], "\n\n".join(p["context"] for p in a["paragraphs"][:3])) for a in data[:n]]


def english_pages(data_dir: Path, n: int) -> list[tuple[bytes, str]]:
    """(html bytes, gold article body) of `n` English scrapinghub benchmark pages."""
    root = data_dir / "gold_extraction/scrapinghub_aeb"
    truth = json.loads((root / "ground-truth.json").read_text())
    keys = sorted(k for k, v in truth.items() if v.get("lang") == "en")[:n]
    return [(gzip.decompress((root / "html" / f"{k}.html.gz").read_bytes()), truth[k]["articleBody"]) for k in keys]


def html_page(title: str, text: str, links: list[str] = (), charset: str = "utf-8") -> bytes:
    paragraphs = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
    anchors = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
    return (
        f'<html><head><meta charset="{charset}"><title>{title}</title></head>'
        f"<body><article><h1>{title}</h1>{paragraphs}</article><ul>{anchors}</ul></body></html>"
    ).encode(charset, errors="xmlcharrefreplace")


def linked_sites(data_dir: Path, n_sites: int = 4) -> list[LocalSite]:
    """Running sites whose pages link to the next site; the last site's port is drawn
    until both of two partitions own a site, so links must cross between them.
    The caller closes them."""
    sites = [LocalSite({}).__enter__() for _ in range(n_sites - 1)]
    while True:
        last = LocalSite({}).__enter__()
        if len({partition_of(site.host, 2) for site in [*sites, last]}) == 2:
            break
        last.__exit__(None, None, None)
    sites.append(last)
    articles = korquad_articles(data_dir, 2 * n_sites)
    for i, site in enumerate(sites):
        nxt = sites[(i + 1) % n_sites]
        site.routes["/"] = page(html_page("목록", "문서", ["/a", nxt.url("/")]))
        site.routes["/a"] = page(html_page(*articles[2 * i]))
    return sites


def crawl_config(**overrides) -> CrawlConfig:
    """Politeness relaxed and timeouts short, only 127.0.0.1 reachable."""
    settings = dict(
        allow_networks=["127.0.0.1/32"],
        delay_seconds=0.0,
        connect_timeout=2.0,
        read_timeout=2.0,
        total_timeout=4.0,
        retries=1,
        backoff_seconds=0.05,
        concurrency=4,
    )
    settings.update(overrides)
    return CrawlConfig(**settings)
