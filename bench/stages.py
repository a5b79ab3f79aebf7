"""Per-stage throughput of the per-document chain on real WARCs, one core.

Runs `process_unit` (the same code a Ray actor runs) in this process over the
shared WARC files, several times, and prints for each stage the median docs/s
and MB/s per core (CPU seconds of this process) and its share of the time.

Usage: python bench/stages.py [--repeat 3] [WARC ...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from corpus.config import load_config  # noqa: E402
from corpus.stats import Stats  # noqa: E402
from corpus.storage import LocalStorage  # noqa: E402
from ray_jobs.unit import UnitModels, WorkUnit, process_unit  # noqa: E402

SHARED = REPO.parent / "shared" / "data" / "warc"
DEFAULT_INPUTS = [
    SHARED / "constructed" / "aeb_and_korean_feeds.warc.gz",
    SHARED / "dolma" / "sample-0000.warc.gz",
    SHARED / "resiliparse" / "warcfile.warc.gz",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", nargs="*", type=Path, default=DEFAULT_INPUTS)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    models = UnitModels(load_config())
    runs = [one_pass(args.inputs, models) for _ in range(args.repeat)]
    report(runs)


def one_pass(inputs: list[Path], models: UnitModels) -> Stats:
    stats = Stats()
    with tempfile.TemporaryDirectory() as tmp:
        out = LocalStorage(tmp)
        for path in inputs:
            stats.merge_dict(process_unit(WorkUnit.for_input(str(path)), models, out)["stats"])
    return stats


def report(runs: list[Stats]) -> None:
    stages = list(runs[0].time)
    total = [sum(r.time[s]["cpu_seconds"] for s in stages) for r in runs]
    print(f"{'stage':<10} {'docs in':>8} {'MB in':>8} {'docs/s/core':>12} {'MB/s/core':>10} {'share':>6}")
    for stage in stages:
        entry = runs[0].to_dict()["stages"].get(stage, {})
        docs = sum(v["docs_in"] for v in entry.values())
        mb = sum(v["bytes_in"] for v in entry.values()) / 1e6
        cpu = statistics.median(r.time[stage]["cpu_seconds"] for r in runs)
        share = cpu / statistics.median(total)
        print(f"{stage:<10} {docs:>8} {mb:>8.2f} {docs / cpu:>12.1f} {mb / cpu:>10.2f} {share:>6.1%}")
    docs_in = sum(v["docs_in"] for v in runs[0].to_dict()["stages"]["read"].values())
    print(f"{'all':<10} {docs_in:>8} {'':>8} {docs_in / statistics.median(total):>12.1f}")


if __name__ == "__main__":
    main()
