"""Gopher quality and repetition rules (Rae et al. 2021, appendix A), as figures per document.

Each `*_figures` function measures one document; `QUALITY_RULE` and
`REPETITION_RULE` (filters/rule.py) pair them with their checks, which
`filters/quality.py` applies to the whole batch. A check whose threshold is None is off.
"""

from __future__ import annotations

import re
from collections import Counter

from filters.rule import Check, Rule, loads_nothing
from filters.text_stats import ALNUM, Doc, LETTER, share

BULLETS = ("•", "-", "*", "·", "●", "▶", "►", "■", "□", "◆", "◇", "▪", "‣", "○", "◦", "➤", "✓", "✔", "※", "→", "▷")
ELLIPSES = ("...", "…")
# A Markdown heading's leading hashes (text kept as Markdown) are structure, not symbols.
MARKDOWN_HEADING = re.compile(r"^[ \t]*#{1,6}(?=\s)", re.MULTILINE)
TOP_NGRAMS = (2, 3, 4)
DUP_NGRAMS = (5, 6, 7, 8, 9, 10)


def quality_figures(doc: Doc, stop_words: int) -> dict[str, float]:
    """Word count and length, symbol and bullet/ellipsis line ratios, stop words, alphabetic words.

    `stop_words` is counted by the caller: English from spaCy's list over words,
    Korean as eojeol ending in a particle or verbal ending (`filters/korean.py`).
    """
    n_words = len(doc.words)
    n_lines = len(doc.lines)
    headings = sum(m.group().count("#") for m in MARKDOWN_HEADING.finditer(doc.text))
    symbols = doc.text.count("#") - headings + sum(doc.text.count(e) for e in ELLIPSES)
    return {
        "q_word_count": n_words,
        "q_mean_word_len": share(sum(len(w) for w in doc.words), n_words),
        "q_symbol_word_ratio": share(symbols, n_words),
        "q_bullet_line_frac": share(sum(line.startswith(BULLETS) for line in doc.lines), n_lines),
        "q_ellipsis_line_frac": share(sum(line.endswith(ELLIPSES) for line in doc.lines), n_lines),
        "q_stop_words": stop_words,
        "q_alpha_word_frac": share(sum(bool(LETTER.search(w)) for w in doc.words), n_words),
    }


QUALITY_RULE = Rule(
    name="gopher_quality",
    measure=loads_nothing(lambda doc, ctx: quality_figures(doc, ctx.stop_words)),
    checks=(
        Check("gopher_quality:word_count", "q_word_count", "min", "min_words"),
        Check("gopher_quality:word_count", "q_word_count", "max", "max_words"),
        Check("gopher_quality:mean_word_len", "q_mean_word_len", "min", "min_mean_word_len"),
        Check("gopher_quality:mean_word_len", "q_mean_word_len", "max", "max_mean_word_len"),
        Check("gopher_quality:symbol_ratio", "q_symbol_word_ratio", "max", "max_symbol_word_ratio"),
        Check("gopher_quality:bullet_lines", "q_bullet_line_frac", "max", "max_bullet_line_frac"),
        Check("gopher_quality:ellipsis_lines", "q_ellipsis_line_frac", "max", "max_ellipsis_line_frac"),
        Check("gopher_quality:stop_words", "q_stop_words", "min", "min_stop_words"),
        Check("gopher_quality:alpha_words", "q_alpha_word_frac", "min", "min_alpha_word_frac"),
    ),
    int_columns=frozenset({"q_word_count", "q_stop_words"}),
)


def repetition_figures(doc: Doc) -> dict[str, float]:
    """Duplicate lines/paragraphs (share of items and of characters), top and duplicated n-grams.

    N-gram fractions are characters of words in the top n-gram's occurrences, or in
    repeated n-gram occurrences, over characters of all words.
    """
    figures: dict[str, float] = {}
    n_chars = len(doc.text)
    for kind, items in (("line", doc.lines), ("para", doc.paragraphs)):
        dup_items, dup_chars = _duplicates(items)
        figures[f"q_dup_{kind}_frac"] = share(dup_items, len(items))
        figures[f"q_dup_{kind}_char_frac"] = share(dup_chars, n_chars)
    lengths = [len(w) for w in doc.words]
    word_chars = sum(lengths)
    for n in TOP_NGRAMS:
        figures[f"q_top_{n}gram_char_frac"] = share(_top_ngram_chars(doc.words, n), word_chars)
    # No repeated 5-gram means no repeated longer n-gram: every duplicate figure is 0 (most prose).
    repeats = _has_repeated_ngram(doc.words, DUP_NGRAMS[0])
    for n in DUP_NGRAMS:
        chars = _dup_ngram_chars(doc.words, lengths, n) if repeats else 0
        figures[f"q_dup_{n}gram_char_frac"] = share(chars, word_chars)
    return figures


REPETITION_RULE = Rule(
    name="gopher_repetition",
    measure=loads_nothing(lambda doc, ctx: repetition_figures(doc)),
    checks=(
        Check("gopher_repetition:dup_lines", "q_dup_line_frac", "max", "max_dup_line_frac"),
        Check("gopher_repetition:dup_paragraphs", "q_dup_para_frac", "max", "max_dup_para_frac"),
        Check("gopher_repetition:dup_line_chars", "q_dup_line_char_frac", "max", "max_dup_line_char_frac"),
        Check("gopher_repetition:dup_paragraph_chars", "q_dup_para_char_frac", "max", "max_dup_para_char_frac"),
        *(Check(f"gopher_repetition:top_{n}gram", f"q_top_{n}gram_char_frac", "max", "max_top_ngram_char_frac", n)
          for n in TOP_NGRAMS),
        *(Check(f"gopher_repetition:dup_{n}gram", f"q_dup_{n}gram_char_frac", "max", "max_dup_ngram_char_frac", n)
          for n in DUP_NGRAMS),
    ),
)


def _duplicates(items: list[str]) -> tuple[int, int]:
    """Items seen before in the same document, and their characters.

    Separators with no letter or digit (`---`, `* * *`) repeat by design and are not counted.
    """
    seen: set[str] = set()
    count = chars = 0
    for item in items:
        if not ALNUM.search(item):
            continue
        if item in seen:
            count += 1
            chars += len(item)
        else:
            seen.add(item)
    return count, chars


def _top_ngram_chars(words: list[str], n: int) -> int:
    if len(words) < n:
        return 0
    counts = Counter(zip(*(words[i:] for i in range(n))))
    gram, count = counts.most_common(1)[0]
    return sum(len(w) for w in gram) * count if count > 1 else 0


def _has_repeated_ngram(words: list[str], n: int) -> bool:
    grams = max(len(words) - n + 1, 0)
    return len(set(zip(*(words[i:] for i in range(n))))) < grams


def _dup_ngram_chars(words: list[str], lengths: list[int], n: int) -> int:
    """Characters of words in repeated occurrences of n-grams (first occurrences not counted, no overlaps)."""
    seen: set[tuple[str, ...]] = set()
    chars = i = 0
    while i <= len(words) - n:
        gram = tuple(words[i : i + n])
        if gram in seen:
            chars += sum(lengths[i : i + n])
            i += n
        else:
            seen.add(gram)
            i += 1
    return chars
