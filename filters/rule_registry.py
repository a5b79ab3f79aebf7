"""Every quality rule, by name: the one list `filters/quality.py`, recut and calibrate iterate.

A rule's code is one file in `filters/` exporting a `Rule` (filters/rule.py);
its thresholds are named under the same name in corpus/quality_thresholds.py,
whose order is the default order of `quality.rules`.
"""

from __future__ import annotations

from filters import blocklist, c4, classifier, fineweb, gopher, hashtags, korean, listing, spam
from filters.rule import Rule

RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        blocklist.RULE,
        spam.RULE,
        hashtags.RULE,
        listing.RULE,
        korean.RULE,
        gopher.QUALITY_RULE,
        gopher.REPETITION_RULE,
        c4.RULE,
        fineweb.RULE,
        classifier.RULE,
    )
}
