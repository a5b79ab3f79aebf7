"""FineWeb's punctuated-line rule: a list item that states something counts as punctuated; menus and link lists do not."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from corpus.config import QualityConfig
from corpus.stats import Stats
from filters import junk_pages, reference_text
from filters.fineweb import is_statement_item
from filters.quality import QualityFilter

LINE_PUNCT = "fineweb:line_punct_ratio"


@pytest.fixture(scope="module")
def fineweb() -> QualityFilter:
    return QualityFilter(QualityConfig(rules=["fineweb"]))


def figures(stage: QualityFilter, texts: list[str], lang: str, **thresholds) -> list[dict]:
    stage.cfg = QualityConfig(rules=["fineweb"], **{lang: thresholds})
    return pa.table(stage.figures(texts, [lang] * len(texts))).to_pylist()


def fails_line_punct(stage: QualityFilter, texts: list[str], lang: str, **thresholds) -> list[bool]:
    """Does each text fail the punctuated-line check (with `thresholds` set for `lang`)?"""
    rows = figures(stage, texts, lang, **thresholds)
    bound = stage.cfg.thresholds(lang).min_line_punct_frac
    return [row["q_fw_line_punct_frac"] < bound for row in rows]


@pytest.mark.parametrize(
    "line",
    [
        "+ Villagers will harvest crops and plant new ones",
        "* Max render distance has been increased to 32 chunks (512 blocks)",
        "• Provide immediate on-boarding activities such as installation and training",
        "3. Check that the cable is plugged in at both ends",
        "* 프로그램이 대기 상태에 있을 가능성을 어느 정도 제거",
    ],
)
def test_a_list_item_of_several_words_is_a_statement(line):
    assert is_statement_item(line, 6)


@pytest.mark.parametrize(
    "line",
    [
        "▶ weight loss near me top 10",  # a link list's title
        "1. cheap hotels review (https://blog.example12.com/12345)",  # the URL is not words
        "* [X] 2019-11-01 10. 트랜잭션 미들웨어 제품 및 표준",  # a task box and a date are not words
        "1.5 million people moved to the city over the last ten years",  # a number, not a marker
        "Villagers will harvest crops and plant new ones",  # no marker: a line like any other
        "- Home",
    ],
)
def test_titles_and_unmarked_lines_are_not_statement_items(line):
    assert not is_statement_item(line, 6)


def test_none_counts_no_list_item():
    assert not is_statement_item("+ Villagers will harvest crops and plant new ones", None)


def test_the_minecraft_changelog_passes_only_because_its_items_are_statements(fineweb, data_dir):
    """The held-back Readability page made of `+ Added …` items: FineWeb's rule as published drops it."""
    [page] = [t for t in reference_text.readability_articles(data_dir) if t.startswith("Minecraft 1.8")]
    assert fails_line_punct(fineweb, [page], "en") == [False]
    assert fails_line_punct(fineweb, [page], "en", statement_item_words=None) == [True]
    [row] = figures(fineweb, [page], "en")
    [published] = figures(fineweb, [page], "en", statement_item_words=None)
    assert row["q_fw_statement_item_frac"] > 0
    assert row["q_fw_line_punct_frac"] - row["q_fw_statement_item_frac"] == pytest.approx(published["q_fw_line_punct_frac"])


def test_korean_bullet_notes_pass(fineweb, data_dir):
    """A developer's notes in bullets that end on nouns (goodgid), not on sentence endings."""
    with open(data_dir / "korean_web/text/goodgid_blog/posts.jsonl", encoding="utf-8") as fh:
        [notes] = [json.loads(line)["text"] for line in fh if "단순 버퍼 시스템의 단점" in line]
    assert fails_line_punct(fineweb, [notes], "ko") == [False]
    assert fails_line_punct(fineweb, [notes], "ko", statement_item_words=None) == [True]


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("kind", ["link_list", "portal_menu", "seo_keywords"])
def test_link_lists_menus_and_keyword_lines_still_fail(fineweb, kind, lang):
    pages = junk_pages.pages(kind, lang, 60)
    published = fails_line_punct(fineweb, pages, lang, statement_item_words=None)
    assert any(published)
    assert fails_line_punct(fineweb, pages, lang) == published


@pytest.mark.slow
def test_real_instagram_ads_fail_as_before_and_are_all_dropped(fineweb, data_dir):
    """Real Korean ad captions, some bulleted: the same ones fail the rule, and the default stage drops them all."""
    with open(data_dir / "korean_web/text/instagram_ads/ads.jsonl", encoding="utf-8") as fh:
        ads = [json.loads(line)["text"] for line in fh if line.strip()][::9]
    published = fails_line_punct(fineweb, ads, "ko", statement_item_words=None)
    assert any(published)
    assert fails_line_punct(fineweb, ads, "ko") == published
    _, reasons = QualityFilter(QualityConfig()).apply(pa.table({"text": ads, "lang": ["ko"] * len(ads)}), Stats())
    assert reasons.null_count == 0
