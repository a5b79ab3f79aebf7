"""Listing pages (filters/listing.py) at the defaults, through the real stages: pages as served are extracted
by trafilatura, then language ID and quality decide, as `corpus run` would.

The portal page is naver.com's front page (DC Inside gallery menus) pasted into a JSP file; the list
pages are gmlwo530's Hugo blog; the English article is a Readability reference page whose photo caption
appears twice. See ../shared/data/SOURCES.md.
"""

from __future__ import annotations

import pytest

from corpus.config import RunConfig
from filters import listing
from filters.eval_sets import LabelledSet, Sample, clean_sets, junk_sets
from filters.text_stats import WordSplitter
from ray_jobs.quality_eval import drop_reasons, eval_config
from ray_jobs.unit import UnitModels

PORTAL = "suyoungyang__1st_portfolio__src__main__webapp__WEB-INF__views__menu__mainmenu.jsp"
LIST_PAGES = ("index.html", "posts/index.html", "tags/회고/index.html", "page/5/index.html", "posts/page/5/index.html")


@pytest.fixture(scope="module")
def models() -> UnitModels:
    return UnitModels(eval_config(RunConfig()))


@pytest.fixture(scope="module")
def junk(data_dir) -> dict[str, LabelledSet]:
    return {s.name: s for s in junk_sets(data_dir) if s.lang == "ko"}


def reasons(samples: list[Sample], models: UnitModels) -> dict[str, str | None]:
    return {s.key: r for s, r in zip(samples, drop_reasons(samples, models))}


@pytest.mark.slow
def test_the_portal_front_page_whose_menu_extracts_as_one_line_is_dropped_as_run_on(junk, models):
    page = next(s for s in junk["portal front pages (HTML)"].samples if s.key == PORTAL)
    assert reasons([page], models) == {PORTAL: "listing:run_on"}


@pytest.mark.slow
def test_blog_list_and_tag_pages_of_cut_off_excerpts_are_dropped(junk, models):
    pages = [s for s in junk["blog list and tag pages (HTML)"].samples if s.key in LIST_PAGES]
    assert len(pages) == len(LIST_PAGES)
    assert reasons(pages, models) == dict.fromkeys(LIST_PAGES, "listing:teasers")


@pytest.mark.slow
def test_a_news_article_repeating_its_photo_caption_is_kept(data_dir, models):
    articles = next(s for s in clean_sets(data_dir) if s.name == "web articles (Readability reference)")
    caption = [s for s in articles.samples if "Progress MS-04" in s.text]
    assert len(caption) == 1 and caption[0].text.count("Roscosmos Space Agency Press Service photo via AP") == 2
    assert reasons(caption, models) == {caption[0].key: None}


def test_the_readability_set_holds_english_pages_only(data_dir):
    """la-nacion (Spanish, no language tag) used to be in it and counted as a lost English article."""
    articles = next(s for s in clean_sets(data_dir) if s.name == "web articles (Readability reference)")
    assert not [s.key for s in articles.samples if "Abdullah Ocalan" in s.text]
    assert len(articles.samples) >= 55


@pytest.mark.parametrize(
    "text, run",
    [
        ("하나 둘 셋. 넷 다섯\n여섯 일곱 여덟 아홉 열. 열하나", 5),
        ("One two three four! Five six? Seven (eight nine.) ten", 4),
        ("", 0),
    ],
)
def test_the_longest_run_counts_words_between_sentence_ends_and_line_breaks(text, run):
    doc = WordSplitter().docs([text], ["ko"])[0]
    assert listing.figures(doc)["q_longest_run_words"] == run


def test_one_trailing_ellipsis_or_elided_code_is_not_a_listing():
    splitter = WordSplitter()
    pause = "긴 글의 첫 문단이 여기서 끝난다.\n그리고 그는 잠시 말을 멈추고 생각했다 …\n두 번째 제목\n본문이 이어진다."
    code = "\n".join(["def get():", "...", "def post():", "...", "$ hg push -B feature to the server", "[...]", "done"])
    listing_page = "\n".join(["첫 글 제목", "첫 글의 앞부분이 여기에 길게 이어지다가 잘린다 ...",
                              "둘째 글 제목", "둘째 글의 앞부분도 이렇게 길게 이어지다가 잘린다 …"])
    docs = splitter.docs([pause, code, listing_page], ["ko", "en", "ko"])
    assert [listing.figures(d)["q_teaser_line_frac"] for d in docs] == [0.0, 0.0, 0.5]
