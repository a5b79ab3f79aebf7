"""report.html of a real run, rendered by real headless Chromium (Debian's `chromium`)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from corpus.accounting.budget import forecast
from corpus.accounting.prices import load_prices
from corpus.accounting.report import usd
from corpus_cli.main import app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
HEADLESS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def _chromium(tmp_path: Path, *args: str) -> str:
    if CHROMIUM is None:
        pytest.fail("Debian's chromium is not installed: run `make test` (it installs it) or apt-get install chromium")
    cmd = [CHROMIUM, *HEADLESS, f"--user-data-dir={tmp_path / 'profile'}", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


class _Texts(HTMLParser):
    """Text of each element with an id, as the browser's DOM holds it."""

    def __init__(self) -> None:
        super().__init__()
        self.by_id: dict[str, str] = {}
        self._open: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        self._open.append(dict(attrs).get("id"))
        if self._open[-1]:
            self.by_id[self._open[-1]] = ""

    def handle_endtag(self, tag):
        if self._open:
            self._open.pop()

    def handle_data(self, data):
        for element_id in filter(None, self._open):
            self.by_id[element_id] += data


def test_headline_numbers_are_in_the_rendered_page(serial_run, tmp_path):
    out, _ = serial_run
    manifest = json.loads((out / "manifest.json").read_text())
    cost = json.loads((out / "cost.json").read_text())
    dom = _chromium(tmp_path, "--dump-dom", (out / "report.html").as_uri())
    texts = _Texts()
    texts.feed(dom)
    assert texts.by_id["total-usd"] == usd(cost["total"]["usd"])
    for lang in ("en", "ko"):
        assert texts.by_id[f"tokens-{lang}"] == f"{manifest['languages'][lang]['tokens']:,}"
        assert texts.by_id[f"usd-per-mtok-{lang}"] == usd(cost["per_language"][lang]["usd_per_million_tokens"])
    assert "funnel-chart" in texts.by_id and "stage-chart" in texts.by_id
    assert "corpus run" in dom and "Korean" in dom


def test_screenshot_is_not_blank(serial_run, tmp_path):
    out, _ = serial_run
    shot = tmp_path / "report.png"
    _chromium(tmp_path, "--window-size=1000,1400", f"--screenshot={shot}", (out / "report.html").as_uri())
    image = Image.open(shot).convert("RGB")
    assert image.size == (1000, 1400)
    colours = image.getcolors(maxcolors=1_000_000)
    background = max(colours)[0] / (image.width * image.height)
    assert len(colours) > 50 and background < 0.9, (len(colours), background)


def test_report_is_self_contained(serial_run):
    out, _ = serial_run
    html = (out / "report.html").read_text()
    assert "<script" not in html and "<link" not in html and "@import" not in html and "url(" not in html
    assert not re.search(r"""\b(src|href)\s*=""", html)
    assert html.count("<svg") == 2


def test_corpus_report_reprices_a_finished_run(serial_run, tmp_path):
    out, _ = serial_run
    copy = tmp_path / "run"
    shutil.copytree(out, copy)
    before = json.loads((copy / "cost.json").read_text())
    result = CliRunner().invoke(app, ["report", str(copy), "--market", "spot", "--krw-per-usd", "1500"])
    assert result.exit_code == 0, result.output
    after = json.loads((copy / "cost.json").read_text())
    assert after["pricing"]["market"] == "spot" and after["krw_per_usd"] == 1500
    assert after["total"]["usd"] == pytest.approx(before["total"]["spot_usd"])
    assert after["stages"] == before["stages"]
    assert usd(after["total"]["usd"]) in (copy / "report.html").read_text()


def test_corpus_report_refuses_a_folder_that_is_not_a_run(tmp_path):
    result = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 1


def test_next_crawl_section_prices_the_configured_targets(serial_run, tmp_path):
    """The funder reads the next crawl's price in the page: the same forecast `corpus budget` makes."""
    out, _ = serial_run
    cost = json.loads((out / "cost.json").read_text())
    expected = forecast(cost, {"ko": 50e9, "en": 200e9}, load_prices(), nodes=10)
    assert cost["forecast"]["total_usd"]["point"] == pytest.approx(expected["total_usd"]["point"])
    texts = _Texts()
    texts.feed(_chromium(tmp_path, "--dump-dom", (out / "report.html").as_uri()))
    assert texts.by_id["forecast-usd"] == usd(expected["total_usd"]["point"])
    assert texts.by_id["forecast-days"] == f"{expected['wall_days']['point']:,.1f} days"
    assert texts.by_id["strategy"].startswith("Common Crawl index selection is cheaper for this target")


def test_report_forecasts_other_targets_and_names_languages_it_cannot(serial_run, tmp_path):
    out, _ = serial_run
    copy = tmp_path / "run"
    shutil.copytree(out, copy)
    args = ["report", str(copy), "--target", "en=1T", "--target", "ja=5B", "--nodes", "40"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    cost = json.loads((copy / "cost.json").read_text())
    plan = cost["forecast"]
    assert plan["targets"] == {"en": 1e12} and plan["skipped"] == ["ja"] and plan["nodes"] == 40
    expected = forecast(cost, {"en": 1e12}, load_prices(), nodes=40)
    assert plan["total_usd"]["point"] == pytest.approx(expected["total_usd"]["point"])
    html = (copy / "report.html").read_text()
    assert "1T English tokens" in html and "Not forecast: ja" in html
    assert "--target en=1T --nodes 40" in html


def test_report_refuses_a_malformed_target(serial_run):
    out, _ = serial_run
    result = CliRunner().invoke(app, ["report", str(out), "--target", "korean=lots"])
    assert result.exit_code == 2 and "LANG=TOKENS" in " ".join(result.output.split())


def test_report_says_a_bill_follows_machine_time_held_and_prices_both(serial_run, tmp_path):
    out, _ = serial_run
    cost = json.loads((out / "cost.json").read_text())
    texts = _Texts()
    texts.feed(_chromium(tmp_path, "--dump-dom", (out / "report.html").as_uri()))
    held = cost["total"]["held"]
    assert texts.by_id["held-vcpu-hours"] == f"{held['vcpu_hours']:,.3g} vCPU-h"
    note = " ".join(texts.by_id["held-note"].split())
    assert "A cloud bill follows the machine time held" in note
    assert usd(held["usd"]) in note and usd(cost["total"]["usd"]) in note
    assert f"{cost['held']['vcpus']} vCPUs of the 1 machine(s)" in note


def test_report_names_the_crawls_needed_and_a_target_beyond_the_supply(serial_run, tmp_path):
    out, _ = serial_run
    copy = tmp_path / "run"
    shutil.copytree(out, copy)
    result = CliRunner().invoke(app, ["report", str(copy), "--target", "ko=500B"])
    assert result.exit_code == 0, result.output
    plan = json.loads((copy / "cost.json").read_text())["forecast"]
    texts = _Texts()
    texts.feed(_chromium(tmp_path, "--dump-dom", (copy / "report.html").as_uri()))
    assert texts.by_id["forecast-crawls"] == f"{plan['supply']['crawls']['point']:,.1f}"
    assert plan["supply"]["languages"]["ko"]["exceeds"]
    assert "exceeds what all of Common Crawl gave FineWeb-2" in texts.by_id["supply-warning"]


def test_report_lays_the_forecast_out_as_a_grant_budget(serial_run):
    import datetime as dt

    from corpus.accounting.grant import grant_budget

    out, _ = serial_run
    cost = json.loads((out / "cost.json").read_text())
    grant = cost["forecast"]["grant"]
    expected = grant_budget(cost, {"ko": 50e9, "en": 200e9}, load_prices(), nodes=10, start=dt.date.fromisoformat(grant["start"]))
    assert grant["total_usd"]["point"] == pytest.approx(expected["total_usd"]["point"])
    assert [m["month"] for m in grant["by_month"]] == [m["month"] for m in expected["by_month"]]
    html = (out / "report.html").read_text()
    assert 'id="grant-lines"' in html and f"${grant['total_usd']['point']:,.0f}" in html and "contingency 15%" in html
