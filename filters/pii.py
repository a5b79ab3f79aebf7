"""PII pseudonymisation: emails, phone numbers, Korean resident and foreign registration numbers, cards, IPs.

Korea's PIPA allows research on pseudonymised data. A value is replaced by a
keyed pseudonym, `[EMAIL_1a2b3c4d]` (HMAC-SHA256 of kind and value under a
secret key: the same value gets the same token within and across runs with
one key, and nobody without the key can map a token back), or by a fixed
placeholder, `[EMAIL]`. Counts per kind go to the `pii` column.

Matching runs on a copy with full-width forms folded to ASCII by NFKC
(`０１０－１２３４－５６７８`); the fold maps one character to one, so a span in
the copy is the same span in the original, and a value gets the same token
however it was written. A match may be followed by any Korean particle
(`help@naver.com로`, `2001:db8::1에서`): boundaries are ASCII letters and digits.

False-positive guards: phone numbers must be valid for their region
(`phonenumbers`); cards must pass Luhn and have a card-length digit run (13
digits only for Visa's old numbers, starting with 4: ISBN-13 and EAN-13 are 13
digits too); registration numbers need a real birth date (century from the
gender digit), a gender digit 1-8 when written without a dash, and no
company or barcode label before them (`법인등록번호`, `바코드`); IPv4 needs
four octets ≤ 255 not written as a version (`v1.2.3.4`, `version 10.0.0.1`).
Dates, prices, version numbers and plain numbers match none of these.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import re
import unicodedata
from datetime import date
from typing import Callable, Mapping

import phonenumbers
import pyarrow as pa

from corpus.config import PIIConfig
from corpus.stats import Stats

log = logging.getLogger(__name__)

KINDS = ("email", "rrn", "frn", "card", "ip", "phone")  # order of precedence on overlaps
PII_TYPE = pa.struct([pa.field(kind, pa.int32()) for kind in KINDS])

# Patterns start with a character class, not a look-behind, so the regex engine skips ahead to
# candidates (four times faster on Korean prose); the look-behind follows the first character.
_TLD = r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59}|한국|삼성)"  # ASCII, punycode, and Korea's IDN TLDs
EMAIL = re.compile(rf"[\w.+-](?<![\w.+-][\w.+-])[\w.+-]*@(?:[\w-]+\.)+{_TLD}(?![A-Za-z0-9-])")
_DASHES = "\\-\u2010-\u2015\u2212"  # in a character class: hyphen-minus, Unicode hyphens and dashes, minus sign
# YYMMDD, separator (a dash, a space or none), gender digit: 1-4 (and 9, 0 for the 1800s) citizens,
# 5-8 foreigners. No checksum: numbers issued since October 2020 carry none.
REGISTRATION = re.compile(rf"(\d(?<!\d\d)\d{{5}})(\s?[{_DASHES}]\s?|\s|)([0-9])\d{{6}}(?!\d)")
_CENTURY = {"1": 1900, "2": 1900, "5": 1900, "6": 1900, "3": 2000, "4": 2000, "7": 2000, "8": 2000, "9": 1800, "0": 1800}
# Same format, not a person: a company's registration number, a product's barcode (GS1 Korea is 880).
NOT_A_PERSON_BEFORE = re.compile(
    r"(?:법인\s*(?:등록)?\s*번호|바코드|barcode|EAN(?:-13)?)\s*[:#]?\s*$", re.IGNORECASE
)
CARD = re.compile(r"\d(?<![\d.-]\d)(?:[ -]?\d){12,18}(?!\d|\.\d)")  # a full stop may end the sentence
IPV4 = re.compile(r"\d(?<![0-9A-Za-z_.]\d)\d{0,2}\.(?:\d{1,3}\.){2}\d{1,3}(?![0-9A-Za-z_.]*\d)")
IPV6 = re.compile(r"(?<![0-9A-Za-z_:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Za-z_:])")
IPV6_HINT = re.compile(r":[0-9A-Fa-f]{0,4}:")  # every IPv6 match has two colons with only hex between
VERSION_BEFORE = re.compile(r"(?:\bv|version|ver\.?|버전)\s*$", re.IGNORECASE)
# Full-width ASCII and the ideographic space: NFKC maps each to one ASCII character.
FULL_WIDTH = re.compile("[\uff01-\uff5e\u3000]+")
PHONE_HINT = re.compile(rf"\d[\d\s().{_DASHES}]{{6,}}\d")


def build_redactor(cfg: PIIConfig, environ: Mapping[str, str]) -> "PIIRedactor":
    """The stage for a run. Pseudonyms need a key (config `pii.key` or the variable `pii.key_env`);
    without one the stage falls back to placeholders, which reveal less, and says so.
    """
    key = None
    if cfg.mode == "pseudonym":
        secret = cfg.key or environ.get(cfg.key_env)
        if secret:
            key = secret.encode("utf-8")
        else:
            log.warning("pii.mode is pseudonym but no key is set (pii.key or $%s): using placeholders", cfg.key_env)
    return PIIRedactor(cfg.kinds, key, cfg.phone_region)


class PIIRedactor:
    """DocStage `pii`: replaces PII in `text`, adds the `pii` counts column; never drops."""

    name = "pii"

    def __init__(self, kinds: list[str], key: bytes | None, phone_region: str = "KR") -> None:
        """`key` None means placeholders; otherwise keyed pseudonyms."""
        self.kinds = [k for k in KINDS if k in kinds]
        self.key = key
        self.phone_region = phone_region
        self._finders: dict[str, Callable[[str], list[tuple[int, int]]]] = {
            "email": lambda t: [m.span() for m in EMAIL.finditer(t)] if "@" in t else [],
            "rrn": lambda t: _registration(t, citizens=True),
            "frn": lambda t: _registration(t, citizens=False),
            "card": _cards,
            "ip": _ips,
            "phone": self._phones,
        }

    def apply(self, table: pa.Table, stats: Stats) -> tuple[pa.Table, None]:
        texts, counts = [], []
        for text in table["text"].to_pylist():
            new_text, found = self.redact(text or "")
            texts.append(new_text if text is not None else None)
            counts.append(found)
        for kind in self.kinds:
            total = sum(c[kind] for c in counts)
            if total:
                stats.bump(f"pii_{kind}", total)
        index = table.column_names.index("text")
        table = table.set_column(index, "text", pa.array(texts, pa.string()))
        if "n_chars" in table.column_names:
            n_chars = pa.array([len(t) if t is not None else 0 for t in texts], pa.int64())
            table = table.set_column(table.column_names.index("n_chars"), "n_chars", n_chars)
        return table.append_column("pii", pa.array(counts, PII_TYPE)), None

    def redact(self, text: str) -> tuple[str, dict[str, int]]:
        """Text with every PII span replaced, and the count per kind (all kinds present, 0 if none)."""
        counts = {kind: 0 for kind in KINDS}
        spans: list[tuple[int, int, str]] = []
        folded = _fold(text)
        taken = bytearray(len(text))
        for kind in self.kinds:  # earlier kinds win overlaps: an email's digits are not a phone
            for start, end in self._finders[kind](folded):
                if any(taken[start:end]):
                    continue
                taken[start:end] = b"\x01" * (end - start)
                spans.append((start, end, kind))
                counts[kind] += 1
        if not spans:
            return text, counts
        pieces, last = [], 0
        for start, end, kind in sorted(spans):
            pieces.append(text[last:start])
            pieces.append(self.token(kind, folded[start:end]))
            last = end
        pieces.append(text[last:])
        return "".join(pieces), counts

    def token(self, kind: str, value: str) -> str:
        label = kind.upper()
        if self.key is None:
            return f"[{label}]"
        normalised = value.lower() if kind == "email" else re.sub(r"[^0-9A-Fa-f:.]", "", value).lower()
        digest = hmac.new(self.key, f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()
        return f"[{label}_{digest[:8]}]"

    def _phones(self, text: str) -> list[tuple[int, int]]:
        if not PHONE_HINT.search(text):
            return []
        return [
            (m.start, m.end)
            for m in phonenumbers.PhoneNumberMatcher(text, self.phone_region, leniency=phonenumbers.Leniency.VALID)
        ]


def _fold(text: str) -> str:
    """`text` with full-width forms replaced by their NFKC form, one character for one."""
    if text.isascii() or not FULL_WIDTH.search(text):
        return text
    return FULL_WIDTH.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), text)


def _registration(text: str, citizens: bool) -> list[tuple[int, int]]:
    """Registration numbers of citizens (gender digit 1-4, 9, 0) or foreigners (5-8) with a real birth date.

    Without a dash the 1800s digits 9 and 0 are not accepted: 13-digit runs are common, such people are not.
    """
    genders = "123490" if citizens else "5678"
    spans = []
    for m in REGISTRATION.finditer(text):
        birth, separator, gender = m.groups()
        if gender not in genders or (not separator.strip() and gender in "90"):
            continue
        if NOT_A_PERSON_BEFORE.search(text[max(0, m.start() - 16) : m.start()]):
            continue
        try:
            date(_CENTURY[gender] + int(birth[:2]), int(birth[2:4]), int(birth[4:]))
        except ValueError:
            continue
        spans.append(m.span())
    return spans


def _cards(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if (len(digits) > 13 or digits[0] == "4") and len(set(digits)) > 1 and _luhn(digits):
            spans.append(m.span())
    return spans


def _ips(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in IPV4.finditer(text):
        if VERSION_BEFORE.search(text[max(0, m.start() - 12) : m.start()]):
            continue
        if all(int(octet) <= 255 for octet in m.group(0).split(".")):
            spans.append(m.span())
    for m in IPV6.finditer(text) if IPV6_HINT.search(text) else ():
        if m.group(0).count(":") >= 2 and re.search(r"[0-9A-Fa-f]", m.group(0)):
            try:
                ipaddress.IPv6Address(m.group(0))
            except ValueError:
                continue
            spans.append(m.span())
    return spans


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0
