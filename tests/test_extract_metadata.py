"""`extract.metadata: false` skips title and date extraction and leaves the text as it was."""

from __future__ import annotations

import gzip

from corpus.config import ExtractConfig
from crawlers.extract import extract_main_text, make_extractor


def test_metadata_off_gives_the_same_text_without_title_and_date(data_dir):
    pages = sorted((data_dir / "gold_extraction" / "scrapinghub_aeb" / "html").glob("*.html.gz"))[:5]
    with_meta, without = make_extractor(ExtractConfig()), make_extractor(ExtractConfig(metadata=False))
    for page in pages:
        html = gzip.decompress(page.read_bytes()).decode("utf-8", errors="replace")
        full, bare = extract_main_text(html, None, with_meta), extract_main_text(html, None, without)
        assert bare.text == full.text
        assert (bare.title, bare.date) == (None, None)
    assert full.title  # the real page has one, so the switch is what removed it
