"""Title and date are trafilatura's own (computed without the metadata nobody keeps);
`extract.metadata: false` skips them and leaves the text as it was."""

from __future__ import annotations

import gzip

import pytest
import trafilatura
from trafilatura.settings import Extractor

from corpus.config import ExtractConfig
from crawlers.extract import extract_main_text, make_extractor


def _pages(data_dir, n=None):
    pages = sorted((data_dir / "gold_extraction" / "scrapinghub_aeb" / "html").glob("*.html.gz"))[:n]
    return [gzip.decompress(page.read_bytes()).decode("utf-8", errors="replace") for page in pages]


def test_metadata_off_gives_the_same_text_without_title_and_date(data_dir):
    with_meta, without = make_extractor(ExtractConfig()), make_extractor(ExtractConfig(metadata=False))
    for html in _pages(data_dir, 5):
        full, bare = extract_main_text(html, None, with_meta), extract_main_text(html, None, without)
        assert bare.text == full.text
        assert (bare.title, bare.date) == (None, None)
    assert full.title  # the real page has one, so the switch is what removed it


@pytest.mark.slow
def test_text_title_and_date_equal_trafilaturas_full_metadata_extraction(data_dir):
    """60 gold pages: the same text, title and date as trafilatura's
    `bare_extraction(with_metadata=True)` with the same options."""
    cfg = ExtractConfig()
    ours = make_extractor(cfg)
    theirs = Extractor(
        output_format="python", comments=cfg.include_comments, tables=cfg.include_tables, dedup=cfg.deduplicate,
        with_metadata=True,
    )
    dated = 0
    for html in _pages(data_dir, 60):
        mine = extract_main_text(html, "http://example.test/article", ours)
        theirs.url = "http://example.test/article"
        full = trafilatura.bare_extraction(html, url=theirs.url, options=theirs)
        assert (mine.text, mine.title, mine.date) == (full.text, full.title, full.date)
        dated += full.date is not None
    assert dated > 20  # dates were there to compare
