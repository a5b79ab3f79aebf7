"""Bytes to text for web pages: HTTP header, then <meta>, then detection.

Korean legacy pages say EUC-KR but use the whole of CP949 (Unified Hangul Code);
a strict EUC-KR decoder fails on real pages, so such labels decode as cp949, as
browsers do (WHATWG Encoding Standard maps these labels the same way).
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

# Labels whose real-world content is a superset encoding (WHATWG mappings).
_SUPERSETS = {
    "euc-kr": "cp949",
    "euc_kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "ksc5601": "cp949",
    "x-windows-949": "cp949",
    "windows-949": "cp949",
    "uhc": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "shift_jis": "cp932",
    "sjis": "cp932",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "tis-620": "cp874",
}

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-:.]+)", re.IGNORECASE)
_SNIFF_BYTES = 4096


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = _HEADER_CHARSET.search(content_type)
    return match.group(1) if match else None


def decode_html(body: bytes, http_charset: str | None = None) -> tuple[str, str]:
    """Decode an HTML body; returns (text, the codec actually used).

    Tries the HTTP charset, then the <meta> charset, each strictly; then a
    byte-order mark; then statistical detection; finally UTF-8 with replacement
    characters, so a page is never lost to its encoding.
    """
    for label in (http_charset, _meta_charset(body)):
        codec = normalise_charset(label)
        if codec:
            try:
                return body.decode(codec), codec
            except UnicodeDecodeError:
                continue
    bom = _bom_codec(body) or _utf16_without_bom(body[:1024])
    if bom:
        return body.decode(bom, errors="replace"), bom
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(body[: 256 * 1024]).best()
    if best is not None:
        codec = normalise_charset(best.encoding) or best.encoding
        return body.decode(codec, errors="replace"), codec
    return body.decode("utf-8", errors="replace"), "utf-8"


def normalise_charset(label: str | bytes | None) -> str | None:
    """Python codec name for an HTML/HTTP charset label, or None if unknown."""
    if not label:
        return None
    if isinstance(label, bytes):
        label = label.decode("ascii", errors="ignore")
    label = label.strip().strip("\"'").lower()
    label = _SUPERSETS.get(label, label)
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return _SUPERSETS.get(name, name)


_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\r\f\x1b")


def looks_binary(body: bytes) -> bool:
    """True for bodies that are not text in any encoding we decode (images, archives).

    Text in ASCII-compatible encodings has no NULs and almost no C0 control
    bytes (ESC excepted: ISO-2022 uses it); UTF-16 pages start with a BOM.
    """
    head = body[:1024]
    if not head or _bom_codec(head) or _utf16_without_bom(head):
        return False
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return b"\x00" in head or controls > len(head) // 20


def _meta_charset(body: bytes) -> str | None:
    match = _META_CHARSET.search(body[:_SNIFF_BYTES])
    return match.group(1).decode("ascii", errors="ignore") if match else None


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 text of Latin script has a NUL in every other byte."""
    if len(head) < 16:
        return None
    odd, even = head[1::2].count(0), head[0::2].count(0)
    half = len(head) // 2
    if odd > 0.4 * half and even < 0.05 * half:
        return "utf-16-le"
    if even > 0.4 * half and odd < 0.05 * half:
        return "utf-16-be"
    return None


def _bom_codec(body: bytes) -> str | None:
    if body.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if body.startswith(codecs.BOM_UTF16_LE) or body.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    return None
