"""Korean quality rules: eojeol, Hangul as letters, Korean sentence endings, Kiwi stop words, Hangul share."""

from __future__ import annotations

import pyarrow as pa
import pytest

from corpus.config import QualityConfig
from corpus.stats import Stats
from filters import reference_text
from filters.korean import KoreanStopWords
from filters.quality import QualityFilter
from filters.text_stats import WordSplitter, ends_sentence
from tests.test_quality_rules import HEURISTICS, failed_checks

NEWS = (
    "서울시는 내년부터 시내버스 노선을 전면 개편한다고 15일 밝혔다. 시는 출퇴근 시간에 혼잡한 구간을 중심으로 "
    "배차 간격을 줄이고, 이용객이 적은 노선은 통합할 계획이다. 시 관계자는 \"시민들의 의견을 충분히 들은 뒤 "
    "세부 계획을 확정하겠다\"고 말했다. 이번 개편은 2004년 대중교통 체계 개편 이후 가장 큰 규모다.\n"
    "한편 시민단체들은 노선 통합으로 교통 약자의 불편이 커질 수 있다며 우려를 나타냈다. 이들은 공청회를 "
    "더 자주 열어야 한다고 주장했다. 시는 다음 달까지 구별 설명회를 열 예정이다."
)
MENU = "\n".join(["홈", "뉴스", "정치", "경제", "사회", "스포츠", "연예", "로그인", "회원가입", "고객센터", "사이트맵"] * 3)


@pytest.fixture(scope="module")
def quality() -> QualityFilter:
    return QualityFilter(QualityConfig(rules=HEURISTICS))


def pass_rate(quality: QualityFilter, texts: list[str]) -> float:
    _, reasons = quality.apply(pa.table({"text": texts, "lang": ["ko"] * len(texts)}), Stats())
    return reasons.null_count / len(texts)


@pytest.mark.slow
def test_korquad_wikipedia_paragraphs_pass_at_least_95_percent(quality, data_dir):
    assert pass_rate(quality, reference_text.korquad_paragraphs(data_dir)[::3]) >= 0.95


@pytest.mark.slow
def test_klue_sentences_grouped_into_documents_pass_at_least_95_percent(quality, data_dir):
    docs = reference_text.klue_documents(data_dir)
    assert len(docs) > 300
    assert pass_rate(quality, docs) >= 0.95


def test_korean_news_prose_fails_no_check(quality):
    assert failed_checks(quality, [NEWS], "ko") == [set()]


def test_menus_and_link_lists_are_dropped(quality):
    links = "\n".join(f"[{i}] 바로가기 더보기 전체보기 http://example.co.kr/{i}" for i in range(20))
    assert pass_rate(quality, [MENU, links]) == 0.0


def test_words_are_eojeol_with_punctuation_split_off():
    doc = WordSplitter().docs(["시는 \"의견을 들은 뒤\" 확정하겠다고 말했다."], ["ko"])[0]
    assert doc.words == ["시는", "의견을", "들은", "뒤", "확정하겠다고", "말했다"]


@pytest.mark.parametrize(
    "line, ends", [("확정하겠다고 말했다", True), ("좋아요", True), ("그렇죠", True), ("갈까?", True),
                   ("말했다.”", True), ("로그인", False), ("회원가입 바로가기", False)],
)
def test_korean_sentence_endings_count_as_terminal_punctuation(line, ends):
    assert ends_sentence(line, "ko") is ends
    assert ends_sentence(line, "en") is line.rstrip("”").endswith((".", "?"))


def test_hangul_counts_as_letters(quality):
    table = pa.table(quality.figures([NEWS], ["ko"]))
    assert table["q_alpha_word_frac"][0].as_py() > 0.9
    assert table["q_hangul_share"][0].as_py() > 0.95


@pytest.mark.slow
def test_stop_words_come_from_kiwi_morphemes():
    counts = KoreanStopWords(max_chars=600).count([NEWS, MENU])
    assert counts[0] >= 5
    assert counts[1] < 2


def test_hangul_share_drops_documents_that_are_not_really_korean(quality):
    english = "This page is mostly written in English with a single Korean word 안녕하세요 in it. " * 10
    assert "korean:hangul_share" in failed_checks(quality, [english], "ko")[0]
    assert "korean:hangul_share" not in failed_checks(quality, [NEWS], "ko")[0]


def test_bare_jamo_chatter_is_dropped(quality):
    chatter = "\n".join(f"ㅋㅋㅋㅋㅋ 진짜 웃기다 ㅠㅠ 대박 {i}번째 ㅎㅎㅎ" for i in range(20))
    assert "korean:jamo_share" in failed_checks(quality, [chatter], "ko")[0]


def test_korean_thresholds_are_separate_from_english(quality):
    """The same 40-eojeol text passes the Korean word-count bound (30) and fails the English one (50)."""
    text = " ".join(NEWS.split()[:40])
    assert "gopher_quality:word_count" not in failed_checks(quality, [text], "ko")[0]
    assert "gopher_quality:word_count" in failed_checks(quality, [text], "en")[0]
