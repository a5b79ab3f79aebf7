"""Hashtag stuffing: captions and promotional posts that are mostly `#tags`.

Instagram-style ads pile up hashtags (#맛집 #맛스타그램 #좋아요 #팔로우 ...)
after a line or two of text. A hashtag is `#` followed by a letter, so
Markdown headings (`## 소개`) and issue numbers in prose (`#3`) are not
counted: the figure is hashtags per word, and the decision needs many of them.
"""

from __future__ import annotations

import re
from typing import Any

from filters.text_stats import Doc, share

HASHTAG = re.compile(r"(?<![\w#&])#[^\W\d_]\w*")


def figures(doc: Doc) -> dict[str, float]:
    """Hashtags, and hashtags per word."""
    n = len(HASHTAG.findall(doc.text))
    return {"q_hashtags": n, "q_hashtag_word_frac": share(n, len(doc.words))}


def checks(th: Any) -> list[tuple[str, str, str, float | None]]:
    return [("hashtags:stuffing", "q_hashtag_word_frac", "max", th.max_hashtag_word_frac)]
