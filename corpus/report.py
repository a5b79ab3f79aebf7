"""report.html, cost.json and cost.csv: what a run produced and what it cost, for a funder.

The page is one self-contained file (inline CSS, inline SVG charts, no scripts,
no fonts or images from the network), so it opens from a laptop, an e-mail or
an S3 console alike. `write_run_report` is what every run calls before its
manifest; `rewrite_report` re-prices a finished run (`corpus report OUT`).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import math
from html import escape
from typing import Any

from corpus import cost as costing
from corpus import meter
from corpus.budget import (
    BudgetError, parse_target, range_notes, span, strategy_rows, strategy_text, supply_notes, table_rows,
)
from corpus.config import CostConfig, RunConfig
from corpus.crawl_usage import crawls_behind
from corpus.grant import grant_budget, line_rows, month_rows
from corpus.prices import PriceSheet, load_prices
from corpus.report_ko import KO_STAGE_NAMES, translate
from corpus.stats import Stats
from corpus.storage import Storage

COST_JSON, COST_CSV, REPORT_HTML = "cost.json", "cost.csv", "report.html"
UNITS_DIR = "_work/units/"


def write_run_report(
    out: Storage,
    cfg: RunConfig,
    run_id: str,
    stats: Stats,
    entries: list[dict[str, Any]],
    languages: dict[str, dict[str, int]],
    driver_counters: dict[str, int],
) -> dict[str, Any]:
    """Meter, price and write the three files; `driver_counters` are the finalizing
    process's own storage requests (the units' are in their stats)."""
    metered = Stats.from_dict(stats.to_dict())
    for name, value in driver_counters.items():
        metered.bump(name, value)
    usage = costing.measure(run_id, cfg.sha256(), metered, entries, languages, meter.process_snapshot())
    usage["crawls"] = crawls_behind(usage["inputs"])
    usage["page_yield"] = costing.page_yield(out, usage)
    usage["run"] = {"inputs": list(cfg.input), "output": cfg.output, "config": cfg.model_dump(mode="json", exclude={"ray"})}
    return _write(out, usage, cfg.cost, cfg.report.language)


def rewrite_report(out: Storage, cost_cfg: CostConfig, language: str = "en") -> dict[str, Any]:
    """Re-price a finished run with `cost_cfg` (another price sheet, market, rate), and
    write its report.html in `language` (en or ko).

    Uses the run's cost.json; a run from before cost accounting is measured from
    its ledger and stats.json, without the driver's own process (noted in the file).
    """
    if out.exists(COST_JSON):
        usage = json.loads(out.read_bytes(COST_JSON))
        if "page_yield" not in usage:  # priced before page yields were measured
            usage["page_yield"] = costing.page_yield(out, usage)
    elif out.exists("stats.json") and out.exists("manifest.json"):
        usage = _measure_finished(out)
    else:
        raise FileNotFoundError(f"{out.uri} has no cost.json, nor stats.json and manifest.json: is it a run's output?")
    return _write(out, usage, cost_cfg, language)


def render_html(cost: dict[str, Any], language: str = "en") -> str:
    """The funder's page for a priced cost dict (what cost.json holds), in English or Korean:
    every figure is the same in both, only labels and explanations change."""
    if language not in LANGUAGES:
        raise ValueError(f"report language {language!r} is not one of {', '.join(LANGUAGES)}")
    token = _LANGUAGE.set(language)
    try:
        sections = [
            _headline(cost),
            _funnel(cost),
            _stages(cost),
            _languages(cost),
            _throughput(cost),
            _storage(cost),
            _next_crawl(cost),
            _glossary(cost),
            _assumptions(cost),
            _reproduce(cost),
        ]
        title = _("Corpus run {run}: cost report").format(run=cost["run_id"])
        sub = _("Priced {when} with {instance} ({market}) · config {sha}").format(
            when=cost.get("priced_at", ""), instance=cost["pricing"]["instance"],
            market=cost["pricing"]["market"].replace("_", "-"), sha=cost["config_sha256"][:12],
        )
    finally:
        _LANGUAGE.reset(token)
    return (
        f"<!DOCTYPE html>\n<html lang=\"{language}\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{escape(title)}</title>"
        f"<style>{CSS}</style></head><body><main>"
        f"<h1>{escape(title)}</h1><p class=\"sub\">{escape(sub)}</p>"
        + "".join(sections)
        + "</main></body></html>\n"
    )


def usd(value: float | None) -> str:
    """Money for people: whole dollars when large, three significant digits when small."""
    if value is None:
        return "n/a"
    if abs(value) >= 100:
        return f"${value:,.0f}"
    if abs(value) >= 1:
        return f"${value:,.2f}"
    if not value:
        return "$0"
    return f"${value:.{2 - math.floor(math.log10(abs(value)))}f}"


def krw(value: float | None) -> str:
    if value is None:
        return "n/a"
    if abs(value) >= 1 or not value:
        return f"₩{value:,.0f}"
    return f"₩{value:.{2 - math.floor(math.log10(abs(value)))}f}"


def vcpu_time(seconds: float) -> str:
    """Held compute as people budget it: hours, or seconds while under a tenth of an hour."""
    return f"{seconds / 3600:,.1f} vCPU-hours" if seconds >= 360 else f"{seconds:,.0f} vCPU-seconds"


# --- writing -----------------------------------------------------------------------------
def _write(out: Storage, usage: dict[str, Any], cost_cfg: CostConfig, language: str = "en") -> dict[str, Any]:
    if language not in LANGUAGES:  # before anything is written
        raise ValueError(f"report language {language!r} is not one of {', '.join(LANGUAGES)}")
    sheet = load_prices(cost_cfg.prices, cost_cfg.krw_per_usd)
    priced = costing.price(_usage_only(usage), sheet, cost_cfg)
    priced["priced_at"] = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    priced["forecast"] = _forecast(priced, sheet, cost_cfg)
    out.write_bytes(COST_JSON, (json.dumps(priced, indent=2, ensure_ascii=False) + "\n").encode())
    out.write_bytes(COST_CSV, costing.to_csv(priced).encode())
    out.write_bytes(REPORT_HTML, render_html(priced, language).encode())
    return priced


def _usage_only(cost: dict[str, Any]) -> dict[str, Any]:
    """Drop an earlier pricing so a re-price starts from the measured figures alone."""
    priced_keys = {"currency", "krw_per_usd", "pricing", "lines", "total", "storage_per_month", "per_language", "priced_at", "forecast"}
    return {k: v for k, v in cost.items() if k not in priced_keys}


def _forecast(priced: dict[str, Any], sheet: PriceSheet, cost_cfg: CostConfig) -> dict[str, Any] | None:
    """What `corpus budget` would say for the configured targets, so a funder reads the
    price of the next crawl beside this one's. Targets in languages this run did not
    produce are listed as skipped rather than guessed."""
    targets = dict(parse_target(t) for t in cost_cfg.forecast_targets)
    if not targets:
        return None
    produced = {lang: tokens for lang, tokens in targets.items() if priced["per_language"].get(lang, {}).get("tokens")}
    skipped = sorted(set(targets) - set(produced))
    if not produced:
        return {"skipped": skipped, "why": "this run produced no tokens in the target languages"}
    try:
        grant = grant_budget(priced, produced, sheet, nodes=cost_cfg.forecast_nodes, instance=cost_cfg.instance, market=cost_cfg.market)
    except BudgetError as exc:
        return {"skipped": sorted(targets), "why": str(exc)}
    return grant["forecast"] | {"skipped": skipped, "grant": {k: v for k, v in grant.items() if k != "forecast"}}


def _measure_finished(out: Storage) -> dict[str, Any]:
    manifest = json.loads(out.read_bytes("manifest.json"))
    stats = Stats.from_dict(json.loads(out.read_bytes("stats.json")))
    entries = [json.loads(out.read_bytes(rel)) for rel in sorted(out.list(UNITS_DIR)) if rel.endswith(".json")]
    usage = costing.measure(manifest["run_id"], manifest["config_sha256"], stats, entries, manifest["languages"], None)
    usage["crawls"] = crawls_behind(usage["inputs"])
    usage["page_yield"] = costing.page_yield(out, usage)
    usage["note"] = "measured after the run from its ledger: the driver's own start-up and finalize CPU are not included"
    return usage


# --- sections ----------------------------------------------------------------------------
def _headline(cost: dict[str, Any]) -> str:
    total = cost["total"]
    cards = [
        _card(_("total cost"), usd(total["usd"]), krw(total["krw"]), "total-usd"),
        _card(_("compute used"), f"{total['vcpu_hours']:,.3g} vCPU-h", _("{n} CPU seconds").format(n=f"{total['cpu_seconds']:,.0f}"), "vcpu-hours"),
    ]
    if total.get("held"):
        held = total["held"]
        cards.append(_card(_("machine time held"), f"{held['vcpu_hours']:,.3g} vCPU-h",
                           _("{usd} as a cloud bills it · {krw}").format(usd=usd(held["usd"]), krw=krw(held["krw"])), "held-vcpu-hours"))
    for lang, slot in cost["per_language"].items():
        note = _("tokens (counted)") if slot["tokens_measured"] else _("tokens (estimated from text bytes)")
        cards.append(_card(_("{lang} tokens").format(lang=_lang_name(lang)), f"{slot['tokens']:,}", note, f"tokens-{lang}"))
        cards.append(
            _card(_("{lang} per million tokens").format(lang=_lang_name(lang)), usd(slot["usd_per_million_tokens"]),
                  _("{krw} · {usd} in all").format(krw=krw(_times(slot["usd_per_million_tokens"], cost["krw_per_usd"])), usd=usd(slot["usd"])),
                  f"usd-per-mtok-{lang}")
        )
    return f"<section><h2>{_('Headline')}</h2><div class=\"cards\">" + "".join(cards) + "</div></section>"


def _funnel(cost: dict[str, Any]) -> str:
    langs = sorted(cost["per_language"])
    doc_rows = [(_stage_name(r["stage"]), r["docs"]) for r in cost["funnel"]]
    chart = _bars("funnel-chart", _("Documents left after each stage"), doc_rows, lambda n: f"{n:,}")
    head = f"<tr><th>{_('stage')}</th><th>{_('documents out')}</th>" + "".join(f"<th>{escape(lang)}</th>" for lang in langs) + "</tr>"
    body = "".join(
        f"<tr><td>{escape(_stage_name(r['stage']))}</td><td class=\"n\">{r['docs']:,}</td>"
        + "".join(f"<td class=\"n\">{r['by_lang'].get(lang, 0):,}</td>" if r["by_lang"] else "<td></td>" for lang in langs)
        + "</tr>"
        for r in cost["funnel"]
    )
    return f"<section><h2>{_('Yield: what survived each stage')}</h2>" + chart + f"<table>{head}{body}</table></section>"


def _stages(cost: dict[str, Any]) -> str:
    lines = cost["lines"]
    chart = _bars("stage-chart", _("Cost by stage (USD)"), [(_stage_name(l["item"]), l["usd"]) for l in lines], usd)
    total = cost["total"]["usd"] or 1.0
    body = "".join(
        f"<tr><td>{escape(_stage_name(l['item']))}</td><td>{escape(_(l['kind']))}</td><td class=\"n\">{_cpu(l)}</td>"
        f"<td class=\"n\">{usd(l['usd'])}</td><td class=\"n\">{krw(l['usd'] * cost['krw_per_usd'])}</td>"
        f"<td class=\"n\">{l['usd'] / total:.1%}</td></tr>"
        for l in lines
    )
    foot = (
        f"<tr class=\"total\"><td>{_('total')}</td><td></td><td class=\"n\">{cost['total']['cpu_seconds']:,.1f}</td>"
        f"<td class=\"n\">{usd(cost['total']['usd'])}</td><td class=\"n\">{krw(cost['total']['krw'])}</td><td class=\"n\">100%</td></tr>"
    )
    heads = "".join(f"<th>{_(h)}</th>" for h in ("item", "kind", "CPU seconds", "USD", "KRW", "share"))
    return (
        f"<section><h2>{_('Where the money went')}</h2>" + chart
        + f"<table><tr>{heads}</tr>" + body + foot + "</table>"
        + "<p>" + escape(_("The same run on the spot market: {spot}; on demand: {od}.").format(
            spot=usd(cost["total"]["spot_usd"]), od=usd(cost["total"]["on_demand_usd"]))) + "</p>"
        + _held_note(cost)
        + "</section>"
    )


def _held_note(cost: dict[str, Any]) -> str:
    """Which figure a bill follows: rented machines bill the time they are held, busy or idle."""
    held, used = cost["total"].get("held"), cost["total"]
    if not held:
        return "<p>" + escape(_("The run's wall time was not measured (re-measured from its ledger), so the machine time it held is unknown.")) + "</p>"
    h = cost["held"]
    text = _(
        "A cloud bill follows the machine time held: the run's wall time ({wall}) times the {vcpus} vCPUs of the "
        "{nodes} machine(s) it used = {held_h} vCPU-hours, {held_usd} ({held_krw}) with storage. The table above prices "
        "the CPU the work used, {used_h} vCPU-hours, {used_usd}: what the same work costs on machines kept busy (a shared "
        "cluster, or a big run where start-up and idle time are small). This run kept {busy} of the time it held busy."
    ).format(wall=_duration(h["wall_seconds"]), vcpus=h["vcpus"], nodes=h["nodes"], held_h=f"{held['vcpu_hours']:,.3g}",
             held_usd=usd(held["usd"]), held_krw=krw(held["krw"]), used_h=f"{used['vcpu_hours']:,.3g}", used_usd=usd(used["usd"]),
             busy=_pct(held["busy_share"]))
    return f"<p id=\"held-note\">{escape(text)}</p>"


def _languages(cost: dict[str, Any]) -> str:
    est = _(" (est.)")
    body = "".join(
        f"<tr><td>{escape(_lang_name(lang))}</td><td class=\"n\">{s['docs']:,}</td><td class=\"n\">{s['tokens']:,}"
        f"{'' if s['tokens_measured'] else est}</td><td class=\"n\">{s['text_bytes'] / 1e6:,.2f}</td>"
        f"<td class=\"n\">{usd(s['usd'])}</td><td class=\"n\">{usd(s['usd_per_million_tokens'])}</td></tr>"
        for lang, s in cost["per_language"].items()
    )
    heads = "".join(f"<th>{_(h)}</th>" for h in ("language", "documents", "tokens", "text MB", "cost", "per million tokens"))
    return (
        f"<section><h2>{_('Per language')}</h2><table><tr>{heads}</tr>" + body + "</table>"
        f"<p>{escape(_(SPLIT_RULE[cost['pricing']['split_by']]))}</p></section>"
    )


def _throughput(cost: dict[str, Any]) -> str:
    pages = sum(i["pages"] for i in cost["inputs"])
    in_bytes = sum(i["input_bytes"] or 0 for i in cost["inputs"])
    wall = cost.get("run_wall_seconds")
    hours = cost["total"]["vcpu_hours"]
    hw = cost["hardware"]
    rows = [
        (_("input files"), f"{len(cost['inputs']):,}"),
        (_("input records"), f"{pages:,}"),
        (_("input bytes"), f"{in_bytes / 1e6:,.2f} MB"),
        (_("run wall time"), f"{wall:,.1f} s" if wall else "n/a"),
        (_("start-up per worker (fixed)"), _startup(cost)),
        (_("records per wall second"), f"{pages / wall:,.1f}" if wall else "n/a"),
        (_("records per vCPU-hour"), f"{pages / hours:,.0f}" if hours else "n/a"),
        (_("hardware"), _("{cpu}, {n} logical CPUs, {gib} GiB, {os}").format(
            cpu=hw["cpu_model"], n=hw["logical_cpus"], gib=f"{hw['memory_bytes'] / 2**30:,.0f}", os=hw["os"])),
    ]
    driver = _(" (driver)")
    procs = "".join(
        f"<tr><td>{escape(p['host'])}:{p['pid']}{driver if p['driver'] else ''}</td><td class=\"n\">{p['units']}</td>"
        f"<td class=\"n\">{p['cpu_seconds']:,.1f}</td><td class=\"n\">{p['peak_rss_bytes'] / 2**20:,.0f} MiB</td></tr>"
        for p in cost["processes"]
    )
    heads = "".join(f"<th>{_(h)}</th>" for h in ("process", "units", "CPU seconds", "peak memory"))
    return (
        f"<section><h2>{_('Throughput')}</h2>" + _kv(rows)
        + f"<h3>{_('Processes (peak memory per worker)')}</h3><table><tr>{heads}</tr>" + procs + "</table></section>"
    )


def _storage(cost: dict[str, Any]) -> str:
    month = cost["storage_per_month"]
    reqs = "".join(
        f"<tr><td>{escape(verb.upper())}</td><td class=\"n\">{slot['requests']:,}</td><td class=\"n\">{slot['bytes']:,}</td></tr>"
        for verb, slot in cost["requests"].items()
    ) or f"<tr><td colspan=\"3\">{_('none (local storage)')}</td></tr>"
    rows = [
        (_("output size"), f"{month['output_bytes'] / 1e6:,.2f} MB"),
        (_("storing the output, per month"), usd(month["usd"])),
        (_("one download of the output to the internet"), usd(month["egress_usd_per_download"])),
    ]
    heads = "".join(f"<th>{_(h)}</th>" for h in ("request", "count", "bytes"))
    return f"<section><h2>{_('Storage')}</h2>" + _kv(rows) + f"<table><tr>{heads}</tr>" + reqs + "</table></section>"


def _next_crawl(cost: dict[str, Any]) -> str:
    plan = cost.get("forecast")
    if not plan:
        return ""
    skipped = (
        "<p>" + escape(_("Not forecast: {langs} (this run produced no tokens in it).").format(
            langs=", ".join(_lang_name(x) for x in plan["skipped"]))) + "</p>" if plan["skipped"] else ""
    )
    if "total_usd" not in plan:
        return f"<section><h2>{_('The next crawl')}</h2><p>{escape(plan['why'])}.</p>{skipped}</section>"
    goal = _(" and ").join(_("{n} {lang} tokens").format(n=_tokens(n), lang=_lang_name(lang)) for lang, n in plan["targets"].items())
    total = plan["total_usd"]
    supply = plan["supply"]
    cards = [
        _card(_("next crawl, total"), usd(total["point"]),
              _("{krw} · 95% range: {span}").format(krw=krw(plan["total_krw"]["point"]), span=span(total, usd)), "forecast-usd"),
        _card(_("input pages to read"), _count(plan["pages_read"]["point"]),
              _("{tb} TB of WARC").format(tb=f"{plan['warc_terabytes']['point']:,.1f}"), "forecast-pages"),
        _card(_("Common Crawl crawls"), f"{supply['crawls']['point']:,.1f}",
              _("{share} of each further crawl is new; {n} crawls to date").format(
                  share=_pct(supply["new_share"]), n=f"{supply['crawls_available']:,.0f}"), "forecast-crawls"),
        _card(_("wall time on {n} nodes").format(n=plan["nodes"]), _("{d} days").format(d=f"{plan['wall_days']['point']:,.1f}"),
              _("{h} vCPU-hours held").format(h=_count(plan["held_vcpu_hours"]["point"])), "forecast-days"),
    ]
    rows = "".join(
        f"<tr><td>{escape(_(name))}</td><td class=\"n\">{escape(point)}</td><td class=\"n\">{escape(low)}</td><td class=\"n\">{escape(high)}</td></tr>"
        for name, point, low, high in table_rows(plan)
    )
    ways = "".join(
        f"<tr><td>{escape(_(n))}</td><td class=\"n\">{escape(w)}</td><td class=\"n\">{escape(x)}</td></tr>" for n, w, x in strategy_rows(plan)
    )
    notes = ([_(n) for n in supply_notes(plan)] + [f"{_(a['text'])} [{a['source']}, {a['date']}]" for a in plan["assumptions"]]
             + [_(n) for n in range_notes(plan)])
    warnings = [_(w) for w in supply["warnings"]]
    intro = _(
        "What {goal} would cost, extrapolated from this run's measured yield and CPU per page on {instance} ({market}). "
        "Ranges (95%) come from the spread between this run's input files, or from resampling pages where one file holds a language."
    ).format(goal=goal, instance=plan["instance"], market=plan["market"].replace("_", "-"))
    heads = "".join(f"<th>{_(h)}</th>" for h in ("quantity", "estimate", "low", "high"))
    way_heads = "".join(f"<th>{_(h)}</th>" for h in ("quantity", "whole WARC files", "index selection"))
    return (
        f"<section><h2>{_('The next crawl')}</h2><p>{escape(intro)}</p>"
        f"<div class=\"cards\">{''.join(cards)}</div>"
        + "".join(f"<p class=\"warn\"{_WARN_ID if i == 0 else ''}>{escape(w)}.</p>" for i, w in enumerate(warnings))
        + f"<table><tr>{heads}</tr>" + rows + "</table>"
        + f"<h3>{_('Whole WARC files or Common Crawl index selection')}</h3>"
        + f"<table><tr>{way_heads}</tr>" + ways + "</table>"
        + f"<p id=\"strategy\">{escape(_(strategy_text(plan)))}. {escape(_('The figures above read whole files.'))}</p>"
        + _grant(plan)
        + "<ul>" + "".join(f"<li>{escape(n)}</li>" for n in notes) + f"</ul>{skipped}</section>"
    )


def _grant(plan: dict[str, Any]) -> str:
    """The forecast as `corpus budget` lays it out for a grant office: line items, then months."""
    grant = plan.get("grant")
    if not grant:
        return ""
    grant = grant | {"forecast": plan}
    line_heads = "".join(f"<th>{_(h)}</th>" for h in ("line item", "USD", "low", "high", "KRW"))
    lines = "".join(
        f"<tr{_TOTAL_ROW if name == 'total' else ''}><td>{escape(_(name))}</td>"
        + "".join(f"<td class=\"n\">{escape(v)}</td>" for v in values) + "</tr>"
        for name, *values in line_rows(grant)
    )
    month_heads = "".join(f"<th>{_(h)}</th>" for h in ("month", "compute", "requests", "storage", "egress", "contingency", "total"))
    months = "".join("<tr>" + "".join(f"<td class=\"n\">{escape(v)}</td>" for v in row) + "</tr>" for row in month_rows(grant))
    intro = _("Line items from {start}, with the output kept {months} month(s) after the run, {pulls} pull(s) by trainers "
              "and a {pct} contingency (`corpus budget` sets each).").format(
        start=grant["start"], months=grant["months_kept"], pulls=grant["pulls"], pct=f"{grant['contingency_share']:.0%}")
    return (
        f"<h3>{_('A grant budget')}</h3><p>{escape(intro)}</p>"
        f"<table id=\"grant-lines\"><tr>{line_heads}</tr>{lines}</table>"
        f"<h3>{_('Spending by month, USD')}</h3><table><tr>{month_heads}</tr>{months}</table>"
    )


def _glossary(cost: dict[str, Any]) -> str:
    """Every stage and line named in the page, in plain words."""
    names = [r["stage"] for r in cost["funnel"]] + [line["item"] for line in cost["lines"]]
    seen = [n for i, n in enumerate(names) if n in STAGE_WORDS and n not in names[:i]]
    rows = "".join(f"<tr><th>{escape(_stage_name(n))}</th><td>{escape(_(STAGE_WORDS[n]))}</td></tr>" for n in seen)
    return f"<section><h2>{_('What each stage does')}</h2><table>{rows}</table></section>"


def _assumptions(cost: dict[str, Any]) -> str:
    pricing = cost["pricing"]
    sheet = pricing["sheet"]
    inst = sheet["instances"][pricing["instance"]]
    prices = [
        (_("{instance} on-demand, per hour ({n} vCPU)").format(instance=pricing["instance"], n=inst["vcpus"]), inst["on_demand_hour"]),
        (_("{instance} spot, per hour").format(instance=pricing["instance"]), inst["spot_hour"]),
        (_("GPU-hour"), sheet["gpu_hour"]),
        (_("storage, per GB-month"), sheet["storage"]["gb_month"]),
        (_("PUT/POST/LIST, per 1,000"), sheet["storage"]["put_per_1000"]),
        (_("GET, per 1,000"), sheet["storage"]["get_per_1000"]),
        (_("egress, per GB"), sheet["storage"]["egress_gb"]),
        (_("KRW per USD"), sheet["krw_per_usd"]),
    ]
    body = "".join(
        f"<tr><td>{escape(name)}</td><td class=\"n\">{p['value']:,.6g}</td><td class=\"src\">{escape(p['source'])}</td><td>{escape(p['date'])}</td></tr>"
        for name, p in prices
    )
    notes = [
        _("Compute is priced by metered CPU time: {price} per vCPU-hour ({instance}, {market}). Idle time of rented machines "
          "is not in it; the machine time held, above, and `corpus budget` count it.").format(
            price=usd(pricing["vcpu_hour_usd"]), instance=pricing["instance"], market=pricing["market"].replace("_", "-")),
        _(STARTUP_NOTE),
        _(SPLIT_RULE[pricing["split_by"]]),
        _("Storage is billed per GiB-month of the output shards; storage requests as counted by the storage client."),
    ]
    for crawl in cost.get("crawls", []):
        notes.append(
            _("The line 'crawl' is the live crawl behind this run's WARC ({crawl}): its partition tasks held {held} (one CPU "
              "each for as long as they ran, politeness delays included; {busy} of it busy) to archive {pages} pages. This run "
              "read {share} of its WARC bytes and carries that share.").format(
                crawl=crawl["crawl"], held=vcpu_time(crawl["held_cpu_seconds"]), busy=vcpu_time(crawl["busy_cpu_seconds"]),
                pages=f"{crawl['pages_archived']:,}", share=f"{crawl['share']:.1%}")
        )
    if cost.get("note"):
        notes.append(_(cost["note"]))
    heads = "".join(f"<th>{_(h)}</th>" for h in ("price", "value (USD)", "source", "date"))
    return (
        f"<section><h2>{_('Assumptions and price sheet')}</h2><ul>" + "".join(f"<li>{escape(n)}</li>" for n in notes) + "</ul>"
        f"<table><tr>{heads}</tr>" + body + "</table>"
        f"<p>{escape(_('Price files: {files}').format(files=', '.join(sheet['sources'])))}</p></section>"
    )


def _reproduce(cost: dict[str, Any]) -> str:
    run = cost.get("run", {})
    inputs = " ".join(f"--input {_shell(i)}" for i in run.get("inputs", []))
    output = _shell(run.get("output", "OUT"))
    cmds = [
        f"corpus run {inputs} --output {output}",
        f"corpus report {output}   # " + _("re-price: --prices my-prices.yaml --market spot"),
        f"corpus budget --from {output} {_budget_args(cost)}",
    ]
    config = json.dumps(run.get("config", {}), indent=1, ensure_ascii=False)
    return (
        f"<section><h2>{_('How to reproduce')}</h2><pre>" + escape("\n".join(cmds)) + "</pre>"
        f"<details><summary>{_('full configuration of this run')}</summary><pre>" + escape(config) + "</pre></details></section>"
    )


# --- small pieces ------------------------------------------------------------------------
SPLIT_RULE = {
    "bytes": "Shared costs are split between output languages by the bytes of each language entering the stage; "
    "stages before language ID, overhead and storage requests by the languages' shares of the language-ID input; "
    "storage by output bytes. Dropped languages carry no cost of their own.",
    "docs": "Shared costs are split between output languages by the documents of each language entering the stage; "
    "stages before language ID, overhead and storage requests by the languages' shares of the language-ID input; "
    "storage by output bytes. Dropped languages carry no cost of their own.",
}
LANGUAGES = ("en", "ko")
_LANGUAGE: contextvars.ContextVar[str] = contextvars.ContextVar("report_language", default="en")
_WARN_ID = ' id="supply-warning"'
_TOTAL_ROW = ' class="total"'
STARTUP_NOTE = (
    "The stage 'startup' is what each worker used before its first page: interpreter start-up, imports, loading and "
    "warming up its models. It is paid once per worker, whatever the number of pages, so the forecast adds it per worker "
    "instead of scaling it. The stage 'overhead' is the rest of the CPU the operating system accounted to the run's "
    "processes outside every metered stage: writing staged parts, Ray bookkeeping, finalize."
)
# What each stage and cost line does, in plain words (translated like every label).
STAGE_WORDS = {
    "input records": "Pages found in the input WARC files.",
    "read": "Reads the WARC files and keeps web pages (HTML) within the size limit.",
    "screen": "A quick language guess on the raw page that skips pages clearly in other languages before extraction.",
    "extract": "Takes the main text out of each page, leaving menus, adverts and boilerplate behind (trafilatura).",
    "langid": "Identifies each text's language (fastText) and keeps only the target languages.",
    "quality": "Scores each text with quality rules and a classifier and drops spam, lists and machine-made pages.",
    "pii": "Replaces e-mail addresses, phone numbers and other personal data with placeholders.",
    "dedup_signatures": "Computes a fingerprint of each text so near-copies can be found.",
    "tokens": "Counts the tokens a language model would see in each text.",
    "dedup_exact": "Removes texts that are exact copies of another.",
    "dedup_near": "Removes texts that are near-copies of another (MinHash).",
    "dedup": "Finds the copies and near-copies across the whole run.",
    "shards": "Writes the final training files, one set per language.",
    "startup": "Starting each worker: Python, libraries, and loading and warming up the models. Paid once per worker.",
    "overhead": "Everything else the processes used: writing intermediate files, coordination, the final report.",
    "crawl": "The live crawl that fetched the pages this run read (its share of the crawl's machine time).",
    "storage requests": "Requests to the object store (reading and writing files).",
    "output storage, first month": "Keeping the output in the object store for one month.",
}
LANG_NAMES = {"en": "English", "ko": "Korean"}
BAR_COLOURS = ["#2b6cb0", "#2f855a", "#b7791f", "#9b2c2c", "#6b46c1", "#2c7a7b", "#97266d", "#4a5568"]


def _bars(chart_id: str, title: str, rows: list[tuple[str, float]], label) -> str:
    """A horizontal bar chart as inline SVG."""
    width, bar_h, gap, left, right = 720, 22, 8, 190, 120
    top = 28
    peak = max((v for _, v in rows), default=0) or 1
    height = top + len(rows) * (bar_h + gap) + 4
    parts = [
        f"<svg id=\"{chart_id}\" role=\"img\" aria-label=\"{escape(title)}\" viewBox=\"0 0 {width} {height}\" "
        f"width=\"100%\" xmlns=\"http://www.w3.org/2000/svg\"><text x=\"0\" y=\"16\" class=\"ct\">{escape(title)}</text>"
    ]
    for i, (name, value) in enumerate(rows):
        y = top + i * (bar_h + gap)
        w = max((width - left - right) * value / peak, 1 if value else 0)
        parts.append(
            f"<text x=\"{left - 8}\" y=\"{y + 16}\" text-anchor=\"end\" class=\"cl\">{escape(name)}</text>"
            f"<rect x=\"{left}\" y=\"{y}\" width=\"{w:.1f}\" height=\"{bar_h}\" fill=\"{BAR_COLOURS[i % len(BAR_COLOURS)]}\"/>"
            f"<text x=\"{left + w + 6:.1f}\" y=\"{y + 16}\" class=\"cl\">{escape(label(value))}</text>"
        )
    return "".join(parts) + "</svg>"


def _card(title: str, value: str, note: str, element_id: str) -> str:
    return (
        f"<div class=\"card\"><div class=\"ct\">{escape(title)}</div><div class=\"cv\" id=\"{escape(element_id)}\">"
        f"{escape(value)}</div><div class=\"cn\">{escape(note)}</div></div>"
    )


def _kv(rows: list[tuple[str, str]]) -> str:
    return "<table>" + "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows) + "</table>"


def _cpu(line: dict[str, Any]) -> str:
    return f"{line['cpu_seconds']:,.1f}" if "cpu_seconds" in line else ""


def _startup(cost: dict[str, Any]) -> str:
    fixed = cost.get("fixed")
    if not fixed or not fixed["workers"]:
        return _("not metered apart in this run")
    return _("{cpu} CPU s ({wall} s wall) on each of {n} worker(s)").format(
        cpu=f"{fixed['per_worker_cpu_seconds']:,.1f}", wall=f"{fixed['per_worker_wall_seconds']:,.1f}", n=fixed["workers"])


def _duration(seconds: float) -> str:
    """Wall time as people say it: seconds, minutes, hours or days."""
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size:
            return _("{n} " + unit).format(n=f"{seconds / size:,.1f}")
    return f"{seconds:,.0f} s"


def _pct(share: float | None) -> str:
    return "n/a" if share is None else f"{share:.0%}"


def _lang_name(lang: str) -> str:
    return _(LANG_NAMES[lang]) if lang in LANG_NAMES else lang


def _stage_name(name: str) -> str:
    """A stage as the page shows it: its plain name in Korean, its code name in English."""
    return KO_STAGE_NAMES.get(name, name) if _LANGUAGE.get() == "ko" else name


def _(text: str) -> str:
    """`text` in the page's language: English as written, Korean from the catalog."""
    return translate(text) if _LANGUAGE.get() == "ko" else text


def _times(value: float | None, factor: float) -> float | None:
    return None if value is None else value * factor


def _budget_args(cost: dict[str, Any]) -> str:
    """The report's own forecast as `corpus budget` flags; the configured defaults where it made none."""
    plan = cost.get("forecast") or {}
    default = CostConfig()
    targets = plan.get("targets") or dict(parse_target(t) for t in default.forecast_targets)
    nodes = plan.get("nodes", default.forecast_nodes)
    return " ".join(f"--target {lang}={_tokens(n)}" for lang, n in targets.items()) + f" --nodes {nodes}"


def _tokens(n: float) -> str:
    """50000000000 -> '50B': targets as people write them."""
    for suffix, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            return f"{n / size:.4g}{suffix}"
    return f"{n:.0f}"


def _count(n: float) -> str:
    """32840878704 -> '32.8 billion' (Korean: '328억'): a count a funder reads at a glance."""
    units = (("조", 1e12), ("억", 1e8), ("만", 1e4)) if _LANGUAGE.get() == "ko" else (
        (" trillion", 1e12), (" billion", 1e9), (" million", 1e6))
    for word, size in units:
        if n >= size:
            value = n / size
            return (f"{value:,.0f}" if value >= 1000 else f"{value:.3g}") + word
    return f"{n:,.0f}"


def _shell(arg: str) -> str:
    return arg if arg and all(c.isalnum() or c in "/._-:=*" for c in arg) else "'" + arg.replace("'", "'\\''") + "'"


CSS = """
body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans KR',sans-serif;color:#1a202c;background:#f7fafc;margin:0}
main{max-width:960px;margin:0 auto;padding:24px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;border-bottom:2px solid #e2e8f0;padding-bottom:4px;margin-top:32px}
.sub{color:#4a5568;margin:0 0 16px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:12px}
.card{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:12px 14px}
.card .ct{color:#4a5568;font-size:13px}.card .cv{font-size:24px;font-weight:700;color:#2b6cb0}.card .cn{color:#718096;font-size:12px}
table{border-collapse:collapse;width:100%;background:#fff;margin:10px 0}
th,td{border:1px solid #e2e8f0;padding:5px 8px;text-align:left;vertical-align:top}th{background:#edf2f7;font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums}tr.total td{font-weight:700}
svg{background:#fff;border:1px solid #e2e8f0;border-radius:8px;margin:8px 0}
svg .ct{font-size:14px;font-weight:600;fill:#2d3748}svg .cl{font-size:13px;fill:#2d3748}
.warn{background:#fffaf0;border-left:4px solid #c05621;padding:8px 12px}
pre{background:#1a202c;color:#e2e8f0;padding:12px;border-radius:6px;overflow-x:auto;white-space:pre-wrap}
"""
