"""Documents per second per core: corpus-builder against datatrove, same WARCs, same steps.

Both sides run one process on one core over the same WARC files with the same
steps: WARC reader -> trafilatura (same options) -> fastText lid.176 en/ko ->
Gopher repetition + quality rules -> MinHash signatures (128 hashes, 5-grams)
-> Parquet. Ours runs `process_unit` (what a Ray actor runs); datatrove runs a
LocalPipelineExecutor with tasks=1, workers=1. Each side runs in a fresh child
process; its CPU seconds (its own and its children's: datatrove extracts in a
sandbox subprocess) over the processing part are what "per core" divides by.
Each child runs its pipeline twice in the same process and reports both passes:
"cold" (models load, caches fill) and "warm" (what a long-running worker sees);
the ratio line uses warm. Interpreter start-up and imports count on neither side.

Ours runs at the product's defaults, the configuration `corpus run --input ...`
uses with no config file (`--set KEY=VALUE` changes one option, as the CLI's
does). `--steps datatrove` turns off the stages datatrove's pipeline does not
have (PII, token counting, quality rules other than Gopher's) and leaves every
other option at its default. datatrove runs its own defaults for the same steps.

Input: any WARC files (default: four shared ones), rewritten with
`WARC-Identified-Payload-Type` on every response, as Common Crawl writes it
(without it datatrove's reader guesses with libmagic and skips most pages unread).

Quality is shown beside speed when the inputs hold the constructed WARC: token
recall of each side's output against the human-annotated article bodies of its
scrapinghub pages (a page a side dropped scores 0), and over pages both kept.

datatrove lives in its own venv (`make bench-datatrove`), never in .venv.
Usage: .venv/bin/python bench/vs_datatrove.py [--repeat 3] [--steps datatrove] [--set KEY=VALUE ...] [WARC ...]
The output ends with `ratio_vs_datatrove_cold: Y` and then `ratio_vs_datatrove: X`
(ours over datatrove, docs/s per core: cold, then warm).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"
DT_VENV = REPO / "bench" / ".venv-datatrove"
CONSTRUCTED = SHARED / "warc" / "constructed" / "aeb_and_korean_feeds.warc.gz"
DEFAULT_INPUTS = [
    CONSTRUCTED,
    SHARED / "warc" / "dolma" / "sample-0000.warc.gz",
    SHARED / "warc" / "resiliparse" / "warcfile.warc.gz",
    SHARED / "warc" / "resiliparse" / "clueweb-quirk.warc.gz",
]
LID_MODEL = REPO / "models" / "lid.176.ftz"
MINHASH_PERM, NGRAM = 128, 5


DATATROVE_STEPS = {
    "pii.enabled": False,
    "tokenizer.count": False,
    "quality.rules": ["gopher_repetition", "gopher_quality"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", nargs="*", type=Path, default=DEFAULT_INPUTS)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--steps", choices=["defaults", "datatrove"], default="defaults",
        help="defaults: every stage a default run has; datatrove: only the stages datatrove runs",
    )
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                        help="one config option for ours, as `corpus run --set` (repeatable)")
    parser.add_argument("--side", choices=["ours", "datatrove"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--overrides", help=argparse.SUPPRESS)
    args = parser.parse_args()
    inputs = [p.resolve() for p in args.inputs]
    if args.side:  # child process: run one side, print its measurement as JSON
        run = run_ours if args.side == "ours" else run_datatrove
        print(json.dumps(run(inputs, args.out, overrides=json.loads(args.overrides))))
        return
    missing = [str(p) for p in inputs if not p.is_file()]
    if missing:
        sys.exit(f"no such WARC file: {', '.join(missing)}")
    overrides = dict(DATATROVE_STEPS) if args.steps == "datatrove" else {}
    for item in args.sets:
        key, sep, value = item.partition("=")
        if not sep or not key:
            sys.exit(f"--set expects KEY=VALUE (e.g. screen.enabled=true), got {item!r}")
        overrides[key.strip()] = yaml.safe_load(value)
    compare(inputs, args.repeat, overrides)


def compare(inputs: list[Path], repeat: int, overrides: dict) -> None:
    python = DT_VENV / "bin" / "python"
    if not python.exists():
        sys.exit(f"datatrove's venv is missing at {DT_VENV}: run `make bench-datatrove` first")
    gold = gold_bodies() if CONSTRUCTED.resolve() in inputs else {}
    with tempfile.TemporaryDirectory(prefix="vs-dt-input-") as workdir:
        inputs = cc_style_copies(inputs, Path(workdir))
        results = run_sides(python, inputs, repeat, ["--overrides", json.dumps(overrides)], gold)
        print(f"ours: product defaults{''.join(f', {k}={v}' for k, v in overrides.items()) or ' (no overrides)'}")
        report(results, count_page_records(inputs), inputs)


def run_sides(python: Path, inputs: list[Path], repeat: int, flags: list[str], gold: dict[str, str]) -> dict[str, list[dict]]:
    """Each side `repeat` times, alternating which goes first, each in a fresh process."""
    results: dict[str, list[dict]] = {"ours": [], "datatrove": []}
    for i in range(repeat):
        order = ["ours", "datatrove"] if i % 2 == 0 else ["datatrove", "ours"]
        for side in order:
            with tempfile.TemporaryDirectory(prefix=f"vs-dt-{side}-") as tmp:
                exe = sys.executable if side == "ours" else str(python)
                cmd = [exe, __file__, "--side", side, "--out", tmp, *flags, *map(str, inputs)]
                done = subprocess.run(cmd, capture_output=True, text=True, env=_one_thread_env())
                if done.returncode != 0:
                    sys.exit(f"{side} failed:\n{done.stderr[-4000:]}")
                result = json.loads(done.stdout.strip().splitlines()[-1])
                result["recall"] = recall(read_outputs(side, Path(result["output"])), gold)
                results[side].append(result)
    return results


def report(results: dict[str, list[dict]], records: int, inputs: list[Path]) -> None:
    """Medians over repeats. `warm` (the second pass in the same process) is the rate a
    long-running worker sees; `cold` adds model loading and first-call warm-up."""
    print(f"inputs: {len(inputs)} WARC files, {records} response records")
    print(f"{'side':<10} {'pass':<5} {'cpu s':>7} {'wall s':>7} {'docs/s/core':>12} {'kept':>5}")
    rates: dict[tuple[str, str], float] = {}
    for side, runs in results.items():
        for which in ("cold", "warm"):
            cpu = statistics.median(r[which]["cpu_seconds"] for r in runs)
            wall = statistics.median(r[which]["wall_seconds"] for r in runs)
            rates[side, which] = records / cpu
            print(f"{side:<10} {which:<5} {cpu:>7.2f} {wall:>7.2f} {rates[side, which]:>12.1f} {runs[0][which]['kept']:>5}")
    both = set.intersection(*(set(r[0]["recall"]["kept_gold"]) for r in results.values()))
    for side, runs in results.items():
        scores = runs[0]["recall"]["per_page"]
        if not scores:
            print(f"{side}: no gold pages in these inputs (recall needs {CONSTRUCTED.name})")
            continue
        on_both = statistics.mean(scores[k] for k in both) if both else float("nan")
        print(f"{side}: recall on {len(scores)} gold pages {runs[0]['recall']['mean']:.3f} "
              f"(dropped pages count 0); on the {len(both)} pages both kept {on_both:.3f}")
    shares = results["ours"][0]["warm"]["stage_cpu"]
    total = sum(shares.values())
    print("ours, warm, share of stage CPU: " + ", ".join(f"{k} {v / total:.0%}" for k, v in shares.items()))
    print(f"ratio_vs_datatrove_cold: {rates['ours', 'cold'] / rates['datatrove', 'cold']:.2f}  (model loading included)")
    print(f"ratio_vs_datatrove: {rates['ours', 'warm'] / rates['datatrove', 'warm']:.2f}")


# ---------------------------------------------------------------- our side


def run_ours(inputs: list[Path], out: Path, overrides: dict) -> dict:
    sys.path.insert(0, str(REPO))
    from corpus.config import load_config
    from corpus.storage import LocalStorage
    from ray_jobs.unit import UnitModels, WorkUnit, process_unit

    cfg = load_config(None, overrides)
    start = _usage()
    models = UnitModels(cfg)
    passes = []
    for number in range(2):  # cold (models load, caches fill), then warm
        kept, stage_cpu = 0, Counter()
        storage = LocalStorage(out / f"pass-{number}")
        for path in inputs:
            entry = process_unit(WorkUnit.for_input(str(path)), models, storage)
            kept += entry["docs"]
            for stage, t in entry["stats"].get("time", {}).items():
                stage_cpu[stage] += t["cpu_seconds"]
        cpu, wall = _since(start)
        passes.append({"cpu_seconds": cpu, "wall_seconds": wall, "kept": kept, "stage_cpu": dict(stage_cpu)})
        start = _usage()
    return {"cold": passes[0], "warm": passes[1], "output": str(out / "pass-1")}


# ----------------------------------------------------------- datatrove's side


def run_datatrove(inputs: list[Path], out: Path, overrides: dict) -> dict:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup import MinhashDedupSignature
    from datatrove.pipeline.dedup.minhash import MinhashConfig
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.filters import GopherQualityFilter, GopherRepetitionFilter, LanguageFilter
    from datatrove.pipeline.readers import WarcReader
    from datatrove.pipeline.writers import ParquetWriter
    from datatrove.utils.lid import FT176LID

    class LocalLid176(FT176LID):
        """datatrove downloads lid.176.bin at run time; here it reads the same model from disk."""

        @property
        def model(self):
            if self._model is None:
                from fasttext.FastText import _FastText

                self._model = _FastText(str(LID_MODEL))
            return self._model

    folder = out / "input"
    folder.mkdir(parents=True)
    for path in inputs:
        (folder / path.name).symlink_to(path)
    language = LanguageFilter(languages=["en", "ko"])
    language.model = LocalLid176(["en", "ko"])

    def pipeline(run: Path) -> list:
        return [
            WarcReader(str(folder), glob_pattern="*.warc.gz"),
            Trafilatura(timeout=60),  # generous: a noisy machine must not turn slowness into skipped pages
            language,
            GopherRepetitionFilter(),
            GopherQualityFilter(),
            ParquetWriter(str(run / "docs")),
            MinhashDedupSignature(
                str(run / "signatures"),
                config=MinhashConfig(n_grams=NGRAM, num_buckets=MINHASH_PERM // 8, hashes_per_bucket=8),
            ),
        ]
    passes = []
    for number in range(2):  # cold (models load, caches fill), then warm: the next task of the same process
        run = out / f"pass-{number}"
        start = _usage()
        steps = pipeline(run)
        LocalPipelineExecutor(pipeline=steps, tasks=1, workers=1, logging_dir=str(run / "logs")).run()
        cpu, wall = _since(start)
        kept = sum(1 for p in (run / "docs").rglob("*.parquet") for _ in _parquet_rows(p))
        passes.append({"cpu_seconds": cpu, "wall_seconds": wall, "kept": kept})
    return {"cold": passes[0], "warm": passes[1], "output": str(out / "pass-1")}


# ------------------------------------------------------------------ helpers


def _usage() -> tuple[float, float]:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime, time.perf_counter()


def _since(start: tuple[float, float]) -> tuple[float, float]:
    cpu, wall = _usage()
    return cpu - start[0], wall - start[1]


def _one_thread_env() -> dict[str, str]:
    """One core per side: no thread pools in BLAS, tokenizers or Arrow."""
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
        env[name] = "1"
    env["TOKENIZERS_PARALLELISM"] = "false"
    env["DATATROVE_COLORIZE_LOGS"] = "0"
    return env


def _parquet_rows(path: Path):
    import pyarrow.parquet as pq

    yield from pq.read_table(path, columns=["id"])["id"].to_pylist()


def cc_style_copies(inputs: list[Path], folder: Path) -> list[Path]:
    """The inputs with `WARC-Identified-Payload-Type` on every response, as Common Crawl
    writes it. Without it datatrove's reader guesses the type with libmagic and skips
    most of these pages unread, which would make it look faster for doing less."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.warcwriter import WARCWriter

    copies = []
    for number, path in enumerate(inputs):
        stem = path.name.removesuffix(".gz").removesuffix(".warc")
        target = folder / f"{number:03d}-{stem}.warc.gz"  # always gzip, the name datatrove's glob expects
        with open(path, "rb") as source, open(target, "wb") as sink:
            writer = WARCWriter(sink, gzip=True)
            for record in ArchiveIterator(source):
                if record.rec_type == "response" and record.http_headers is not None:
                    mime = (record.http_headers.get_header("Content-Type") or "").split(";")[0].strip().lower()
                    record.rec_headers.replace_header("WARC-Identified-Payload-Type", mime or "text/html")
                writer.write_record(record)
        copies.append(target)
    return copies


def count_page_records(inputs: list[Path]) -> int:
    from warcio.archiveiterator import ArchiveIterator

    n = 0
    for path in inputs:
        with open(path, "rb") as handle:
            n += sum(1 for record in ArchiveIterator(handle) if record.rec_type == "response")
    return n


def read_outputs(side: str, out: Path) -> dict[str, str]:
    """url -> output text of one side's run."""
    import pyarrow.parquet as pq

    texts: dict[str, str] = {}
    if side == "ours":
        for path in sorted((out / "_work" / "staged").glob("*.parquet")):
            table = pq.read_table(path, columns=["url", "text"])
            texts.update(zip(table["url"].to_pylist(), table["text"].to_pylist()))
        return texts
    for path in sorted((out / "docs").rglob("*.parquet")):
        for row in pq.read_table(path).to_pylist():
            texts[row["metadata"]["url"]] = row["text"]
    return texts


def gold_bodies() -> dict[str, str]:
    """url -> human-annotated article body, for the gold pages inside the constructed WARC."""
    truth = json.loads((SHARED / "gold_extraction" / "scrapinghub_aeb" / "ground-truth.json").read_text())
    index = json.loads(CONSTRUCTED.with_name("aeb_and_korean_feeds.index.json").read_text())
    gold = {}
    for entry in index:
        if entry.get("gold"):
            key = entry["gold"].split("#", 1)[1]
            gold[entry["uri"]] = truth[key]["articleBody"]
    return gold


def recall(texts: dict[str, str], gold: dict[str, str]) -> dict:
    """Bag-of-words recall of each gold body in the output (0 for a page not in the output)."""
    per_page = {}
    for url, body in gold.items():
        want = Counter(_words(body))
        got = Counter(_words(texts.get(url, "")))
        per_page[url] = sum(min(n, got[w]) for w, n in want.items()) / max(1, sum(want.values()))
    return {
        "per_page": per_page,
        "mean": statistics.mean(per_page.values()) if per_page else float("nan"),
        "kept_gold": sorted(url for url in gold if url in texts),
    }


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


if __name__ == "__main__":
    main()
