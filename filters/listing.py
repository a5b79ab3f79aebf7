"""Pages that list other pages instead of saying something: portal front pages and blog list pages.

Two shapes survive extraction and read like prose to the other rules:

- A portal front page (a menu of hundreds of links) often comes out of
  trafilatura as one line: link text after link text, thousands of words and
  hardly a sentence end. Written text of any register ends a sentence or a
  line every few dozen words, so the longest stretch of words with neither
  (`q_longest_run_words`) tells a link wall from prose. 1920s magazine prose,
  sparing with full stops, runs up to about 300 words; a portal menu to nearly
  a thousand.
- A blog's list, tag and archive pages show each post as its title and an
  excerpt cut off with an ellipsis ("... 1등을 위한 상패 ...", `[…]`), then the
  next title. A teaser is such a cut, after at least a few words of text,
  followed by a short line that does not end a sentence (the next title) or by
  the end of the page. Writers also trail off with "…" before a heading, so one
  teaser says nothing; `q_teaser_line_frac` is teasers per line, counted from
  two teasers up. Code that elides with `...` is not a teaser: the words
  before the cut must be text, not a line of code.
"""

from __future__ import annotations

import re
from corpus.excerpts import EXCERPT_MIN_WORDS, cut_at
from filters.rule import Check, Rule, loads_nothing
from filters.text_stats import Doc, ends_sentence, share

# A sentence end inside a line: a terminal mark, closing quotes or brackets, then a space or the line's end.
SENTENCE_MARK = re.compile(r"[.!?…。！？][\"'”’)\]」』）»]*(?=\s|$)")
TITLE_MAX_WORDS = 12  # a title is a short line that does not end a sentence
MIN_TEASERS = 2


def figures(doc: Doc) -> dict[str, float]:
    """Words in the longest stretch without a sentence end or line break; teaser lines per line."""
    return {
        "q_longest_run_words": _longest_run(doc.lines),
        "q_teaser_line_frac": _teaser_line_frac(doc.lines, doc.lang),
    }


def _longest_run(lines: list[str]) -> int:
    """Only lines with more words than the longest run so far are split at their sentence ends."""
    longest = 0
    for line in lines:
        if len(line.split()) > longest:
            longest = max(longest, *(len(run.split()) for run in SENTENCE_MARK.split(line)))
    return longest


def _teaser_line_frac(lines: list[str], lang: str) -> float:
    teasers = 0
    for i, line in enumerate(lines):
        start = cut_at(line)
        if start is None:
            continue
        before = line[:start].strip() or (lines[i - 1] if i else "")
        if len(before.split()) < EXCERPT_MIN_WORDS or _looks_like_code(before):
            continue
        after = lines[i + 1] if i + 1 < len(lines) else None
        if after is None or _is_title(after, lang):
            teasers += 1
    return share(teasers, len(lines)) if teasers >= MIN_TEASERS else 0.0


def _is_title(line: str, lang: str) -> bool:
    return len(line.split()) <= TITLE_MAX_WORDS and not ends_sentence(line, lang) and cut_at(line) is None


def _looks_like_code(text: str) -> bool:
    """Shell prompts, braces, assignments and calls: the tell-tales of a code line."""
    return text.startswith(("$ ", "#", "//", ">>>")) or any(mark in text for mark in ("{", "}", "();", " = ", "=>"))


RULE = Rule(
    name="listing",
    measure=loads_nothing(lambda doc, ctx: figures(doc)),
    checks=(
        Check("listing:run_on", "q_longest_run_words", "max", "max_run_words"),
        Check("listing:teasers", "q_teaser_line_frac", "max", "max_teaser_line_frac"),
    ),
    int_columns=frozenset({"q_longest_run_words"}),
)
