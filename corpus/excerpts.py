"""The mark a list page leaves where it cuts a post's excerpt short.

Blog list, tag and archive pages show each post as its title and its first
lines cut off with an ellipsis ("... 1등을 위한 상패 ...", `[…]`). Extraction
uses the mark to notice a list page and the listing rule to drop one, so
both read it from here.
"""

from __future__ import annotations

import re

# An excerpt's cut: an ellipsis, bare or in brackets, alone or after a space, at the end of the line.
CUT = re.compile(r"(?:^|\s)(?:\.{3}|…|\[(?:\.{3}|…)\]|\((?:\.{3}|…)\))$")
CUT_ENDS = ("...", "…", "]", ")")  # the cheap test before the regex
EXCERPT_MIN_WORDS = 5  # words of text before the cut: fewer is a trailing "…", not an excerpt


def cut_at(line: str) -> int | None:
    """Where the line's excerpt cut starts, or None when it ends without one."""
    if not line.endswith(CUT_ENDS):
        return None
    cut = CUT.search(line)
    return None if cut is None else cut.start()


def is_excerpt(line: str) -> bool:
    """A line of at least a few words of text cut off with an ellipsis."""
    start = cut_at(line)
    return start is not None and len(line[:start].split()) >= EXCERPT_MIN_WORDS
