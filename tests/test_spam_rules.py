"""Korean web junk rules: spam lexicon, hashtag stuffing, domain blocklist."""

from __future__ import annotations

import pyarrow as pa
import pytest

from corpus.config import QualityConfig
from corpus.stats import Stats
from filters import junk_pages
from filters.blocklist import DomainBlocklist
from filters.quality import QualityFilter
from filters.spam import SpamLexicon, load_terms
from filters.text_stats import WordSplitter
from tests.test_korean_rules import NEWS
from tests.test_quality_rules import HEURISTICS, failed_checks

RULES = ["blocklist", "spam", "hashtags", *HEURISTICS]
CASINO_NEWS = (
    "강원랜드는 올해 3분기 카지노 매출이 지난해보다 12% 늘었다고 밝혔다. 회사 측은 외국인 관광객이 "
    "돌아오면서 방문객 수가 회복세를 보이고 있다고 설명했다. 다만 온라인카지노 같은 불법 도박 사이트가 "
    "늘어나는 데 대해서는 우려를 나타냈다. 정부는 불법 사이트 단속을 강화하겠다는 방침이다. 전문가들은 "
    "도박 중독 예방 교육도 함께 늘려야 한다고 지적했다. 회사는 지역 사회 공헌 사업도 확대할 계획이다."
)


@pytest.fixture(scope="module")
def quality() -> QualityFilter:
    return QualityFilter(QualityConfig(rules=RULES))


def figures(quality: QualityFilter, texts: list[str], lang: str = "ko") -> list[dict]:
    return pa.table(quality.figures(texts, [lang] * len(texts))).to_pylist()


@pytest.mark.slow
def test_spam_terms_are_counted_per_category(quality):
    row = figures(quality, ["토토사이트를 찾으세요? 안전놀이터 추천. 무직자대출 상담. 인스타 팔로워 구매 가능, 맞팔 환영."])[0]
    assert row["q_spam_gambling"] == 2
    assert row["q_spam_loan"] == 1
    assert row["q_spam_followers"] == 2
    assert row["q_spam_adult"] == 0
    assert row["q_spam_term_frac"] == pytest.approx(5 / 12, rel=1e-6)  # 12 eojeol


@pytest.mark.parametrize("kind", ["gambling", "adult", "loan", "follower_selling"])
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_spam_prose_is_dropped_by_the_lexicon(quality, kind, lang):
    pages = junk_pages.pages(kind, lang, 10)
    assert all("spam:lexicon" in failed for failed in failed_checks(quality, pages, lang))


def test_news_that_mentions_a_casino_keeps_its_place(quality):
    assert failed_checks(quality, [CASINO_NEWS, NEWS], "ko") == [set(), set()]


@pytest.mark.slow
def test_the_lexicon_is_a_file_a_config_can_replace(tmp_path):
    terms = tmp_path / "terms.yaml"
    terms.write_text("gambling: [경마장]\n", encoding="utf-8")
    custom = QualityFilter(QualityConfig(rules=["spam"], spam_terms=str(terms)))
    row = pa.table(custom.figures(["경마장 경마장 경마장 가는 길", "토토사이트 토토사이트"], ["ko", "ko"])).to_pylist()
    assert row[0]["q_spam_gambling"] == 3 and row[1]["q_spam_gambling"] == 0


@pytest.mark.parametrize(
    "content, message", [("gambling: 카지노\n", "list of non-empty strings"), ("casinos: [a]\n", "must map some of"),
                         (": : :\n", "not valid YAML")],
)
def test_a_broken_lexicon_file_is_refused_with_its_path(tmp_path, content, message):
    path = tmp_path / "terms.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_terms(path)
    with pytest.raises(FileNotFoundError, match="quality.spam_terms"):
        SpamLexicon(tmp_path / "missing.yaml")


def test_hashtag_stuffing_is_dropped_and_markdown_headings_are_not_hashtags(quality):
    stuffed = "오늘 새로 나온 크림 써봤어요 너무 좋아요 " + " ".join(f"#뷰티{i} #화장품 #데일리" for i in range(10))
    heading = "## 소개\n\n" + NEWS + "\n\n### 정리\n\n이슈 #3 에서 논의한 내용을 정리했다."
    rows = figures(quality, [stuffed, heading])
    assert rows[0]["q_hashtags"] == 30 and rows[1]["q_hashtags"] == 0
    assert "hashtags:stuffing" in failed_checks(quality, [stuffed], "ko")[0]
    assert failed_checks(quality, [heading], "ko")[0] == set()


def test_blocklist_is_off_without_a_file(quality):
    assert "q_blocklisted" not in quality.figures([NEWS], ["ko"])
    assert not any(reason.startswith("blocklist") for reason, *_ in quality.checks("ko"))


@pytest.mark.slow
def test_blocklist_drops_listed_domains_and_their_subdomains(tmp_path):
    (tmp_path / "gambling").mkdir()
    (tmp_path / "gambling" / "domains").write_text("# UT1 style\ntoto-example.com\n", encoding="utf-8")
    (tmp_path / "adult").mkdir()
    (tmp_path / "adult" / "domains").write_text("adult-example.kr\n", encoding="utf-8")
    stage = QualityFilter(QualityConfig(rules=RULES, blocklist=str(tmp_path)))
    table = pa.table({"text": [NEWS] * 3, "lang": ["ko"] * 3,
                      "domain": ["www.toto-example.com", "adult-example.kr", "news.example.co.kr"]})
    table, reasons = stage.apply(table, Stats())
    assert table["q_blocklisted"].to_pylist() == [1, 1, 0]
    assert reasons.to_pylist() == ["blocklist:domain", "blocklist:domain", None]
    assert DomainBlocklist(tmp_path).category("m.toto-example.com") == "gambling"


def test_missing_blocklist_names_the_setting(tmp_path):
    with pytest.raises(FileNotFoundError, match="quality.blocklist"):
        QualityFilter(QualityConfig(rules=RULES, blocklist=str(tmp_path / "nothing")))


def test_words_for_spam_density_are_the_documents_words():
    doc = WordSplitter().docs(["토토사이트 추천 토토사이트 가입"], ["ko"])[0]
    assert SpamLexicon().figures(doc)["q_spam_term_frac"] == pytest.approx(2 / 4, rel=1e-6)
