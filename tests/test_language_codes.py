"""What a person meant by a language code the language-ID model cannot produce."""

from __future__ import annotations

import pytest

from corpus.config import LID_MODEL
from corpus.language_codes import model_languages, suggest


@pytest.fixture(scope="module")
def lid_codes() -> frozenset[str]:
    return model_languages(LID_MODEL)


def test_the_codes_are_the_models_labels(lid_codes):
    assert len(lid_codes) == 176 and {"en", "ko", "ja", "zh"} <= lid_codes and "__label__en" not in lid_codes


@pytest.mark.parametrize(
    "given, meant",
    [("kr", "ko"), ("kor", "ko"), ("Korean", "ko"), ("ko_KR", "ko"), ("en-US", "en"), ("eng", "en"), ("jp", "ja"),
     ("cn", "zh")],
)
def test_a_likely_meaning_is_suggested(lid_codes, given, meant):
    assert suggest(given, lid_codes) == meant


def test_nothing_is_suggested_for_nonsense(lid_codes):
    assert suggest("zzzz", lid_codes) is None
