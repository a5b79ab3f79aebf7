"""robots.txt by RFC 9309, parsed by protego, fetched once per origin and cached.

What a fetch outcome means (RFC 9309 section 2.3.1):
- 200: the rules apply (longest match wins; the first `robots_max_bytes` are parsed);
- 4xx other than 429, or a redirect chain longer than allowed: "unavailable", everything allowed;
- 429, 5xx, network errors, timeouts, refused addresses: "unreachable", everything
  disallowed. (Crawling everything in that case, as some spiders do, is exactly
  what a struggling server does not need.)

The cache is bounded (least recently used hosts leave first) and entries expire
after `robots_ttl_seconds` (RFC 9309 asks for at most 24 hours). It outlives one
call of a partition's crawl (`export`, `restore`), so a partition that runs
again in a later Ray round or a resume does not ask a host for robots.txt again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import urlsplit

from protego import Protego

from corpus.config import CrawlConfig
from crawlers.fetch import Fetcher

log = logging.getLogger(__name__)

ALLOW_ALL, DISALLOW_ALL, RULES = "allow_all", "disallow_all", "rules"
_UNAVAILABLE_PROBLEMS = ("too_many_redirects", "redirect_loop")


@dataclass(slots=True)
class RobotsRules:
    """The rules of one origin; `state` says whether they came from a file or from its absence."""

    origin: str
    state: str
    parser: Protego | None
    fetched_at: float
    detail: str = ""
    text: str = ""  # the robots.txt parsed, kept so the rules can be saved and restored

    def allowed(self, url: str, agent: str) -> bool:
        if self.state != RULES:
            return self.state == ALLOW_ALL
        return self.parser.can_fetch(url, agent)

    def crawl_delay(self, agent: str) -> float | None:
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(agent)
        return float(delay) if delay is not None else None


class RobotsCache:
    """robots.txt rules per origin (scheme, host, port), fetched through the crawler's Fetcher."""

    def __init__(self, fetcher: Fetcher, cfg: CrawlConfig) -> None:
        self.fetcher, self.cfg = fetcher, cfg
        self._rules: OrderedDict[str, RobotsRules] = OrderedDict()
        self._pending: dict[str, asyncio.Future[RobotsRules]] = {}
        self.fetches = 0

    async def allowed(self, url: str) -> bool:
        """May the crawler fetch `url`? Unparseable URLs are not allowed."""
        rules = await self.rules(url)
        return rules is not None and rules.allowed(url, self.cfg.robots_agent)

    async def rules(self, url: str) -> RobotsRules | None:
        """The rules for `url`'s origin, fetching robots.txt when not cached or expired."""
        origin = origin_of(url)
        if origin is None:
            return None
        cached = self._rules.get(origin)
        if cached is not None and time.monotonic() - cached.fetched_at < self.cfg.robots_ttl_seconds:
            self._rules.move_to_end(origin)
            return cached
        if origin in self._pending:  # another task is fetching it: share that fetch
            return await asyncio.shield(self._pending[origin])
        future = asyncio.get_running_loop().create_future()
        self._pending[origin] = future
        try:
            rules = await self._fetch(origin)
            self._store(origin, rules)
            future.set_result(rules)
            return rules
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody else waits
            raise
        finally:
            del self._pending[origin]

    async def _fetch(self, origin: str) -> RobotsRules:
        self.fetches += 1
        result = await self.fetcher.fetch(
            f"{origin}/robots.txt",
            mime_types=(),
            max_decoded=self.cfg.robots_max_bytes,
            truncate=True,
            follow_offsite=True,
        )
        now = time.monotonic()
        status = result.status
        if result.problem is None and status == 200:
            text = result.body.decode("utf-8", errors="replace")
            return RobotsRules(origin, RULES, Protego.parse(text), now, text=text)
        if result.problem in _UNAVAILABLE_PROBLEMS or (
            status is not None and 400 <= status < 500 and status != 429
        ):
            return RobotsRules(origin, ALLOW_ALL, None, now, f"unavailable: {result.problem or status}")
        if result.problem is None:  # another 2xx: no rules given
            return RobotsRules(origin, ALLOW_ALL, None, now, f"status {status}")
        log.info("robots.txt of %s unreachable (%s %s): host disallowed", origin, result.problem, result.detail)
        return RobotsRules(origin, DISALLOW_ALL, None, now, f"unreachable: {result.problem} {result.detail}".strip())

    def export(self) -> dict:
        """The cached rules as JSON data, each with the wall-clock time it was fetched."""
        offset = time.time() - time.monotonic()
        return {
            origin: {"state": r.state, "text": r.text, "detail": r.detail, "fetched": r.fetched_at + offset}
            for origin, r in self._rules.items()
        }

    def restore(self, saved: dict) -> None:
        """Cache the rules `export` gave, leaving out those past `robots_ttl_seconds`."""
        offset = time.time() - time.monotonic()
        for origin, entry in saved.items():
            fetched_at = float(entry["fetched"]) - offset
            if time.monotonic() - fetched_at >= self.cfg.robots_ttl_seconds:
                continue
            parser = Protego.parse(entry["text"]) if entry["state"] == RULES else None
            self._store(origin, RobotsRules(origin, entry["state"], parser, fetched_at, entry["detail"], entry["text"]))

    def _store(self, origin: str, rules: RobotsRules) -> None:
        self._rules[origin] = rules
        self._rules.move_to_end(origin)
        while len(self._rules) > self.cfg.robots_cache_hosts:
            self._rules.popitem(last=False)


def origin_of(url: str) -> str | None:
    """scheme://host[:port] of an http(s) URL, lower-cased; None if it has none."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not host or parts.scheme.lower() not in ("http", "https"):
        return None
    default = {"http": 80, "https": 443}[parts.scheme.lower()]
    netloc = f"[{host}]" if ":" in host else host
    if port and port != default:
        netloc = f"{netloc}:{port}"
    return f"{parts.scheme.lower()}://{netloc}"
