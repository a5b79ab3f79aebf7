"""Every quality rule's name and its thresholds, written once: the config's half of a rule.

A rule's code (its figures and checks) lives in one file in `filters/`, listed
in `filters/rule_registry.py`; what a person sets lives here, because the core
cannot import `filters`. `corpus/config.py` builds from this table the
`quality.rules` choices and their default order, and the per-language
threshold sections (`quality.en`, `quality.ko`, `quality.other`).
tests/test_rule_registry.py checks that both halves agree.

English defaults are Gopher's and FineWeb's published values, loosened where
clean text of some register in the evaluation set (bench/quality_eval.py)
failed them. C4's brace and line rules are scored but off, as in FineWeb-2:
they drop code-bearing technical prose and informal writing wholesale.

Korean defaults (`ko=`) were fitted on the calibration half of the same set:
words are eojeol (longer, fewer), stop words are eojeol ending in particles; forum threads
repeat short comments, technical blogs repeat code lines and are often all
bullets, so the repetition, list and line bounds are looser than English's and
the bullet bound is off. `corpus calibrate` fits these bounds to a team's own
clean and junk text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SAME = object()  # a Korean default that is the English one


@dataclass(frozen=True)
class Threshold:
    """One option of a language's thresholds section: a bound (`min_*`/`max_*`, None turns the check off)
    or a setting that shapes a figure."""

    name: str
    kind: Any
    en: Any
    ko: Any = SAME
    limits: dict[str, Any] = field(default_factory=dict)  # pydantic Field constraints and description

    def default(self, lang: str) -> Any:
        return self.ko if lang == "ko" and self.ko is not SAME else self.en


def _t(name: str, kind: Any, en: Any, ko: Any = SAME, **limits: Any) -> Threshold:
    return Threshold(name, kind, en, ko, limits)


# Rule name -> its thresholds. The order of the rules is the default order of
# `quality.rules`: the first failing check in that order names the drop reason.
RULES: dict[str, tuple[Threshold, ...]] = {
    "blocklist": (),
    "spam": (_t("max_spam_term_frac", float | None, 0.02),),
    "hashtags": (_t("max_hashtag_word_frac", float | None, 0.1),),
    # filters/listing.py: a portal's menu as one sentence-less run, a blog's list of cut-off excerpts. Clean text
    # of the calibration half runs at most 314 words (1920s prose) and has at most 0.02 teaser lines.
    "listing": (
        _t("max_run_words", int | None, 500),
        _t("max_teaser_line_frac", float | None, 0.05),
    ),
    "korean": (
        _t("min_hangul_share", float | None, None),
        _t("min_hangul_word_frac", float | None, None, ko=0.15),
        _t("max_jamo_share", float | None, None, ko=0.1),
    ),
    "gopher_quality": (
        _t("min_words", int | None, 50, ko=30),
        _t("max_words", int | None, 100_000),
        _t("min_mean_word_len", float | None, 3.0, ko=1.5),
        _t("max_mean_word_len", float | None, 10.0, ko=8.0),
        _t("max_symbol_word_ratio", float | None, 0.1),
        _t("max_bullet_line_frac", float | None, 0.9, ko=None),
        _t("max_ellipsis_line_frac", float | None, 0.3),
        # Korean: refitted for eojeol ending in a particle or ending. Every calibration-half clean
        # document has >= 4 of them in its first 200 characters; 2 keeps both halves' outcomes.
        _t("min_stop_words", int | None, 2, ko=2,
           description="tokens from spaCy's stop-word list; Korean adds eojeol ending in a particle or ending"),
        _t("min_alpha_word_frac", float | None, 0.8, ko=0.5),
    ),
    "gopher_repetition": (
        _t("max_dup_line_frac", float | None, 0.3, ko=0.45),
        _t("max_dup_para_frac", float | None, 0.3),
        _t("max_dup_line_char_frac", float | None, 0.2, ko=0.3),
        _t("max_dup_para_char_frac", float | None, 0.2),
        _t("max_top_ngram_char_frac", dict[int, float], {2: 0.2, 3: 0.18, 4: 0.16}, ko={2: 0.25, 3: 0.25, 4: 0.25}),
        # Gopher's 0.15..0.10 dropped news pages that repeat a photo caption in the text (0.18 in the calibration half).
        _t("max_dup_ngram_char_frac", dict[int, float], {5: 0.2, 6: 0.2, 7: 0.2, 8: 0.2, 9: 0.2, 10: 0.2},
           ko={5: 0.25, 6: 0.24, 7: 0.23, 8: 0.22, 9: 0.21, 10: 0.2}),
    ),
    # Scored, text unchanged; only lorem ipsum drops by default.
    "c4": (
        _t("max_lorem_ipsum", int | None, 0),
        _t("max_curly_braces", int | None, None),
        _t("c4_min_words_per_line", int, 3, ge=0),
        _t("max_javascript_line_frac", float | None, None),
        _t("max_policy_line_frac", float | None, None),
        _t("max_c4_removed_char_frac", float | None, None),
    ),
    "fineweb": (
        _t("min_line_punct_frac", float | None, 0.12, ko=0.05),
        _t("max_short_line_frac", float | None, 0.85),
        _t("short_line_chars", int, 30, ko=15, ge=0),
        # A list item of this many words counts as a punctuated line. In the calibration half the
        # items of link lists run at most 5 words (Korean: 3 eojeol); clean Korean items that end a
        # sentence run 7 eojeol at the median.
        _t("statement_item_words", int | None, 6, ge=0,
           description="a list item (bullet or number) of at least this many words counts as punctuated; None: none does"),
        _t("max_fw_dup_line_char_frac", float | None, 0.15, ko=None),
        _t("max_newline_word_ratio", float | None, 0.3, ko=0.8),
    ),
    "quality_classifier": (
        _t("min_quality_score", float | None, 0.03, ko=0.1, ge=0.0, le=1.0,
           description="drop below this classifier score"),
    ),
}


def thresholds() -> list[Threshold]:
    """Every threshold of every rule, in rule order."""
    return [t for rule in RULES.values() for t in rule]
