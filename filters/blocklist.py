"""URL/domain blocklist, UT1-style: category folders of domain lists, off unless a path is given.

The Université Toulouse 1 blacklists (used by FineWeb and RefinedWeb) ship a
folder per category (`adult/domains`, `gambling/domains`, ...), one domain per
line. `quality.blocklist` names such a folder, or one plain file (category
"blocklist"); with none given the rule is off. A document is blocked when its
domain or any parent domain is listed: `q_blocklisted` is 1 and the drop
reason `blocklist:domain`.
"""

from __future__ import annotations

from pathlib import Path

from corpus.config import QualityConfig
from filters.rule import BatchFigures, Check, Rule


class DomainBlocklist:
    """Domain → category, read once per worker."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self.categories = load_blocklist(self.path)

    def category(self, domain: str | None) -> str | None:
        """The category of `domain` or of its nearest listed parent; None when not listed."""
        if not domain:
            return None
        labels = domain.lower().strip(".").split(".")
        for i in range(len(labels) - 1):
            found = self.categories.get(".".join(labels[i:]))
            if found:
                return found
        return None

    def figures(self, domains: list[str | None]) -> list[int]:
        return [int(self.category(d) is not None) for d in domains]


def load_blocklist(path: Path) -> dict[str, str]:
    """A UT1 folder (CATEGORY/domains files) or one file of domains; `#` comments and blank lines skipped."""
    if path.is_dir():
        files = sorted((f.parent.name, f) for f in path.glob("*/domains"))
        if not files:
            raise FileNotFoundError(f"blocklist folder {path} has no CATEGORY/domains files (UT1 layout)")
    elif path.is_file():
        files = [("blocklist", path)]
    else:
        raise FileNotFoundError(f"blocklist {path} not found: check quality.blocklist")
    categories: dict[str, str] = {}
    for category, file in files:
        for line in file.read_text(encoding="utf-8", errors="replace").splitlines():
            domain = line.split("#", 1)[0].strip().lower().strip(".")
            if domain:
                categories.setdefault(domain, category)
    return categories


def _measure(cfg: QualityConfig) -> BatchFigures | None:
    if not (cfg.blocklist and "blocklist" in cfg.rules):
        return None
    blocklist = DomainBlocklist(cfg.blocklist)
    return lambda docs, domains: {"q_blocklisted": blocklist.figures(domains)}


RULE = Rule(
    name="blocklist",
    measure=_measure,
    checks=(Check("blocklist:domain", "q_blocklisted", "max", 0),),
    int_columns=frozenset({"q_blocklisted"}),
    per_document=False,
    requires="blocklist",
)
