"""fetch_time and date are typed columns from the WARC to the trainer's reader."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from warcio.archiveiterator import ArchiveIterator

from corpus.schema import doc_id
from corpus.shards import iter_documents
from corpus.timestamps import DATE_TYPE, FETCH_TIME_TYPE, parse_date, parse_fetch_time
from tests.conftest import WARC
from tests.runs import run_serial
from tests.warc_factory import write_warc

REAL = WARC / "dolma" / "sample-0000.warc.gz"
UTC = dt.timezone.utc


def _page(title: str, published: str) -> bytes:
    words = " ".join(f"{title} paragraph sentence number {i} carries enough ordinary words." for i in range(12))
    return (
        f'<html><head><title>{title}</title><meta property="article:published_time" content="{published}"></head>'
        f"<body><article><h1>{title}</h1><p>{words}</p><p>{words}</p></article></body></html>"
    ).encode()


@pytest.fixture(scope="module")
def typed_run(tmp_path_factory):
    """A real WARC and three made pages (valid date, garbage date, garbage WARC-Date) through a whole serial run."""
    tmp = tmp_path_factory.mktemp("typed")
    made = write_warc(tmp / "dated.warc.gz", [
        ("https://dated.example/good", _page("Harbour cranes return", "2021-06-15T08:30:00+09:00"), "text/html"),
        ("https://dated.example/garbage", _page("Lighthouse keepers meet", "sometime before the rain"), "text/html"),
    ])  # fmt: skip
    bad_clock = write_warc(tmp / "bad-clock.warc.gz", [
        ("https://dated.example/clock", _page("Ferry timetable changes", "2020-02-02"), "text/html"),
    ], extra_headers={"WARC-Date": "the day after tomorrow"})  # fmt: skip
    out = tmp / "out"
    run_serial(out, [REAL, made, bad_clock])
    return out


def _shards(out) -> pa.Table:
    return pa.concat_tables([pq.read_table(p) for p in sorted(out.glob("shards/lang=*/*.parquet"))])


def _warc_dates(path) -> dict[str, str]:
    dates = {}
    with open(path, "rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type in ("response", "resource"):
                h = record.rec_headers
                dates[doc_id(h.get_header("WARC-Target-URI") or "", h.get_header("WARC-Record-ID") or "")] = h.get_header("WARC-Date")
    return dates


@pytest.mark.slow
def test_real_warc_fetch_time_is_its_warc_date(typed_run):
    table = _shards(typed_run)
    assert table.schema.field("fetch_time").type == FETCH_TIME_TYPE
    assert table.schema.field("date").type == DATE_TYPE
    dates = _warc_dates(REAL)
    rows = [r for r in table.select(["id", "fetch_time"]).to_pylist() if r["id"] in dates]
    assert len(rows) >= 5  # the real WARC's English pages reach the shards
    for row in rows:
        want = dt.datetime.fromisoformat(dates[row["id"]].replace("Z", "+00:00")).astimezone(UTC)
        assert row["fetch_time"] == want
    manifest = json.loads((typed_run / "manifest.json").read_text())
    newest = max(table["fetch_time"].drop_null().to_pylist())
    assert manifest["created"] == newest.isoformat().replace("+00:00", "Z")


@pytest.mark.slow
def test_garbage_dates_are_null_and_counted(typed_run):
    rows = {r["url"]: r for r in _shards(typed_run).select(["url", "fetch_time", "date"]).to_pylist()}
    good, garbage, clock = (rows[f"https://dated.example/{k}"] for k in ("good", "garbage", "clock"))
    assert good["date"] == dt.date(2021, 6, 15)
    assert good["fetch_time"] == dt.datetime(2026, 1, 1, tzinfo=UTC)
    assert garbage["date"] is None
    assert clock["fetch_time"] is None and clock["date"] == dt.date(2020, 2, 2)
    stats = json.loads((typed_run / "stats.json").read_text())
    assert stats["counters"]["fetch_time_unparsed"] == 1


@pytest.mark.slow
def test_trainer_reads_datetimes(typed_run):
    frame = pd.read_parquet(next(typed_run.glob("shards/lang=en/*.parquet")), columns=["fetch_time", "date"])
    assert str(frame["fetch_time"].dtype) == "datetime64[us, UTC]"
    assert frame["fetch_time"].notna().sum() >= 5
    docs = list(iter_documents(str(typed_run), lang="en", columns=["fetch_time", "date"]))
    assert docs and all(isinstance(d["fetch_time"], dt.datetime) and d["fetch_time"].tzinfo for d in docs if d["fetch_time"])
    assert any(isinstance(d["date"], dt.date) for d in docs)


@pytest.mark.parametrize(
    "text, want",
    [
        ("2024-05-18T02:13:04.123456Z", dt.datetime(2024, 5, 18, 2, 13, 4, 123456, tzinfo=UTC)),
        ("20080430204825", dt.datetime(2008, 4, 30, 20, 48, 25, tzinfo=UTC)),  # WARC/0.x, ARC
        ("2008-04-30T20:48:25+09:00", dt.datetime(2008, 4, 30, 11, 48, 25, tzinfo=UTC)),
        ("2008-04-30T20:48:25", dt.datetime(2008, 4, 30, 20, 48, 25, tzinfo=UTC)),  # no zone: UTC
        ("2023-13-45T00:00:00Z", None),
        ("soon", None),
        ("", None),
    ],
)
def test_fetch_time_spellings(text, want):
    assert parse_fetch_time(text) == want


def test_date_keeps_the_page_day_and_refuses_garbage():
    assert parse_date("2021-06-15") == dt.date(2021, 6, 15)
    assert parse_date("2021-06-15T23:30:00+09:00") == dt.date(2021, 6, 15)
    assert parse_date("2021-02-30") is None
    assert parse_date("어제") is None
