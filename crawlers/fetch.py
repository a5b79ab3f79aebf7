"""Polite, bounded HTTP fetching: one call per URL, every failure an outcome, never an exception.

Politeness: `HostGates` keeps a per-host concurrency limit and a gap between
requests (raised by robots.txt Crawl-delay and by Retry-After). Safety: every
hop of a redirect chain is checked by the SSRF policy, and DNS answers are
filtered by `GuardedResolver` before aiohttp connects. Bounds: timeouts (a
slow-loris server costs at most `total_timeout`), a cap on bytes on the wire,
and a cap on bytes after decompression, enforced while decoding so a gzip,
deflate or brotli bomb never expands past it.

Bodies are kept decoded, and the response headers rewritten the way Common
Crawl does (`Content-Encoding` becomes `X-Crawler-Content-Encoding`), so a WARC
reader never decompresses an untrusted body again. The declared charset stays
in `Content-Type` for the reader.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import zlib
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import AsyncIterator, Awaitable, Callable
from urllib.parse import urljoin, urlsplit

import aiohttp
import brotli
from aiohttp.abc import AbstractResolver

from corpus.config import CrawlConfig
from crawlers.decode import charset_from_content_type, looks_binary, normalise_charset
from crawlers.ssrf import AddressPolicy, BlockedAddress, GuardedResolver

log = logging.getLogger(__name__)

REDIRECTS = (301, 302, 303, 307, 308)
RETRYABLE = (429, 500, 502, 503, 504)
_CHUNK = 64 * 1024
_HOP_BY_HOP = ("transfer-encoding", "content-encoding", "content-length")

AllowedFn = Callable[[str], Awaitable[bool]]


@dataclass(slots=True)
class Exchange:
    """One request and its response, as archived: headers as sent and received, body decoded."""

    url: str
    request_headers: list[tuple[str, str]]
    status: int
    reason: str
    response_headers: list[tuple[str, str]]
    body: bytes
    peer: str | None
    fetched_at: float


@dataclass(slots=True)
class FetchResult:
    """Outcome of fetching one URL. `problem` is None for an archivable page.

    `exchanges` holds every hop that got a response (redirects first), to archive.
    `location` is set when the chain left the host: the crawl loop schedules it.
    """

    url: str
    problem: str | None = None
    detail: str = ""
    status: int | None = None
    exchanges: list[Exchange] = field(default_factory=list)
    location: str | None = None
    attempts: int = 0
    note: str | None = None

    @property
    def final(self) -> Exchange | None:
        return self.exchanges[-1] if self.exchanges else None

    @property
    def body(self) -> bytes:
        return self.final.body if self.final else b""

    @property
    def content_type(self) -> str | None:
        return _header(self.final.response_headers, "content-type") if self.final else None

    @property
    def charset(self) -> str | None:
        return charset_from_content_type(self.content_type)


class Fetcher:
    """Async HTTP client for the crawler; use as `async with Fetcher(cfg, policy) as f`.

    `resolver` replaces the system DNS (tests map names to addresses with it);
    whatever it answers still passes the SSRF policy.
    """

    def __init__(
        self,
        cfg: CrawlConfig,
        policy: AddressPolicy,
        resolver: AbstractResolver | None = None,
        trace_configs: list[aiohttp.TraceConfig] | None = None,
    ) -> None:
        self.cfg = cfg
        self.policy = policy
        self.gates = HostGates(cfg.per_host_concurrency, cfg.delay_seconds)
        self._resolver = GuardedResolver(policy, resolver)
        self._trace_configs = trace_configs
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> "Fetcher":
        connector = aiohttp.TCPConnector(
            resolver=self._resolver,
            limit=self.cfg.concurrency,
            limit_per_host=self.cfg.per_host_concurrency,
            ttl_dns_cache=60,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,
            trust_env=False,  # an environment proxy would connect for us, unchecked
            cookie_jar=aiohttp.DummyCookieJar(),
            headers={
                "User-Agent": self.cfg.user_agent,
                "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
                "Accept-Encoding": "gzip, deflate, br",
            },
            timeout=aiohttp.ClientTimeout(
                total=self.cfg.total_timeout, connect=self.cfg.connect_timeout, sock_read=self.cfg.read_timeout
            ),
            trace_configs=self._trace_configs,
        )
        return self

    async def __aexit__(self, *exc_info) -> None:
        if self._session is not None:
            await self._session.close()

    async def fetch(
        self,
        url: str,
        allowed: AllowedFn | None = None,
        *,
        mime_types: tuple[str, ...] | None = None,
        max_decoded: int | None = None,
        truncate: bool = False,
        follow_offsite: bool = False,
    ) -> FetchResult:
        """Fetch `url`, following redirects on the same host (each hop checked).

        `allowed(url)` is asked before every redirect hop (robots.txt).
        `mime_types` None accepts any type; `truncate` keeps the first
        `max_decoded` bytes of a bigger body instead of refusing it (robots.txt).
        """
        mime_types = tuple(self.cfg.mime_types) if mime_types is None else mime_types
        cap = max_decoded or self.cfg.max_decoded_bytes
        result = FetchResult(url=url)
        chain = {url}
        current = url
        while True:
            refused = self.policy.check_url(current)
            if refused:
                return _fail(result, *refused)
            hop = await self._with_retries(current, result, mime_types, cap, truncate)
            if hop is not None:
                return hop
            exchange = result.final
            if exchange.status not in REDIRECTS:
                return result
            target = _header(exchange.response_headers, "location")
            if not target:
                return _fail(result, "http_status", f"{exchange.status} without Location")
            try:
                target = urljoin(current, target.strip())
                same_host = host_key(target) == host_key(current)
            except ValueError as exc:
                return _fail(result, "bad_redirect", f"{target!r}: {exc}")
            if not same_host and not follow_offsite:
                result.location = target
                return _fail(result, "redirect_offsite", target)
            if target in chain:
                return _fail(result, "redirect_loop", target)
            if len(chain) > self.cfg.max_redirects:
                return _fail(result, "too_many_redirects", f"more than {self.cfg.max_redirects} after {url}")
            if allowed is not None and not await allowed(target):
                return _fail(result, "robots_disallowed", target)
            chain.add(target)
            current = target

    async def _with_retries(
        self, url: str, result: FetchResult, mime_types: tuple[str, ...], cap: int, truncate: bool
    ) -> FetchResult | None:
        """One hop with retries; returns the result if it ended the fetch, else None (a response was added)."""
        host = host_key(url)
        for attempt in range(self.cfg.retries + 1):
            result.attempts += 1
            problem, detail, exchange, wait = await self._attempt(url, host, mime_types, cap, truncate)
            retryable = problem in ("connect_error", "network_error") or (
                exchange is not None and exchange.status in RETRYABLE
            )
            if not retryable or attempt == self.cfg.retries:
                break
            if wait is not None and wait > self.cfg.max_retry_after:
                problem, detail = "retry_after_too_long", f"Retry-After {wait:.0f}s"
                break
            delay = wait if wait is not None else self.cfg.backoff_seconds * 2**attempt * (0.5 + random.random())
            self.gates.hold(host, delay)  # the whole host waits, not only this URL
            log.info("retrying %s in %.1fs (%s)", url, delay, detail or exchange.status)
        if exchange is not None:
            result.status = exchange.status
            if problem is None and exchange.status >= 400:
                problem, detail = "http_status", str(exchange.status)
            if problem in (None, "invalid_charset"):
                result.exchanges.append(exchange)
        if problem == "invalid_charset":
            result.note, problem = detail, None  # kept: the reader falls back to <meta> and detection
        if problem is not None:
            return _fail(result, problem, detail)
        return None if exchange.status in REDIRECTS else result

    async def _attempt(self, url: str, host: str, mime_types: tuple[str, ...], cap: int, truncate: bool):
        """(problem, detail, exchange, retry_after) for one request."""
        try:
            async with self.gates.slot(host), asyncio.timeout(self.cfg.total_timeout + 1):
                async with self._session.get(url, allow_redirects=False) as response:
                    return await self._read(url, response, mime_types, cap, truncate)
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, BlockedAddress):
                return "blocked_address", str(exc.os_error), None, None
            return "connect_error", _brief(exc), None, None
        except (asyncio.TimeoutError, aiohttp.ServerTimeoutError) as exc:
            return "timeout", _brief(exc) or "no complete response in time", None, None
        except aiohttp.InvalidURL as exc:
            return "bad_url", _brief(exc), None, None
        except (aiohttp.ClientError, OSError) as exc:
            return "network_error", _brief(exc), None, None
        except ValueError as exc:  # yarl and aiohttp reject some URLs late
            return "bad_url", _brief(exc), None, None

    async def _read(self, url: str, response: aiohttp.ClientResponse, mime_types, cap: int, truncate: bool):
        headers = list(response.raw_headers)
        decoded_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]
        exchange = Exchange(
            url=url,
            request_headers=list(response.request_info.headers.items()),
            status=response.status,
            reason=response.reason or "",
            response_headers=decoded_headers,
            body=b"",
            peer=_peer(response),
            fetched_at=time.time(),
        )
        if response.status in RETRYABLE:
            return None, "", exchange, _retry_after(_header(decoded_headers, "retry-after"))
        if response.status != 200:
            return None, "", exchange, None
        content_type = _header(decoded_headers, "content-type")
        mime = (content_type or "").split(";", 1)[0].strip().lower()
        if mime_types and mime and mime not in mime_types:
            return "not_html", mime, None, None
        declared = response.content_length
        if declared is not None and declared > self.cfg.max_body_bytes and not truncate:
            return "too_large", f"Content-Length {declared}", None, None
        encoding = (_header(decoded_headers, "content-encoding") or "identity").strip().lower()
        try:
            decoder = _Decoder(encoding, cap)
        except ValueError as exc:
            return "bad_encoding", str(exc), None, None
        problem, detail, body = await _read_body(response.content, decoder, self.cfg.max_body_bytes, cap, truncate)
        if problem:
            return problem, detail, None, None
        exchange.body = body
        exchange.response_headers = _archived_headers(decoded_headers, len(body))
        if mime_types and looks_binary(body):
            return "binary_body", "declared HTML but binary", None, None
        charset = charset_from_content_type(content_type)
        if charset and normalise_charset(charset) is None:
            return "invalid_charset", f"unknown charset {charset!r}", exchange, None
        return None, "", exchange, None


class HostGates:
    """Per-host politeness: at most `concurrency` requests at once, `delay` seconds apart.

    The gap is measured from the end of one response to the start of the next
    request (and between starts when concurrency > 1). `set_delay` raises a
    host's gap (Crawl-delay); `hold` pauses a host (Retry-After, backoff).
    """

    def __init__(self, concurrency: int, delay: float) -> None:
        self.concurrency, self.delay = concurrency, delay
        self._hosts: dict[str, _Gate] = {}

    def set_delay(self, host: str, seconds: float) -> None:
        self._gate(host).delay = max(self.delay, seconds)

    def hold(self, host: str, seconds: float) -> None:
        gate = self._gate(host)
        gate.ready_at = max(gate.ready_at, time.monotonic() + seconds)

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        gate = self._gate(host)
        async with gate.semaphore:
            while (wait := gate.ready_at - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            gate.ready_at = time.monotonic() + gate.delay
            try:
                yield
            finally:
                gate.ready_at = max(gate.ready_at, time.monotonic() + gate.delay)

    def _gate(self, host: str) -> "_Gate":
        gate = self._hosts.get(host)
        if gate is None:
            gate = self._hosts[host] = _Gate(asyncio.Semaphore(self.concurrency), self.delay)
        return gate


@dataclass(slots=True)
class _Gate:
    semaphore: asyncio.Semaphore
    delay: float
    ready_at: float = 0.0


class _Decoder:
    """Incremental Content-Encoding decoder that never produces more than `cap` + 1 bytes."""

    def __init__(self, encoding: str, cap: int) -> None:
        self.encoding, self.limit = encoding, cap + 1
        if encoding in ("identity", ""):
            self._zlib = self._brotli = None
        elif encoding in ("gzip", "x-gzip"):
            self._zlib, self._brotli = zlib.decompressobj(16 + zlib.MAX_WBITS), None
        elif encoding == "deflate":
            self._zlib, self._brotli = None, None  # zlib-wrapped or raw: decided on the first bytes
        elif encoding == "br":
            self._zlib, self._brotli = None, brotli.Decompressor()
        else:
            raise ValueError(f"unsupported Content-Encoding {encoding!r}")

    def feed(self, data: bytes, room: int) -> bytes:
        """Decode `data`, returning at most `room` + 1 bytes (one more than fits means 'too big')."""
        if self.encoding in ("identity", ""):
            return data[: room + 1]
        if self.encoding == "deflate" and self._zlib is None:
            raw = (data[0] & 0x0F) != 8 if data else False
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
        if self._zlib is not None:
            return self._zlib.decompress(data, room + 1)
        return self._brotli.process(data, output_buffer_limit=room + 1)


async def _read_body(stream: aiohttp.StreamReader, decoder: _Decoder, wire_cap: int, cap: int, truncate: bool):
    """(problem, detail, body) reading at most `wire_cap` bytes and decoding at most `cap`."""
    parts: list[bytes] = []
    wire = decoded = 0
    try:
        async for chunk in stream.iter_chunked(_CHUNK):
            wire += len(chunk)
            if wire > wire_cap:
                if truncate:
                    break
                return "too_large", f"over {wire_cap} bytes on the wire", b""
            out = decoder.feed(chunk, cap - decoded)
            decoded += len(out)
            parts.append(out)
            if decoded > cap:
                if truncate:
                    break
                return "decoded_too_large", f"over {cap} bytes after {decoder.encoding} decoding", b""
    except (zlib.error, brotli.error) as exc:
        return "bad_encoding", f"{decoder.encoding}: {exc}", b""
    return None, "", b"".join(parts)[:cap]


def _archived_headers(headers: list[tuple[str, str]], length: int) -> list[tuple[str, str]]:
    """Headers describing the decoded body; the originals kept under X-Crawler-."""
    out = []
    for key, value in headers:
        if key.lower() in _HOP_BY_HOP:
            out.append((f"X-Crawler-{key}", value))
        else:
            out.append((key, value))
    out.append(("Content-Length", str(length)))
    return out


def host_key(url: str) -> str:
    """The unit of politeness and partitioning: lower-case host, with the port if not default."""
    try:
        parts = urlsplit(url)
        host, port = (parts.hostname or ""), parts.port
    except ValueError:
        return ""
    return f"{host}:{port}" if port and port != {"https": 443}.get(parts.scheme.lower(), 80) else host


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError):
        return None


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def _peer(response: aiohttp.ClientResponse) -> str | None:
    transport = response.connection.transport if response.connection else None
    peer = transport.get_extra_info("peername") if transport else None
    return peer[0] if peer else None


def _fail(result: FetchResult, problem: str, detail: str) -> FetchResult:
    result.problem, result.detail = problem, detail
    return result


def _brief(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")
