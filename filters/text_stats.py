"""What every quality rule looks at: a document split once into lines, paragraphs and words.

Words are spaCy's rule-based tokens without punctuation and spaces: English
words, and Korean eojeol (space-separated units with punctuation split off).
spaCy's Korean pipeline wants mecab-ko by default; configuring the plain
`spacy.Tokenizer.v1` keeps it offline and dependency-free. Python's `isalpha`
counts Hangul syllables and jamo as letters, so "alphabetic" rules treat Korean
like English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

import spacy

HANGUL_SYLLABLE = re.compile(r"[\uac00-\ud7a3]")
HANGUL_JAMO = re.compile(r"[\u1100-\u11ff\u3131-\u318e]")
LETTER = re.compile(r"[^\W\d_]")
ALNUM = re.compile(r"[^\W_]")
PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’)\]]*\s")

# Closing quotes and brackets that may follow the end of a sentence: `다.”`, `end.)`.
_CLOSERS = "\"'”’»」』)]）"
_TERMINAL_MARKS = (".", "!", "?", "…", "。", "！", "？")
# Final endings of Korean declarative, polite, interrogative and nominalised
# sentences. News headlines and bullet prose often end on them without a period;
# informal writing ends on laughter and tears (ㅋㅋ, ㅎㅎ, ㅠㅠ), a tilde or ^^.
KOREAN_FINAL_ENDINGS = ("다", "요", "죠", "까", "니다", "네", "음", "함", "됨", "임", "오", "걸", "듯")
KOREAN_INFORMAL_MARKS = ("ㅋ", "ㅎ", "ㅠ", "ㅜ", "~", "^^", ";;")
SPACY_LANGS = ("en", "ko")


@dataclass
class Doc:
    """One document, split once for every rule."""

    text: str
    lang: str
    lines: list[str]
    paragraphs: list[str]
    words: list[str]


class WordSplitter:
    """spaCy tokenizers for English and Korean, loaded once per worker."""

    def __init__(self) -> None:
        tokenizer = {"nlp": {"tokenizer": {"@tokenizers": "spacy.Tokenizer.v1"}}}
        self.nlp = {lang: spacy.blank(lang, config=tokenizer) for lang in SPACY_LANGS}

    def docs(self, texts: Iterable[str | None], langs: Iterable[str | None]) -> list[Doc]:
        """Split each text with its language's tokenizer (English rules for other languages)."""
        out = []
        for text, lang in zip(texts, langs):
            text = text or ""
            lang = lang or "und"
            nlp = self.nlp.get(lang, self.nlp["en"])
            words = [t.text for t in nlp.tokenizer(text) if not (t.is_space or t.is_punct)]
            lines = [line.strip() for line in text.split("\n")]
            out.append(
                Doc(
                    text=text,
                    lang=lang,
                    lines=[line for line in lines if line],
                    paragraphs=[p.strip() for p in PARAGRAPH_BREAK.split(text) if p.strip()],
                    words=words,
                )
            )
        return out


def is_prose_line(line: str, lang: str) -> bool:
    """A line that ends a sentence, or a paragraph on one line holding two or more sentence ends.

    A paragraph cut mid-sentence (an excerpt, a wrapped quotation) is still prose;
    a menu item or a list entry holds no sentence end at all.
    """
    return ends_sentence(line, lang) or len(SENTENCE_END.findall(line)) >= 2


def ends_sentence(line: str, lang: str) -> bool:
    """Does the line end like a sentence? Korean lines may end on a final ending without a mark."""
    tail = line.rstrip().rstrip(_CLOSERS)
    if tail.endswith(_TERMINAL_MARKS):
        return True
    return lang == "ko" and tail.endswith(KOREAN_FINAL_ENDINGS + KOREAN_INFORMAL_MARKS)


def share(numerator: float, denominator: float) -> float:
    """numerator / denominator, 0 for an empty denominator."""
    return numerator / denominator if denominator else 0.0
