"""Server-side request forgery guard: the crawler connects to public addresses only.

A URL from a web page is attacker-controlled. Its host may be an IP literal, a
name that resolves to an internal address (or starts to, between two lookups),
or an IPv6 form that wraps an internal IPv4 address (NAT64, 6to4, Teredo,
IPv4-mapped). So the check runs on the address actually used for the
connection: `GuardedResolver` filters every DNS answer aiohttp connects to, and
`AddressPolicy.check_url` covers IP literals (which aiohttp never resolves) and
schemes, for every hop of a redirect chain.

Networks in the explicit allow-list (tests, intranets) are let through.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Iterable
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

ALLOWED_SCHEMES = ("http", "https")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class BlockedAddress(OSError):
    """A connection the policy refuses; the message says which address and why."""


class AddressPolicy:
    """Which addresses and URLs the crawler may connect to.

    `allow` lists CIDRs (e.g. "127.0.0.1/32") that are permitted even though
    they are not public; nothing else that is non-global ever is.
    """

    def __init__(self, allow: Iterable[str] = ()) -> None:
        try:
            self.allow = tuple(ipaddress.ip_network(cidr, strict=False) for cidr in allow)
        except ValueError as exc:
            raise ValueError(f"allow-list entry is not a network (e.g. 10.0.0.0/8): {exc}") from None

    def check_ip(self, address: str | IPAddress) -> str | None:
        """Why `address` may not be contacted, or None if it may."""
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        if any(ip in net for net in self.allow if net.version == ip.version):
            return None
        inner = embedded_ipv4(ip)
        if inner is not None:
            why = self.check_ip(inner)
            return f"{ip} wraps {inner}: {why}" if why else None
        why = _non_public(ip)
        return f"{ip} is {why}" if why else None

    def check_url(self, url: str) -> tuple[str, str] | None:
        """(kind, why) if `url` may not be fetched, checked before any lookup; else None.

        kind is "bad_url" (malformed, no host), "bad_scheme" (not http/https)
        or "blocked_address" (an IP literal the policy refuses).
        """
        try:
            parts = urlsplit(url)
            host = parts.hostname
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError as exc:
            return "bad_url", f"malformed URL: {exc}"
        if parts.scheme.lower() not in ALLOWED_SCHEMES:
            return "bad_scheme", f"scheme {parts.scheme or '(none)'!r} is not http(s)"
        if not host:
            return "bad_url", "URL has no host"
        try:
            ip = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return None  # a name: checked on its resolved addresses
        why = self.check_ip(ip)
        return ("blocked_address", why) if why else None


class GuardedResolver(AbstractResolver):
    """aiohttp resolver that hands the connector only addresses the policy allows.

    Raises `BlockedAddress` when every address of a name is refused, so no
    connection is attempted. `inner` is the real resolver (threaded getaddrinfo
    by default).
    """

    def __init__(self, policy: AddressPolicy, inner: AbstractResolver | None = None) -> None:
        self.policy = policy
        self.inner = inner or ThreadedResolver()

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        answers = await self.inner.resolve(host, port, family)
        allowed, refused = [], []
        for answer in answers:
            why = self.policy.check_ip(answer["host"].split("%", 1)[0])
            (refused if why else allowed).append(why or answer)
        if not allowed:
            raise BlockedAddress(f"{host} resolves only to refused addresses: {'; '.join(refused)}")
        return allowed

    async def close(self) -> None:
        await self.inner.close()


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 transition form carries, if any."""
    if ip.version != 6:
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # the client's (de-obfuscated) address
    if any(ip in net for net in _NAT64) or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _non_public(ip: IPAddress) -> str | None:
    for attribute in ("is_loopback", "is_link_local", "is_multicast", "is_private", "is_reserved", "is_unspecified"):
        if getattr(ip, attribute):
            return attribute[3:].replace("_", "-")
    if not ip.is_global:
        return "not globally routable"
    return None
