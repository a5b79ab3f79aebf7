"""The WARC reader yields page records and never raises on bad input."""

import hashlib

import pytest

from corpus.stats import Stats
from corpus.storage import open_input
from crawlers.warc import iter_records
from tests.warc_factory import article, write_warc

HTML = ("text/html", "application/xhtml+xml")


def read(path, max_bytes=10_000_000):
    stats = Stats()
    records = list(iter_records(str(path), stats, open_input, max_bytes, HTML))
    return records, stats


def test_constructed_warc_yields_every_response(data_dir):
    records, stats = read(data_dir / "warc/constructed/aeb_and_korean_feeds.warc.gz")
    assert len(records) == 163
    assert stats.counters["records_response"] == 163
    feeds = [r for r in records if r.problem == "not_html"]
    assert len(feeds) == 20 and all("rss" in r.content_type for r in feeds)
    assert not stats.errors


@pytest.mark.parametrize("encoding", ["none", "gzip", "brotli"])
def test_content_encodings_give_identical_payloads(data_dir, encoding):
    def page(name):
        records, stats = read(data_dir / f"warc/ukwa/transfer_compression_{name}.warc.gz")
        pages = [r for r in records if r.problem is None]
        assert len(pages) == 1 and not stats.errors
        return pages[0].payload

    assert hashlib.sha256(page(encoding)).digest() == hashlib.sha256(page("none")).digest()
    assert b"<html" in page(encoding).lower()


def test_chunked_transfer_encoding_is_decoded(data_dir):
    records, _ = read(data_dir / "warc/warcio/example-iana.org-chunked.warc")
    page = next(r for r in records if r.problem is None)
    assert page.payload.lstrip().lower().startswith(b"<!doctype html")


def test_legacy_arc_is_read(data_dir):
    records, stats = read(data_dir / "warc/warcio/example.arc.gz")
    assert [r.url for r in records] == ["http://example.com/"]
    assert records[0].payload and not stats.errors


def test_truncated_record_is_flagged_and_kept(data_dir):
    records, _ = read(data_dir / "warc/resiliparse/clipped.warc.gz")
    assert len(records) == 1 and records[0].payload


def test_warc_truncated_header_sets_flag(tmp_path):
    path = write_warc(tmp_path / "t.warc.gz", [("http://a.test/", b"<p>cut</p>", "text/html")],
                      extra_headers={"WARC-Truncated": "length"})
    records, _ = read(path)
    assert records[0].truncated and records[0].problem is None


def test_corrupt_gzip_keeps_records_before_the_damage(tmp_path, data_dir):
    whole = (data_dir / "warc/constructed/aeb_and_korean_feeds.warc.gz").read_bytes()
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    records, stats = read(cut)
    assert 20 < len(records) < 163
    assert stats.errors["truncated_file"]["count"] == 1
    assert records[-1].truncated and not any(r.truncated for r in records[:-1])


def test_garbage_in_the_middle_is_reported(tmp_path, data_dir):
    whole = (data_dir / "warc/dolma/sample-0000.warc.gz").read_bytes()
    broken = tmp_path / "broken.warc.gz"
    broken.write_bytes(whole[: len(whole) // 2] + b"\x00garbage" * 100 + whole[len(whole) // 2 :])
    records, stats = read(broken)
    assert records and stats.errors


def test_non_warc_empty_and_missing_files_are_errors_not_crashes(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("this is not a web archive\n")
    empty = tmp_path / "empty.warc.gz"
    empty.write_bytes(b"")
    for path, kind in [(text, "not_warc"), (empty, "empty_file"), (tmp_path / "absent.warc", "missing_file")]:
        records, stats = read(path)
        assert records == [] and kind in stats.errors, (path, stats.errors)
        assert str(path) in stats.errors[kind]["examples"][0]


def test_huge_body_is_dropped_and_the_next_page_kept(tmp_path):
    huge = b"<html><body>" + b"<p>spam spam spam</p>" * (50 * 1024 * 1024 // 21) + b"</body></html>"
    path = write_warc(tmp_path / "huge.warc.gz", [
        ("http://big.test/", huge, "text/html"),
        ("http://small.test/", article("A normal page after a huge one."), "text/html"),
    ])
    records, _ = read(path, max_bytes=10 * 1024 * 1024)
    assert [r.problem for r in records] == ["too_large", None]
    assert records[0].payload is None and records[1].payload
