"""PII recall per kind and false positives on a labelled set of forms.

Runs the real PII stage (`build_redactor` with the default config and a key,
then `apply` over an Arrow table, as the pipeline does) on
bench/pii_forms.jsonl: positives of every kind written many ways inside Korean
and English sentences, and lookalikes (order numbers, dates, versions, ISBNs,
prices, timestamps, product codes...). A positive is caught when its value, as
written, is gone from the text and its kind was counted; a lookalike is a false
positive when the text changed at all. Prints recall per kind, the misses, and
the false positives.

Usage: .venv/bin/python bench/pii_recall.py [--forms bench/pii_forms.jsonl] [--rounds 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa

from corpus.config import PIIConfig
from corpus.stats import Stats
from filters.pii import KINDS, build_redactor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forms", type=Path, default=Path(__file__).with_name("pii_forms.jsonl"))
    parser.add_argument("--rounds", type=int, default=20, help="passes timed for the forms/s figure")
    args = parser.parse_args()
    forms = [json.loads(line) for line in args.forms.read_text(encoding="utf-8").splitlines() if line.strip()]
    redactor = build_redactor(PIIConfig(key="bench"), {})
    table = pa.table({"text": [f["text"] for f in forms]})
    out, _ = redactor.apply(table, Stats())
    texts, counts = out["text"].to_pylist(), out["pii"].to_pylist()

    caught, total, misses, false_positives = Counter(), Counter(), [], []
    for form, text, found in zip(forms, texts, counts):
        kind = form["kind"]
        if kind is None:
            if text != form["text"]:
                false_positives.append((form, text))
            continue
        total[kind] += 1
        if form["value"] not in text and found[kind] >= 1:
            caught[kind] += 1
        else:
            misses.append((form, text))

    positives = sum(total.values())
    print(f"{len(forms)} forms: {positives} positives, {len(forms) - positives} lookalikes")
    print(f"{'kind':8s} {'caught':>7s} {'of':>4s} {'recall':>7s}")
    for kind in KINDS:
        print(f"{kind:8s} {caught[kind]:7d} {total[kind]:4d} {caught[kind] / max(total[kind], 1):7.1%}")
    print(f"{'all':8s} {sum(caught.values()):7d} {positives:4d} {sum(caught.values()) / positives:7.1%}")
    print(f"false positives: {len(false_positives)} of {len(forms) - positives} lookalikes")
    for form, text in misses:
        print(f"  missed {form['id']} {form['kind']} ({form['form']}): {text}")
    for form, text in false_positives:
        print(f"  false positive {form['id']} ({form['form']}): {text}")
    print(f"speed: {_forms_per_second(redactor, table, args.rounds):,.0f} forms/s per core (median of {args.rounds})")


def _forms_per_second(redactor, table: pa.Table, rounds: int) -> float:
    """Median forms per CPU-second of the stage over the whole set."""
    seconds = []
    for _ in range(rounds):
        start = time.process_time()
        redactor.apply(table, Stats())
        seconds.append(time.process_time() - start)
    return table.num_rows / statistics.median(seconds)


if __name__ == "__main__":
    main()
