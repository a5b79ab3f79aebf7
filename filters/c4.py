"""C4 rules (Raffel et al. 2020): lorem ipsum, curly braces, and the line rules.

C4 deletes offending lines (no terminal punctuation, too few words, "javascript",
cookie and policy notices). Here they are only *scored*: the characters C4 would
delete become `q_c4_removed_char_frac`, and a document where too much would go is
dropped whole. Text is never changed, so a trainer can re-threshold from the
columns without re-running anything, and paragraph structure stays intact
(trafilatura has already removed most navigation). Korean lines may end on a
sentence-final ending without a period (see `text_stats.ends_sentence`).
"""

from __future__ import annotations

from filters.rule import Check, Rule, loads_nothing
from filters.text_stats import Doc, ends_sentence, share

POLICY_MARKERS = (
    "terms of use",
    "privacy policy",
    "cookie policy",
    "uses cookies",
    "use of cookies",
    "use cookies",
    "개인정보처리방침",
    "개인정보 처리방침",
    "이용약관",
    "쿠키를 사용",
    "무단전재",
    "무단 전재",
    "재배포 금지",
    "all rights reserved",
)


def figures(doc: Doc, min_words_per_line: int) -> dict[str, float]:
    """Lorem ipsum and braces per document; javascript, policy, short and unpunctuated line shares."""
    lower = doc.text.lower()
    n_lines = len(doc.lines)
    js = policy = short = unpunctuated = removed_chars = 0
    for line in doc.lines:
        low = line.lower()
        is_js = "javascript" in low
        is_policy = any(marker in low for marker in POLICY_MARKERS)
        is_short = len(line.split()) < min_words_per_line
        is_open = not ends_sentence(line, doc.lang)
        js += is_js
        policy += is_policy
        short += is_short
        unpunctuated += is_open
        if is_js or is_policy or is_short or is_open:
            removed_chars += len(line)
    return {
        "q_c4_lorem_ipsum": int("lorem ipsum" in lower),
        "q_c4_curly_braces": doc.text.count("{"),
        "q_c4_javascript_line_frac": share(js, n_lines),
        "q_c4_policy_line_frac": share(policy, n_lines),
        "q_c4_short_line_frac": share(short, n_lines),
        "q_c4_unpunctuated_line_frac": share(unpunctuated, n_lines),
        "q_c4_removed_char_frac": share(removed_chars, sum(len(line) for line in doc.lines)),
    }


RULE = Rule(
    name="c4",
    measure=loads_nothing(lambda doc, ctx: figures(doc, ctx.thresholds.c4_min_words_per_line)),
    checks=(
        Check("c4:lorem_ipsum", "q_c4_lorem_ipsum", "max", "max_lorem_ipsum"),
        Check("c4:curly_braces", "q_c4_curly_braces", "max", "max_curly_braces"),
        Check("c4:javascript_lines", "q_c4_javascript_line_frac", "max", "max_javascript_line_frac"),
        Check("c4:policy_lines", "q_c4_policy_line_frac", "max", "max_policy_line_frac"),
        Check("c4:removed_chars", "q_c4_removed_char_frac", "max", "max_c4_removed_char_frac"),
    ),
    int_columns=frozenset({"q_c4_lorem_ipsum", "q_c4_curly_braces"}),
)
