"""Kept % per clean register and dropped % per junk type, per language: the README's quality table.

Runs the labelled evaluation set (filters/eval_sets.py: ../shared/data plus
constructed junk) through the real stages with the product's defaults, or a
config file (`--config`, e.g. one written by `corpus calibrate`), and prints one
Markdown table per language: calibration half and held-back half side by
side, and the rules that dropped documents (count in brackets). Targets: clean
>= 97% kept, junk >= 95% dropped; a row that misses is marked with ✗.

`--decisions FILE` also writes each document's outcome (set, half, key, drop
reason or `kept`) as JSON lines, sorted, so two runs (before and after a change
to how figures are computed) can be compared document by document with `diff`.

Usage: .venv/bin/python bench/quality_eval.py [--data ../shared/data] [--config FILE] [--per-set N] [--decisions FILE]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from corpus.config import load_config
from filters.eval_sets import HALVES, evaluation_sets
from ray_jobs.quality_eval import BATCH, SetResult, drop_reasons, eval_config
from ray_jobs.unit import UnitModels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--config", type=Path, default=None, help="run config (YAML); default: the product defaults")
    parser.add_argument("--per-set", type=int, default=None, help="evenly spaced sample of at most N per set")
    parser.add_argument("--decisions", type=Path, default=None, help="write every document's outcome here (JSON lines)")
    args = parser.parse_args()
    started = time.perf_counter()
    sets = evaluation_sets(args.data, args.per_set)
    models = UnitModels(eval_config(load_config(args.config)))
    rows = decisions(sets, models)
    halves = {half: [result(s, [r for r in rows if (r["lang"], r["set"], r["half"]) == (s.lang, s.name, half)]) for s in sets]
              for half in HALVES}
    if args.decisions:
        args.decisions.write_text("".join(f"{json.dumps(row, ensure_ascii=False)}\n" for row in rows))
    for lang in ("ko", "en"):
        print(table(lang, halves))
    misses = sum(not r.passed for results in halves.values() for r in results if r.docs)
    print(f"{sum(len(s.samples) for s in sets):,} documents in {time.perf_counter() - started:.0f} s; "
          f"{misses} row-halves miss the target")


def decisions(sets, models: UnitModels) -> list[dict]:
    """Every document's outcome, sorted by set, half and key."""
    rows = []
    for labelled in sets:
        for half in HALVES:
            samples = labelled.half(half).samples
            for start in range(0, len(samples), BATCH):
                batch = samples[start : start + BATCH]
                for sample, reason in zip(batch, drop_reasons(batch, models)):
                    rows.append({"lang": labelled.lang, "set": labelled.name, "half": half, "key": sample.key,
                                 "outcome": reason or "kept"})
    return sorted(rows, key=lambda r: (r["lang"], r["set"], r["half"], r["key"]))


def result(labelled, rows: list[dict]) -> SetResult:
    """One half of one set, as `ray_jobs.quality_eval.evaluate` counts it."""
    reasons = Counter(r["outcome"] for r in rows if r["outcome"] != "kept")
    return SetResult(labelled.name, labelled.lang, labelled.clean, len(rows), len(rows) - sum(reasons.values()), reasons)


def table(lang: str, halves: dict[str, list[SetResult]]) -> str:
    """One language's Markdown table, clean registers first."""
    cal, held = (halves[h] for h in HALVES)
    lines = [f"\n**{lang}**\n", "| set | docs (cal / held) | kept % cal | kept % held | dropped by |", "|---|---|---|---|---|"]
    rows = [(a, b) for a, b in zip(cal, held) if a.lang == lang]
    for a, b in rows:
        if not a.clean and (a, b) == next(row for row in rows if not row[0].clean):
            lines.append("| **junk** | | **dropped % cal** | **dropped % held** | |")
        share = (lambda r: r.kept_share) if a.clean else (lambda r: r.dropped_share)
        marks = ["" if r.passed or not r.docs else " ✗" for r in (a, b)]
        reasons = Counter(a.reasons) + Counter(b.reasons)
        top = ", ".join(f"`{k}` ({v})" for k, v in reasons.most_common(3)) or "—"
        lines.append(f"| {a.name} | {a.docs} / {b.docs} | {share(a):.1%}{marks[0]} | {share(b):.1%}{marks[1]} | {top} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
