"""`corpus budget`: what a token target costs, extrapolated from a measured run.

The run's cost.json says, file by file, how many pages each input held, how
many of them language ID gave to each language, how many tokens those yielded
and how much CPU it took. A target of T tokens in language L then needs

    pages = T / (tokens per L-page) / (share of L among all pages)

new input pages (one pass over the input serves every language, so the largest
language's need sets it). A crawl holds only so many pages, and a further
crawl repeats much of the last: `supply` says how many crawls the pages take,
how many pages are read to find them (repeats included), and whether all of
Common Crawl holds the target at all. WARC bytes, requests and the per-page
part of the CPU scale with the pages read; the run's start-up (imports, loading and warming up
models: `cost["fixed"]`) is paid once per worker, so it grows with workers
and nodes, not pages. A small pilot is mostly start-up: scaling it with pages
would over-forecast several times.
The share comes from the price sheet's Common Crawl figures (`mix="commoncrawl"`)
or from the run's own input (`mix="run"`).

The range comes from the variance between input files: each per-page rate is a
ratio estimate over files, with its standard error from the spread of the
files' own ratios (the usual ratio estimator); low and high use the rates 1.96
standard errors either side. A language held by one file only gets its range
from resampling that file's pages (`cost["page_yield"]`, a bootstrap), which
sees the variation between pages but not between files; CPU and bytes per
page from one file keep their measured value at both ends, and the budget
says so.
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
    supply = _supply(cost, per_lang, pages, sheet, assumptions)
    read = supply["pages_read"]
    rates = pilot_rates(cost)
    util = sheet.assumptions.cluster_utilisation
    vcpu_price = sheet.vcpu_hour(instance, market)
    cluster = Cluster(nodes, inst.vcpus, util.value, vcpu_price, rates)
    workers = cluster.workers
    fixed_cpu = cluster.fixed_cpu
    compute = cluster.compute(_scale(read, rates["cpu_per_page"], 1.0))
    vcpu_hours, wall_hours, node_hours = compute["vcpu_hours"], compute["wall_hours"], compute["node_hours"]
    held_vcpu_hours, compute_usd = compute["held_vcpu_hours"], compute["compute_usd"]
    bytes_page = rates["bytes_per_page"]
    warc_bytes = _scale(read, bytes_page, 1.0)
    output_bytes = sum(need["output_bytes"] for need in per_lang.values())
    storage_usd = output_bytes / GIB * sheet.storage.gb_month.value
    requests = _requests(warc_bytes, output_bytes, cost, sheet)
    total = {
        k: None if compute_usd[k] is None or requests["usd"][k] is None else compute_usd[k] + storage_usd + requests["usd"][k]
        for k in compute_usd
    }
    strategies = _strategies(cost, per_lang, supply, rates, sheet, cluster, requests, storage_usd, assumptions)
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
        "pages_read": read,
        "supply": supply,
        "strategies": strategies,
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


class Cluster:
    """Nodes of one instance type running a forecast's work: one worker per vCPU."""

    def __init__(self, nodes: int, vcpus: int, utilisation: float, vcpu_price: float, rates: dict[str, Any]) -> None:
        self.nodes, self.vcpus, self.util, self.price, self.rates = nodes, vcpus, utilisation, vcpu_price, rates
        self.workers = nodes * vcpus
        self.fixed_cpu = rates["driver_cpu_seconds"] + rates["startup_cpu_per_worker"] * self.workers

    def compute(self, marginal_cpu: dict[str, float | None]) -> dict[str, dict[str, float | None]]:
        """CPU used (fixed + marginal), wall time (one start-up, then the pages' work over every
        worker at the utilisation), and the machine time held and billed (wall x nodes x vCPUs)."""
        wall_seconds = _shift(_scale(marginal_cpu, None, 1 / (self.workers * self.util)), self.rates["startup_wall_per_worker"])
        wall_hours = _scale(wall_seconds, None, 1 / 3600)
        node_hours = _scale(wall_hours, None, float(self.nodes))
        held = _scale(node_hours, None, float(self.vcpus))
        return {
            "vcpu_hours": _shift(_scale(marginal_cpu, None, 1 / 3600), self.fixed_cpu / 3600),
            "wall_hours": wall_hours,
            "node_hours": node_hours,
            "held_vcpu_hours": held,
            "compute_usd": _scale(held, None, self.price),
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
        "cpu_per_page": _filled(_rescale(spread, marginal / pages)),
        "startup_cpu_per_worker": fixed.get("per_worker_cpu_seconds", 0.0),
        "startup_wall_per_worker": fixed.get("per_worker_wall_seconds", 0.0),
        "driver_cpu_seconds": driver,
        "bytes_per_page": _filled(_ratio([(i["pages"], i["input_bytes"]) for i in inputs if i["pages"] and i["input_bytes"]])),
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
    """(quantity, point, low, high) rows for the printed table; single figures have no range."""
    ranged = lambda name, r, f: (name, *(_fmt(r.get(k), f) for k in ("point", "low", "high")))  # noqa: E731
    single = lambda name, v, f: (name, f.format(v), "", "")  # noqa: E731
    return [
        ranged("new pages needed", budget["pages"], "{:,.0f}"),
        ranged("pages read (repeats included)", budget["pages_read"], "{:,.0f}"),
        ranged("Common Crawl crawls", budget["supply"]["crawls"], "{:,.1f}"),
        ranged("input WARC, TB", budget["warc_terabytes"], "{:,.2f}"),
        single("output, TB (stored)", budget["output_terabytes"], "{:,.3f}"),
        single("storage, USD per month", budget["storage_usd_per_month"], "{:,.2f}"),
        ranged("vCPU-hours used", budget["vcpu_hours"], "{:,.0f}"),
        single("  of which start-up", budget["fixed_vcpu_hours"], "{:,.1f}"),
        ranged("vCPU-hours held (billed)", budget["held_vcpu_hours"], "{:,.0f}"),
        ranged("node-hours", budget["node_hours"], "{:,.0f}"),
        ranged(f"days on {budget['nodes']} node(s)", budget["wall_days"], "{:,.1f}"),
        ranged("GET requests", budget["requests"]["get"], "{:,.0f}"),
        ranged("PUT requests", budget["requests"]["put"], "{:,.0f}"),
        ranged("compute, USD (held)", budget["compute_usd"], "{:,.0f}"),
        ranged("requests, USD", budget["requests"]["usd"], "{:,.2f}"),
        ranged("total, USD", budget["total_usd"], "{:,.0f}"),
        ranged("total, KRW", budget["total_krw"], "{:,.0f}"),
    ]


def supply_notes(budget: dict[str, Any]) -> list[str]:
    """What the crawls give each language, and the ceiling, in words."""
    sup = budget["supply"]
    notes = []
    for lang, slot in sup["languages"].items():
        ceiling = (f"; all of Common Crawl holds about {slot['ceiling_tokens']:,.0f} (ceiling)"
                   if slot["ceiling_tokens"] is not None else "; no cited ceiling")
        notes.append(f"supply {lang}: one crawl gives about {slot['tokens_first_crawl']:,.0f} tokens, each further crawl "
                     f"{slot['tokens_further_crawl']:,.0f}{ceiling}")
    return notes


def range_notes(budget: dict[str, Any]) -> list[str]:
    """Where each range comes from, in words, for the CLI and the report."""
    notes = []
    for lang, need in budget["languages"].items():
        if need["range_from"] == "pages":
            notes.append(f"range for {lang} from resampling its {need['resampled_pages']:,} pages in one input file "
                         "(page-to-page variation; a pilot of more files also shows file-to-file variation)")
        elif need["range_from"] is None:
            notes.append(f"no range for {lang}: one input file holds it and the run has no token counts to resample")
    if budget["rates"]["files"] < 2:
        notes.append("CPU and WARC bytes per page measured on one file: the same at both ends of the range")
    return notes


def span(value: dict[str, float | None], fmt) -> str:
    """'low–high' of a range, or 'no range'."""
    if value.get("low") is None or value.get("high") is None:
        return "no range"
    return f"{fmt(value['low'])}–{fmt(value['high'])}"


def _measured_text(cost: dict[str, Any], rates: dict[str, Any], workers: int) -> str:
    per_page = rates["cpu_per_page"]["point"] * 1000
    if not rates["metered_apart"]:
        return (f"CPU per page and WARC bytes per page measured on {rates['files']} input file(s) of run {cost['run_id']}; "
                "that run did not meter start-up apart, so all its CPU is scaled with pages (an over-estimate for a small run)")
    return (f"measured on {rates['files']} input file(s) of run {cost['run_id']}: {per_page:,.1f} CPU-ms per page, scaled with pages; "
            f"start-up {rates['startup_cpu_per_worker']:,.1f} CPU-s per worker, paid once by each of {workers:,} workers")


# --- strategy: whole files or index selection -----------------------------------------------
def _strategies(cost, per_lang, supply, rates, sheet: PriceSheet, cluster: "Cluster", requests, storage_usd,
                assumptions) -> dict[str, Any]:
    """Point forecasts of reading whole WARC files and of Common Crawl index selection.

    Whole files: every page of the crawls is read and processed, one pass for
    all languages (the main forecast). Index selection: each language reads only
    the pages the index tags with it (its share of the pages its own target
    needs read), fetched by range GETs, after one scan of the index rows of
    those pages. A record costs the same bytes and CPU either way (the pilot's
    rates); the index's bytes per row and range GETs per record are measured
    when the pilot used selection, cited defaults otherwise. Index GETs (one
    per column chunk) are counted only when measured. Both write the same
    staged parts and shards (the same PUTs) and store the same output.
    """
    sel = cost.get("selection")
    index_gets = 0.0
    if sel and sel["rows_scanned"]:
        index_bytes, gets_per_record = sel["index_get_bytes"] / sel["rows_scanned"], sel["range_gets_per_record"] or 1.0
        index_gets = sel["index_get_requests"] / sel["rows_scanned"]
        assumptions.append({"what": "index selection", "text": f"index {index_bytes:,.0f} bytes per row and {gets_per_record:.2f} "
                            "range GETs per record, measured by this run's index selection", "source": "cost.json of the run", "date": ""})
    else:
        a = sheet.assumptions
        index_bytes, gets_per_record = a.index_bytes_per_row.value, a.range_gets_per_selected_record.value
        assumptions.append(_cite("index bytes", f"the index costs {index_bytes:,.0f} bytes per row scanned", a.index_bytes_per_row))
        assumptions.append(_cite("range GETs", f"{gets_per_record:g} range GET per selected record", a.range_gets_per_selected_record))
    per_crawl, new_share = supply["pages_per_crawl"], supply["new_share"]
    lang_read = {lang: _read_for(need["pages"]["point"], per_crawl, new_share) for lang, need in per_lang.items()}
    selected = sum(lang_read[lang] * need["page_share"] for lang, need in per_lang.items())
    scanned = max(lang_read.values())  # one scan of the index rows serves every language
    page_bytes = rates["bytes_per_page"]["point"]
    puts = requests["put"]["point"]

    def side(pages: float, n_bytes: float, gets: float) -> dict[str, float]:
        compute = cluster.compute({"point": rates["cpu_per_page"]["point"] * pages, "low": None, "high": None})
        requests_usd = gets / 1000 * sheet.storage.get_per_1000.value + puts / 1000 * sheet.storage.put_per_1000.value
        usd = compute["compute_usd"]["point"] + requests_usd + storage_usd
        return {"pages": pages, "terabytes": n_bytes / 1e12, "gets": gets, "vcpu_hours": compute["vcpu_hours"]["point"],
                "held_vcpu_hours": compute["held_vcpu_hours"]["point"], "compute_usd": compute["compute_usd"]["point"],
                "requests_usd": requests_usd, "total_usd": usd}

    whole = supply["pages_read"]["point"]
    out = {
        "whole_files": side(whole, whole * page_bytes, requests["get"]["point"]),
        "index_selection": side(selected, selected * page_bytes + scanned * index_bytes, selected * gets_per_record + scanned * index_gets),
    }
    cheaper = min(out, key=lambda k: out[k]["total_usd"])
    other = "whole_files" if cheaper == "index_selection" else "index_selection"
    return out | {"cheaper": cheaper, "saving": 1 - out[cheaper]["total_usd"] / out[other]["total_usd"] if out[other]["total_usd"] else 0.0}


def strategy_rows(budget: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(quantity, whole files, index selection) rows for the printed comparison."""
    w, s = budget["strategies"]["whole_files"], budget["strategies"]["index_selection"]
    rows = [("pages processed", "pages", "{:,.0f}"), ("bytes read, TB", "terabytes", "{:,.2f}"), ("GET requests", "gets", "{:,.0f}"),
            ("vCPU-hours used", "vcpu_hours", "{:,.0f}"), ("vCPU-hours held", "held_vcpu_hours", "{:,.0f}"),
            ("total, USD", "total_usd", "{:,.0f}")]
    return [(name, f.format(w[key]), f.format(s[key])) for name, key, f in rows]


def strategy_text(budget: dict[str, Any]) -> str:
    """One sentence naming the cheaper way to read Common Crawl for this target."""
    st = budget["strategies"]
    name = {"whole_files": "reading whole WARC files", "index_selection": "Common Crawl index selection"}
    return (f"{name[st['cheaper']]} is cheaper for this target: {st[st['cheaper']]['total_usd']:,.0f} USD against "
            f"{st['whole_files' if st['cheaper'] == 'index_selection' else 'index_selection']['total_usd']:,.0f} USD "
            f"({st['saving']:.0%} less)")


def _read_for(pages: float, per_crawl: float, new_share: float) -> float:
    """Pages read to find `pages` new ones: the first crawl's, then further crawls' repeats too."""
    return min(pages, per_crawl) + max(pages - per_crawl, 0.0) / new_share


# --- supply ----------------------------------------------------------------------------------
def _supply(cost, per_lang, pages, sheet: PriceSheet, assumptions) -> dict[str, Any]:
    """How many Common Crawl crawls the pages take, and whether all of Common Crawl holds the target.

    The first crawl gives all its pages; each further one only its new share
    (cross-crawl dedup removes the rest): crawls = 1 + (pages - P) / (P x new share).
    Reading a further crawl reads all of its pages, repeats included, so the
    pages read (what CPU, bytes and requests follow) exceed the new pages needed.
    The new share is measured when the run deduplicated against an index of
    earlier corpora (the share of documents dedup kept: within-run duplicates
    count too, so it is a lower bound), the sheet's cited figure otherwise.
    The ceiling is what FineWeb-2 kept from every crawl, in documents, at this
    run's tokens per kept document.
    """
    sup = sheet.supply
    per_crawl = sup.pages_per_crawl.value
    new_share, measured = _new_share(cost, sup.new_page_share.value)
    if not 0 < new_share <= 1:
        raise BudgetError(f"supply.new_page_share must be above 0 and at most 1, got {new_share}")
    crawls = {k: None if v is None else 1 + max(v - per_crawl, 0.0) / (per_crawl * new_share) for k, v in pages.items()}
    # Every page of a further crawl is read; dedup then drops the repeats.
    read = {k: None if v is None else _read_for(v, per_crawl, new_share) for k, v in pages.items()}
    warnings = []
    if crawls["point"] > sup.crawls.value:
        warnings.append(f"the target needs {crawls['point']:,.0f} crawls; Common Crawl has about {sup.crawls.value:,.0f}")
    langs = {}
    for lang, need in per_lang.items():
        slot = cost["per_language"][lang]
        per_doc = slot["tokens"] / slot["docs"] if slot["docs"] else 0.0
        kept = sup.kept_documents.get(lang)
        ceiling = kept.value * per_doc if kept else None
        first = per_crawl * need["page_share"] * need["tokens_per_page"]["point"]
        langs[lang] = {"pages_per_crawl": per_crawl * need["page_share"], "tokens_first_crawl": first,
                       "tokens_further_crawl": first * new_share, "ceiling_tokens": ceiling,
                       "exceeds": ceiling is not None and need["tokens"] > ceiling}
        if langs[lang]["exceeds"]:
            warnings.append(f"{lang}: the target of {need['tokens']:,.0f} tokens exceeds what all of Common Crawl gave "
                            f"FineWeb-2 ({kept.value:,.0f} documents, about {ceiling:,.0f} tokens at this run's "
                            f"{per_doc:,.0f} tokens per kept document)")
        if kept:
            assumptions.append(_cite(f"ceiling {lang}", f"all of Common Crawl kept {kept.value:,.0f} {lang} documents after filtering and dedup", kept))
    assumptions.append(_cite("crawl size", f"{per_crawl:,.0f} pages per Common Crawl crawl", sup.pages_per_crawl))
    if measured:
        assumptions.append({"what": "new share", "text": f"{new_share:.1%} of a further crawl's documents are new: measured by this run's dedup against an index",
                            "source": "cost.json of the run (dedup stages)", "date": cost.get("priced_at", "")})
    else:
        assumptions.append(_cite("new share", f"{new_share:.1%} of a further crawl's pages are new after cross-crawl dedup", sup.new_page_share))
    return {"pages_per_crawl": per_crawl, "pages_read": read, "new_share": new_share, "new_share_measured": measured, "crawls": crawls,
            "crawls_available": sup.crawls.value, "languages": langs, "warnings": warnings}


def _new_share(cost: dict[str, Any], default: float) -> tuple[float, bool]:
    """Share of documents dedup kept, when the run deduplicated against an index; else the default."""
    if not cost.get("run", {}).get("config", {}).get("dedup", {}).get("index"):
        return default, False
    entering = sum(v["docs_in"] for v in cost["stages"].get("dedup_exact", {}).get("by_lang", {}).values())
    left = sum(v["docs_out"] for v in cost["stages"].get("dedup_near", {}).get("by_lang", {}).values())
    return (left / entering, True) if entering else (default, False)


# --- per-language need ---------------------------------------------------------------------
def _language_need(cost, lang, tokens, sheet, mix, assumptions) -> dict[str, Any]:
    slot = cost["per_language"].get(lang)
    if not slot or not slot["tokens"]:
        have = ", ".join(sorted(cost["per_language"])) or "none"
        raise BudgetError(f"run {cost['run_id']} produced no {lang!r} tokens (it has: {have}); budget from a run that does")
    tokens_per_text_byte = slot["tokens"] / slot["text_bytes"] if slot["text_bytes"] else 0.0
    files = [(i["pages_by_lang"].get(lang, 0), i["text_bytes_by_lang"].get(lang, 0) * tokens_per_text_byte) for i in cost["inputs"]]
    files = [(x, y) for x, y in files if x > 0]
    per_page, range_from = _ratio(files), "files"
    resampled = cost.get("page_yield", {}).get(lang)
    if len(files) < 2 and resampled:
        boot = resampled["tokens_per_page"]
        factor = per_page["point"] / boot["point"] if boot["point"] else 0.0
        per_page = {"point": per_page["point"], "low": boot["low"] * factor, "high": boot["high"] * factor}
        range_from = "pages"
    elif len(files) < 2:
        range_from = None
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
        "range_from": range_from,
        "resampled_pages": resampled["pages"] if range_from == "pages" else None,
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


def _filled(rate: dict[str, float | None]) -> dict[str, float | None]:
    """A rate measured on one file: its point at both ends (the yield's range still spreads the forecast)."""
    return {k: rate["point"] if v is None else v for k, v in rate.items()}


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
