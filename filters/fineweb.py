"""FineWeb line rules (Penedo et al. 2024): punctuated lines, short lines, duplicated line characters, list-likeness."""

from __future__ import annotations

from filters.rule import Check, Rule, loads_nothing
from filters.text_stats import ALNUM, Doc, is_prose_line, share


def figures(doc: Doc, short_line_chars: int) -> dict[str, float]:
    """Shares of prose lines and of short lines, duplicate-line characters, newlines per word.

    A prose line ends a sentence or holds several (`text_stats.is_prose_line`):
    FineWeb counts only line ends, which fails a one-paragraph document cut
    mid-sentence however well written.

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
    return {
        "q_fw_line_punct_frac": share(sum(is_prose_line(line, doc.lang) for line in doc.lines), n_lines),
        "q_fw_short_line_frac": share(sum(len(line) <= short_line_chars for line in doc.lines), n_lines),
        "q_fw_dup_line_char_frac": share(dup_chars, len(doc.text.replace("\n", ""))),
        "q_fw_newline_word_ratio": share(doc.text.count("\n"), len(doc.words)),
    }


RULE = Rule(
    name="fineweb",
    measure=loads_nothing(lambda doc, ctx: figures(doc, ctx.thresholds.short_line_chars)),
    checks=(
        Check("fineweb:line_punct_ratio", "q_fw_line_punct_frac", "min", "min_line_punct_frac"),
        Check("fineweb:short_lines", "q_fw_short_line_frac", "max", "max_short_line_frac"),
        Check("fineweb:dup_line_chars", "q_fw_dup_line_char_frac", "max", "max_fw_dup_line_char_frac"),
        Check("fineweb:list_ratio", "q_fw_newline_word_ratio", "max", "max_newline_word_ratio"),
    ),
)
