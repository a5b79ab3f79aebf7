"""Token targets (`ko=50B`) and the error a budget raises.

Apart from the forecast so that config can check `cost.forecast_targets` without
importing the accounting that itself reads config.
"""

from __future__ import annotations

import re

SUFFIXES = {"": 1, "K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9, "T": 1e12}


class BudgetError(ValueError):
    """A target or a run that cannot be extrapolated; the message says which and why."""


def parse_target(text: str) -> tuple[str, float]:
    """`ko=50B` → ("ko", 5e10). Suffixes K, M, B (or G), T; plain numbers too."""
    match = re.fullmatch(r"\s*([a-z]{2,3})\s*=\s*([0-9]*\.?[0-9]+)\s*([KMBGT]?)\s*", text, re.IGNORECASE)
    if not match:
        raise BudgetError(f"a target looks like LANG=TOKENS, e.g. ko=50B or en=2.5T; got {text!r}")
    lang, number, suffix = match.groups()
    return lang.lower(), float(number) * SUFFIXES[suffix.upper()]
