"""A live crawl's cost travels with its WARC into the cost report of the runs that read it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpus.accounting.crawl_usage import crawls_behind
from corpus.layout import CRAWL_USAGE as USAGE_FILE
from ray_jobs.crawl import crawl
from tests.crawl_site import LocalSite, crawl_config
from tests.runs import run_serial
from tests.test_crawl_resume import N_PAGES, _site

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory, data_dir) -> Path:
    """A crawl of 13 pages into several small WARC files, resumed once with nothing left to do."""
    out = tmp_path_factory.mktemp("crawl")
    with LocalSite(_site(data_dir)) as site:
        crawl(crawl_config(warc_max_bytes=8_000), [site.url("/")], str(out), executor="serial")
        crawl(crawl_config(warc_max_bytes=8_000), [site.url("/")], str(out), executor="serial")
    return out


def test_each_crawl_session_records_the_vcpu_time_it_held_and_its_warc(crawled):
    usage = json.loads((crawled / USAGE_FILE).read_text())
    first, resumed = usage["sessions"]
    assert first["pages_archived"] == N_PAGES + 1 and resumed["pages_archived"] == 0
    assert first["held_cpu_seconds"] >= first["busy_cpu_seconds"] > 0
    files = {p.name: p.stat().st_size for p in (crawled / "warc").glob("*.warc.gz")}
    assert len(files) > 2 and usage["warc_bytes"] == files


def test_a_run_over_part_of_a_crawl_carries_that_share_of_its_cost(crawled, tmp_path):
    warcs = sorted((crawled / "warc").glob("*.warc.gz"))
    read = warcs[: len(warcs) // 2]
    run_serial(str(tmp_path / "out"), [str(p) for p in read])
    cost = json.loads((tmp_path / "out" / "cost.json").read_text())
    usage = json.loads((crawled / USAGE_FILE).read_text())
    held = sum(s["held_cpu_seconds"] for s in usage["sessions"])
    share = sum(p.stat().st_size for p in read) / sum(p.stat().st_size for p in warcs)
    [carried] = cost["crawls"]
    assert carried["crawl"] == str(crawled.resolve()) and carried["share"] == pytest.approx(share)
    [line] = [line for line in cost["lines"] if line["item"] == "crawl"]
    assert line["cpu_seconds"] == pytest.approx(held * share)
    assert line["usd"] == pytest.approx(held * share / 3600 * cost["pricing"]["vcpu_hour_usd"])
    assert sum(x["usd"] for x in cost["lines"]) == pytest.approx(cost["total"]["usd"])
    stages = sum(s["cpu_seconds"] for s in cost["stages"].values())
    assert cost["total"]["cpu_seconds"] == pytest.approx(stages + held * share)
    assert "The line &#x27;crawl&#x27; is the live crawl" in (tmp_path / "out" / "report.html").read_text()


def test_inputs_outside_a_crawl_carry_no_crawl(tmp_path):
    stray = tmp_path / "warc" / "x.warc.gz"  # a warc/ folder without a crawl's usage file
    stray.parent.mkdir()
    stray.write_bytes(b"")
    assert crawls_behind([{"uri": str(stray), "input_bytes": 0}]) == []
