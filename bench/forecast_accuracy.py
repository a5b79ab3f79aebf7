"""How well a small pilot forecasts a bigger run of the same mix.

For each split, the shared WARCs' pages are shuffled (a different seed per split)
and dealt into six files of one mix (tests/warc_mix.py). A pilot runs two of
them, the run the other four, each a real `corpus run --serial` in its own
process. `corpus.accounting.budget.predict_run` forecasts the run's CPU and USD from the
pilot's cost.json and the run's page count; the error is against the run's own
cost.json. The old forecast (all CPU scaled with pages, start-up included) is
shown beside it.

    python bench/forecast_accuracy.py [--splits 3]

Prints a Markdown table for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from corpus.accounting.budget import predict_run  # noqa: E402
from tests.warc_mix import deal_warcs  # noqa: E402

PILOT_FILES, RUN_FILES = 2, 4


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--splits", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="forecast-") as tmp:
        for seed in range(args.splits):
            pilot, run = pilot_and_run(Path(tmp) / f"split-{seed}", seed)
            rows.append({"seed": seed, **compare(pilot, run)})
            print(json.dumps(rows[-1]), file=sys.stderr)
    print(table(rows))


def pilot_and_run(workdir: Path, seed: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """cost.json of a 2-file pilot and of a 4-file run over disjoint files of one mix."""
    parts = deal_warcs(workdir / "warc", PILOT_FILES + RUN_FILES, seed)
    pilot = serial_run(parts[:PILOT_FILES], workdir / "pilot")
    run = serial_run(parts[PILOT_FILES:], workdir / "run")
    return pilot, run


def serial_run(inputs: list[Path], out: Path) -> dict[str, Any]:
    """`corpus run --serial` in a fresh process (start-up and all), returning its cost.json."""
    cmd = [sys.executable, "-m", "corpus_cli", "run", "--serial", "--no-progress", "--output", str(out)]
    for path in inputs:
        cmd += ["--input", str(path)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if done.returncode:
        raise RuntimeError(f"corpus run failed:\n{done.stderr[-2000:]}")
    return json.loads((out / "cost.json").read_text())


def compare(pilot: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    """Forecast of `run` from `pilot`, and its error, for CPU (vCPU-hours) and total USD."""
    pages = sum(i["pages"] for i in run["inputs"])
    forecast = predict_run(pilot, pages, files=len(run["inputs"]), workers=1)
    scaled = pilot["total"]["cpu_seconds"] * pages / sum(i["pages"] for i in pilot["inputs"])
    actual_cpu, actual_usd = run["total"]["cpu_seconds"], run["total"]["usd"]
    return {
        "pilot_pages": sum(i["pages"] for i in pilot["inputs"]),
        "run_pages": pages,
        "startup_share_of_pilot": pilot["stages"]["startup"]["cpu_seconds"] / pilot["total"]["cpu_seconds"],
        "run_cpu_seconds": actual_cpu,
        "forecast_cpu_seconds": forecast["cpu_seconds"],
        "cpu_error": forecast["cpu_seconds"] / actual_cpu - 1,
        "usd_error": forecast["usd"] / actual_usd - 1,
        "old_cpu_error": scaled / actual_cpu - 1,
    }


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| split | pilot pages | run pages | start-up share of pilot CPU | run CPU s | forecast CPU s | CPU error | USD error | old forecast's CPU error |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['seed']} | {r['pilot_pages']} | {r['run_pages']} | {r['startup_share_of_pilot']:.0%} | {r['run_cpu_seconds']:.1f} "
            f"| {r['forecast_cpu_seconds']:.1f} | {r['cpu_error']:+.1%} | {r['usd_error']:+.1%} | {r['old_cpu_error']:+.1%} |"
        )
    med = lambda key: statistics.median(abs(r[key]) for r in rows)  # noqa: E731
    lines.append(f"\nMedian absolute error: CPU {med('cpu_error'):.1%}, USD {med('usd_error'):.1%}; old forecast CPU {med('old_cpu_error'):.1%}.")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
