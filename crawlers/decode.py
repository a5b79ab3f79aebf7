"""Bytes to text for web pages: byte-order mark, HTTP header, then the document's own label, then detection.

Korean legacy pages say EUC-KR but use the whole of CP949 (Unified Hangul Code);
a strict EUC-KR decoder fails on real pages, so such labels decode as cp949, as
browsers do (WHATWG Encoding Standard maps these labels the same way).

One bad byte must not cost a page: a declared or detected codec that decodes
nearly all bytes is used, with U+FFFD for the bytes it cannot decode, rather
than a codec that decodes everything into the wrong script.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes
from charset_normalizer.utils import is_multi_byte_encoding

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

# A charset the document declares: <meta charset=…>, <meta http-equiv … charset=…>, or the
# encoding of an XML declaration (RSS and Atom feeds, XHTML).
_DOCUMENT_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)|<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_\-:.]+)""",
    re.IGNORECASE,
)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-:.]+)", re.IGNORECASE)
_SNIFF_BYTES = 4096
_DETECT_BYTES = 256 * 1024
_ASCII = bytes(range(128))
# Codecs under which a body with a few bad bytes is repaired and detected again: strict detection
# rules a codec out for one undecodable byte. Korean legacy codecs, and UTF-8, the web's default.
_REPAIRABLE = ("utf-8", "cp949", "johab")


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = _HEADER_CHARSET.search(content_type)
    return match.group(1) if match else None


def decode_html(body: bytes, http_charset: str | None = None) -> tuple[str, str]:
    """Decode an HTML body; returns (text, the codec actually used).

    A byte-order mark or UTF-16's NUL pattern comes first: no ASCII-compatible label
    can be right for such a body. Then the HTTP charset, the document's own and UTF-8,
    each if it decodes every byte; then a declared one that decodes nearly every byte
    (strict UTF-8 wins over that: a UTF-8 page mislabelled EUC-KR often fails cp949 on
    a byte or two only); then detection. Bytes the chosen codec cannot decode become
    U+FFFD, so a page is never lost to its encoding.
    """
    utf16 = _bom_codec(body) or _utf16_without_bom(body[:1024])
    if utf16:
        return body.decode(utf16, errors="replace"), utf16
    labels = (http_charset, _document_charset(body))
    # Without a BOM or NULs a UTF-16 label is wrong.
    declared = [c for c in map(normalise_charset, labels) if c and not c.startswith(("utf-16", "utf-32"))]
    for codec in [*declared, "utf-8"]:
        try:
            return body.decode(codec), codec
        except UnicodeDecodeError:
            continue
    for codec in declared:
        text = _decode_nearly_all(body, codec)
        if text is not None:
            return text, codec
    codec = _detect(body[:_DETECT_BYTES])
    return body.decode(codec, errors="replace"), codec


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


def _detect(sample: bytes) -> str:
    """The codec of a body that is not UTF-8 and declares none that fits: charset-normalizer's best guess.

    charset-normalizer drops a codec at its first undecodable byte and then settles
    for a single-byte codec, which decodes anything, into the wrong script. So when
    it finds no multi-byte codec, each repairable codec that decodes nearly all of the
    sample gets the sample with its bad bytes dropped, and wins if detection agrees.
    """
    best = from_bytes(sample).best()
    guess = (normalise_charset(best.encoding) or best.encoding) if best is not None else None
    if guess is not None and is_multi_byte_encoding(best.encoding):
        return guess
    for codec in _REPAIRABLE:
        if _decode_nearly_all(sample, codec) is None:
            continue
        repaired = from_bytes(sample.decode(codec, errors="ignore").encode(codec)).best()
        if repaired is not None and normalise_charset(repaired.encoding) == codec:
            return codec
    return guess or "utf-8"


def _decode_nearly_all(body: bytes, codec: str) -> str | None:
    """The text, with U+FFFD for bad bytes, if `codec` fails on at most one non-ASCII byte in 200 (and one more)."""
    text = body.decode(codec, errors="replace")
    allowed = 1 + len(body.translate(None, _ASCII)) // 200
    return text if text.count("\ufffd") <= allowed else None


def _document_charset(body: bytes) -> str | None:
    match = _DOCUMENT_CHARSET.search(body[:_SNIFF_BYTES])
    if not match:
        return None
    return (match.group(1) or match.group(2)).decode("ascii", errors="ignore")


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
