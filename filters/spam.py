"""Spam lexicon: gambling, adult, loan and follower-selling terms, counted per category.

HAERAE's Korean web corpus removes pages by a Korean spam lexicon (카지노, 토토,
마사지, 대출, ...). Spam there is often fluent prose around the money words, so
form rules (Gopher, FineWeb) miss it; the words give it away. Terms are counted
as lower-cased substrings, which suits Korean, where a term sits inside an
eojeol with its particle ("토토사이트를"). One count per category is a `q_spam_*`
column; the decision is on the density of all terms per word, so an article
that mentions a casino once is kept and a page that sells one in every
sentence is not. The list ships as `filters/data/spam_terms.yaml`;
`quality.spam_terms` points at another file with the same shape.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from corpus.config import QualityConfig
from filters.rule import Check, DocFigures, Rule
from filters.text_stats import Doc, share

DEFAULT_TERMS = Path(__file__).resolve().parent / "data" / "spam_terms.yaml"
CATEGORIES = ("gambling", "adult", "loan", "followers")


class SpamLexicon:
    """Category → terms, read once per worker."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path).expanduser() if path else DEFAULT_TERMS
        self.terms = load_terms(self.path)

    def figures(self, doc: Doc) -> dict[str, float]:
        """Occurrences of each category's terms, and all occurrences per word."""
        lower = doc.text.lower()
        counts = {category: sum(lower.count(term) for term in self.terms.get(category, ())) for category in CATEGORIES}
        return {
            **{f"q_spam_{category}": n for category, n in counts.items()},
            "q_spam_term_frac": share(sum(counts.values()), len(doc.words)),
        }


def load_terms(path: Path) -> dict[str, list[str]]:
    """The lexicon file: a mapping of category (gambling, adult, loan, followers) to a list of terms."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FileNotFoundError(f"spam lexicon {path} cannot be read ({exc.strerror}): check quality.spam_terms") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"spam lexicon {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not set(data) <= set(CATEGORIES):
        raise ValueError(f"spam lexicon {path} must map some of {', '.join(CATEGORIES)} to lists of terms")
    terms = {}
    for category, items in data.items():
        if not isinstance(items, list) or not all(isinstance(t, str) and t.strip() for t in items):
            raise ValueError(f"spam lexicon {path}: {category} must be a list of non-empty strings")
        terms[category] = [t.strip().lower() for t in items]
    return terms


def _measure(cfg: QualityConfig) -> DocFigures:
    lexicon = SpamLexicon(cfg.spam_terms)
    return lambda doc, ctx: lexicon.figures(doc)


RULE = Rule(
    name="spam",
    measure=_measure,
    checks=(Check("spam:lexicon", "q_spam_term_frac", "max", "max_spam_term_frac"),),
    int_columns=frozenset(f"q_spam_{category}" for category in CATEGORIES),
)
