"""`extract.mode`: fast_then_full runs trafilatura's full path only where the fast text looks
incomplete, and gets the full path's text there; the pages are real ones from the shared data."""

from __future__ import annotations

import pyarrow as pa
import pytest

from corpus.config import ConfigError, ExtractConfig, load_config
from corpus.stats import Stats
from crawlers.decode import decode_html
from crawlers.extract import extract_main_text, make_extractor
from crawlers.extract_stage import ExtractStage
from crawlers.warc import iter_records
from filters.eval_sets import LabelledSet, clean_sets, junk_sets

MODES = ("full", "fast", "fast_then_full")


def _served_page(data_dir, lang: str, url_part: str) -> tuple[str, str]:
    pages = next(s for s in clean_sets(data_dir) if s.lang == lang and s.name == "news pages as served (HTML)")
    sample = next(s for s in pages.samples if url_part in s.url)
    return decode_html(sample.html, None)[0], sample.url


def _junk_set(data_dir, name: str) -> LabelledSet:
    return next(s for s in junk_sets(data_dir) if s.lang == "ko" and s.name == name)


def _warc_page(data_dir, url: str) -> tuple[str, str]:
    path = data_dir / "warc/dolma/sample-0000.warc.gz"
    for record in iter_records(str(path), Stats(), lambda p: open(p, "rb"), 10 << 20, ("text/html",)):
        if record.url == url:
            return decode_html(record.payload, None)[0], url
    raise AssertionError(f"{url} not in {path}")


def _texts(html: str, url: str) -> tuple[dict[str, str], int]:
    settings = {mode: make_extractor(ExtractConfig(mode=mode)) for mode in MODES}
    texts = {mode: extract_main_text(html, url, s).text for mode, s in settings.items()}
    return texts, settings["fast_then_full"].full_fallbacks


def test_the_default_is_fast_then_full():
    assert load_config().extract.mode == ExtractConfig().mode == "fast_then_full"


def test_a_blog_list_page_takes_the_full_path_whose_text_the_listing_rule_knows(data_dir):
    """The fast path keeps one post's excerpt of a list page, which reads as prose; the page
    shows several excerpts cut off with an ellipsis, so fast_then_full runs the full path."""
    page = next(s for s in _junk_set(data_dir, "blog list and tag pages (HTML)").samples if s.key == "page/5/index.html")
    texts, fallbacks = _texts(decode_html(page.html, None)[0], page.url)
    assert texts["fast"] != texts["full"]
    assert texts["fast_then_full"] == texts["full"] and fallbacks == 1


def test_the_korean_news_page_fast_mode_lost_gets_the_full_text(data_dir):
    """Fast mode dumps the whole donga page (its boilerplate failed gopher_repetition); the full path finds the article."""
    texts, fallbacks = _texts(*_served_page(data_dir, "ko", "donga"))
    assert len(texts["fast"]) > 3 * len(texts["full"])
    assert texts["fast_then_full"] == texts["full"] and fallbacks == 1


def test_a_sliver_of_a_long_page_is_extracted_again_in_full(data_dir):
    """On this page the fast path keeps a few hundred characters of a long article."""
    texts, fallbacks = _texts(*_warc_page(data_dir, "https://joe.cat/"))
    assert len(texts["fast"]) * 5 < len(texts["full"])
    assert texts["fast_then_full"] == texts["full"] and fallbacks == 1


def test_a_page_the_fast_path_gets_right_runs_only_the_fast_path(data_dir):
    texts, fallbacks = _texts(*_served_page(data_dir, "en", "nytimes.com/2019/11/19"))
    assert texts["fast_then_full"] == texts["fast"] == texts["full"] and fallbacks == 0


def test_the_stage_counts_the_full_fallbacks(data_dir):
    pages = [_served_page(data_dir, "ko", "donga"), _served_page(data_dir, "en", "nytimes.com/2019/11/19")]
    table = pa.table({
        "id": ["a", "b"], "url": [url for _, url in pages], "domain": ["donga.com", "nytimes.com"],
        "fetch_time": pa.array([None, None], pa.timestamp("us", tz="UTC")), "source": ["s", "s"],
        "truncated": [False, False], "content_type": ["text/html; charset=utf-8"] * 2,
        "payload": [html.encode("utf-8") for html, _ in pages],
    })
    stats = Stats()
    out, reasons = ExtractStage(ExtractConfig(mode="fast_then_full")).apply(table, stats)
    assert reasons.to_pylist() == [None, None]
    assert stats.counters["extract_full_fallback"] == 1


@pytest.mark.parametrize("yaml_text, named", [
    ("extract:\n  fast: true\n", "extract.fast"),
    ("extract:\n  mode: quick\n", "extract.mode"),
])
def test_a_stale_or_wrong_mode_is_refused_by_name(tmp_path, yaml_text, named):
    path = tmp_path / "run.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert named in str(err.value)
