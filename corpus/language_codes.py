"""Which language codes a fastText language-ID model can produce, and what a
person probably meant by one it cannot.

A code the model never outputs (`kr`, `kor`, `english`) would make a run keep
nothing and still succeed; the config refuses it before any work, naming the
codes that exist and the likely one ("did you mean ko?").
"""

from __future__ import annotations

import difflib
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=4)
def model_languages(path: str | Path) -> frozenset[str]:
    """The language codes a fastText LID model labels text with (`__label__ko` -> `ko`)."""
    import fasttext

    fasttext.FastText.eprint = lambda *args, **kwargs: None  # a deprecation notice on every load
    labels = fasttext.load_model(str(path)).get_labels()
    return frozenset(label.removeprefix("__label__") for label in labels)


def suggest(code: str, valid: frozenset[str]) -> str | None:
    """The valid code meant by `code`: a tag's language (en-US -> en), an ISO
    639-2/3 alias (kor -> ko), a language's English name (korean -> ko), a
    country's official language (kr -> ko), else the closest spelling."""
    from babel import Locale
    from babel.core import get_global
    from babel.languages import get_official_languages

    code = code.strip().lower()
    names = {name.lower(): tag for tag, name in Locale("en").languages.items()}
    base = code.replace("_", "-").split("-")[0]  # en-US -> en
    candidates = [c for c in (base, get_global("language_aliases").get(code), names.get(code)) if c]
    if len(code) == 2:
        candidates += list(get_official_languages(code.upper()))
    for candidate in candidates:
        if candidate in valid:
            return candidate
    close = difflib.get_close_matches(code, sorted(valid), n=1, cutoff=0.6)
    return close[0] if close else None
