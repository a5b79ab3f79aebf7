"""Cost accounting on a real serial run: honest totals, OS-agreeing CPU, cited prices."""

from __future__ import annotations

import csv
import io
import json
import os

import pytest

from corpus import cost as costing
from corpus.config import ConfigError, CostConfig, load_config
from corpus.prices import PriceError, load_prices
from corpus.report import _usage_only


@pytest.fixture(scope="module")
def run_cost(serial_run):
    out, _ = serial_run
    return json.loads((out / "cost.json").read_text()), json.loads((out / "manifest.json").read_text())


def test_stage_costs_add_up_to_the_total(run_cost):
    cost, _ = run_cost
    assert sum(line["usd"] for line in cost["lines"]) == pytest.approx(cost["total"]["usd"], rel=1e-12)
    assert sum(s["usd"] for s in cost["per_language"].values()) == pytest.approx(cost["total"]["usd"], rel=1e-9)
    for line in cost["lines"]:
        assert sum(line["by_lang"].values()) == pytest.approx(line["usd"], rel=1e-9, abs=1e-15)


def test_metered_cpu_agrees_with_the_operating_system(serial_run, run_cost):
    _, os_cpu = serial_run
    cost, _ = run_cost
    metered = cost["total"]["cpu_seconds"]
    assert abs(metered - os_cpu) / os_cpu < 0.10, (metered, os_cpu)
    assert sum(s["cpu_seconds"] for s in cost["stages"].values()) == pytest.approx(metered)


def test_every_stage_and_the_unmetered_rest_are_metered(run_cost):
    cost, _ = run_cost
    for stage in ("read", "extract", "langid", "shards", costing.OVERHEAD):
        assert cost["stages"][stage]["cpu_seconds"] > 0, stage
    assert cost["stages"]["extract"]["by_lang"]["und"]["bytes_in"] > 0
    (proc,) = cost["processes"]
    assert proc["driver"] and proc["units"] == 2
    assert proc["peak_rss_bytes"] > 50 * 2**20
    assert cost["hardware"]["logical_cpus"] >= 1


def test_tokens_and_cost_per_million_tokens_come_from_the_manifest(run_cost):
    cost, manifest = run_cost
    assert set(cost["per_language"]) == set(manifest["languages"]) == {"en", "ko"}
    assert cost["config_sha256"] == manifest["config_sha256"]
    for lang, slot in cost["per_language"].items():
        assert slot["tokens"] == manifest["languages"][lang]["tokens"] > 0
        assert slot["usd_per_million_tokens"] == pytest.approx(slot["usd"] / slot["tokens"] * 1e6)
    assert cost["per_language"]["en"]["usd"] > cost["per_language"]["ko"]["usd"]


def test_funnel_runs_from_input_records_to_shards(run_cost):
    cost, manifest = run_cost
    funnel = cost["funnel"]
    assert funnel[0]["stage"] == "input records" and funnel[-1]["stage"] == "shards"
    docs = [row["docs"] for row in funnel]
    assert docs == sorted(docs, reverse=True)
    assert funnel[-1]["docs"] == sum(v["docs"] for v in manifest["languages"].values())
    assert funnel[-1]["by_lang"] == {lang: v["docs"] for lang, v in manifest["languages"].items()}


def test_split_rule_moves_cost_between_languages_but_not_the_total(run_cost):
    cost, _ = run_cost
    sheet = load_prices()
    by_docs = costing.price(_usage_only(cost), sheet, CostConfig(split_by="docs"))
    by_bytes = costing.price(_usage_only(cost), sheet, CostConfig(split_by="bytes"))
    assert by_docs["total"]["usd"] == pytest.approx(by_bytes["total"]["usd"])
    assert by_docs["per_language"]["ko"]["usd"] != pytest.approx(by_bytes["per_language"]["ko"]["usd"])


def test_storage_requests_are_priced_per_thousand(run_cost):
    cost, _ = run_cost
    usage = _usage_only(cost)
    usage["requests"] = {"get": {"requests": 2000, "bytes": 10}, "put": {"requests": 1000, "bytes": 10}, "delete": {"requests": 7, "bytes": 0}}
    priced = costing.price(usage, load_prices(), CostConfig())
    line = next(l for l in priced["lines"] if l["item"] == "storage requests")
    assert line["usd"] == pytest.approx(2 * 0.0004 + 1 * 0.005)


def test_user_price_sheet_overrides_the_default(run_cost, tmp_path):
    cost, _ = run_cost
    mine = tmp_path / "prices.yaml"
    mine.write_text(
        "instances:\n  c7i.4xlarge:\n    on_demand_hour: {value: 1.428, source: 'grant agreement 2025-17', date: '2025-03'}\n"
    )
    default = costing.price(_usage_only(cost), load_prices(), CostConfig())
    doubled = costing.price(_usage_only(cost), load_prices(mine), CostConfig(prices=str(mine)))
    compute = lambda c: sum(l["usd"] for l in c["lines"] if l["kind"] == "compute")  # noqa: E731
    assert compute(doubled) == pytest.approx(2 * compute(default))
    assert doubled["pricing"]["sheet"]["instances"]["c7i.4xlarge"]["on_demand_hour"]["source"] == "grant agreement 2025-17"


def test_a_price_without_its_source_is_refused(tmp_path):
    mine = tmp_path / "prices.yaml"
    mine.write_text("storage:\n  gb_month: {value: 0.01}\n")
    with pytest.raises(PriceError, match="storage.gb_month needs `source` and `date`"):
        load_prices(mine)


def test_every_default_price_is_cited():
    sheet = load_prices()
    prices = [sheet.krw_per_usd, sheet.gpu_hour, *sheet.storage.__dict__.values()]
    for inst in sheet.instances.values():
        prices += [inst.on_demand_hour, inst.spot_hour]
    assert all(p.source and p.date for p in prices)


def test_an_unpriced_instance_is_refused_before_the_run():
    with pytest.raises(ConfigError, match="cost.instance.*z9.huge"):
        load_config(None, {"cost.instance": "z9.huge"})


def test_cost_csv_agrees_with_cost_json(serial_run, run_cost):
    out, _ = serial_run
    cost, _ = run_cost
    rows = list(csv.DictReader(io.StringIO((out / "cost.csv").read_text())))
    total = next(r for r in rows if r["section"] == "total")
    assert float(total["usd"]) == pytest.approx(cost["total"]["usd"], rel=1e-5)
    ko = next(r for r in rows if r["section"] == "language" and r["lang"] == "ko")
    assert int(ko["tokens"]) == cost["per_language"]["ko"]["tokens"]


def test_worker_start_up_is_metered_apart_from_page_work(run_cost):
    cost, _ = run_cost
    (proc,) = cost["processes"]
    startup = cost["stages"][costing.STARTUP]["cpu_seconds"]
    assert startup == proc["startup_cpu_seconds"] == cost["fixed"]["per_worker_cpu_seconds"] > 0
    assert cost["fixed"] == pytest.approx(
        {"workers": 1, "per_worker_cpu_seconds": startup, "per_worker_wall_seconds": proc["startup_wall_seconds"], "driver_cpu_seconds": 0.0}
    )
    units = sum(i["cpu_seconds"] for i in cost["inputs"])
    assert startup + units + cost["stages"][costing.OVERHEAD]["cpu_seconds"] <= proc["cpu_seconds"] * 1.001


def test_machine_time_held_is_wall_time_times_vcpus_and_priced_beside_cpu_used(run_cost):
    cost, _ = run_cost
    held = cost["held"]
    assert held["nodes"] == 1 and held["vcpus"] == os.cpu_count()
    assert held["vcpu_seconds"] == pytest.approx(held["wall_seconds"] * held["vcpus"])
    assert 0 < held["wall_seconds"] <= cost["processes"][0]["wall_seconds"]
    priced = cost["total"]["held"]
    assert priced["compute_usd"] == pytest.approx(held["vcpu_seconds"] / 3600 * cost["pricing"]["vcpu_hour_usd"])
    storage = sum(line["usd"] for line in cost["lines"] if line["kind"] == "storage")
    assert priced["usd"] == pytest.approx(priced["compute_usd"] + storage)
    assert priced["busy_share"] == pytest.approx(cost["total"]["cpu_seconds"] / held["vcpu_seconds"])
    assert priced["usd"] > cost["total"]["usd"]
