"""`corpus report`, `corpus budget` and `corpus portfolio`: what a run cost, what
the next one will, and every run's spend on one page, for funders."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from corpus_cli.app import app, fail, usage


PricesOpt = typer.Option(None, "--prices", help="your price sheet YAML, merged over the defaults")
InstanceOpt = typer.Option("c7i.4xlarge", "--instance", help="instance type in the price sheet")
MarketOpt = typer.Option("on_demand", "--market", help="on_demand or spot")


@app.command()
def report(
    out: str = typer.Argument(..., help="a run's output folder or s3://bucket/prefix"),
    prices: Optional[Path] = PricesOpt,
    instance: str = InstanceOpt,
    market: str = MarketOpt,
    krw_per_usd: Optional[float] = typer.Option(None, "--krw-per-usd", help="KRW view rate"),
    split_by: str = typer.Option("bytes", "--split-by", help="share stage costs between languages by bytes or docs"),
    target: Optional[list[str]] = typer.Option(
        None, "--target", help="LANG=TOKENS the 'next crawl' section prices (repeatable; default ko=50B en=200B)"
    ),
    nodes: int = typer.Option(10, "--nodes", help="nodes the next crawl's wall time is spread over"),
    language: str = typer.Option("en", "--language", help="report.html in en (English) or ko (Korean); figures are the same"),
) -> None:
    """(Re)write cost.json, cost.csv and report.html of a finished run, priced with the given sheet."""
    from corpus.accounting.report import rewrite_report
    from corpus.config import CostConfig
    from corpus.storage import open_storage

    if language not in ("en", "ko"):
        usage(f"--language is en or ko, got {language!r}")
    forecast = {"forecast_nodes": nodes} | ({"forecast_targets": target} if target else {})
    cost_cfg = _cost_config(CostConfig, prices, instance, market, krw_per_usd, split_by, **forecast)
    try:
        cost = rewrite_report(open_storage(out), cost_cfg, language)
    except FileNotFoundError as exc:
        fail(str(exc))
    langs = ", ".join(
        f"{lang} {s['tokens']:,} tokens at {s['usd_per_million_tokens'] or 0:.6g} USD per million"
        for lang, s in cost["per_language"].items()
    )
    Console().print(f"total {cost['total']['usd']:.6g} USD ({cost['total']['krw']:,.2f} KRW); {langs}")
    Console().print(f"wrote {out.rstrip('/')}/report.html, cost.json, cost.csv")


@app.command()
def budget(
    from_: str = typer.Option(..., "--from", help="a finished run's output whose cost.json is extrapolated"),
    target: list[str] = typer.Option(..., "--target", help="LANG=TOKENS, e.g. ko=50B (repeatable)"),
    nodes: int = typer.Option(10, "--nodes", help="nodes the wall time is spread over (as the report's default)"),
    by: Optional[str] = typer.Option(None, "--by", help="finish by the end of this month (YYYY-MM): sets --nodes"),
    start: Optional[str] = typer.Option(None, "--start", help="first day of the work (YYYY-MM-DD; default today)"),
    months: int = typer.Option(12, "--months", help="months the output is kept in storage after the run"),
    pulls: int = typer.Option(1, "--pulls", help="times trainers download the whole output (egress)"),
    contingency: str = typer.Option("15%", "--contingency", help="added to the sum of the line items"),
    currency: str = typer.Option("usd", "--currency", help="usd or krw: the currency shown first"),
    instance: str = InstanceOpt,
    market: str = MarketOpt,
    mix: str = typer.Option("commoncrawl", "--mix", help="language shares: commoncrawl (cited) or run (the run's input)"),
    prices: Optional[Path] = PricesOpt,
    as_json: bool = typer.Option(False, "--json", help="print the forecast (with its grant budget) as JSON only"),
    as_csv: bool = typer.Option(False, "--csv", help="print the grant budget's line items and months as CSV only"),
) -> None:
    """Forecast pages, crawls, compute, wall time, storage, requests and cost for token targets,
    compare whole-file reading with index selection, and lay it out as a grant budget by month."""
    import json

    from corpus.accounting.grant import grant_budget, parse_day, parse_month, parse_percent, to_csv
    from corpus.accounting.prices import PriceError, load_prices
    from corpus.accounting.target import BudgetError, parse_target
    from corpus.layout import COST_JSON
    from corpus.storage import open_storage

    if market not in ("on_demand", "spot") or mix not in ("commoncrawl", "run") or currency not in ("usd", "krw"):
        usage("--market is on_demand or spot; --mix is commoncrawl or run; --currency is usd or krw")
    try:
        targets = dict(parse_target(t) for t in target)
        first_day = parse_day(start) if start else None
        deadline = parse_month(by) if by else None
        sheet = load_prices(prices)
        storage = open_storage(from_)
        if not storage.exists(COST_JSON):
            usage(f"{from_} has no cost.json: run `corpus report {from_}` first, or point --from at a run's output")
        cost = json.loads(storage.read_bytes(COST_JSON))
        grant = grant_budget(cost, targets, sheet, nodes=nodes, by=deadline, start=first_day, months=months, pulls=pulls,
                             contingency=parse_percent(contingency), instance=instance, market=market, mix=mix)
    except (BudgetError, PriceError) as exc:
        usage(str(exc))
    if as_json:
        print(json.dumps(grant["forecast"] | {"grant": {k: v for k, v in grant.items() if k != "forecast"}}, indent=2))
    elif as_csv:
        sys.stdout.write(to_csv(grant))
    else:
        _print_budget(grant, targets, currency)


@app.command()
def portfolio(
    prefixes: list[str] = typer.Argument(..., help="local folders or s3://bucket/prefix holding run outputs"),
    output: Path = typer.Option(..., "--output", help="folder for the static site (index.html)"),
) -> None:
    """One offline page over every complete run found: tokens, spend, cost per million tokens, funnels."""
    from corpus.accounting.portfolio import PortfolioError, write_portfolio

    try:
        page = write_portfolio(list(prefixes), str(output))
    except PortfolioError as exc:
        usage(str(exc))
    Console().print(f"wrote {page}")


def _print_budget(grant: dict, targets: dict[str, float], currency: str) -> None:
    from corpus.accounting.budget import range_notes, span, strategy_rows, strategy_text, supply_notes, table_rows
    from corpus.accounting.grant import line_rows, month_rows

    result = grant["forecast"]
    out = Console(width=max(Console().width, 100))  # a table wrapped at 80 columns splits its labels
    goal = ", ".join(f"{lang} {tokens:,.0f} tokens" for lang, tokens in targets.items())
    nodes = result["nodes"]
    tables = [
        (f"budget for {goal} ({result['instance']}, {result['market'].replace('_', '-')}, {nodes} node(s))",
         ("quantity", "estimate", "low", "high"), table_rows(result)),
        ("how to read Common Crawl for it", ("quantity", "whole WARC files", "index selection"), strategy_rows(result)),
        (f"grant budget (from {grant['start']}, reading whole WARC files)",
         ("line item", *((f"{currency.upper()}", "low", "high", "KRW" if currency == "usd" else "USD"))), line_rows(grant, currency)),
        (f"spending by month, {currency.upper()}", ("month", "compute", "requests", "storage", "egress", "contingency", "total"),
         month_rows(grant, currency)),
    ]
    for title, columns, rows in tables:
        table = Table(title=title)
        for i, col in enumerate(columns):
            table.add_column(col, justify="left" if i == 0 else "right")
        for row in rows:
            table.add_row(*row)
        out.print(table)
    total = result["total_usd"]
    deadline = f" to finish by {grant['deadline'][:7]}" if grant["deadline"] else ""
    lines = [
        f"before contingency and egress: {total['point']:,.0f} USD (95% range {span(total, lambda v: f'{v:,.0f}')} USD); "
        f"{result['wall_days']['point']:,.1f} days on {nodes} node(s){deadline}",
        strategy_text(result),
        *supply_notes(result),
        *(f"warning: {w}" for w in result["supply"]["warnings"]),
        *range_notes(result),
        "assumptions:",
        *(f"  - {a['text']} [{a['source']}, {a['date']}]" for a in result["assumptions"]),
    ]
    for line in lines:
        out.print(line, markup=False, highlight=False)


def _cost_config(model, prices, instance, market, krw_per_usd, split_by, **more):
    try:
        return model(prices=str(prices) if prices else None, instance=instance, market=market,
                     krw_per_usd=krw_per_usd, split_by=split_by, **more)
    except Exception as exc:  # pydantic names the field; any invalid option is a usage error
        usage(f"invalid cost option: {exc}")
