"""Korean-specific figures: Hangul share, bare-jamo share, stop words over Kiwi morphemes.

Technical Korean mixes Latin terms, code, URLs and formulas into Hangul prose
("Inner Join은 두 테이블을 ..."), so Hangul's share of *letters* says little
about whether a page is Korean. The figure that decides is the share of words
(space-separated, letters in them, URLs and inline code left out) that hold
Hangul: a Latin term with a particle ("Join은") is a Korean word, an English
paragraph with one Korean word is not Korean. Language ID has already said ko;
this check only catches pages it was unsure of.

spaCy's Korean stop words are morphemes (`있`, `하`, `것`, `그리고`), which an
eojeol like `있었다` only contains, so they are counted over Kiwi's
morphological analysis of the document's first characters: enough to tell
prose from a menu, at a bounded cost per document.
"""

from __future__ import annotations

import re

from spacy.lang.ko.stop_words import STOP_WORDS as KO_STOP_WORDS

from filters.rule import Check, Rule, loads_nothing
from filters.text_stats import HANGUL_JAMO, HANGUL_SYLLABLE, LETTER, Doc, share


class KoreanStopWords:
    """Kiwi loaded once per worker; counts spaCy's Korean stop words among morphemes."""

    def __init__(self, max_chars: int) -> None:
        from kiwipiepy import Kiwi

        self.kiwi = Kiwi(num_workers=1)
        self.max_chars = max_chars

    def count(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        heads = [t[: self.max_chars] for t in texts]
        return [sum(tok.form in KO_STOP_WORDS for tok in tokens) for tokens in self.kiwi.tokenize(heads)]


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
