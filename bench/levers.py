"""What each speed lever buys at the defaults, and what it costs in kept documents.

For every lever (config overrides on top of the defaults as they were before
issue 15: trafilatura's fallbacks on, no language screen, title/date on),
one fresh child process runs `process_unit` (what a Ray actor runs) over the
same WARC files twice and reports the second (warm) pass: CPU seconds, each
stage's share, the documents kept after every per-document stage, and token
recall against the human-annotated bodies of the scrapinghub pages in the
constructed WARC (bench/vs_datatrove.py's measure; a dropped page scores 0).
Each lever is compared with that baseline's run in the same repeat: speed
ratio, and which documents the baseline keeps that the lever loses (by id).

Usage: .venv/bin/python bench/levers.py [--repeat 3] [--lever NAME=KEY=VALUE,KEY=VALUE ...] [WARC ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from vs_datatrove import CONSTRUCTED, DEFAULT_INPUTS, _one_thread_env, _since, _usage, gold_bodies, recall  # noqa: E402

# The defaults before issue 15's levers, stated so that a later default change
# does not shift the baseline; every lever is one change on top of it.
BEFORE = {"extract.mode": "full", "screen.enabled": False, "extract.metadata": True}
LEVERS = {
    "before (fast off, screen off)": {},
    "title/date off": {"extract.metadata": False},
    "trafilatura fast": {"extract.mode": "fast"},
    "screen on": {"screen.enabled": True},
    "fast + screen": {"extract.mode": "fast", "screen.enabled": True},
    "fast + screen + title/date off": {"extract.mode": "fast", "screen.enabled": True, "extract.metadata": False},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="*", type=Path, default=DEFAULT_INPUTS)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--lever", action="append", default=[], help="NAME=KEY=VALUE[,KEY=VALUE]: an extra lever")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    inputs = [p.resolve() for p in args.inputs]
    if args.child is not None:
        print(json.dumps(run_child(inputs, args.out, json.loads(args.child))))
        return
    levers = dict(LEVERS)
    for item in args.lever:
        name, _, spec = item.partition("=")
        levers[name] = {k: yaml.safe_load(v) for k, _, v in (kv.partition("=") for kv in spec.split(","))}
    gold = gold_bodies() if CONSTRUCTED.resolve() in inputs else {}
    runs: dict[str, list[dict]] = {name: [] for name in levers}
    for _ in range(args.repeat):
        for name, overrides in levers.items():
            with tempfile.TemporaryDirectory(prefix="levers-") as tmp:
                config = json.dumps(BEFORE | overrides)
                cmd = [sys.executable, __file__, "--child", config, "--out", tmp, *map(str, inputs)]
                done = subprocess.run(cmd, capture_output=True, text=True, env=_one_thread_env())
                if done.returncode != 0:
                    sys.exit(f"{name} failed:\n{done.stderr[-4000:]}")
                result = json.loads(done.stdout.strip().splitlines()[-1])
                texts = result.pop("texts")
                result["recall"] = recall(texts, gold)["mean"] if gold else float("nan")
                runs[name].append(result)
                print(f"# {name}: cpu {result['cpu_seconds']:.2f} s, kept {len(result['kept'])}, "
                      f"recall {result['recall']:.3f}", flush=True)
    report(runs, inputs)


def run_child(inputs: list[Path], out: Path, overrides: dict) -> dict:
    sys.path.insert(0, str(REPO))
    import pyarrow.parquet as pq

    from corpus.config import load_config
    from corpus.storage import LocalStorage
    from ray_jobs.unit import UnitModels, WorkUnit, process_unit

    models = UnitModels(load_config(None, overrides))
    for number in range(2):  # cold (models load, caches fill), then warm: the one reported
        start, stage_cpu = _usage(), {}
        storage = LocalStorage(str(out / f"pass-{number}"))
        for path in inputs:
            entry = process_unit(WorkUnit.for_input(str(path)), models, storage)
            for stage, t in entry["stats"].get("time", {}).items():
                stage_cpu[stage] = stage_cpu.get(stage, 0.0) + t["cpu_seconds"]
        cpu, _ = _since(start)
    texts: dict[str, str] = {}
    kept: list[str] = []
    for path in sorted((out / "pass-1" / "_work" / "staged").glob("*.parquet")):
        table = pq.read_table(path, columns=["id", "url", "text"])
        texts.update(zip(table["url"].to_pylist(), table["text"].to_pylist()))
        kept += table["id"].to_pylist()
    return {"cpu_seconds": cpu, "stage_cpu": stage_cpu, "kept": sorted(kept), "texts": texts}


def report(runs: dict[str, list[dict]], inputs: list[Path]) -> None:
    base = runs["before (fast off, screen off)"]
    print(f"inputs: {len(inputs)} WARC files; medians of {len(base)} warm passes, each lever in a fresh process")
    print(f"{'lever':<32} {'cpu s':>7} {'speed x':>8} {'extract %':>9} {'recall':>7} {'kept':>5} {'lost':>5} {'gained':>6}")
    base_kept = set(base[0]["kept"])
    for name, results in runs.items():
        cpu = statistics.median(r["cpu_seconds"] for r in results)
        ratio = statistics.median(b["cpu_seconds"] / r["cpu_seconds"] for b, r in zip(base, results))
        stage = results[0]["stage_cpu"]
        extract = stage.get("extract", 0.0) / max(sum(stage.values()), 1e-9)
        kept = set(results[0]["kept"])
        print(f"{name:<32} {cpu:>7.2f} {ratio:>8.2f} {extract:>9.0%} {results[0]['recall']:>7.3f} {len(kept):>5} "
              f"{len(base_kept - kept):>5} {len(kept - base_kept):>6}")
        if base_kept - kept:
            print(f"  lost: {sorted(base_kept - kept)[:10]}")


if __name__ == "__main__":
    main()
