"""Charset: BOM or UTF-16 pattern, HTTP header, the document's own label, then detection.

Korean legacy pages decode as CP949, and one bad byte costs one character, not the page.
"""

import codecs
import re
from pathlib import Path

import pytest

from crawlers.decode import decode_html, looks_binary, normalise_charset

HANGUL = range(0xAC00, 0xD7A4)


def hangul_share(text: str) -> float:
    """Share of Hangul among non-ASCII letters: mojibake gives Latin-1 or CJK instead."""
    letters = [c for c in text if c.isalpha() and ord(c) > 127]
    return sum(ord(c) in HANGUL for c in letters) / max(len(letters), 1)


@pytest.mark.parametrize("label", ["EUC-KR", "euc_kr", "ks_c_5601-1987", "x-windows-949"])
def test_korean_legacy_labels_decode_as_cp949(label):
    assert normalise_charset(label) == "cp949"


def test_euc_kr_feeds_decode_to_korean(data_dir):
    files = sorted((data_dir / "encoding" / "chardet" / "EUC-KR").iterdir())
    assert len(files) >= 20
    for path in files:
        text, codec = decode_html(path.read_bytes(), "EUC-KR")
        assert codec == "cp949"
        assert "\ufffd" not in text, path.name
        assert hangul_share(text) > 0.9, path.name


def test_undeclared_korean_page_is_detected(data_dir):
    path = data_dir / "encoding" / "chardet" / "EUC-KR" / "_chromium_windows-949_with_no_encoding_specified.html"
    text, _ = decode_html(path.read_bytes(), None)
    assert hangul_share(text) > 0.5


def test_meta_charset_beats_detection():
    body = "<html><head><meta charset='euc-kr'></head><body>한국어 문서입니다</body></html>".encode("cp949")
    text, codec = decode_html(body, None)
    assert codec == "cp949" and "한국어 문서입니다" in text


def test_wrong_http_charset_falls_back_instead_of_mojibake():
    body = "<p>서울 날씨는 맑음</p>".encode("utf-8")
    text, codec = decode_html(body, "ascii-but-wrong")
    assert "서울 날씨는 맑음" in text


def test_undecodable_bytes_never_raise():
    text, _ = decode_html(b"<p>\xff\xfe\xfa broken \x80\x81</p>", "utf-8")
    assert "broken" in text


def test_binary_bodies_are_recognised(data_dir):
    assert looks_binary(b"\x89PNG\r\n\x1a\n" + bytes(100))
    assert looks_binary(bytes(range(256)) * 4)
    utf16 = (data_dir / "encoding" / "chardet" / "UTF-16LE").iterdir().__next__().read_bytes()
    assert not looks_binary(utf16)
    assert not looks_binary("<html>한국어</html>".encode("cp949"))


# One bad byte must cost one character, not the page. Real Korean files, corrupted on purpose.
KOREAN_LEGACY = {"EUC-KR": "cp949", "CP949": "cp949", "Johab": "johab"}


def korean_files(data_dir: Path) -> list[tuple[str, Path]]:
    root = data_dir / "encoding" / "chardet"
    return [(codec, path) for folder, codec in KOREAN_LEGACY.items() for path in sorted((root / folder).iterdir())]


def hangul_count(text: str) -> int:
    return sum(ord(c) in HANGUL for c in text)


def with_invalid_byte(body: bytes) -> bytes:
    """0xFF (no Korean codec's lead byte) in place of the first space past the middle: inside the Korean text."""
    at = body.index(b" ", len(body) // 2)
    return body[:at] + b"\xff" + body[at + 1 :]


def without_xml_declaration(body: bytes) -> bytes:
    """The feeds declare their encoding in `<?xml … encoding=…?>`; drop it to leave a body with no label."""
    return re.sub(rb"<\?xml[^>]*\?>", b"", body, count=1)


def assert_keeps_the_hangul(body: bytes, label: str | None, clean: str, codec: str) -> None:
    text, used = decode_html(body, label)
    assert used == codec
    assert hangul_count(text) >= 0.99 * hangul_count(clean)
    assert text.count("\ufffd") <= 2


def test_one_invalid_byte_in_a_declared_korean_page_is_replaced_alone(data_dir):
    for codec, path in korean_files(data_dir):
        body = path.read_bytes()
        assert_keeps_the_hangul(with_invalid_byte(body), codec.upper(), body.decode(codec), codec)


def test_a_lone_lead_byte_at_the_end_costs_nothing_else(data_dir):
    for codec, path in korean_files(data_dir):
        body = path.read_bytes()
        truncated = body + "한".encode(codec)[:1]  # a page cut inside its last character
        assert_keeps_the_hangul(truncated, "EUC-KR" if codec == "cp949" else codec, body.decode(codec), codec)


def test_meta_label_alone_decides_a_page_with_a_bad_byte(data_dir):
    path = data_dir / "encoding" / "chardet" / "EUC-KR" / "_chromium_windows-949_with_no_encoding_specified.html"
    body = path.read_bytes().replace(b"<head>", b'<head><meta http-equiv="Content-Type" content="text/html; charset=euc-kr">')
    assert_keeps_the_hangul(with_invalid_byte(body), None, body.decode("cp949"), "cp949")


def test_xml_declaration_alone_decides_a_feed_with_a_bad_byte(data_dir):
    for path in sorted((data_dir / "encoding" / "chardet" / "EUC-KR").glob("*.xml")):
        body = path.read_bytes()
        assert b'encoding="euc-kr"' in body.lower()[:100]
        assert_keeps_the_hangul(with_invalid_byte(body), None, body.decode("cp949"), "cp949")


def test_unlabelled_korean_page_with_a_bad_byte_is_detected_as_korean(data_dir):
    for codec, path in korean_files(data_dir):
        body = without_xml_declaration(path.read_bytes())
        assert_keeps_the_hangul(with_invalid_byte(body), None, body.decode(codec), codec)


def test_unlabelled_utf8_page_with_a_bad_byte_stays_utf8(data_dir):
    body = without_xml_declaration((data_dir / "encoding" / "chardet" / "utf-8" / "weblabor.hu.xml").read_bytes())
    text, codec = decode_html(with_invalid_byte(body), None)
    assert codec == "utf-8" and text.count("\ufffd") == 1
    assert len(text) == len(body.decode("utf-8"))


def test_utf8_page_mislabelled_euc_kr_stays_utf8_though_cp949_fails_on_one_byte_only():
    body = "<p>The station is near (가까운), two minutes away on foot.</p>".encode("utf-8")
    assert body.decode("cp949", errors="replace").count("\ufffd") == 1  # nearly all bytes, by the rule
    assert decode_html(body, "EUC-KR") == (body.decode("utf-8"), "utf-8")


@pytest.mark.parametrize(
    "name, bom, label",
    [
        ("nobom-utf16le.txt", b"", "utf-8"),
        ("nobom-utf16le.txt", b"", "ISO-8859-1"),
        ("nobom-utf16le.txt", codecs.BOM_UTF16_LE, "ISO-8859-1"),
    ],
)
def test_utf16_body_under_a_wrong_label_is_decoded_as_utf16(data_dir, name, bom, label):
    raw = (data_dir / "encoding" / "chardet" / "UTF-16LE" / name).read_bytes()
    text, codec = decode_html(bom + raw, label)
    assert codec.startswith("utf-16")
    assert text == raw.decode("utf-16-le") and "\x00" not in text
