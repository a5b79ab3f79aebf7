"""Fetching only the selected records: range GETs on a real S3-compatible server."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from corpus.accounting import meter
from corpus.config import RunConfig, SelectConfig
from corpus.storage.s3 import s3_client
from corpus.stats import Stats
from corpus.storage import LocalStorage, open_input
from crawlers.ranges import coalesce, fetch_members, iter_ranged_records
from crawlers.warc import iter_records
from ray_jobs.pipeline import plan_units, run
from ray_jobs.unit import UnitModels, WorkUnit, process_unit
from tests.cc_layout import build_layout


@pytest.fixture(scope="module")
def layout(data_dir, tmp_path_factory):
    return build_layout(data_dir, tmp_path_factory.mktemp("cc"))


@pytest.fixture(scope="module")
def crawl_bucket(layout, s3_endpoint):
    """The layout's WARC files and index uploaded as Common Crawl lays them out."""
    import uuid

    name = f"cc-{uuid.uuid4().hex[:10]}"
    client = s3_client()
    client.create_bucket(Bucket=name)
    for path in layout.files():
        client.put_object(Bucket=name, Key=str(path.relative_to(layout.root)), Body=path.read_bytes())
    index = layout.write_parquet(layout.root / "index.parquet")
    client.put_object(Bucket=name, Key="cc-index/table/cc-main/warc/part-0.parquet", Body=index.read_bytes())
    return f"s3://{name}"


def _select(crawl_bucket: str, **options) -> SelectConfig:
    return SelectConfig(index=[f"{crawl_bucket}/cc-index/"], warc_prefix=crawl_bucket, **options)


def test_coalesce_merges_close_records_and_caps_the_span():
    ranges = [(0, 100), (110, 50), (1000, 10), (1010, 10)]
    assert [(s.start, s.end) for s in coalesce(ranges, max_gap=10, max_span=10_000)] == [(0, 160), (1000, 1020)]
    assert [(s.start, s.end) for s in coalesce(ranges, max_gap=0, max_span=10_000)] == [(0, 100), (110, 160), (1000, 1020)]
    assert [(s.start, s.end) for s in coalesce(ranges, max_gap=10_000, max_span=200)] == [(0, 160), (1000, 1020)]
    assert [s.members for s in coalesce([(0, 500), (500, 10)], 0, 100)] == [((0, 500),), ((500, 10),)]


def test_language_selection_fetches_exactly_the_selected_bytes(layout, crawl_bucket):
    cfg = RunConfig(select=_select(crawl_bucket, mime_types=[], max_gap_bytes=0))
    units = plan_units(cfg)
    wanted = sum(n for u in units for _, n in u.ranges)
    stats = Stats()
    before = meter.snapshot()
    fetched = [m for u in units for m in fetch_members(u.uri, u.ranges, stats, cfg.select)]
    used = meter.since(before)
    assert len(fetched) == 22 and not stats.errors
    assert used["storage_get_bytes"] == wanted
    assert used["storage_get_requests"] == sum(len(coalesce(u.ranges, 0, cfg.select.max_span_bytes)) for u in units)
    whole = sum(p.stat().st_size for p in layout.files())
    assert wanted * 8 < whole  # 22 of 163 records, mostly small feeds


def test_ranged_records_equal_the_whole_file_records_they_select(layout, crawl_bucket):
    select = _select(crawl_bucket, mime_types=[])
    units = plan_units(RunConfig(select=select))
    for unit in units:
        local = str(layout.root / unit.uri.removeprefix(crawl_bucket + "/"))
        whole = {r.source.rsplit("#", 1)[1]: r for r in iter_records(local, Stats(), open_input, 10**7, ("text/html",))}
        ranged = list(iter_ranged_records(unit.uri, unit.ranges, Stats(), select, 10**7, ("text/html",)))
        assert len(ranged) == len(unit.ranges)
        for record in ranged:
            twin = whole[record.source.rsplit("#", 1)[1]]
            assert record.source == f"{unit.uri}#{record.source.rsplit('#', 1)[1]}"
            assert (record.url, record.record_id, record.payload, record.problem) == (
                twin.url, twin.record_id, twin.payload, twin.problem)


@pytest.fixture(scope="module")
def selected_docs(crawl_bucket, tmp_path_factory) -> dict[str, dict]:
    """Staged documents of the Korean selection, run unit by unit in this process."""
    cfg = RunConfig(select=_select(crawl_bucket, mime_types=[]))
    return _staged_docs(plan_units(cfg), UnitModels(cfg), tmp_path_factory.mktemp("selected"))


@pytest.mark.slow
def test_selected_run_yields_the_documents_of_a_whole_file_run_filtered_afterwards(
    layout, crawl_bucket, selected_docs, tmp_path
):
    whole_units = [WorkUnit.for_input(f"{crawl_bucket}/{p.relative_to(layout.root)}") for p in layout.files()]
    everything = _staged_docs(whole_units, UnitModels(RunConfig()), tmp_path / "whole")
    korean_urls = {url for url, lang in layout.langs.items() if lang == "ko"}
    filtered = {k: v for k, v in everything.items() if v["url"] in korean_urls}
    assert len(selected_docs) >= 1 and selected_docs == filtered
    assert {d["lang"] for d in selected_docs.values()} == {"ko"}


@pytest.mark.ray
def test_ray_run_of_a_selection_stages_the_same_documents(ray_local, layout, selected_docs, tmp_path):
    # Local WARC files and index: Ray workers may have started before the S3 test server's settings.
    index = layout.write_parquet(tmp_path / "index.parquet")
    select = SelectConfig(index=[str(index)], warc_prefix=str(layout.root), mime_types=[])
    cfg = RunConfig(
        select=select, output=str(tmp_path / "run"), ray={"progress": False},
        dedup={"enabled": False},  # corpus-wide; staged documents do not depend on it
    )
    result = run(cfg, executor="ray")
    staged = LocalStorage(tmp_path / "run")
    ids = set()
    for rel in staged.list("_work/staged/"):
        ids |= set(pq.read_table(staged.path(rel), columns=["id"])["id"].to_pylist())
    assert ids == set(selected_docs)  # ids do not depend on where the WARC lives
    assert set(result.manifest["languages"]) == {"ko"}
    assert result.stats.counters["index_rows_selected"] == 22  # the index read is part of the run's stats


def test_missing_warc_and_short_range_cost_only_their_records(layout, crawl_bucket):
    select = _select(crawl_bucket, max_gap_bytes=0)
    unit = plan_units(RunConfig(select=select))[0]
    size = (layout.root / unit.uri.removeprefix(crawl_bucket + "/")).stat().st_size
    stats = Stats()
    ranges = (*unit.ranges, (size - 10, 500))
    got = [o for o, _ in fetch_members(unit.uri, ranges, stats, select)]
    assert got == [o for o, _ in unit.ranges]
    assert stats.errors["short_range"]["count"] == 1
    stats = Stats()
    assert list(fetch_members(unit.uri.replace("00000", "99999"), unit.ranges, stats, select)) == []
    assert stats.errors["missing_file"]["count"] == 1


def _staged_docs(units: list[WorkUnit], models: UnitModels, root) -> dict[str, dict]:
    out = LocalStorage(root)
    docs = {}
    for unit in units:
        entry = process_unit(unit, models, out)
        if entry["staged"]:
            table = pq.read_table(out.path(entry["staged"]), columns=["id", "url", "source", "text", "lang"])
            docs.update({row["id"]: row for row in table.to_pylist()})
    return docs


def test_a_wrong_index_entry_is_reported_and_costs_only_its_record(layout, tmp_path):
    path = layout.files()[0]
    name = str(path.relative_to(layout.root))
    rows = [r for r in layout.index.to_pylist() if r["warc_filename"] == name][:4]
    ranges = [(r["warc_record_offset"], r["warc_record_length"]) for r in rows]
    ranges[1] = (ranges[1][0] + 7, ranges[1][1] - 7)  # not a record boundary
    stats = Stats()
    records = list(iter_ranged_records(str(path), ranges, stats, SelectConfig(), 10**7, ("text/html",)))
    assert [r.url for r in records] == [rows[i]["url"] for i in (0, 2, 3)]
    assert sum(slot["count"] for slot in stats.errors.values()) == 1
    assert next(iter(stats.errors.values()))["examples"][0].startswith(f"{path}#{ranges[1][0]}")
