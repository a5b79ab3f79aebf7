"""Main text from HTML with trafilatura, plus the metadata trainers ask for."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import trafilatura
from trafilatura.settings import Extractor

from corpus.config import ExtractConfig


@dataclass(slots=True)
class Extraction:
    text: str
    title: str | None
    date: str | None


def make_extractor(cfg: ExtractConfig) -> Extractor:
    """One settings object per worker, built from the run config."""
    # trafilatura logs every unusable page at ERROR; the read/extract stages count them instead.
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    return Extractor(
        output_format="python",
        precision=cfg.favor_precision,
        recall=cfg.favor_recall,
        comments=cfg.include_comments,
        tables=cfg.include_tables,
        dedup=cfg.deduplicate,
        with_metadata=cfg.metadata,
    )


def extract_main_text(html: str, url: str | None, options: Extractor) -> Extraction | None:
    """The page's main text, title and date; None when trafilatura finds no content."""
    options.url = url
    document = trafilatura.bare_extraction(html, url=url, options=options, with_metadata=options.with_metadata)
    if document is None or not document.text:
        return None
    return Extraction(text=document.text, title=document.title, date=document.date)
