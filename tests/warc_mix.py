"""WARC files of one mix, dealt from the shared WARCs: what a pilot and the run it
forecasts look like when both sample the same crawl.

Every page record of the source files is read (payload decoded as the pipeline
would read it), shuffled with a fixed seed and dealt round-robin into N part
files, so each part holds the same mix of sources and languages.
"""

from __future__ import annotations

import random
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from tests.conftest import WARC
from tests.warc_factory import write_warc

# Real pages of several crawls: English (dolma, Heritrix, wget), multilingual
# spam (resiliparse), Japanese shops (ClueWeb), Korean and English articles (constructed).
MIX_SOURCES = [
    WARC / "constructed" / "aeb_and_korean_feeds.warc.gz",
    WARC / "dolma" / "sample-0000.warc.gz",
    WARC / "resiliparse" / "warcfile.warc.gz",
    WARC / "resiliparse" / "clueweb-quirk.warc.gz",
    WARC / "ukwa" / "IAH-urls-wget.warc.gz",
    WARC / "ukwa" / "IAH-20080430204825-00000-blackbook-truncated.warc.gz",
]


def deal_warcs(dest: Path, parts: int, seed: int = 0, sources: list[Path] | None = None) -> list[Path]:
    """Write `parts` WARC files of the same mix under `dest`; returns their paths."""
    pages = []
    for source in sources or MIX_SOURCES:
        with open(source, "rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                content_type = record.http_headers.get_header("Content-Type") or "text/html"
                pages.append((record.rec_headers.get_header("WARC-Target-URI"), record.content_stream().read(), content_type))
    random.Random(seed).shuffle(pages)
    dest.mkdir(parents=True, exist_ok=True)
    return [write_warc(dest / f"mix-{seed}-{i:02d}.warc.gz", pages[i::parts]) for i in range(parts)]
