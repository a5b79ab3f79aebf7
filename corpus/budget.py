"""`corpus budget`: what a token target costs, extrapolated from a measured run.

The run's cost.json says, file by file, how many pages each input held, how
many of them language ID gave to each language, how many tokens those yielded
and how much CPU it took. A target of T tokens in language L then needs

    pages = T / (tokens per L-page) / (share of L among all pages)

input pages (one pass over the input serves every language, so the largest
language's need sets it). WARC bytes, requests and the per-page part of the
CPU scale with pages; the run's start-up (imports, loading and warming up
models: `cost["fixed"]`) is paid once per worker, so it grows with workers
and nodes, not pages. A small pilot is mostly start-up: scaling it with pages
would over-forecast several times.
The share comes from the price sheet's Common Crawl figures (`mix="commoncrawl"`)
or from the run's own input (`mix="run"`).

The range comes from the variance between input files: each per-page rate is a
ratio estimate over files, with its standard error from the spread of the
files' own ratios (the usual ratio estimator); low and high use the rates 1.96
standard errors either side. With fewer than two files holding a language, that
language's rate has no range and the budget says so.
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal

from corpus.cost import FREE_VERBS, GIB, WRITE_VERBS
from corpus.prices import PriceSheet

Z = 1.96
SUFFIXES = {"": 1, "K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9, "T": 1e12}
PUTS_PER_INPUT_FILE = 3  # staged part, dropped part, ledger entry
GETS_PER_INPUT_FILE = 2  # the WARC itself, its staged part again at finalize
DEFAULT_NODES = 10  # as the report's `cost.forecast_nodes`


class BudgetError(ValueError):
    """A target or a run that cannot be extrapolated; the message says which and why."""


def parse_target(text: str) -> tuple[str, float]:
    """`ko=50B` → ("ko", 5e10). Suffixes K, M, B (or G), T; plain numbers too."""
    match = re.fullmatch(r"\s*([a-z]{2,3})\s*=\s*([0-9]*\.?[0-9]+)\s*([KMBGT]?)\s*", text, re.IGNORECASE)
    if not match:
        raise BudgetError(f"a target looks like LANG=TOKENS, e.g. ko=50B or en=2.5T; got {text!r}")
    lang, number, suffix = match.groups()
    return lang.lower(), float(number) * SUFFIXES[suffix.upper()]


def forecast(
    cost: dict[str, Any],
    targets: dict[str, float],
    sheet: PriceSheet,
    nodes: int = DEFAULT_NODES,
    instance: str = "c7i.4xlarge",
    market: Literal["on_demand", "spot"] = "on_demand",
    mix: Literal["commoncrawl", "run"] = "commoncrawl",
) -> dict[str, Any]:
    """The forecast as a dict: point values with `low`/`high` ranges, and every assumption cited.

    CPU is the run's fixed part plus its marginal part: every worker (one per
    vCPU of each node) pays the pilot's measured start-up once, and per-page
    work scales with the pages read. Wall time is one start-up plus the pages'
    work spread over all workers at the sheet's utilisation; the bill is the
    machine time held (wall time x nodes x vCPUs), which is what a cloud charges.
    """
    if nodes < 1:
        raise BudgetError(f"--nodes must be at least 1, got {nodes}")
    inputs = cost["inputs"]
    if not inputs or not sum(i["pages"] for i in inputs):
        raise BudgetError("the run read no pages: there is nothing to extrapolate from")
    inst = sheet.instance(instance)
    assumptions: list[dict[str, Any]] = []
    per_lang = {lang: _language_need(cost, lang, tokens, sheet, mix, assumptions) for lang, tokens in targets.items()}
    pages = _max_range([need["pages"] for need in per_lang.values()])
    rates = pilot_rates(cost)
    workers = nodes * inst.vcpus
    util = sheet.assumptions.cluster_utilisation
    fixed_cpu = rates["driver_cpu_seconds"] + rates["startup_cpu_per_worker"] * workers
    marginal_cpu = _scale(pages, rates["cpu_per_page"], 1.0)
    vcpu_hours = _shift(_scale(marginal_cpu, None, 1 / 3600), fixed_cpu / 3600)
    wall_seconds = _shift(_scale(marginal_cpu, None, 1 / (workers * util.value)), rates["startup_wall_per_worker"])
    wall_hours = _scale(wall_seconds, None, 1 / 3600)
    node_hours = _scale(wall_hours, None, float(nodes))
    held_vcpu_hours = _scale(node_hours, None, float(inst.vcpus))
    vcpu_price = sheet.vcpu_hour(instance, market)
    compute_usd = _scale(held_vcpu_hours, None, vcpu_price)
    bytes_page = rates["bytes_per_page"]
    warc_bytes = _scale(pages, bytes_page, 1.0)
    output_bytes = sum(need["output_bytes"] for need in per_lang.values())
    storage_usd = output_bytes / GIB * sheet.storage.gb_month.value
    requests = _requests(warc_bytes, output_bytes, cost, sheet)
    total = {
        k: None if compute_usd[k] is None or requests["usd"][k] is None else compute_usd[k] + storage_usd + requests["usd"][k]
        for k in compute_usd
    }
    hourly = inst.on_demand_hour if market == "on_demand" else inst.spot_hour
    assumptions += [
        _cite("compute", f"{instance}: {inst.vcpus} vCPU at {hourly.value} USD/hour ({market.replace('_', '-')}), "
              "billed for the time the nodes are held", hourly),
        _cite("utilisation", f"{util.value:.0%} of held vCPU time does stage work", util),
        _cite("storage", f"{sheet.storage.gb_month.value} USD per GB-month for the output", sheet.storage.gb_month),
        {"what": "measured", "text": _measured_text(cost, rates, workers), "source": "cost.json of the run", "date": cost.get("priced_at", "")},
    ]
    return {
        "from_run": cost["run_id"],
        "targets": targets,
        "mix": mix,
        "nodes": nodes,
        "workers": workers,
        "instance": instance,
        "market": market,
        "languages": per_lang,
        "pages": pages,
        "rates": rates,
        "warc_terabytes": _scale(warc_bytes, None, 1e-12),
        "fixed_vcpu_hours": fixed_cpu / 3600,
        "vcpu_hours": vcpu_hours,
        "held_vcpu_hours": held_vcpu_hours,
        "node_hours": node_hours,
        "wall_hours": wall_hours,
        "wall_days": _scale(wall_hours, None, 1 / 24),
        "output_terabytes": output_bytes / 1e12,
        "storage_usd_per_month": storage_usd,
        "requests": requests,
        "compute_usd": compute_usd,
        "compute_used_usd": _scale(vcpu_hours, None, vcpu_price),
        "total_usd": total,
        "total_krw": {k: v * sheet.krw_per_usd.value if v is not None else None for k, v in total.items()},
        "assumptions": assumptions,
    }


def pilot_rates(cost: dict[str, Any]) -> dict[str, Any]:
    """What a run measured, split into what scales with pages and what does not.

    `cpu_per_page` is all CPU except start-up and a model-less driver, per input
    page (its range from the spread between files); start-up per worker and the
    driver's CPU are the run's fixed part (`cost["fixed"]`). A run from before
    start-up was metered apart has no fixed part: all of its CPU scales.
    """
    inputs = cost["inputs"]
    pages = sum(i["pages"] for i in inputs)
    fixed = cost.get("fixed") or {}
    driver = fixed.get("driver_cpu_seconds", 0.0)
    startup = cost["stages"].get("startup", {}).get("cpu_seconds", 0.0)
    marginal = sum(s["cpu_seconds"] for s in cost["stages"].values()) - startup - driver
    spread = _ratio([(i["pages"], i["cpu_seconds"]) for i in inputs if i["pages"]])
    files = len(inputs)
    return {
        "pages": pages,
        "files": files,
        "metered_apart": bool(fixed),
        "cpu_per_page": _rescale(spread, marginal / pages),
        "startup_cpu_per_worker": fixed.get("per_worker_cpu_seconds", 0.0),
        "startup_wall_per_worker": fixed.get("per_worker_wall_seconds", 0.0),
        "driver_cpu_seconds": driver,
        "bytes_per_page": _ratio([(i["pages"], i["input_bytes"]) for i in inputs if i["pages"] and i["input_bytes"]]),
        "output_bytes_per_page": sum(v["bytes"] for v in cost["languages"].values()) / pages,
        "requests_per_file": {verb: slot["requests"] / files for verb, slot in cost["requests"].items()},
    }


def predict_run(cost: dict[str, Any], pages: float, files: int, workers: int = 1) -> dict[str, float]:
    """What a run of the same kind as `cost`'s (same config, storage and prices) over
    `pages` pages in `files` files on `workers` workers will put in its own cost.json:
    CPU used and total USD. What `bench/forecast_accuracy.py` checks a pilot against."""
    rates = pilot_rates(cost)
    cpu = rates["driver_cpu_seconds"] + rates["startup_cpu_per_worker"] * workers + rates["cpu_per_page"]["point"] * pages
    storage = cost["pricing"]["sheet"]["storage"]
    per_1000 = {verb: storage["put_per_1000" if verb in WRITE_VERBS else "get_per_1000"]["value"] for verb in rates["requests_per_file"]}
    requests = sum(n * files / 1000 * per_1000[verb] for verb, n in rates["requests_per_file"].items() if verb not in FREE_VERBS)
    stored = rates["output_bytes_per_page"] * pages / GIB * storage["gb_month"]["value"]
    return {"cpu_seconds": cpu, "vcpu_hours": cpu / 3600, "usd": cpu / 3600 * cost["pricing"]["vcpu_hour_usd"] + requests + stored}


def table_rows(budget: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(quantity, point, low, high) rows for the printed table."""
    rows = [
        ("input pages", budget["pages"], "{:,.0f}"),
        ("input WARC, TB", budget["warc_terabytes"], "{:,.2f}"),
        ("compute used, vCPU-hours", budget["vcpu_hours"], "{:,.0f}"),
        ("compute held (billed), vCPU-hours", budget["held_vcpu_hours"], "{:,.0f}"),
        ("node-hours", budget["node_hours"], "{:,.0f}"),
        (f"wall time on {budget['nodes']} node(s), days", budget["wall_days"], "{:,.1f}"),
        ("GET requests", budget["requests"]["get"], "{:,.0f}"),
        ("PUT requests", budget["requests"]["put"], "{:,.0f}"),
        ("compute, USD (held)", budget["compute_usd"], "{:,.0f}"),
        ("requests, USD", budget["requests"]["usd"], "{:,.2f}"),
        ("total, USD", budget["total_usd"], "{:,.0f}"),
        ("total, KRW", budget["total_krw"], "{:,.0f}"),
    ]
    out = [(name, *(_fmt(r.get(k), f) for k in ("point", "low", "high"))) for name, r, f in rows]
    out.insert(2, ("output, TB (stored)", f"{budget['output_terabytes']:,.3f}", "", ""))
    out.insert(3, ("storage, USD per month", f"{budget['storage_usd_per_month']:,.2f}", "", ""))
    out.insert(6, ("of which start-up (fixed), vCPU-hours", f"{budget['fixed_vcpu_hours']:,.1f}", "", ""))
    return out


def _measured_text(cost: dict[str, Any], rates: dict[str, Any], workers: int) -> str:
    per_page = rates["cpu_per_page"]["point"] * 1000
    if not rates["metered_apart"]:
        return (f"CPU per page and WARC bytes per page measured on {rates['files']} input file(s) of run {cost['run_id']}; "
                "that run did not meter start-up apart, so all its CPU is scaled with pages (an over-estimate for a small run)")
    return (f"measured on {rates['files']} input file(s) of run {cost['run_id']}: {per_page:,.1f} CPU-ms per page, scaled with pages; "
            f"start-up {rates['startup_cpu_per_worker']:,.1f} CPU-s per worker, paid once by each of {workers:,} workers")


# --- per-language need ---------------------------------------------------------------------
def _language_need(cost, lang, tokens, sheet, mix, assumptions) -> dict[str, Any]:
    slot = cost["per_language"].get(lang)
    if not slot or not slot["tokens"]:
        have = ", ".join(sorted(cost["per_language"])) or "none"
        raise BudgetError(f"run {cost['run_id']} produced no {lang!r} tokens (it has: {have}); budget from a run that does")
    tokens_per_text_byte = slot["tokens"] / slot["text_bytes"] if slot["text_bytes"] else 0.0
    files = [(i["pages_by_lang"].get(lang, 0), i["text_bytes_by_lang"].get(lang, 0) * tokens_per_text_byte) for i in cost["inputs"]]
    files = [(x, y) for x, y in files if x > 0]
    per_page = _ratio(files)
    share = _share(cost, lang, sheet, mix, assumptions)
    pages = {k: (tokens / (v * share) if v else None) for k, v in _swap(per_page).items()}
    bytes_per_token = cost["languages"][lang]["bytes"] / slot["tokens"]
    if not slot["tokens_measured"]:
        ratio = sheet.assumptions.bytes_per_token[lang]
        assumptions.append(_cite(f"tokens {lang}", f"no tokenizer counts in the run: {ratio.value} text bytes per token", ratio))
    return {
        "tokens": tokens,
        "tokens_per_page": per_page,
        "page_share": share,
        "files_with_language": len(files),
        "pages": pages,
        "output_bytes": tokens * bytes_per_token,
    }


def _share(cost, lang, sheet, mix, assumptions) -> float:
    if mix == "run":
        pages = sum(i["pages"] for i in cost["inputs"])
        share = sum(i["pages_by_lang"].get(lang, 0) for i in cost["inputs"]) / pages
        assumptions.append({"what": f"share {lang}", "text": f"{share:.4%} of pages, as in the run's own input", "source": "cost.json", "date": ""})
        return share
    price = sheet.assumptions.page_share.get(lang)
    if price is None:
        raise BudgetError(f"the price sheet has no Common Crawl page share for {lang!r}: add assumptions.page_share.{lang} or use --mix run")
    assumptions.append(_cite(f"share {lang}", f"{lang} is {price.value:.2%} of pages in a recent Common Crawl crawl", price))
    return price.value


# --- rates and ranges ------------------------------------------------------------------------
def _ratio(files: list[tuple[float, float]]) -> dict[str, float | None]:
    """Σy/Σx over files, with the ratio estimator's 95% range (None below two files)."""
    n = len(files)
    sx, sy = sum(x for x, _ in files), sum(y for _, y in files)
    point = sy / sx if sx else 0.0
    if n < 2:
        return {"point": point, "low": None, "high": None}
    mean_x = sx / n
    var = sum((y - point * x) ** 2 for x, y in files) / (n * (n - 1) * mean_x**2)
    half = Z * math.sqrt(var)
    return {"point": point, "low": max(point - half, 0.0), "high": point + half}


def _swap(rate: dict[str, float | None]) -> dict[str, float | None]:
    """A yield's low end drives the high need: swap ends for quantities that divide by it."""
    return {"point": rate["point"], "low": rate["high"], "high": rate["low"]}


def _rescale(spread: dict[str, float | None], point: float) -> dict[str, float | None]:
    factor = point / spread["point"] if spread["point"] else 1.0
    return {k: (v * factor if v is not None else None) for k, v in spread.items()}


def _shift(a: dict[str, float | None], by: float) -> dict[str, float | None]:
    return {k: None if v is None else v + by for k, v in a.items()}


def _max_range(ranges: list[dict[str, float | None]]) -> dict[str, float | None]:
    out = {}
    for key in ("point", "low", "high"):
        values = [r[key] for r in ranges]
        out[key] = None if any(v is None for v in values) else max(values)
    return out


def _scale(a: dict[str, float | None], b: dict[str, float | None] | None, factor: float) -> dict[str, float | None]:
    out = {}
    for key in ("point", "low", "high"):
        x = a[key]
        y = 1.0 if b is None else b[key]
        out[key] = None if x is None or y is None else x * y * factor
    return out


def _requests(warc_bytes, output_bytes, cost, sheet: PriceSheet) -> dict[str, Any]:
    """GETs and PUTs from the number of input files (WARCs of the sheet's typical size) and output shards."""
    target = cost.get("run", {}).get("config", {}).get("shards", {}).get("target_bytes", 256 * 1024**2)
    shards = math.ceil(output_bytes / target)
    files = {k: (math.ceil(v / sheet.assumptions.warc_file_bytes.value) if v is not None else None) for k, v in warc_bytes.items()}
    get = {k: v * GETS_PER_INPUT_FILE if v is not None else None for k, v in files.items()}
    put = {k: v * PUTS_PER_INPUT_FILE + shards if v is not None else None for k, v in files.items()}
    usd = {
        k: (get[k] / 1000 * sheet.storage.get_per_1000.value + put[k] / 1000 * sheet.storage.put_per_1000.value)
        if get[k] is not None else None
        for k in get
    }
    return {"get": get, "put": put, "usd": usd, "input_files": files}


def _cite(what: str, text: str, price) -> dict[str, Any]:
    return {"what": what, "text": text, "source": price.source, "date": price.date}


def _fmt(value: float | None, pattern: str) -> str:
    return "n/a" if value is None else pattern.format(value)
