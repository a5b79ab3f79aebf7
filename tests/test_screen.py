"""The language screen before extraction: cheap, and it loses (almost) nothing the pipeline keeps."""

from __future__ import annotations

import gzip

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus.config import LangIdConfig, RunConfig, ScreenConfig
from corpus.stats import Stats
from corpus.storage import LocalStorage, open_input
from crawlers.screen import REASON, LanguageScreen, cheap_text
from crawlers.warc import iter_records
from filters.langid import LanguageIdentifier
from ray_jobs.unit import UnitModels, WorkUnit, _records_table, process_unit

# Real WARCs in several languages: English and Korean pages, Japanese shop pages,
# Chinese and Russian spam, old Heritrix crawls.
WARCS = [
    "constructed/aeb_and_korean_feeds.warc.gz",
    "resiliparse/clueweb-quirk.warc.gz",
    "resiliparse/warcfile.warc.gz",
    "dolma/sample-0000.warc.gz",
    "ukwa/IAH-urls-wget.warc.gz",
]
MIME = ("text/html", "application/xhtml+xml")


@pytest.fixture(scope="module")
def screen():
    langid = LangIdConfig()
    return LanguageScreen(ScreenConfig(enabled=True), langid, LanguageIdentifier(langid).model)


@pytest.fixture(scope="module")
def wanted_by_pipeline(data_dir, tmp_path_factory):
    """Ids of the documents the pipeline finds in a wanted language (en, ko), per WARC.

    Quality, PII and dedup are off: the screen judges language only, so every
    page in a wanted language is one it must not lose, whatever its quality.
    """
    cfg = RunConfig(quality={"enabled": False}, pii={"enabled": False}, dedup={"enabled": False})
    models = UnitModels(cfg)
    out = LocalStorage(tmp_path_factory.mktemp("full"))
    kept = set()
    for name in WARCS:
        entry = process_unit(WorkUnit.for_input(str(data_dir / "warc" / name)), models, out)
        if entry["staged"]:
            kept |= set(pq.read_table(out.path(entry["staged"]), columns=["id"])["id"].to_pylist())
    return kept


@pytest.mark.slow
def test_screen_loses_under_one_percent_of_the_documents_the_pipeline_keeps(screen, wanted_by_pipeline, data_dir):
    screened = set()
    for name in WARCS:
        records = [r for r in iter_records(str(data_dir / "warc" / name), Stats(), open_input, 10**7, MIME) if not r.problem]
        table, reasons = screen.apply(_records_table(records, Stats()), Stats())
        screened |= {i for i, reason in zip(table["id"].to_pylist(), reasons.to_pylist()) if reason}
    assert len(wanted_by_pipeline) >= 150
    assert len(wanted_by_pipeline & screened) / len(wanted_by_pipeline) < 0.01
    assert len(screened) >= 20  # Japanese shop pages, Chinese and Russian spam


@pytest.mark.slow
def test_screen_is_counted_as_its_own_stage_before_extraction(data_dir, tmp_path):
    models = UnitModels(RunConfig(screen={"enabled": True}, dedup={"enabled": False}))
    entry = process_unit(WorkUnit.for_input(str(data_dir / "warc" / WARCS[1])), models, LocalStorage(tmp_path))
    stages = entry["stats"]["stages"]
    screened = sum(slot.get("dropped", {}).get(REASON, {}).get("docs", 0) for slot in stages["screen"].values())
    read_kept = sum(slot["docs_out"] for slot in stages["read"].values())
    extracted = sum(slot["docs_in"] for slot in stages.get("extract", {}).values())
    assert screened >= 20 and extracted == read_kept - screened


def test_japanese_page_is_screened_and_korean_legacy_encoding_is_not(screen, data_dir):
    japanese = _page(data_dir / "encoding/chardet/SHIFT_JIS", "text/html")
    korean = _page(data_dir / "encoding/chardet/EUC-KR", "text/html")  # no charset declared: sniffed
    assert screen.decide(*japanese) == [REASON]
    assert screen.decide(*korean) == [None]


def test_declared_wanted_language_and_tiny_pages_go_on_to_extraction(screen):
    russian = "Привет, это страница на русском языке о погоде и новостях города. " * 5
    pages = [
        f"<html lang='ko'><body><p>{russian}</p></body></html>".encode(),
        b"<html><body><p>\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82</p></body></html>",
        f"<html><body><p>{russian}</p></body></html>".encode(),
    ]
    table = pa.table({"content_type": ["text/html; charset=utf-8"] * 3})
    assert screen.decide(table, pages) == [None, None, REASON]


def test_cheap_text_drops_scripts_styles_and_tags():
    page = "<html><head><style>p{color:red}</style><script>var x = '<p>no</p>';</script></head>" \
           "<body><!-- hidden --><p>Hello &amp; welcome</p><div>world</div></body></html>"
    assert cheap_text(page) == "Hello & welcome world"


def _page(folder, content_type):
    path = next(p for p in sorted(folder.iterdir()) if p.suffix in (".html", ".htm", ".gz", ".xml"))
    body = path.read_bytes()
    if path.suffix == ".gz":
        body = gzip.decompress(body)
    return pa.table({"content_type": [content_type]}), [body]
