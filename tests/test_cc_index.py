"""Common Crawl index selection: which captures a run asks for, from Parquet or CDX."""

from __future__ import annotations

import zlib

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from corpus.accounting import meter
from corpus.config import SelectConfig
from corpus.stats import Stats
from crawlers.cc_index import BadIndex, select_records
from ray_jobs.cc_select import units_for_selection
from tests.cc_layout import build_layout


@pytest.fixture(scope="module")
def layout(data_dir, tmp_path_factory):
    return build_layout(data_dir, tmp_path_factory.mktemp("cc"))


@pytest.fixture(scope="module")
def index_parquet(layout, tmp_path_factory):
    return layout.write_parquet(tmp_path_factory.mktemp("index") / "part-00000.parquet")


def _urls(table: pa.Table) -> set[str]:
    return set(table["url"].to_pylist())


def test_language_selection_picks_exactly_the_korean_records(layout, index_parquet):
    korean = {url for url, lang in layout.langs.items() if lang == "ko"}
    stats = Stats()
    chosen = select_records(SelectConfig(index=[str(index_parquet)], mime_types=[]), stats)
    assert _urls(chosen) == korean and len(korean) == 22
    assert stats.counters["index_rows_scanned"] == layout.index.num_rows
    assert stats.counters["index_rows_selected"] == 22


def test_selection_is_sorted_by_file_and_offset(index_parquet):
    chosen = select_records(SelectConfig(index=[str(index_parquet)], languages=["kor", "eng"]))
    keys = list(zip(chosen["warc_filename"].to_pylist(), chosen["warc_record_offset"].to_pylist()))
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


def test_mime_filter_uses_the_detected_type(index_parquet):
    html = select_records(SelectConfig(index=[str(index_parquet)]))  # default: HTML types only
    everything = select_records(SelectConfig(index=[str(index_parquet)], mime_types=[]))
    assert set(html["content_mime_detected"].to_pylist()) == {"text/html"}
    assert 0 < html.num_rows < everything.num_rows


def test_language_code_matches_whole_entries_and_primary_only(tmp_path):
    rows = [
        _row("http://a.kr/1", "kor"), _row("http://b.kr/2", "eng,kor"), _row("http://c.com/3", "kork"),
        _row("http://d.com/4", None), _row("http://e.kr/5", "kor,jpn"),
    ]
    path = tmp_path / "i.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    assert _urls(select_records(SelectConfig(index=[str(path)]))) == {"http://a.kr/1", "http://b.kr/2", "http://e.kr/5"}
    primary = select_records(SelectConfig(index=[str(path)], primary_language_only=True))
    assert _urls(primary) == {"http://a.kr/1", "http://e.kr/5"}


def test_tld_and_host_filters(tmp_path):
    rows = [_row("http://news.example.kr/1", "kor"), _row("http://example.kr/2", "kor"),
            _row("http://other.kr/3", "kor"), _row("http://example.com/4", "kor")]
    path = tmp_path / "i.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    assert _urls(select_records(SelectConfig(index=[str(path)], tlds=["KR"]))) == {
        "http://news.example.kr/1", "http://example.kr/2", "http://other.kr/3"}
    assert _urls(select_records(SelectConfig(index=[str(path)], hosts=["example.kr"]))) == {"http://example.kr/2"}
    assert _urls(select_records(SelectConfig(index=[str(path)], hosts=[".example.kr"]))) == {
        "http://news.example.kr/1", "http://example.kr/2"}


def test_cdx_index_selects_the_same_records_and_counts_bad_lines(layout, index_parquet, tmp_path):
    cdx = layout.write_cdx(tmp_path / "cdx-00000")
    with open(cdx, "a") as handle:
        handle.write("not a cdx line\n")
    stats = Stats()
    from_cdx = select_records(SelectConfig(index=[str(cdx)], mime_types=[]), stats)
    from_parquet = select_records(SelectConfig(index=[str(index_parquet)], mime_types=[]))
    assert from_cdx.to_pylist() == from_parquet.to_pylist()
    assert stats.errors["bad_index_line"]["count"] == 1


def test_gzipped_cdx_is_read(layout, tmp_path):
    import gzip

    plain = layout.write_cdx(tmp_path / "cdx")
    packed = tmp_path / "cdx-00000.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert select_records(SelectConfig(index=[str(packed)], mime_types=[])).num_rows == 22


def test_parquet_without_location_columns_is_refused_with_the_missing_names(tmp_path):
    path = tmp_path / "wrong.parquet"
    pq.write_table(pa.table({"url": ["http://a.kr/"], "content_languages": ["kor"]}), path)
    with pytest.raises(BadIndex, match="warc_record_offset"):
        select_records(SelectConfig(index=[str(path)]))


def test_index_on_s3_is_read_through_the_meter(index_parquet, s3_bucket):
    from corpus.storage.s3 import s3_client

    bucket = s3_bucket.removeprefix("s3://")
    s3_client().put_object(Bucket=bucket, Key="cc-index/part-00000.parquet", Body=index_parquet.read_bytes())
    before = meter.snapshot()
    chosen = select_records(SelectConfig(index=[f"{s3_bucket}/cc-index/*.parquet"], mime_types=[]))
    used = meter.since(before)
    assert chosen.num_rows == 22
    assert used.get("storage_get_requests", 0) >= 1 and used.get("storage_get_bytes", 0) > 0


def test_units_group_ranges_per_warc_file(layout, index_parquet):
    chosen = select_records(SelectConfig(index=[str(index_parquet)], mime_types=[]))
    units = units_for_selection(chosen, "s3://commoncrawl/")
    assert len(units) == 2
    assert all(u.uri.startswith("s3://commoncrawl/crawl-data/") for u in units)
    assert sum(len(u.ranges) for u in units) == 22
    assert all(list(u.ranges) == sorted(u.ranges) for u in units)
    assert len({u.unit_id for u in units}) == 2


def _row(url: str, languages: str | None) -> dict:
    host = url.split("/")[2]
    return {
        "url": url, "url_host_name": host, "url_host_tld": host.rsplit(".", 1)[-1], "content_languages": languages,
        "content_mime_detected": "text/html", "fetch_status": 200, "warc_filename": "crawl-data/x.warc.gz",
        "warc_record_offset": zlib.crc32(url.encode()), "warc_record_length": 100,
    }


@pytest.mark.slow
def test_corpus_run_takes_a_selection_instead_of_input_files(layout, index_parquet, tmp_path):
    import json

    import yaml
    from typer.testing import CliRunner

    from corpus_cli.main import app

    config = tmp_path / "korean.yaml"
    config.write_text(yaml.safe_dump({
        "select": {"index": [str(index_parquet)], "warc_prefix": str(layout.root), "mime_types": []},
        "dedup": {"enabled": False}, "ray": {"progress": False},
    }))
    result = CliRunner().invoke(app, ["run", str(config), "--output", str(tmp_path / "out"), "--serial"])
    assert result.exit_code == 0, result.output
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())
    assert stats["counters"]["records_response"] == 22  # the selected records, nothing else read
    assert (stats["counters"]["index_rows_scanned"], stats["counters"]["index_rows_selected"]) == (163, 22)
    assert set(json.loads((tmp_path / "out" / "manifest.json").read_text())["languages"]) == {"ko"}


def test_cdx_is_read_in_batches_without_losing_rows(layout, tmp_path):
    from crawlers.cc_index import read_cdx

    cdx = layout.write_cdx(tmp_path / "cdx-00000")
    with open(cdx, "rb") as stream:
        batches = list(read_cdx(stream, str(cdx), Stats(), batch_rows=50))
    assert [b.num_rows for b in batches] == [50, 50, 50, 13]
    assert pa.concat_tables(batches)["url"].to_pylist() == layout.index["url"].to_pylist()


def test_s3_index_reads_only_the_row_groups_a_tld_filter_leaves(layout, s3_bucket, tmp_path):
    from corpus.storage.s3 import s3_client

    # Twenty crawls' worth of rows (past Parquet's speculative footer read), sorted by TLD as
    # Common Crawl's index is sorted by SURT key, in small row groups.
    copies = [layout.index.set_column(7, "warc_record_offset", pc.add(layout.index["warc_record_offset"], k * 10**9))
              for k in range(20)]
    path = tmp_path / "sorted.parquet"
    pq.write_table(pa.concat_tables(copies).sort_by("url_host_tld"), path, row_group_size=64)
    bucket = s3_bucket.removeprefix("s3://")
    s3_client().put_object(Bucket=bucket, Key="sorted.parquet", Body=path.read_bytes())
    options = {"tlds": ["br"], "languages": [], "mime_types": []}
    before = meter.snapshot()
    chosen = select_records(SelectConfig(index=[f"{s3_bucket}/sorted.parquet"], **options))
    fetched = meter.since(before)["storage_get_bytes"]
    local = select_records(SelectConfig(index=[str(path)], **options))
    assert chosen.num_rows > 0 and chosen.to_pylist() == local.to_pylist()
    assert fetched < path.stat().st_size / 2
