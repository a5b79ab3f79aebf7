"""What `corpus recut` costs next to the run it recuts, in CPU seconds.

Runs `corpus run --serial` once over real shared WARCs (every stage, default
settings), then `corpus recut` of that output several times, with the run's
own settings and with a looser classifier cut, each as a child process. Prints
the median CPU of each and the ratio to the run's, two ways:
- whole process: user+sys CPU the OS accounts to the child (interpreter start,
  imports, model loading and the work);
- work: the stage CPU the run meters in stats.json (read to tokens, dedup,
  shards) against the recut's own (`recut`, `dedup`, `shards` in its stats.json).

`--copies N` runs N copies of each input (as distinct files; dedup removes the
copies) to show how the fixed start-up cost weighs less as the run grows.

Usage: python bench/recut.py [--repeat 3] [--copies 1] [WARC ...]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data" / "warc"
DEFAULT_INPUTS = [
    SHARED / "constructed" / "aeb_and_korean_feeds.warc.gz",
    SHARED / "dolma" / "sample-0000.warc.gz",
    SHARED / "resiliparse" / "warcfile.warc.gz",
]
LOOSER = ["--set", "quality.en.min_quality_score=0.0", "--set", "quality.ko.min_quality_score=0.0"]
RECUT_WORK = ("recut", "dedup", "shards")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", nargs="*", type=Path, default=DEFAULT_INPUTS)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--copies", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-recut-") as tmp:
        run = Path(tmp) / "run"
        cmd = ["run", "--serial", "--no-progress", "--output", str(run)]
        for path in copies(args.inputs, args.copies, Path(tmp) / "inputs"):
            cmd += ["--input", str(path)]
        run_cpu = child_cpu(cmd)
        run_work = sum(t["cpu_seconds"] for t in time_of(run).values())
        rows = [("run", run_cpu, run_work, docs(run))]
        for name, extra in (("recut, same settings", []), ("recut, looser classifier cut", LOOSER)):
            whole, work = [], []
            for i in range(args.repeat):
                out = Path(tmp) / f"{name[:5]}-{len(extra)}-{i}"
                whole.append(child_cpu(["recut", str(run), "--output", str(out), *extra]))
                work.append(sum(time_of(out).get(stage, {}).get("cpu_seconds", 0.0) for stage in RECUT_WORK))
            rows.append((name, statistics.median(whole), statistics.median(work), docs(out)))
    print(f"inputs: {', '.join(p.name for p in args.inputs)} x{args.copies}; recut repeats: {args.repeat} (medians)")
    print(f"{'':<30} {'process CPU s':>13} {'ratio':>6} {'work CPU s':>11} {'ratio':>6} {'docs kept':>9}")
    for name, whole, work, kept in rows:
        print(f"{name:<30} {whole:>13.2f} {whole / run_cpu:>6.3f} {work:>11.2f} {work / run_work:>6.3f} {kept:>9}")


def copies(inputs: list[Path], n: int, folder: Path) -> list[Path]:
    if n == 1:
        return inputs
    folder.mkdir()
    made = []
    for i in range(n):
        for path in inputs:
            made.append(folder / f"copy{i}-{path.name}")
            shutil.copyfile(path, made[-1])
    return made


def child_cpu(args: list[str]) -> float:
    """user+sys CPU seconds of `corpus ARGS` run as a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "corpus_cli", *args], check=False, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"corpus {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def time_of(out: Path) -> dict:
    return json.loads((out / "stats.json").read_text())["time"]


def docs(out: Path) -> int:
    return sum(s["docs"] for s in json.loads((out / "manifest.json").read_text())["shards"])


if __name__ == "__main__":
    main()
