"""Hashtag stuffing: captions and promotional posts that are mostly `#tags`.

Instagram-style ads pile up hashtags (#맛집 #맛스타그램 #좋아요 #팔로우 ...)
after a line or two of text. A hashtag is `#` followed by a letter, so
Markdown headings (`## 소개`) and issue numbers in prose (`#3`) are not
counted: the figure is hashtags per word, and the decision needs many of them.
"""

from __future__ import annotations

import re

from filters.rule import Check, Rule, loads_nothing
from filters.text_stats import Doc, share

HASHTAG = re.compile(r"(?<![\w#&])#[^\W\d_]\w*")


def figures(doc: Doc) -> dict[str, float]:
    """Hashtags, and hashtags per word."""
    n = len(HASHTAG.findall(doc.text))
    return {"q_hashtags": n, "q_hashtag_word_frac": share(n, len(doc.words))}


RULE = Rule(
    name="hashtags",
    measure=loads_nothing(lambda doc, ctx: figures(doc)),
    checks=(Check("hashtags:stuffing", "q_hashtag_word_frac", "max", "max_hashtag_word_frac"),),
    int_columns=frozenset({"q_hashtags"}),
)
