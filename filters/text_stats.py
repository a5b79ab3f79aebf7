"""What every quality rule looks at: a document split once into lines, paragraphs and words.

Words are spaCy's rule-based tokens without punctuation and spaces: English
words, and Korean eojeol (space-separated units with punctuation split off).
spaCy's Korean pipeline wants mecab-ko by default; configuring the plain
`spacy.Tokenizer.v1` keeps it offline and dependency-free. Python's `isalpha`
counts Hangul syllables and jamo as letters, so "alphabetic" rules treat Korean
like English.

spaCy splits text at whitespace and tokenizes each piece on its own (its own
cache is keyed by the piece), so the words of a text are the words of its
pieces in order. Most pieces are all letters and come out whole; the rest
(punctuation, digits with units, contractions) recur across documents. So the
splitter asks spaCy only once per distinct non-trivial piece and remembers the
answer: the same words as spaCy on the whole text, about ten times faster
(`tests/test_quality_rules.py` checks the two agree on real documents).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import chain
from typing import Iterable

import spacy

HANGUL_SYLLABLE = re.compile(r"[\uac00-\ud7a3]")
HANGUL_JAMO = re.compile(r"[\u1100-\u11ff\u3131-\u318e]")
LETTER = re.compile(r"[^\W\d_]")
ALNUM = re.compile(r"[^\W_]")
SIMPLE_WORD = re.compile(r"[A-Za-z\uac00-\ud7a3]+")  # one spaCy token whatever the language, unless a special case
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
    """spaCy tokenizers for English and Korean, loaded once per worker, with a memory of split pieces."""

    MAX_MEMORY = 200_000  # remembered pieces per language, then it starts again: ~30 MB at most

    def __init__(self) -> None:
        tokenizer = {"nlp": {"tokenizer": {"@tokenizers": "spacy.Tokenizer.v1"}}}
        self.nlp = {lang: spacy.blank(lang, config=tokenizer) for lang in SPACY_LANGS}
        self._special = {lang: {key for key in nlp.tokenizer.rules if key.isalpha()} for lang, nlp in self.nlp.items()}
        self._memory: dict[str, dict[str, tuple[str, ...]]] = {lang: {} for lang in SPACY_LANGS}

    def docs(self, texts: Iterable[str | None], langs: Iterable[str | None]) -> list[Doc]:
        """Split each text with its language's tokenizer (English rules for other languages)."""
        out = []
        for text, lang in zip(texts, langs):
            text = text or ""
            lang = lang or "und"
            lines = [line.strip() for line in text.split("\n")]
            out.append(
                Doc(
                    text=text,
                    lang=lang,
                    lines=[line for line in lines if line],
                    paragraphs=[p.strip() for p in PARAGRAPH_BREAK.split(text) if p.strip()],
                    words=self.words(text, lang),
                )
            )
        return out

    def words(self, text: str, lang: str) -> list[str]:
        """spaCy's tokens of `text` less punctuation and spaces, for `lang` (English rules if not ko)."""
        lang = lang if lang in self.nlp else "en"
        memory = self._memory[lang]
        pieces = text.split()
        try:
            return list(chain.from_iterable(map(memory.__getitem__, pieces)))
        except KeyError:
            self._learn(lang, list(dict.fromkeys(pieces)))
            return list(chain.from_iterable(map(memory.__getitem__, pieces)))

    def _learn(self, lang: str, pieces: list[str]) -> None:
        """Remember the words of each piece not yet known: a run of ASCII letters or Hangul syllables
        that is no special case is one word (other letters, like `ㆍ`, may be split by spaCy's rules); the others go through spaCy in one call, joined by single spaces, and come back apart
        by offset."""
        memory = self._memory[lang]
        if len(memory) + len(pieces) > self.MAX_MEMORY:
            memory.clear()
        special = self._special[lang]
        hard = []
        for piece in (p for p in pieces if p not in memory):
            if SIMPLE_WORD.fullmatch(piece) and piece not in special:
                memory[piece] = (piece,)
            else:
                hard.append(piece)
        if not hard:
            return
        starts, offset = [], 0
        for piece in hard:
            starts.append(offset)
            offset += len(piece) + 1
        words: list[list[str]] = [[] for _ in hard]
        at = 0
        for token in self.nlp[lang].tokenizer(" ".join(hard)):
            while at + 1 < len(starts) and token.idx >= starts[at + 1]:
                at += 1
            if not (token.is_space or token.is_punct):
                words[at].append(token.text)
        for piece, found in zip(hard, words):
            memory[piece] = tuple(found)


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
