"""A rule's two halves agree: its code (filters/rule_registry.py) and its thresholds (corpus/quality_thresholds.py)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from corpus import quality_thresholds
from corpus.config import KoreanThresholds, QualityConfig, QualityThresholds
from filters.quality import QualityFilter
from filters.rule import DocContext
from filters.rule_registry import RULES
from filters.text_stats import WordSplitter

TEXT = (
    "The council met on Tuesday to discuss the new budget for the coming year.\n"
    "Short line\n"
    "- Members of the public may speak for three minutes each\n"
    "Members said the plan would change before it could be approved, and the mayor agreed.\n"
    "#news #council {braces} lorem ipsum\n"
)


@pytest.fixture(scope="module")
def measured(tmp_path_factory) -> dict[str, dict[str, list]]:
    """Each rule's own figures on a few documents, every rule on (a blocklist given)."""
    folder = tmp_path_factory.mktemp("blocklist")
    (folder / "gambling").mkdir()
    (folder / "gambling" / "domains").write_text("toto-example.com\n", encoding="utf-8")
    cfg = QualityConfig(blocklist=str(folder))
    docs = WordSplitter().docs([TEXT, "토토사이트 추천 안녕하세요 ㅋㅋ", ""], ["en", "ko", "en"])
    domains = ["toto-example.com", None, "example.org"]
    out: dict[str, dict[str, list]] = {}
    for name, rule in RULES.items():
        measure = rule.measure(cfg)
        assert measure is not None, f"{name} measures nothing with every rule on"
        if rule.per_document:
            rows = [measure(doc, DocContext(cfg.thresholds(doc.lang), 3)) for doc in docs]
            out[name] = {column: [row[column] for row in rows] for column in rows[0]}
        else:
            out[name] = {column: list(values) for column, values in measure(docs, domains).items()}
    return out


def test_the_registry_and_the_threshold_table_list_the_same_rules_in_the_same_order():
    assert list(RULES) == list(quality_thresholds.RULES)
    assert QualityConfig().rules == list(RULES)
    assert all(rule.name == name for name, rule in RULES.items())


def test_every_check_names_a_threshold_of_its_own_rule():
    for name, rule in RULES.items():
        own = {t.name: t for t in quality_thresholds.RULES[name]}
        for check in rule.checks:
            if check.field is None:
                continue  # a fixed bound
            assert check.threshold in own, f"{check.reason} reads {check.threshold}, not a threshold of {name}"
            if check.key is not None:
                for lang in ("en", "ko"):
                    assert check.key in own[check.threshold].default(lang), f"{check.field} has no {lang} default"


def test_every_bound_is_checked_by_its_rule():
    for name, rule in RULES.items():
        checked = {check.threshold for check in rule.checks}
        for threshold in quality_thresholds.RULES[name]:
            if threshold.name.startswith(("min_", "max_")):
                assert threshold.name in checked, f"{threshold.name} ({name}) bounds nothing"


@pytest.mark.parametrize("threshold", [t for t in quality_thresholds.thresholds() if not t.name.startswith(("min_", "max_"))],
                         ids=lambda t: t.name)
def test_every_figure_setting_shapes_a_figure_of_its_rule(threshold):
    rule = next(RULES[name] for name, items in quality_thresholds.RULES.items() if threshold in items)
    measure = rule.measure(QualityConfig())
    doc = WordSplitter().docs([TEXT], ["en"])[0]
    low, high = (measure(doc, DocContext(QualityThresholds(**{threshold.name: v}), 3)) for v in (0, 10_000))
    assert low != high


def test_every_threshold_is_an_option_of_every_language_section():
    names = [t.name for t in quality_thresholds.thresholds()]
    assert list(QualityThresholds.model_fields) == names
    assert set(KoreanThresholds.model_fields) == set(names)
    assert len(set(names)) == len(names)


def test_checks_read_their_own_rules_figures(measured):
    for name, rule in RULES.items():
        for check in rule.checks:
            assert check.column in measured[name], f"{check.reason} reads {check.column}, which {name} does not measure"


def test_integer_columns_hold_whole_numbers_and_are_typed_int32(measured, tmp_path):
    for name, rule in RULES.items():
        assert rule.int_columns <= set(measured[name]), f"{name} lists integer columns it does not measure"
        for column in rule.int_columns:
            assert all(float(v).is_integer() for v in measured[name][column]), column
    (tmp_path / "domains").write_text("toto-example.com\n", encoding="utf-8")
    stage = QualityFilter(QualityConfig(blocklist=str(tmp_path / "domains")))
    table, _ = stage.apply(pa.table({"text": [TEXT], "lang": ["en"], "domain": ["toto-example.com"]}), None)
    integer = set().union(*(rule.int_columns for rule in RULES.values()))
    figures = set().union(*(set(columns) for columns in measured.values()))
    assert figures <= set(table.column_names)
    for column in figures:
        assert table.schema.field(column).type == (pa.int32() if column in integer else pa.float32()), column
