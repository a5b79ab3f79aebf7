"""Charset: HTTP header, then <meta>, then detection; Korean legacy pages decode as CP949."""

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
