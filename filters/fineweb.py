"""FineWeb line rules (Penedo et al. 2024): punctuated lines, short lines, duplicated line characters, list-likeness."""

from __future__ import annotations

from typing import Any

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


def checks(th: Any) -> list[tuple[str, str, str, float | None]]:
    return [
        ("fineweb:line_punct_ratio", "q_fw_line_punct_frac", "min", th.min_line_punct_frac),
        ("fineweb:short_lines", "q_fw_short_line_frac", "max", th.max_short_line_frac),
        ("fineweb:dup_line_chars", "q_fw_dup_line_char_frac", "max", th.max_fw_dup_line_char_frac),
        ("fineweb:list_ratio", "q_fw_newline_word_ratio", "max", th.max_newline_word_ratio),
    ]
