"""The quality rules' word splitter gives spaCy's words exactly, on real documents of every register.

`WordSplitter` asks spaCy once per distinct piece of text between spaces and
remembers the answer; every figure counted over words (word count, mean word
length, stop words, n-gram repetition) depends on that being the same list
spaCy gives for the whole text.
"""

from __future__ import annotations

import pytest

from filters.eval_sets import evaluation_sets
from filters.text_stats import WordSplitter


def _spacy_words(splitter: WordSplitter, text: str, lang: str) -> list[str]:
    nlp = splitter.nlp.get(lang, splitter.nlp["en"])
    return [t.text for t in nlp.tokenizer(text) if not (t.is_space or t.is_punct)]


@pytest.fixture(scope="module")
def texts(data_dir):
    return [(s.lang, sample.text) for s in evaluation_sets(data_dir, 12) for sample in s.samples if sample.text]


def test_words_are_spacys_on_every_register_in_both_languages(texts):
    splitter = WordSplitter()
    assert len(texts) > 300 and {lang for lang, _ in texts} == {"ko", "en"}
    for lang, text in texts:
        for rules in (lang, "en" if lang == "ko" else "ko"):  # each text under both tokenizers
            assert splitter.words(text, rules) == _spacy_words(splitter, text, rules), text[:80]


def test_pieces_spacy_splits_or_keeps_by_its_special_cases():
    splitter = WordSplitter()
    text = "Im sure we dont need 10km of road, do we? 중도ㆍ무당파를 고려한 전략 (e.g. U.S. policy) ㅋㅋ 했다."
    for lang in ("en", "ko"):
        assert splitter.words(text, lang) == _spacy_words(splitter, text, lang)
    assert splitter.words("Im", "en") == ["I", "m"] and splitter.words("10km", "en") == ["10", "km"]


def test_a_full_memory_starts_again_and_still_splits_the_same(texts, monkeypatch):
    monkeypatch.setattr(WordSplitter, "MAX_MEMORY", 50)
    splitter = WordSplitter()
    for lang, text in texts[:60]:
        assert splitter.words(text, lang) == _spacy_words(splitter, text, lang)
    assert len(splitter._memory["ko"]) <= 50 + max(len(set(t.split())) for _, t in texts[:60])
