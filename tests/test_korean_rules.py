"""Korean quality rules: eojeol, Hangul as letters, Korean sentence endings, particle stop words, Hangul share."""

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


def test_stop_words_are_eojeol_ending_in_particles_or_endings():
    news, menu = KoreanStopWords(max_chars=600).count([NEWS, MENU])
    assert news >= 20
    assert menu == 0


def test_particles_on_latin_terms_count_but_latin_and_code_eojeol_do_not():
    count = KoreanStopWords(max_chars=600).count_one
    assert count("학교에 갔다.") == 2  # 에 particle, 다 final ending before the full stop
    assert count("“Join은 빠르다”고 했다") == 3  # 은 on a Latin term, 다 before a closing quote, 다
    assert count("SELECT * FROM emp; print(x) data.frame https://example.com/a") == 0
    assert count("학교 아이 나라 서울 사이트맵") == 0  # bare nouns, even ones ending in a syllable 이 or 가 can be


def test_stop_words_count_only_the_configured_head():
    head = "학교에 갔다 " * 10
    assert KoreanStopWords(max_chars=len("학교에 갔다 ")).count_one(head) == 2
    assert KoreanStopWords(max_chars=len(head)).count_one(head) == 20


def test_shipped_ending_list_is_what_the_builder_keeps():
    """Every shipped ending passed the builder's bounds, and none is covered by a shorter one."""
    from filters import korean_endings

    rows = [line.split("\t") for line in korean_endings.OUTPUT.read_text(encoding="utf-8").splitlines()
            if not line.startswith("#")][1:]
    endings = [row[0] for row in rows]
    assert endings == list(KoreanStopWords(max_chars=1).endings)
    assert {"다", "는", "을", "를", "에", "의", "으로", "까지"} <= set(endings)
    for ending, seen, share in rows:
        assert int(seen) >= korean_endings.MIN_SEEN and float(share) >= korean_endings.MIN_GRAMMAR_SHARE
        assert not any(ending != other and ending.endswith(other) for other in endings)


TECHNICAL = (
    "Inner Join은 두 테이블에서 `dept_id` 값이 같은 행만 골라 새로운 릴레이션을 만든다. 예를 들어 "
    "`SELECT * FROM emp e JOIN dept d ON e.dept_id = d.id;` 처럼 쓰면 된다. Outer Join과 달리 "
    "NULL 값을 가진 행은 결과에 나오지 않는다. 자세한 내용은 https://dev.mysql.com/doc/refman/8.0/en/join.html 을 "
    "참고하자. 실행 계획은 EXPLAIN ANALYZE로 확인할 수 있는데, Hash Join이 쓰이면 build 단계에서 메모리를 "
    "많이 쓰므로 work_mem 값을 늘려 주는 것이 좋다. 인덱스가 없으면 Nested Loop이 선택되어 느려질 수 있다."
)


def test_hangul_share_drops_documents_that_are_not_really_korean(quality):
    english = "This page is mostly written in English with a single Korean word 안녕하세요 in it. " * 10
    assert "korean:hangul_words" in failed_checks(quality, [english], "ko")[0]
    assert "korean:hangul_words" not in failed_checks(quality, [NEWS], "ko")[0]


def test_technical_korean_with_latin_terms_code_and_urls_is_korean(quality):
    row = pa.table(quality.figures([TECHNICAL], ["ko"])).to_pylist()[0]
    assert row["q_hangul_share"] < 0.6  # Latin letters are many...
    assert row["q_hangul_word_frac"] > 0.6  # ...but most words are Korean ("Join은", "값을")
    assert failed_checks(quality, [TECHNICAL], "ko") == [set()]


def test_informal_endings_count_as_sentence_ends():
    for line in ("진짜 웃기다ㅋㅋ", "그럴 줄 알았어요~", "너무 슬프다ㅠㅠ", "최고네요^^"):
        assert ends_sentence(line, "ko")


def test_bare_jamo_chatter_is_dropped(quality):
    chatter = "\n".join(f"ㅋㅋㅋㅋㅋ 진짜 웃기다 ㅠㅠ 대박 {i}번째 ㅎㅎㅎ" for i in range(20))
    assert "korean:jamo_share" in failed_checks(quality, [chatter], "ko")[0]


def test_korean_thresholds_are_separate_from_english(quality):
    """The same 40-eojeol text passes the Korean word-count bound (30) and fails the English one (50)."""
    text = " ".join(NEWS.split()[:40])
    assert "gopher_quality:word_count" not in failed_checks(quality, [text], "ko")[0]
    assert "gopher_quality:word_count" in failed_checks(quality, [text], "en")[0]


@pytest.mark.slow
def test_stop_word_bound_alone_drops_no_clean_korean_text_and_most_keyword_junk(quality, data_dir):
    """No clean Korean text of the evaluation set fails the stop-word bound and nothing else at the defaults;
    most constructed keyword and link-list pages fail it (other rules catch the rest)."""
    from filters.eval_sets import evaluation_sets

    stop = "gopher_quality:stop_words"
    keyword_junk = ("seo keywords (constructed)", "link list (constructed)")
    for labelled in evaluation_sets(data_dir):
        texts = [s.text for s in labelled.samples if s.text]
        if labelled.lang != "ko" or not texts or not (labelled.clean or labelled.name in keyword_junk):
            continue
        failed = failed_checks(quality, texts, "ko")
        if labelled.clean:
            alone = [text[:80] for text, checks in zip(texts, failed) if checks == {stop}]
            assert not alone, labelled.name
        else:
            assert sum(stop in checks for checks in failed) >= 0.5 * len(texts), labelled.name
