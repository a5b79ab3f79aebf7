"""Korean-specific figures: Hangul share, bare-jamo share, stop words as eojeol ending in particles.

Technical Korean mixes Latin terms, code, URLs and formulas into Hangul prose
("Inner Join은 두 테이블을 ..."), so Hangul's share of *letters* says little
about whether a page is Korean. The figure that decides is the share of words
(space-separated, letters in them, URLs and inline code left out) that hold
Hangul: a Latin term with a particle ("Join은") is a Korean word, an English
paragraph with one Korean word is not Korean. Language ID has already said ko;
this check only catches pages it was unsure of.

Korean has no stop words to match whole: its function words are particles and
verbal endings at the end of each eojeol (`학교에`, `Join은`, `갔다`). The Korean
stop-word figure counts eojeol in the document's first characters that end in
one, from a list Kiwi derived once offline (`filters/korean_endings.py` writes
`filters/data/korean_endings.tsv`): prose has one on nearly every eojeol, a
menu or a keyword list of bare nouns almost none, and no analyser runs per
document.
"""

from __future__ import annotations

import re
from pathlib import Path

from filters.rule import Check, Rule, loads_nothing
from filters.text_stats import HANGUL_JAMO, HANGUL_SYLLABLE, LETTER, Doc, share

ENDINGS_FILE = Path(__file__).resolve().parent / "data" / "korean_endings.tsv"
# The Hangul that ends an eojeol, before any closing punctuation: `은` of `Join은`, `갔다` of `갔다.”`.
EOJEOL_HANGUL_END = re.compile(r"[\uac00-\ud7a3]+(?=[^\w\s]*(?:\s|$))")


def load_endings(path: Path = ENDINGS_FILE) -> tuple[str, ...]:
    """The particle and ending list: first column of the TSV, `#` comments and the header row skipped."""
    rows = [line.split("\t", 1)[0] for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return tuple(row for row in rows[1:] if row)


class KoreanStopWords:
    """Counts eojeol ending in a Korean particle or verbal ending among a document's first characters."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self.endings = load_endings()

    def count(self, texts: list[str]) -> list[int]:
        return [self.count_one(text) for text in texts]

    def count_one(self, text: str) -> int:
        """Eojeol in the first `max_chars` characters whose final Hangul ends in a listed particle or ending."""
        endings = self.endings
        return sum(run.endswith(endings) for run in EOJEOL_HANGUL_END.findall(text[: self.max_chars]))


# Space-separated words holding a Hangul syllable, and holding any letter.
HANGUL_WORD = re.compile(r"[^\s\uac00-\ud7a3]*[\uac00-\ud7a3]\S*")
LETTER_WORD = re.compile(r"[\W\d_]*[^\W\d_]\S*")
NOT_PROSE_MARKS = ("http", "www.", "@", "`")  # the cheap test before the regex
NOT_PROSE = re.compile(r"https?://\S+|www\.\S+|[\w.+-]+@[\w-]+\.[\w.]+|`[^`\n]*`")


def figures(doc: Doc) -> dict[str, float]:
    """Hangul over letters; words holding Hangul over words with letters (URLs, inline code out); bare jamo (ㅋㅋ) over Hangul."""
    letters = len(LETTER.findall(doc.text))
    syllables = len(HANGUL_SYLLABLE.findall(doc.text))
    jamo = len(HANGUL_JAMO.findall(doc.text))
    text = NOT_PROSE.sub(" ", doc.text) if any(mark in doc.text for mark in NOT_PROSE_MARKS) else doc.text
    return {
        "q_hangul_share": share(syllables + jamo, letters),
        "q_hangul_word_frac": share(len(HANGUL_WORD.findall(text)), len(LETTER_WORD.findall(text))),
        "q_jamo_share": share(jamo, syllables + jamo),
    }


RULE = Rule(
    name="korean",
    measure=loads_nothing(lambda doc, ctx: figures(doc)),
    checks=(
        Check("korean:hangul_share", "q_hangul_share", "min", "min_hangul_share"),
        Check("korean:hangul_words", "q_hangul_word_frac", "min", "min_hangul_word_frac"),
        Check("korean:jamo_share", "q_jamo_share", "max", "max_jamo_share"),
    ),
)
