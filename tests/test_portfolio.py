"""`corpus portfolio`: one offline page over every complete run under local or s3:// prefixes."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corpus.accounting.report import usd
from corpus.storage.s3 import s3_client
from corpus_cli.main import app
from tests.test_report import _chromium, _Texts


@pytest.fixture(scope="module")
def runs(serial_run, tmp_path_factory) -> Path:
    """Two complete runs under one prefix: the demo run, and the same run re-priced on the spot market."""
    out, _ = serial_run
    prefix = tmp_path_factory.mktemp("portfolio") / "runs"
    shutil.copytree(out, prefix / "on-demand")
    shutil.copytree(out, prefix / "spot")
    result = CliRunner().invoke(app, ["report", str(prefix / "spot"), "--market", "spot"])
    assert result.exit_code == 0, result.output
    return prefix


def _costs(prefix: Path) -> list[dict]:
    return [json.loads((prefix / name / "cost.json").read_text()) for name in ("on-demand", "spot")]


def test_one_page_shows_every_run_with_its_figures_in_chromium(runs, tmp_path):
    site = tmp_path / "site"
    result = CliRunner().invoke(app, ["portfolio", str(runs), "--output", str(site)])
    assert result.exit_code == 0, result.output
    texts = _Texts()
    texts.feed(_chromium(tmp_path, "--dump-dom", (site / "index.html").as_uri()))
    costs = _costs(runs)
    shown = {texts.by_id[f"run{i}-usd"] for i in range(2)}
    assert shown == {usd(c["total"]["usd"]) for c in costs}
    assert texts.by_id["total-usd"] == usd(sum(c["total"]["usd"] for c in costs))
    for lang in ("en", "ko"):
        tokens = sum(c["per_language"][lang]["tokens"] for c in costs)
        assert texts.by_id[f"tokens-{lang}"] == f"{tokens:,}"
        assert texts.by_id[f"run0-tokens-{lang}"] == f"{costs[0]['per_language'][lang]['tokens']:,}"
    assert {"funnel-0", "funnel-1", "spend-over-time", "tokens-over-time-ko"} <= set(texts.by_id)


def test_the_page_is_offline_and_links_each_runs_report(runs, tmp_path):
    site = tmp_path / "site"
    assert CliRunner().invoke(app, ["portfolio", str(runs), "--output", str(site)]).exit_code == 0
    page = (site / "index.html").read_text()
    assert "<script" not in page and "<link" not in page and "url(" not in page and not re.search(r"\bsrc\s*=", page)
    links = re.findall(r'href="([^"]+)"', page)
    assert len(links) == 2 and all((site / link).resolve().is_file() and link.endswith("report.html") for link in links)


def test_runs_under_an_s3_prefix_are_found(serial_run, s3_bucket, tmp_path):
    out, _ = serial_run
    bucket = s3_bucket.removeprefix("s3://")
    for path in out.rglob("*"):
        if path.is_file() and "_work" not in path.parts:
            s3_client().upload_file(str(path), bucket, f"runs/2026-12/{path.relative_to(out).as_posix()}")
    site = tmp_path / "site"
    result = CliRunner().invoke(app, ["portfolio", f"{s3_bucket}/runs/", "--output", str(site)])
    assert result.exit_code == 0, result.output
    page = (site / "index.html").read_text()
    assert f"{s3_bucket}/runs/2026-12/report.html" in page
    assert usd(json.loads((out / "cost.json").read_text())["total"]["usd"]) in page


def test_a_prefix_without_runs_is_refused_and_nothing_is_written(tmp_path):
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(app, ["portfolio", str(tmp_path / "empty"), "--output", str(tmp_path / "site")])
    assert result.exit_code == 2 and "no complete run under" in " ".join(result.output.split())
    assert not (tmp_path / "site").exists()


def test_a_run_without_cost_json_is_refused_and_the_old_page_stays(runs, tmp_path):
    prefix = tmp_path / "runs"
    shutil.copytree(runs, prefix)
    site = tmp_path / "site"
    assert CliRunner().invoke(app, ["portfolio", str(prefix), "--output", str(site)]).exit_code == 0
    before = (site / "index.html").read_bytes()
    (prefix / "spot" / "cost.json").unlink()
    result = CliRunner().invoke(app, ["portfolio", str(prefix), "--output", str(site)])
    text = " ".join(result.output.split())
    assert result.exit_code == 2 and "has no cost.json" in text and "corpus report" in text
    assert (site / "index.html").read_bytes() == before and sorted(p.name for p in site.iterdir()) == ["index.html"]
