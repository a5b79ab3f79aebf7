"""The text form both dedup passes and decontamination compare: what a reader would call "the same text"."""

from __future__ import annotations

import unicodedata


def normalize(text: str | None) -> str:
    """NFKC, lower case, runs of whitespace as one space, no leading/trailing space.

    Full-width and compatibility forms fold to their plain letters (common in
    Korean and CJK pages), so copies that differ only in rendering compare equal.
    """
    if not text:
        return ""
    # str.split() splits on exactly the characters regex \s matches, at a third of the cost.
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())
