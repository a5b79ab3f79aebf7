"""Extraction alone, per `extract.mode`: pages/s on one core, how often fast_then_full ran the full path,
how many texts differ from the full path's, and token recall on the gold pages.

Pages: the HTML responses of the given WARCs (default: bench/vs_datatrove.py's four) and the
evaluation set's pages as served (filters/eval_sets.py). Each mode extracts every page `--repeat`
times in this process (after one untimed warm-up pass); CPU seconds of this process, median.
Recall: bench/vs_datatrove.py's measure on the scrapinghub gold pages of the constructed WARC.

Usage: .venv/bin/python bench/extract_modes.py [--repeat 3] [WARC ...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from corpus.config import ExtractConfig, ReadConfig  # noqa: E402
from corpus.stats import Stats  # noqa: E402
from crawlers.decode import charset_from_content_type, decode_html, looks_binary  # noqa: E402
from crawlers.extract import extract_main_text, make_extractor  # noqa: E402
from crawlers.warc import iter_records  # noqa: E402
from filters.eval_sets import clean_sets  # noqa: E402
from vs_datatrove import DEFAULT_INPUTS, SHARED, gold_bodies, recall  # noqa: E402

MODES = ("full", "fast", "fast_then_full")


def pages(inputs: list[Path]) -> list[tuple[str, str]]:
    """(url, decoded HTML) of every page record of the inputs and every evaluation page as served."""
    read, found = ReadConfig(), []
    for path in inputs:
        for record in iter_records(str(path), Stats(), lambda p: open(p, "rb"), read.max_payload_bytes, tuple(read.mime_types)):
            if record.payload and not looks_binary(record.payload):
                found.append((record.url, decode_html(record.payload, charset_from_content_type(record.content_type))[0]))
    for labelled in clean_sets(SHARED):
        if labelled.name.endswith("as served (HTML)"):
            found += [(s.url, decode_html(s.html, None)[0]) for s in labelled.samples]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="*", type=Path, default=DEFAULT_INPUTS)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work, gold = pages(args.inputs), gold_bodies()
    texts: dict[str, dict[str, str]] = {}
    for mode in MODES:
        settings = make_extractor(ExtractConfig(mode=mode))
        seconds = []
        for run in range(args.repeat + 1):
            settings.full_fallbacks = 0
            start, out = time.process_time(), {}
            for url, html in work:
                extraction = extract_main_text(html, url, settings)
                out[url] = extraction.text if extraction else ""
            if run:  # the first pass warms caches and is not timed
                seconds.append(time.process_time() - start)
        texts[mode] = out
        median = statistics.median(seconds)
        score = recall({u: t for u, t in out.items() if t}, gold)
        print(f"{mode}: {len(work) / median:.1f} pages/s ({median:.2f} s CPU median of {seconds}), "
              f"full fallbacks {settings.full_fallbacks}/{len(work)}, "
              f"texts unlike full {sum(out[u] != texts['full'][u] for u in out)}, "
              f"gold recall {score['mean']:.4f} on {len(gold)} pages")


if __name__ == "__main__":
    main()
