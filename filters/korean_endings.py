"""Regenerate `filters/data/korean_endings.tsv`: the eojeol endings that mark Korean prose.

Korean grammar sits at the end of each eojeol: particles (`학교에`, `Join은`) and
verbal endings (`갔다`, `먹으면서`). A sentence has one on nearly every eojeol; a
menu, a tag cloud or a keyword list of bare nouns has almost none. Counting eojeol
that end in one is the Korean stop-word figure (`filters/korean.py`), and needs no
analyser per document; the analyser is run here once, offline, to say which
endings are grammar.

Kiwi analyses Korean sentences from shared data that the evaluation set does not
use (KorNLI and KorSTS, translated news and captions, and NSMC's raw movie reviews
for informal endings). For every eojeol ending in Hangul, each of its last one to
three syllables is a candidate; it is grammar in that eojeol when Kiwi's trailing
particles and endings (J*, E* tags) cover it. A candidate is kept when it is seen
often and is grammar in nearly all its occurrences (`나라가` yes, `아이` no), and
only when no shorter kept ending already covers it.

Usage: PYTHONPATH=. .venv/bin/python -m filters.korean_endings [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import re
from collections import Counter
from itertools import islice
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent / "data" / "korean_endings.tsv"
MIN_SEEN = 30  # occurrences as the end of an eojeol
MIN_GRAMMAR_SHARE = 0.9  # of those, the share where Kiwi reads it as particles or endings
MAX_SYLLABLES = 3
NSMC_REVIEWS = 30_000
EOJEOL = re.compile(r"\S+")
TRAILING_MARKS = re.compile(r"[^\w]+$")
HANGUL_TAIL = re.compile(r"[\uac00-\ud7a3]+$")


def sentences(data: Path) -> list[str]:
    """KorNLI/KorSTS sentences and the first NSMC reviews: Korean the evaluation set never sees."""
    out: list[str] = []
    nlu = data / "korean_text/kor_nlu"
    for name in ("xnli.dev.ko.tsv.gz", "sts-train.tsv.gz", "sts-dev.tsv.gz"):
        with gzip.open(nlu / name, "rt", encoding="utf-8") as f:
            for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
                out.extend(row[c] for c in ("sentence1", "sentence2") if row.get(c))
    with gzip.open(data / "korean_text/nsmc/nsmc_raw_reviews_sample.jsonl.gz", "rt", encoding="utf-8") as f:
        out.extend(json.loads(line)["review"] for line in islice(f, NSMC_REVIEWS))
    return list(dict.fromkeys(s for s in out if s.strip()))


def tally(texts: list[str]) -> tuple[Counter, Counter]:
    """Per candidate ending: eojeol ending in it, and those where Kiwi's trailing particles/endings cover it."""
    from kiwipiepy import Kiwi

    seen: Counter = Counter()
    grammar: Counter = Counter()
    for text, tokens in zip(texts, Kiwi(num_workers=1).tokenize(texts)):
        for match in EOJEOL.finditer(text):
            word = TRAILING_MARKS.sub("", match.group())
            hangul = HANGUL_TAIL.search(word)
            if not hangul:
                continue
            end = match.start() + len(word)
            inside = [t for t in tokens if match.start() <= t.start < end]
            tail_start = end
            for token in reversed(inside):
                if not token.tag.startswith(("J", "E")):
                    break
                tail_start = min(tail_start, token.start)
            for k in range(1, min(MAX_SYLLABLES, len(hangul.group())) + 1):
                ending = word[-k:]
                seen[ending] += 1
                grammar[ending] += end - k >= tail_start
    return seen, grammar


def endings(seen: Counter, grammar: Counter) -> list[tuple[str, int, float]]:
    """Kept endings, shortest first, each with how often it was seen and its grammar share."""
    kept: list[tuple[str, int, float]] = []
    for ending in sorted(seen, key=lambda e: (len(e), -seen[e], e)):
        share = grammar[ending] / seen[ending]
        if seen[ending] < MIN_SEEN or share < MIN_GRAMMAR_SHARE:
            continue
        if any(ending.endswith(shorter) for shorter, _, _ in kept):
            continue
        kept.append((ending, seen[ending], round(share, 3)))
    return kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args()
    texts = sentences(args.data)
    kept = endings(*tally(texts))
    header = (
        f"# Eojeol endings that are Korean particles or verbal endings, from Kiwi over {len(texts):,} sentences\n"
        f"# (KorNLI, KorSTS, NSMC); kept when seen >= {MIN_SEEN} times and grammar in >= {MIN_GRAMMAR_SHARE:.0%}.\n"
        "# Regenerate: PYTHONPATH=. python -m filters.korean_endings --data ../shared/data\n"
        "ending\tseen\tgrammar_share\n"
    )
    args.out.write_text(header + "".join(f"{e}\t{n}\t{s}\n" for e, n, s in kept), encoding="utf-8")
    print(f"{len(kept)} endings from {len(texts):,} sentences -> {args.out}")


if __name__ == "__main__":
    main()
