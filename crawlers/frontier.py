"""What to fetch next: normalised URLs, scope rules, link extraction, and a journal for resuming.

The frontier of one host partition is persisted as an append-only JSON-lines
journal: `{"a": url, "d": depth}` when a URL is admitted, `{"f": url, "o":
outcome}` when it is finished. Replaying the journal restores the seen-set and
the queue, so an interrupted crawl resumes without refetching; a torn last line
(the process was killed mid-write) is ignored. The crawl loop writes a page's
links before archiving it and marks it finished after, and on resume the URLs
already in the WARC files count as finished too, so no archived page is
fetched twice and no link is lost.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable
from urllib.parse import urljoin, urlsplit, urlunsplit

import courlan
import lxml.html
from lxml.etree import ParserError

from corpus.config import CrawlConfig
from crawlers.decode import decode_html
from crawlers.fetch import host_key

log = logging.getLogger(__name__)

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_NOFOLLOW = re.compile(r"\bnofollow\b|\bnone\b", re.IGNORECASE)


def normalise_url(url: str, base: str | None = None) -> str | None:
    """Canonical absolute http(s) form of `url` (relative to `base`), or None if it has none.

    Lower-case scheme and host, IDNA host, default port dropped, dot segments
    resolved, tracking parameters dropped and the query sorted (courlan), no fragment.
    """
    try:
        absolute = urljoin(base, url.strip()) if base else url.strip()
        parts = urlsplit(absolute)
        scheme = parts.scheme.lower()
        host = parts.hostname
        port = parts.port
        if scheme not in ("http", "https") or not host or any(c in host for c in " <>\"'{}|\\^`"):
            return None
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
        netloc = f"[{ascii_host}]" if ":" in ascii_host else ascii_host
        if port and port != {"http": 80, "https": 443}[scheme]:
            netloc = f"{netloc}:{port}"
        path = urljoin("/", parts.path) if parts.path else "/"
        return courlan.normalize_url(urlunsplit((scheme, netloc, path, parts.query, "")))
    except (ValueError, UnicodeError):
        return None


def with_default_scope(cfg: CrawlConfig, seeds: Iterable[str]) -> CrawlConfig:
    """`cfg` with the seeds' hosts as its domains when neither domains nor TLDs are set.

    Resolved once, before partitions start, so every partition has the same scope.
    """
    if cfg.domains or cfg.tlds:
        return cfg
    hosts = sorted({host for url in seeds if (host := _hostname(url))})
    return cfg.model_copy(update={"domains": hosts})


class Scope:
    """Static scope rules: domains or TLDs (either matches), path patterns, depth."""

    def __init__(self, cfg: CrawlConfig) -> None:
        self.cfg = cfg
        self.domains = tuple(d.lower().strip(".") for d in cfg.domains)
        self.tlds = tuple(t.lower().strip(".") for t in cfg.tlds)
        self.include = [re.compile(p) for p in cfg.include_paths]
        self.exclude = [re.compile(p) for p in cfg.exclude_paths]

    def reason_out(self, url: str, depth: int) -> str | None:
        """Why a normalised `url` at `depth` is out of scope, or None if it is in."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        if depth > self.cfg.max_depth:
            return "too_deep"
        in_domain = any(host == d or host.endswith("." + d) for d in self.domains)
        in_tld = any(host == t or host.endswith("." + t) for t in self.tlds)
        if not (in_domain or in_tld):
            return "off_domain"
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if self.include and not any(p.search(path) for p in self.include):
            return "path_not_included"
        if any(p.search(path) for p in self.exclude):
            return "path_excluded"
        return None


def extract_links(body: bytes, base_url: str, charset: str | None = None) -> tuple[list[str], int]:
    """(normalised absolute links in page order without duplicates, hrefs that are no http(s) URL).

    Honours `<base href>`, `rel="nofollow"` and `<meta name="robots" content="nofollow">`.
    A page that does not parse yields no links.
    """
    text, _ = decode_html(body, charset)
    try:
        doc = lxml.html.document_fromstring(_XML_DECLARATION.sub("", text, count=1))
    except (ParserError, ValueError):
        return [], 0
    for meta in doc.iter("meta"):
        if (meta.get("name") or "").lower() == "robots" and _NOFOLLOW.search(meta.get("content") or ""):
            return [], 0
    base = base_url
    base_tag = doc.find(".//base[@href]")
    if base_tag is not None:
        base = normalise_url(base_tag.get("href"), base_url) or base_url
    links: dict[str, None] = {}
    rejected = 0
    for anchor in doc.iter("a", "area"):
        href = anchor.get("href")
        if not href or href.startswith("#") or "nofollow" in (anchor.get("rel") or "").lower():
            continue
        url = normalise_url(href, base)
        if url:
            links[url] = None
        else:
            rejected += 1
    return list(links), rejected


@dataclass(slots=True)
class Admission:
    """What `Frontier.add` did with a URL: queued, or why not."""

    url: str | None
    status: str  # queued | seen | foreign | bad_url | <scope reason> | host_full


class Frontier:
    """Queue and seen-set of one host partition, persisted in a journal.

    `owns(host)` decides which hosts belong to this partition; URLs of other
    hosts come back as `foreign` for the Ray driver to hand over.
    """

    def __init__(self, journal: Path, scope: Scope, cfg: CrawlConfig, owns=lambda host: True) -> None:
        self.journal_path, self.scope, self.cfg, self.owns = journal, scope, cfg, owns
        self.seen: set[str] = set()
        self.done: set[str] = set()
        self.queues: dict[str, deque[tuple[str, int]]] = {}
        self.per_host: Counter[str] = Counter()
        self.torn_lines = 0
        journal.parent.mkdir(parents=True, exist_ok=True)
        self._replay()
        self._journal = open(journal, "a", encoding="utf-8")
        if journal.stat().st_size and not _ends_with_newline(journal):
            self._journal.write("\n")  # end a torn line so the next entry stands alone

    def add(self, url: str, depth: int, base: str | None = None) -> Admission:
        """Admit `url` (normalised against `base`) at `depth` if it is new and in scope."""
        normal = normalise_url(url, base)
        if normal is None:
            return Admission(None, "bad_url")
        if normal in self.seen:
            return Admission(normal, "seen")
        reason = self.scope.reason_out(normal, depth)
        if reason:
            return Admission(normal, reason)
        host = host_key(normal)
        if not self.owns(host):
            return Admission(normal, "foreign")
        if self.per_host[host] >= self.cfg.max_pages_per_host:
            return Admission(normal, "host_full")
        self._admit(normal, depth)
        self._write({"a": normal, "d": depth})
        return Admission(normal, "queued")

    def finish(self, url: str, outcome: str) -> None:
        """Record that `url` was fetched (or given up on); it is never fetched again.

        Also for URLs never admitted (the hops of a redirect chain), so a later
        link to them is `seen`.
        """
        if url not in self.done:
            self.seen.add(url)
            self.done.add(url)
            self._write({"f": url, "o": outcome})

    def mark_archived(self, urls: Iterable[str]) -> int:
        """URLs found in the WARC files are finished even if the journal missed it (killed between)."""
        newly = [u for u in urls if u not in self.done]
        for url in newly:
            self.finish(url, "archived")
        return len(newly)

    def pending(self) -> dict[str, deque[tuple[str, int]]]:
        """Unfinished URLs by host, in admission order."""
        return {h: q for h, q in self.queues.items() if q}

    def pop(self, host: str) -> tuple[str, int] | None:
        queue = self.queues.get(host)
        while queue:
            url, depth = queue.popleft()
            if url not in self.done:
                return url, depth
        return None

    def close(self) -> None:
        self._journal.flush()
        self._journal.close()

    def _admit(self, url: str, depth: int) -> None:
        self.seen.add(url)
        host = host_key(url)
        self.per_host[host] += 1
        self.queues.setdefault(host, deque()).append((url, depth))

    def _write(self, entry: dict) -> None:
        self._journal.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self._journal.flush()  # survives the process being killed (not the machine)

    def _replay(self) -> None:
        if not self.journal_path.exists():
            return
        with open(self.journal_path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    self.torn_lines += 1
                    continue
                if "a" in entry and entry["a"] not in self.seen:
                    self._admit(entry["a"], int(entry.get("d", 0)))
                elif "f" in entry:
                    self.seen.add(entry["f"])
                    self.done.add(entry["f"])
        for host, queue in self.queues.items():
            self.queues[host] = deque(item for item in queue if item[0] not in self.done)
        if self.torn_lines:
            log.warning("%s: ignored %d torn journal line(s)", self.journal_path, self.torn_lines)


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as handle:
        handle.seek(-1, 2)
        return handle.read(1) == b"\n"


def _hostname(url: str) -> str | None:
    normal = normalise_url(url)
    return urlsplit(normal).hostname if normal else None
