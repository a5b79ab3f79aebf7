"""`corpus budget` as a grant office files it: line items, contingency, months, KRW first, CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from typer.testing import CliRunner

from corpus.accounting.budget import forecast
from corpus.accounting.cost import GIB
from corpus.accounting.grant import grant_budget, parse_month
from corpus.accounting.prices import load_prices
from corpus_cli.main import app

START = dt.date(2027, 1, 4)


@pytest.fixture(scope="module")
def cost(serial_run):
    out, _ = serial_run
    return json.loads((out / "cost.json").read_text())


def test_line_items_add_up_with_contingency_on_their_sum(cost):
    sheet = load_prices()
    grant = grant_budget(cost, {"ko": 50e9}, sheet, start=START, months=6, pulls=3, contingency=0.15)
    lines = grant["lines"]
    assert lines["compute"] == grant["forecast"]["compute_usd"]
    output_gb = grant["forecast"]["output_terabytes"] * 1e12 / GIB
    assert lines["egress"]["point"] == pytest.approx(output_gb * sheet.storage.egress_gb.value * 3)
    subtotal = sum(lines[k]["point"] for k in ("compute", "requests", "storage", "egress"))
    assert lines["contingency"]["point"] == pytest.approx(0.15 * subtotal)
    assert grant["total_usd"]["point"] == pytest.approx(1.15 * subtotal)
    assert grant["total_usd"]["low"] < grant["total_usd"]["point"] < grant["total_usd"]["high"]


def test_months_add_up_to_the_lines_and_storage_is_kept_after_the_run(cost):
    grant = grant_budget(cost, {"ko": 50e9}, load_prices(), start=START, months=6)
    months = grant["by_month"]
    assert months[0]["month"] == "2027-01"
    for item in ("compute", "requests", "storage", "egress", "contingency"):
        assert sum(m[item] for m in months) == pytest.approx(grant["lines"][item]["point"]), item
    assert sum(m["total"] for m in months) == pytest.approx(grant["total_usd"]["point"])
    end = dt.date.fromisoformat(grant["end"])
    after = [m for m in months if m["month"] > f"{end:%Y-%m}"]
    assert len(after) >= 5 and all(m["compute"] == 0 and m["storage"] > 0 for m in after)
    assert sum(1 for m in months if m["egress"]) == 1


def test_a_deadline_sets_the_fewest_nodes_that_finish_in_time(cost):
    sheet = load_prices()
    by = parse_month("2027-06")
    grant = grant_budget(cost, {"ko": 50e9}, sheet, start=START, by=by)
    days = (by - START).days + 1
    n = grant["nodes"]
    assert grant["wall_days"]["point"] <= days
    assert forecast(cost, {"ko": 50e9}, sheet, nodes=n - 1)["wall_days"]["point"] > days
    assert dt.date.fromisoformat(grant["end"]) <= by + dt.timedelta(days=1)


def test_cli_puts_krw_first_and_prints_months_and_days(serial_run):
    out, _ = serial_run
    args = ["budget", "--from", str(out), "--target", "ko=50B", "--currency", "krw", "--start", "2027-01-04", "--by", "2027-06"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    text = result.output
    assert "grant budget" in text and "spending by month, KRW" in text and "2027-01" in text
    total_row = next(line for line in text.splitlines() if line.lstrip("│ ").startswith("total "))
    cells = [c.strip() for c in total_row.split("│") if c.strip()]
    assert cells[1].startswith("₩") and cells[-1].startswith("$")
    assert "to finish by 2027-06" in " ".join(text.split())


def test_cli_csv_holds_the_same_line_items_as_json(serial_run):
    out, _ = serial_run
    base = ["budget", "--from", str(out), "--target", "ko=50B", "--start", "2027-01-04", "--months", "3", "--contingency", "10%"]
    as_csv = CliRunner().invoke(app, [*base, "--csv"])
    as_json = CliRunner().invoke(app, [*base, "--json"])
    assert as_csv.exit_code == 0 and as_json.exit_code == 0, as_csv.output + as_json.output
    rows = list(csv.DictReader(io.StringIO(as_csv.output)))
    grant = json.loads(as_json.output)["grant"]
    total = next(r for r in rows if r["section"] == "line" and r["item"] == "total")
    assert float(total["usd"]) == pytest.approx(grant["total_usd"]["point"], rel=1e-5)
    assert grant["contingency_share"] == 0.10 and grant["months_kept"] == 3
    assert {r["section"] for r in rows} >= {"line", "month 2027-01"}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--by", "2020-01", "--start", "2027-01-04"], "is not after the start"),
        (["--by", "June"], "YYYY-MM"),
        (["--contingency", "lots"], "contingency looks like"),
        (["--currency", "eur"], "--currency is usd or krw"),
        (["--start", "04/01/2027"], "start day looks like YYYY-MM-DD"),
    ],
)
def test_cli_refuses_bad_grant_options(serial_run, args, message):
    out, _ = serial_run
    result = CliRunner().invoke(app, ["budget", "--from", str(out), "--target", "ko=50B", *args])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
