"""`corpus budget` extrapolates a real run's measured yields to token targets."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from corpus.budget import BudgetError, forecast, parse_target
from corpus.cli import app
from corpus.prices import load_prices


@pytest.fixture(scope="module")
def cost(serial_run):
    out, _ = serial_run
    return json.loads((out / "cost.json").read_text())


@pytest.mark.parametrize(
    "text, expected",
    [("ko=50B", ("ko", 50e9)), ("en=200B", ("en", 200e9)), ("EN=2.5t", ("en", 2.5e12)), ("ko=1000", ("ko", 1000.0))],
)
def test_targets_parse_with_suffixes(text, expected):
    assert parse_target(text) == expected


@pytest.mark.parametrize("text", ["ko", "ko=", "ko=5X", "=5B", "korean=5B"])
def test_malformed_targets_are_refused(text):
    with pytest.raises(BudgetError, match="LANG=TOKENS"):
        parse_target(text)


def test_pages_follow_measured_yield_and_cited_share(cost):
    budget = forecast(cost, {"en": 200e9}, load_prices())
    need = budget["languages"]["en"]
    assert need["page_share"] == 0.43
    assert need["tokens_per_page"]["point"] == pytest.approx(
        cost["per_language"]["en"]["tokens"] / sum(i["pages_by_lang"].get("en", 0) for i in cost["inputs"]), rel=1e-6
    )
    assert budget["pages"]["point"] == pytest.approx(200e9 / need["tokens_per_page"]["point"] / 0.43)


def test_range_comes_from_variance_between_input_files(cost):
    budget = forecast(cost, {"en": 200e9}, load_prices())
    assert budget["languages"]["en"]["files_with_language"] == 2
    for key in ("pages", "vcpu_hours", "total_usd"):
        assert budget[key]["low"] < budget[key]["point"] < budget[key]["high"], key


def test_a_language_in_one_file_has_no_range(cost):
    budget = forecast(cost, {"ko": 50e9}, load_prices())
    assert budget["languages"]["ko"]["files_with_language"] == 1
    assert budget["pages"]["point"] > 0 and budget["pages"]["low"] is None


def test_more_nodes_shorten_the_wall_time_and_add_only_their_start_up(cost):
    sheet = load_prices()
    one = forecast(cost, {"en": 200e9}, sheet, nodes=1)
    ten = forecast(cost, {"en": 200e9}, sheet, nodes=10)
    rates, vcpus = one["rates"], sheet.instance("c7i.4xlarge").vcpus
    assert rates["startup_cpu_per_worker"] > 0
    assert ten["wall_hours"]["point"] < one["wall_hours"]["point"] / 5
    extra_workers = 9 * vcpus
    assert ten["vcpu_hours"]["point"] - one["vcpu_hours"]["point"] == pytest.approx(
        rates["startup_cpu_per_worker"] * extra_workers / 3600
    )
    assert ten["compute_usd"]["point"] - one["compute_usd"]["point"] == pytest.approx(
        rates["startup_wall_per_worker"] * extra_workers / 3600 * sheet.vcpu_hour("c7i.4xlarge", "on_demand")
    )


def test_page_work_scales_with_the_target_and_start_up_does_not(cost):
    one = forecast(cost, {"en": 100e9}, load_prices(), market="spot")
    two = forecast(cost, {"en": 200e9}, load_prices(), market="spot")
    fixed = one["fixed_vcpu_hours"]
    assert fixed == two["fixed_vcpu_hours"] > 0
    assert two["vcpu_hours"]["point"] - fixed == pytest.approx(2 * (one["vcpu_hours"]["point"] - fixed))
    assert one["compute_usd"]["point"] < forecast(cost, {"en": 100e9}, load_prices())["compute_usd"]["point"]


def test_the_bill_follows_held_time_not_cpu_used(cost):
    budget = forecast(cost, {"en": 200e9}, load_prices())
    assert budget["held_vcpu_hours"]["point"] > budget["vcpu_hours"]["point"]
    price = load_prices().vcpu_hour("c7i.4xlarge", "on_demand")
    assert budget["compute_usd"]["point"] == pytest.approx(budget["held_vcpu_hours"]["point"] * price)
    assert budget["wall_days"]["point"] == pytest.approx(budget["wall_hours"]["point"] / 24)


def test_cli_prints_table_and_cited_assumptions(serial_run):
    out, _ = serial_run
    result = CliRunner().invoke(app, ["budget", "--from", str(out), "--target", "ko=50B", "--target", "en=200B", "--nodes", "4"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "input WARC, TB" in text and "wall time on 4 node(s), days" in text
    assert "ko is 0.74% of pages" in text and "commoncrawl.github.io/cc-crawl-statistics" in text
    assert "no range for ko" in text


def test_cli_spreads_wall_time_over_the_reports_nodes_by_default(serial_run, cost):
    out, _ = serial_run
    result = CliRunner().invoke(app, ["budget", "--from", str(out), "--target", "ko=50B", "--target", "en=200B", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["nodes"] == cost["forecast"]["nodes"] == 10
    assert data["wall_days"]["point"] == pytest.approx(cost["forecast"]["wall_days"]["point"], rel=1e-6)


def test_cli_json_matches_the_forecast(serial_run, cost):
    out, _ = serial_run
    result = CliRunner().invoke(app, ["budget", "--from", str(out), "--target", "en=1T", "--json", "--instance", "c7i.8xlarge"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    expected = forecast(cost, {"en": 1e12}, load_prices(), instance="c7i.8xlarge")
    assert data["total_usd"]["point"] == pytest.approx(expected["total_usd"]["point"])
    assert data["instance"] == "c7i.8xlarge"


@pytest.mark.parametrize(
    "args, message",
    [(["--target", "ja=1B"], "no 'ja' tokens"), (["--target", "en=1B", "--instance", "z9.huge"], "no prices for instance")],
)
def test_cli_refuses_what_it_cannot_price(serial_run, args, message):
    out, _ = serial_run
    result = CliRunner().invoke(app, ["budget", "--from", str(out), *args])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
