"""The crawl loop of one host partition, in plain asyncio (Ray decides elsewhere where it runs).

For each host with queued URLs a host worker runs: it reads robots.txt first
(Crawl-delay sets the host's gap; a delay over `max_crawl_delay` skips the
host), then fetches the host's URLs through the per-host gate. Each fetched page
goes: links into the frontier, exchanges into the WARC, URL marked finished, in
that order, so a kill at any point loses no link and refetches no archived page.

Every outcome is counted (`outcome_<name>` counters) and every problem logged
with an example in `Stats.errors`; nothing a server sends ends the crawl.

Layout under the output folder: `warc/*.warc.gz` (the pipeline's input),
`_crawl/frontier-NNNNN.jsonl` (journal), `_crawl/report-NNNNN.json` (counts),
`_crawl/robots-NNNNN.json` (robots.txt rules, kept for the next round or resume).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from aiohttp.abc import AbstractResolver

from corpus.config import CrawlConfig
from corpus.layout import CRAWL_SCOPE, WARC_DIR, crawl_journal, crawl_state_file
from corpus.stats import Stats
from crawlers.fetch import Fetcher, FetchResult
from crawlers.frontier import Frontier, Scope, extract_links, with_default_scope
from crawlers.mirror import OutputMirror
from crawlers.robots import DISALLOW_ALL, RobotsCache
from crawlers.ssrf import AddressPolicy
from crawlers.warc_writer import PartitionWarcWriter

log = logging.getLogger(__name__)

SOFTWARE = "corpus-builder crawler 0.1 (aiohttp, warcio, protego)"
Seed = tuple[str, int]  # (url, depth)


@dataclass
class CrawlReport:
    """What one partition's crawl did; `foreign` are links to other partitions' hosts."""

    partition: int
    archived: int = 0
    finished_total: int = 0
    pending: int = 0
    foreign: list[Seed] = field(default_factory=list)
    warc_files: list[str] = field(default_factory=list)
    warc_bytes: dict[str, int] = field(default_factory=dict)  # file name -> size, files this partition wrote
    worker: str = ""  # where it ran, as the caller names it (host, Ray node)
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    stats: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def run_crawl(cfg: CrawlConfig, seeds: Iterable[str | Seed], output: str | Path, **options: Any) -> CrawlReport:
    """Crawl one partition until its frontier is empty or `max_finished` URLs (default
    `cfg.max_pages`, previous runs included) are finished; resumable. Options as
    for `crawl_partition`."""
    return asyncio.run(crawl_partition(cfg, seeds, output, **options))


async def crawl_partition(
    cfg: CrawlConfig,
    seeds: Iterable[str | Seed],
    output: str | Path,
    *,
    partition: int = 0,
    owns: Callable[[str], bool] = lambda host: True,
    max_finished: int | None = None,
    resolver: AbstractResolver | None = None,
    on_fetch: Callable[[str, str], None] | None = None,
    mirror: OutputMirror | None = None,
    worker: str = "",
) -> CrawlReport:
    """The async body of `run_crawl`.

    `owns(host)` says which hosts this partition fetches; `resolver` replaces
    system DNS (tests); `on_fetch(url, outcome)` is called per finished URL;
    `mirror`, already pulled into `output`, publishes it as the crawl goes;
    `worker` names where this runs, for the report.
    """
    started, cpu_started = time.monotonic(), time.process_time()
    out = Path(output)
    seeds = [(s, 0) if isinstance(s, str) else (s[0], int(s[1])) for s in [*cfg.seeds, *seeds]]
    cfg = resolve_scope(cfg, [url for url, depth in seeds if depth == 0], out)
    stats = Stats()
    policy = AddressPolicy(cfg.allow_networks)
    state = _Partition(cfg, out, partition, owns, stats, on_fetch, mirror)
    try:
        for url, depth in seeds:
            state.admit(url, depth, kind="seed")
        cap = cfg.max_pages if max_finished is None else max_finished
        state.budget = max(0, cap - len(state.frontier.done))
        robots_file = out / crawl_state_file("robots", partition)
        async with Fetcher(cfg, policy, resolver) as fetcher:
            state.fetcher = fetcher
            state.robots = RobotsCache(fetcher, cfg)
            if robots_file.exists():  # this partition ran before (an earlier round, or a resumed crawl)
                state.robots.restore(json.loads(robots_file.read_text()))
            try:
                await state.run()
            finally:
                robots_file.write_text(json.dumps(state.robots.export()))
                if mirror is not None:
                    mirror.publish_file(robots_file.relative_to(out).as_posix())
    finally:
        state.close()
    report = state.report()
    report.worker = worker
    if mirror is not None:
        report.warc_files = mirror.finish()
        report.warc_bytes = dict(mirror.sizes)
    report.wall_seconds = time.monotonic() - started
    report.cpu_seconds = time.process_time() - cpu_started
    name = crawl_state_file("report", partition)
    (out / name).write_text(json.dumps(report.to_dict(), indent=1))
    if mirror is not None:
        mirror.publish_file(name)
    return report


def resolve_scope(cfg: CrawlConfig, seed_urls: list[str], output: str | Path) -> CrawlConfig:
    """Seeds' hosts as the scope when none is configured, remembered so a resume without seeds keeps it."""
    if cfg.domains or cfg.tlds:
        return cfg
    saved = Path(output) / CRAWL_SCOPE
    before = json.loads(saved.read_text())["domains"] if saved.exists() else []
    scoped = with_default_scope(cfg, seed_urls)
    domains = sorted({*before, *scoped.domains})
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_text(json.dumps({"domains": domains}))
    return cfg.model_copy(update={"domains": domains})


class _Partition:
    """State of one partition's crawl: frontier, WARC writer, counters, and the host workers."""

    def __init__(self, cfg: CrawlConfig, out: Path, partition: int, owns, stats: Stats, on_fetch, mirror):
        self.cfg, self.partition, self.stats, self.on_fetch, self.mirror = cfg, partition, stats, on_fetch, mirror
        self.frontier = Frontier(out / crawl_journal(partition), Scope(cfg), cfg, owns)
        first = mirror.first_sequence if mirror else 0  # numbers a mirror has published are taken
        self.warc = PartitionWarcWriter(
            out / WARC_DIR, cfg.warc_prefix, partition, cfg.warc_max_bytes, SOFTWARE, first, cfg.warc_gzip_level
        )
        repaired = self.frontier.mark_archived(self.warc.archived)
        if repaired:
            stats.bump("resume_archived_not_journaled", repaired)
        self.foreign: dict[str, int] = {}
        self.archived = 0
        self.budget = cfg.max_pages
        self.slots = asyncio.Semaphore(cfg.concurrency)
        self.fetcher: Fetcher | None = None
        self.robots: RobotsCache | None = None

    async def run(self) -> None:
        workers: dict[str, asyncio.Task] = {}
        while True:
            if self.budget > 0:
                for host in self.frontier.pending():
                    if host not in workers and len(workers) < self.cfg.concurrency:
                        workers[host] = asyncio.create_task(self._host(host), name=f"host {host}")
            if not workers:
                return
            finished, _ = await asyncio.wait(workers.values(), return_when=asyncio.FIRST_COMPLETED)
            for host in [h for h, task in workers.items() if task in finished]:
                task = workers.pop(host)
                if task.exception() is not None:  # a bug, not input: count it, keep crawling others
                    exc = task.exception()
                    self.stats.error("crawler_bug", host, f"{type(exc).__name__}: {exc}")
                    log.error("host worker %s failed", host, exc_info=exc)
                    self._give_up_host(host, "crawler_bug")

    async def _host(self, host: str) -> None:
        first = self.frontier.queues[host][0][0]
        rules = await self.robots.rules(first)
        delay = rules.crawl_delay(self.cfg.robots_agent) if rules else None
        if rules is not None and rules.state == DISALLOW_ALL:
            if rules.detail.startswith("unreachable: blocked_address"):  # the address guard, not the site, said no
                self.stats.error("blocked_address", host, rules.detail)
                self._give_up_host(host, "blocked_address")
                return
            self.stats.error("robots_unreachable", host, rules.detail)
        if delay is not None and delay > self.cfg.max_crawl_delay:
            self.stats.error("crawl_delay_too_long", host, f"Crawl-delay {delay}s > {self.cfg.max_crawl_delay}s")
            self._give_up_host(host, "crawl_delay_too_long")
            return
        if delay:
            self.fetcher.gates.set_delay(host, delay)
        running: set[asyncio.Task] = set()
        while True:  # up to per_host_concurrency visits at once; their links may refill the queue
            while len(running) < self.cfg.per_host_concurrency and self.budget > 0:
                item = self.frontier.pop(host)
                if item is None:
                    break
                self.budget -= 1
                running.add(asyncio.create_task(self._visit(*item)))
            if not running:
                return
            finished, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in finished:
                task.result()

    async def _visit(self, url: str, depth: int) -> None:
        if not await self.robots.allowed(url):
            self._finish(url, "robots_disallowed")
            return
        async with self.slots:
            result = await self.fetcher.fetch(url, self.robots.allowed)
        if result.problem and result.problem not in ("redirect_offsite",):
            self.stats.error(result.problem, url, result.detail)
        if result.note:
            self.stats.error("invalid_charset", url, result.note)
        if result.location:
            self.admit(result.location, depth, kind="redirect")
        if result.problem is None and depth < self.cfg.max_depth:
            self._follow_links(result, depth)
        for exchange in result.exchanges:  # archived, then finished: a kill between is repaired on resume
            self.warc.write(exchange)
            self.frontier.finish(exchange.url, "archived" if exchange.status == 200 else "redirected")
        if result.problem is None:
            self.archived += 1
        self._finish(url, result.problem or "archived")

    def _follow_links(self, result: FetchResult, depth: int) -> None:
        try:
            links, rejected = extract_links(result.body, result.final.url, result.charset)
        except Exception as exc:  # noqa: BLE001 - lxml fails in odd ways on odd pages; links are optional
            self.stats.error("link_extraction_error", result.url, f"{type(exc).__name__}: {exc}")
            return
        self.stats.bump("links_found", len(links))
        self.stats.bump("links_not_http", rejected)  # mailto:, javascript:, malformed
        for link in links:
            self.admit(link, depth + 1, kind="link")

    def admit(self, url: str, depth: int, kind: str) -> None:
        admission = self.frontier.add(url, depth)
        self.stats.bump(f"{kind}_{admission.status}")
        if admission.status == "bad_url":
            self.stats.error(f"bad_{kind}_url", str(url)[:200], "not an absolute http(s) URL")
        elif admission.status == "foreign":
            self.foreign.setdefault(admission.url, depth)

    def _give_up_host(self, host: str, outcome: str) -> None:
        while (item := self.frontier.pop(host)) is not None:
            self._finish(item[0], outcome)

    def _finish(self, url: str, outcome: str) -> None:
        self.frontier.finish(url, outcome)
        self.stats.bump(f"outcome_{outcome}")
        if self.on_fetch is not None:
            self.on_fetch(url, outcome)
        if self.mirror is not None and self.mirror.due(time.monotonic()):
            self.warc.rotate()  # every write so far is whole: nothing awaits between a write and its journal entry
            failed = self.mirror.checkpoint(time.monotonic())
            if failed:
                self.stats.error("publish_retried", self.mirror.storage.url(""), failed)

    def report(self) -> CrawlReport:
        files = self.warc.files()
        return CrawlReport(
            partition=self.partition,
            archived=self.archived,
            finished_total=len(self.frontier.done),
            pending=sum(len(q) for q in self.frontier.pending().values()),
            foreign=sorted(self.foreign.items()),
            warc_files=[str(p) for p in files],
            warc_bytes={p.name: p.stat().st_size for p in files},
            stats=self.stats.to_dict(),
        )

    def close(self) -> None:
        self.warc.close()
        self.frontier.close()
