"""report.html in Korean: the same figures as the English page, every label and explanation translated."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser

import pytest
from typer.testing import CliRunner

from corpus.config import ConfigError, load_config
from corpus_cli.main import app
from tests.test_report import _chromium, _Texts

NUMBER = re.compile(r"\d[\d,.]*")
HANGUL = re.compile(r"[가-힣]")


class _Labels(HTMLParser):
    """Text nodes a reader sees as words: outside code, styles and the price sources' citations."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skip: list[bool] = []

    def handle_starttag(self, tag, attrs):
        self._skip.append(tag in ("pre", "style", "title") or dict(attrs).get("class") == "src")

    def handle_endtag(self, tag):
        if self._skip:
            self._skip.pop()

    def handle_data(self, data):
        if not any(self._skip) and len(re.findall(r"[A-Za-z]{3,}", data)) >= 2:
            self.texts.append(" ".join(data.split()))


@pytest.fixture(scope="module")
def pages(serial_run, tmp_path_factory):
    """The demo run's report rendered by Chromium in English and in Korean, with a target beyond the supply."""
    out, _ = serial_run
    base = tmp_path_factory.mktemp("language")
    doms = {}
    for language in ("en", "ko"):
        copy = base / language
        shutil.copytree(out, copy)
        args = ["report", str(copy), "--language", language, "--target", "ko=500B", "--target", "en=200B"]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        doms[language] = _chromium(base / f"browser-{language}", "--dump-dom", (copy / "report.html").as_uri())
    return doms


def _by_id(dom: str) -> dict[str, str]:
    texts = _Texts()
    texts.feed(dom)
    return texts.by_id


def test_every_figure_is_the_same_in_korean_and_english(pages):
    en, ko = _by_id(pages["en"]), _by_id(pages["ko"])
    assert set(en) == set(ko)
    for element_id, text in en.items():
        if element_id == "forecast-pages":  # a count in words: billions in English, 억 (10^8) in Korean
            assert _count(ko[element_id]) == pytest.approx(_count(text), rel=0.01)
            continue
        # Korean sentences order words differently: the same figures, in any order
        assert sorted(NUMBER.findall(ko[element_id])) == sorted(NUMBER.findall(text)), element_id
    assert '<html lang="ko">' in pages["ko"]


def _count(text: str) -> float:
    number, unit = re.fullmatch(r"([\d,.]+)\s*(\w*)", text.strip()).groups()
    scale = {"trillion": 1e12, "billion": 1e9, "million": 1e6, "조": 1e12, "억": 1e8, "만": 1e4, "": 1}[unit]
    return float(number.replace(",", "")) * scale


def test_no_english_label_or_explanation_is_left_in_the_korean_page(pages):
    english = _Labels()
    english.feed(pages["en"])
    korean = _Labels()
    korean.feed(pages["ko"])
    left = set(english.texts) & set(korean.texts)
    assert not left, sorted(left)[:10]
    assert "비용이 쓰인 곳" in pages["ko"] and "다음 크롤링" in pages["ko"]
    assert HANGUL.search(_by_id(pages["ko"])["supply-warning"]) and HANGUL.search(_by_id(pages["ko"])["strategy"])


def test_stages_are_explained_in_plain_words_in_both(pages):
    assert "What each stage does" in pages["en"] and "Takes the main text out of each page" in pages["en"]
    assert "각 단계가 하는 일" in pages["ko"] and "본문 추출" in pages["ko"]


def test_an_unknown_language_is_refused_before_anything_is_written(serial_run, tmp_path):
    out, _ = serial_run
    copy = tmp_path / "run"
    shutil.copytree(out, copy)
    before = {p.name: p.read_bytes() for p in copy.iterdir() if p.is_file()}
    result = CliRunner().invoke(app, ["report", str(copy), "--language", "fr"])
    assert result.exit_code == 2 and "--language is en or ko" in result.output
    assert {p.name: p.read_bytes() for p in copy.iterdir() if p.is_file()} == before
    with pytest.raises(ConfigError, match="report.language"):
        load_config(None, {"report.language": "fr"})


def test_the_configured_language_is_used_and_not_part_of_the_run_identity():
    ko = load_config(None, {"report.language": "ko"})
    assert ko.report.language == "ko" and ko.sha256() == load_config(None, {}).sha256()
    assert json.dumps(ko.report.model_dump()) == '{"language": "ko"}'
