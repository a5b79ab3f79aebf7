"""Heuristic quality rules on English: real article bodies pass, crafted junk fails the rule it breaks."""

from __future__ import annotations

import pyarrow as pa
import pytest

from corpus.config import QualityConfig
from corpus.stages import apply_decisions
from corpus.stats import Stats
from filters import reference_text
from filters.quality import QualityFilter

HEURISTICS = ["korean", "gopher_quality", "gopher_repetition", "c4", "fineweb"]
PROSE = (
    "The council met on Tuesday to discuss the new budget for the coming year. "
    "Members said that the plan would have to be changed before it could be approved, "
    "and the mayor agreed to bring a revised version to the next meeting. "
    "Residents who attended the session asked questions about road repairs, school funding and the library. "
    "Most of them said they were satisfied with the answers they received from the staff.\n"
)
MORE_PROSE = (
    "After the meeting, a group of parents stayed behind to talk with the head of the school board. "
    "They wanted to know when the new playground would be finished and whether the bus routes would change.\n"
)


@pytest.fixture(scope="module")
def quality() -> QualityFilter:
    return QualityFilter(QualityConfig(rules=HEURISTICS))


def failed_checks(quality: QualityFilter, texts: list[str], lang: str = "en") -> list[set[str]]:
    """Every check each document fails (not only the first), so one rule is tested at a time."""
    table = pa.table(quality.figures(texts, [lang] * len(texts)))
    failed: list[set[str]] = [set() for _ in texts]
    for reason, column, bound, value in quality.checks(lang):
        for i, v in enumerate(table[column].to_pylist()):
            if (v < value) if bound == "min" else (v > value):
                failed[i].add(reason)
    return failed


@pytest.mark.slow
def test_english_gold_article_bodies_pass_at_least_95_percent(quality, data_dir):
    articles = reference_text.english_articles(data_dir)
    table = pa.table({"text": articles, "lang": ["en"] * len(articles)})
    _, reasons = quality.apply(table, Stats())
    assert len(articles) > 100
    assert reasons.null_count / len(articles) >= 0.95


def test_prose_fails_no_check(quality):
    assert failed_checks(quality, [PROSE + MORE_PROSE]) == [set()]


@pytest.mark.parametrize(
    "reason, text",
    [
        ("gopher_quality:word_count", "Welcome to our site. Read more below."),
        ("gopher_quality:mean_word_len", "a b c d e f g h i j k l m n o p q r s t u v w x y z and the of to. " * 5),
        ("gopher_quality:symbol_ratio", PROSE + " ".join(f"#tag{i} #deal{i} #sale{i}" for i in range(30))),
        ("gopher_quality:bullet_lines", "\n".join(f"• Product number {i} is on sale with the discount." for i in range(40))),
        ("gopher_quality:ellipsis_lines", "\n".join(f"Read the story of the man who walked to town {i}..." for i in range(30))),
        ("gopher_quality:stop_words", " ".join(f"Cheap Watches Replica Rolex Omega Cartier Breitling{i}." for i in range(20))),
        ("gopher_quality:alpha_words", PROSE + " ".join(str(1000 + i) for i in range(400))),
        ("gopher_repetition:dup_lines", "\n".join(["Click here to subscribe to the newsletter today."] * 10 + [PROSE])),
        ("gopher_repetition:top_2gram", PROSE + " buy now" * 80),
        ("gopher_repetition:dup_5gram", PROSE + " The best offer of the year is here today." * 12),
        ("c4:lorem_ipsum", PROSE + "Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n" + MORE_PROSE),
        ("c4:curly_braces", PROSE + "function f() { return 1; }\n" + MORE_PROSE),
        ("c4:javascript_lines", PROSE + "\n".join(["Please enable JavaScript to view the comments."] * 3)),
        ("c4:policy_lines", PROSE + "We use cookies. Read our privacy policy.\nTerms of use apply to this website.\n"),
        ("fineweb:line_punct_ratio", "\n".join(f"Home Garden Furniture Category Page {i} Outdoor Tables Chairs" for i in range(30))),
        ("fineweb:short_lines", PROSE + "\n".join(["Home", "News", "Sports", "Weather", "Contact us", "Login"] * 3)),
    ],
)
def test_crafted_junk_fails_the_rule_it_breaks(quality, reason, text):
    assert reason in failed_checks(quality, [text])[0]


@pytest.mark.slow
def test_web_text_is_mostly_dropped(quality, data_dir):
    """Raw Common Crawl WET text (menus, banners, spam) loses most documents; clean bodies do not."""
    wet = reference_text.common_crawl_text(data_dir, "en")
    table = pa.table({"text": wet, "lang": ["en"] * len(wet)})
    _, reasons = quality.apply(table, Stats())
    assert reasons.null_count / len(wet) < 0.5


def test_reasons_are_counted_by_apply_decisions(quality):
    table = pa.table({"id": ["a", "b"], "text": [PROSE + MORE_PROSE, "Too short."], "lang": ["en", "en"]})
    stats = Stats()
    table, reasons = quality.apply(table, stats)
    kept, dropped = apply_decisions(table, reasons, quality.name, stats)
    assert kept["id"].to_pylist() == ["a"]
    assert dropped["drop_reason"].to_pylist() == ["gopher_quality:word_count"]
    assert stats.dropped_docs("quality", "gopher_quality:word_count") == 1
    assert "q_word_count" in kept.column_names and "q_dup_5gram_char_frac" in kept.column_names


def test_rethresholding_needs_no_rescoring(quality):
    """Score first, decide later: a new threshold changes the decision from the stored columns."""
    texts = [PROSE + MORE_PROSE]
    table = pa.table({**quality.figures(texts, ["en"]), "lang": ["en"]})
    assert quality.decide(table).to_pylist() == [None]
    strict = QualityFilter.__new__(QualityFilter)
    strict.cfg = QualityConfig(rules=HEURISTICS, en={"min_words": 10_000})
    assert strict.decide(table).to_pylist() == ["gopher_quality:word_count"]


def test_a_check_set_to_none_is_off(quality):
    lenient = QualityFilter.__new__(QualityFilter)
    lenient.cfg = QualityConfig(rules=HEURISTICS, en={"min_words": None})
    table = pa.table({**quality.figures(["Welcome to our site. Read more below."], ["en"]), "lang": ["en"]})
    assert lenient.decide(table).to_pylist()[0] != "gopher_quality:word_count"


def test_figures_are_deterministic(quality, data_dir):
    articles = reference_text.english_articles(data_dir)[:20]
    first = quality.figures(articles, ["en"] * 20)
    second = quality.figures(list(articles), ["en"] * 20)
    assert all(first[name].equals(second[name]) for name in first)
