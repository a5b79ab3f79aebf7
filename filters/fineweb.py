"""FineWeb line rules (Penedo et al. 2024): punctuated lines, short lines, duplicated line characters, list-likeness."""

from __future__ import annotations

import re

from filters.gopher import BULLETS
from filters.rule import Check, Rule, loads_nothing
from filters.text_stats import ALNUM, LETTER, Doc, is_prose_line, share

# A list item's marker: a bullet (Gopher's, and a changelog's "+"), or a number with "." or ")";
# then a task list's box, if any ("[ ]", "[x]"), which is a mark too, not a word.
LIST_MARKER = re.compile(r"(?:[" + re.escape("".join(BULLETS)) + r"+]|\(?\d{1,3}[.)](?=\s))\s*(?:\[[ xX]\]\s*)?")
URL = re.compile(r"\S*://\S*|www\.\S+")


def figures(doc: Doc, short_line_chars: int, statement_item_words: int | None) -> dict[str, float]:
    """Shares of prose lines and of short lines, duplicate-line characters, newlines per word.

    A prose line ends a sentence or holds several (`text_stats.is_prose_line`):
    FineWeb counts only line ends, which fails a one-paragraph document cut
    mid-sentence however well written. A list item that is a statement counts
    too (`is_statement_item`); `q_fw_statement_item_frac` is the share of lines
    that count only for that reason, so FineWeb's own share is the difference.

    `short_line_chars` is per language: a Korean character carries about two
    English characters' worth of text, so Korean uses a shorter bound.
    """
    n_lines = len(doc.lines)
    seen: set[str] = set()
    dup_chars = 0
    for line in doc.lines:
        if line in seen and ALNUM.search(line):
            dup_chars += len(line)
        seen.add(line)
    prose = [is_prose_line(line, doc.lang) for line in doc.lines]
    items = [not p and is_statement_item(line, statement_item_words) for p, line in zip(prose, doc.lines)]
    return {
        "q_fw_line_punct_frac": share(sum(prose) + sum(items), n_lines),
        "q_fw_statement_item_frac": share(sum(items), n_lines),
        "q_fw_short_line_frac": share(sum(len(line) <= short_line_chars for line in doc.lines), n_lines),
        "q_fw_dup_line_char_frac": share(dup_chars, len(doc.text.replace("\n", ""))),
        "q_fw_newline_word_ratio": share(doc.text.count("\n"), len(doc.words)),
    }


def is_statement_item(line: str, min_words: int | None) -> bool:
    """A list item that says something: a marker, then at least `min_words` words (None: no item counts).

    Changelogs and bullet notes state one thing per item and leave the full stop
    off ("+ Villagers will harvest crops and plant new ones"); the items of a link
    list, a menu or a keyword line are titles of a few words. Words are
    whitespace-separated tokens holding a letter (a Korean eojeol is one); URLs
    are not words.
    """
    if min_words is None:
        return False
    marker = LIST_MARKER.match(line)
    if marker is None:
        return False
    words = URL.sub(" ", line[marker.end():]).split()
    return sum(bool(LETTER.search(word)) for word in words) >= min_words


RULE = Rule(
    name="fineweb",
    measure=loads_nothing(
        lambda doc, ctx: figures(doc, ctx.thresholds.short_line_chars, ctx.thresholds.statement_item_words)
    ),
    checks=(
        Check("fineweb:line_punct_ratio", "q_fw_line_punct_frac", "min", "min_line_punct_frac"),
        Check("fineweb:short_lines", "q_fw_short_line_frac", "max", "max_short_line_frac"),
        Check("fineweb:dup_line_chars", "q_fw_dup_line_char_frac", "max", "max_fw_dup_line_char_frac"),
        Check("fineweb:list_ratio", "q_fw_newline_word_ratio", "max", "max_newline_word_ratio"),
    ),
)
