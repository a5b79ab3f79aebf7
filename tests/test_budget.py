"""`corpus budget` extrapolates a real run's measured yields to token targets."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from corpus.accounting.budget import forecast
from corpus.accounting.prices import load_prices
from corpus.accounting.target import BudgetError, parse_target
from corpus_cli.main import app


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


def test_a_language_in_one_file_gets_its_range_from_resampling_its_pages(cost):
    budget = forecast(cost, {"ko": 50e9}, load_prices())
    need = budget["languages"]["ko"]
    assert need["files_with_language"] == 1 and need["range_from"] == "pages"
    assert need["resampled_pages"] == cost["page_yield"]["ko"]["pages"] > 1
    rate = need["tokens_per_page"]
    assert rate["low"] < rate["point"] < rate["high"]
    for key in ("pages", "vcpu_hours", "total_usd", "wall_days"):
        assert budget[key]["low"] < budget[key]["point"] < budget[key]["high"], key


def test_page_yield_is_a_bootstrap_of_shard_tokens_over_language_pages(serial_run, cost):
    """Pages a later stage removed count as 0 tokens; the range is the mean's sampling spread."""
    out, _ = serial_run
    parts = (out / "shards" / "lang=en").glob("*.parquet")
    tokens = np.concatenate([pq.read_table(p, columns=["n_tokens"])["n_tokens"].to_numpy() for p in parts])
    slot = cost["page_yield"]["en"]
    pages = cost["stages"]["langid"]["by_lang"]["en"]["docs_in"]
    assert slot["pages"] == pages > len(tokens) == slot["docs"]
    assert slot["tokens_per_page"]["point"] == pytest.approx(tokens.sum() / pages)
    sd = np.concatenate([tokens, np.zeros(pages - len(tokens))]).std() / np.sqrt(pages)
    half = (slot["tokens_per_page"]["high"] - slot["tokens_per_page"]["low"]) / 2
    assert half == pytest.approx(1.96 * sd, rel=0.15)


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


def test_a_run_priced_before_start_up_was_metered_apart_scales_all_its_cpu_and_says_so(cost):
    old = json.loads(json.dumps(cost))
    del old["fixed"]
    old["stages"]["overhead"]["cpu_seconds"] += old["stages"].pop("startup")["cpu_seconds"]
    budget = forecast(old, {"en": 200e9}, load_prices())
    total_cpu = sum(s["cpu_seconds"] for s in cost["stages"].values())
    pages = sum(i["pages"] for i in cost["inputs"])
    assert budget["rates"]["cpu_per_page"]["point"] == pytest.approx(total_cpu / pages)
    assert budget["fixed_vcpu_hours"] == 0
    assert any("did not meter start-up apart" in a["text"] for a in budget["assumptions"])


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


def test_pages_beyond_one_crawl_take_further_crawls_and_read_their_repeats(cost):
    sheet = load_prices()
    budget = forecast(cost, {"ko": 50e9}, sheet)
    per_crawl, new = sheet.supply.pages_per_crawl.value, sheet.supply.new_page_share.value
    pages = budget["pages"]["point"]
    assert pages > per_crawl
    assert budget["supply"]["crawls"]["point"] == pytest.approx(1 + (pages - per_crawl) / (per_crawl * new))
    assert budget["pages_read"]["point"] == pytest.approx(per_crawl + (pages - per_crawl) / new)
    rates = budget["rates"]
    assert budget["vcpu_hours"]["point"] * 3600 == pytest.approx(
        rates["cpu_per_page"]["point"] * budget["pages_read"]["point"] + budget["fixed_vcpu_hours"] * 3600
    )


def test_a_target_beyond_all_of_common_crawl_is_named(serial_run, cost):
    budget = forecast(cost, {"ko": 500e9}, load_prices())
    ko = budget["supply"]["languages"]["ko"]
    per_doc = cost["per_language"]["ko"]["tokens"] / cost["per_language"]["ko"]["docs"]
    assert ko["ceiling_tokens"] == pytest.approx(60.9e6 * per_doc) and ko["exceeds"]
    assert not forecast(cost, {"ko": 1e9}, load_prices())["supply"]["languages"]["ko"]["exceeds"]
    out, _ = serial_run
    result = CliRunner().invoke(app, ["budget", "--from", str(out), "--target", "ko=500B"])
    assert result.exit_code == 0, result.output
    assert "exceeds what all of Common Crawl gave FineWeb-2" in " ".join(result.output.split())


def test_a_run_deduplicated_against_an_index_measures_the_new_share(cost):
    indexed = json.loads(json.dumps(cost))
    indexed["run"]["config"]["dedup"]["index"] = "s3://corpus/index"
    indexed["stages"]["dedup_exact"]["by_lang"] = {"ko": {"docs_in": 100, "bytes_in": 0, "docs_out": 90, "bytes_out": 0}}
    indexed["stages"]["dedup_near"]["by_lang"] = {"ko": {"docs_in": 90, "bytes_in": 0, "docs_out": 60, "bytes_out": 0}}
    supply = forecast(indexed, {"ko": 50e9}, load_prices())["supply"]
    assert supply["new_share"] == pytest.approx(0.6) and supply["new_share_measured"]
    assert forecast(cost, {"ko": 50e9}, load_prices())["supply"]["new_share"] == load_prices().supply.new_page_share.value


def test_whole_files_and_index_selection_are_both_priced_and_the_cheaper_named(cost):
    budget = forecast(cost, {"ko": 50e9}, load_prices())
    whole, selected = budget["strategies"]["whole_files"], budget["strategies"]["index_selection"]
    assert whole["total_usd"] == pytest.approx(budget["total_usd"]["point"])
    assert whole["pages"] == pytest.approx(budget["pages_read"]["point"])
    assert selected["pages"] == pytest.approx(whole["pages"] * 0.0074)
    index_bytes = whole["pages"] * load_prices().assumptions.index_bytes_per_row.value
    assert selected["terabytes"] * 1e12 == pytest.approx(selected["pages"] * budget["rates"]["bytes_per_page"]["point"] + index_bytes)
    assert budget["strategies"]["cheaper"] == "index_selection" and selected["total_usd"] < whole["total_usd"]


def test_a_selection_pilot_measures_index_bytes_and_range_gets(cost):
    piloted = json.loads(json.dumps(cost))
    piloted["selection"] = {"rows_scanned": 1000, "rows_selected": 10, "index_get_bytes": 50_000, "index_get_requests": 4,
                            "range_gets_per_record": 0.5}
    budget = forecast(piloted, {"ko": 50e9}, load_prices())
    whole, selected = budget["strategies"]["whole_files"], budget["strategies"]["index_selection"]
    assert selected["gets"] == pytest.approx(selected["pages"] * 0.5 + whole["pages"] * 4 / 1000)
    assert selected["terabytes"] * 1e12 == pytest.approx(selected["pages"] * budget["rates"]["bytes_per_page"]["point"] + whole["pages"] * 50)


def test_cli_prints_table_and_cited_assumptions(serial_run):
    out, _ = serial_run
    result = CliRunner().invoke(app, ["budget", "--from", str(out), "--target", "ko=50B", "--target", "en=200B", "--nodes", "4"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "input WARC, TB" in text and "days on 4 node(s)" in text and "vCPU-hours held (billed)" in text
    assert "ko is 0.74% of pages" in text and "commoncrawl.github.io/cc-crawl-statistics" in text
    assert "Common Crawl crawls" in text and "pages read (repeats included)" in text
    assert "index selection is cheaper for this target" in text
    assert "range for ko from resampling its" in text and "before contingency and egress:" in text and "USD (95% range" in text


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
