"""`corpus portfolio`: one static page over every complete run under some prefixes.

A funder comparing ten runs reads one page: tokens and spend per language and
run, over time; USD and KRW per million tokens; the yield funnels side by side;
a link to each run's own report. Runs are found under local folders or
s3:// prefixes by their manifest.json (the mark of a complete run) and priced
from their cost.json. The page is one self-contained file, like report.html
(inline CSS and SVG, no scripts, nothing fetched), so it opens offline.

Nothing is written unless every run found can be shown: a prefix without a
complete run, or a run without cost.json, is refused with the path named.
"""

from __future__ import annotations

import json
import os
import posixpath
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from corpus.accounting.report import CSS, _bars, _card, krw, usd
from corpus.layout import COST_JSON, MANIFEST, REPORT_HTML, WORK
from corpus.storage import is_local, local_path, open_storage
from corpus.storage.atomic import write_atomic

INDEX_HTML = "index.html"
LANG_NAMES = {"en": "English", "ko": "Korean"}


class PortfolioError(ValueError):
    """Runs that cannot be shown; the message names the prefix or run and what to do."""


@dataclass
class Run:
    uri: str
    manifest: dict[str, Any]
    cost: dict[str, Any]

    @property
    def when(self) -> str:
        """The data's date (newest fetch time), else when the run was priced."""
        return (self.manifest.get("created") or self.cost.get("priced_at") or "")[:10]


def find_runs(prefixes: list[str]) -> list[Run]:
    """Every complete run (a folder holding manifest.json) under the prefixes, oldest first."""
    runs: dict[str, Run] = {}
    for prefix in prefixes:
        found = _run_roots(prefix)
        if not found:
            raise PortfolioError(f"no complete run under {prefix}: a run's folder holds manifest.json (written last)")
        for uri in found:
            store = open_storage(uri)
            if not store.exists(COST_JSON):
                raise PortfolioError(f"run {uri} has no cost.json: run `corpus report {uri}` first, then the portfolio")
            runs[uri] = Run(uri, json.loads(store.read_bytes(MANIFEST)), json.loads(store.read_bytes(COST_JSON)))
    return sorted(runs.values(), key=lambda r: (r.when, r.uri))


def write_portfolio(prefixes: list[str], output: str) -> Path:
    """Find the runs, render the page, then write `output`/index.html in one step."""
    runs = find_runs(prefixes)
    site = Path(output)
    page = render_portfolio(runs, site)
    target = site / INDEX_HTML
    write_atomic(target, page.encode("utf-8"))
    return target


def render_portfolio(runs: list[Run], site: Path) -> str:
    langs = sorted({lang for run in runs for lang in run.cost["per_language"]})
    spend = sum(r.cost["total"]["usd"] for r in runs)
    cards = [_card("runs", f"{len(runs):,}", f"{runs[0].when} to {runs[-1].when}", "runs"),
             _card("spend, all runs", usd(spend), krw(sum(r.cost["total"]["krw"] for r in runs)), "total-usd")]
    for lang in langs:
        tokens = sum(r.cost["per_language"].get(lang, {}).get("tokens", 0) for r in runs)
        lang_usd = sum(r.cost["per_language"].get(lang, {}).get("usd", 0.0) for r in runs)
        cards.append(_card(f"{_name(lang)} tokens", f"{tokens:,}", f"{usd(lang_usd)} in all", f"tokens-{lang}"))
        cards.append(_card(f"{_name(lang)} per million tokens", usd(lang_usd / tokens * 1e6 if tokens else None),
                           krw(lang_usd / tokens * 1e6 * runs[-1].cost["krw_per_usd"] if tokens else None), f"usd-per-mtok-{lang}"))
    sections = [
        "<section><h2>All runs</h2><div class=\"cards\">" + "".join(cards) + "</div></section>",
        _runs_table(runs, langs, site),
        _over_time(runs, langs),
        _funnels(runs),
    ]
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Corpus portfolio</title>"
        f"<style>{CSS}.funnels{{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:8px}}"
        ".wide{overflow-x:auto}</style>"
        "</head><body><main><h1>Corpus portfolio</h1>"
        f"<p class=\"sub\">{len(runs)} complete run(s); spend as each run's cost.json priced it (CPU used), "
        "per million tokens of each language's output.</p>" + "".join(sections) + "</main></body></html>\n"
    )


def _runs_table(runs: list[Run], langs: list[str], site: Path) -> str:
    head = "<tr><th>run</th><th>date</th>" + "".join(
        f"<th>{_name(lang)} tokens</th><th>{_name(lang)} USD</th><th>{_name(lang)} $ / M tokens</th><th>{_name(lang)} ₩ / M tokens</th>"
        for lang in langs
    ) + "<th>total USD</th><th>total KRW</th><th>report</th></tr>"
    rows = []
    for i, run in enumerate(runs):
        cells = [f"<td>{escape(run.cost['run_id'])}</td><td>{escape(run.when)}</td>"]
        for lang in langs:
            slot = run.cost["per_language"].get(lang)
            if not slot:
                cells.append("<td></td>" * 4)
                continue
            per_m = slot["usd_per_million_tokens"]
            cells.append(
                f"<td class=\"n\" id=\"run{i}-tokens-{lang}\">{slot['tokens']:,}</td><td class=\"n\">{usd(slot['usd'])}</td>"
                f"<td class=\"n\" id=\"run{i}-usd-per-mtok-{lang}\">{usd(per_m)}</td>"
                f"<td class=\"n\">{krw(None if per_m is None else per_m * run.cost['krw_per_usd'])}</td>"
            )
        cells.append(f"<td class=\"n\" id=\"run{i}-usd\">{usd(run.cost['total']['usd'])}</td><td class=\"n\">{krw(run.cost['total']['krw'])}</td>")
        cells.append(f"<td>{_link(run, site)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return "<section><h2>Tokens and spend per run</h2><div class=\"wide\"><table>" + head + "".join(rows) + "</table></div></section>"


def _over_time(runs: list[Run], langs: list[str]) -> str:
    charts = []
    for lang in langs:
        rows = [(f"{r.when} {r.cost['run_id'][:8]}", r.cost["per_language"].get(lang, {}).get("tokens", 0)) for r in runs]
        charts.append(_bars(f"tokens-over-time-{lang}", f"{_name(lang)} tokens per run, by date", rows, lambda n: f"{n:,}"))
    spend = [(f"{r.when} {r.cost['run_id'][:8]}", r.cost["total"]["usd"]) for r in runs]
    charts.append(_bars("spend-over-time", "Spend per run (USD), by date", spend, usd))
    return "<section><h2>Over time</h2>" + "".join(charts) + "</section>"


def _funnels(runs: list[Run]) -> str:
    charts = [
        _bars(f"funnel-{i}", f"{r.cost['run_id'][:8]} ({r.when}): documents left", [(row["stage"], row["docs"]) for row in r.cost["funnel"]],
              lambda n: f"{n:,}")
        for i, r in enumerate(runs)
    ]
    return "<section><h2>Yield funnels side by side</h2><div class=\"funnels\">" + "".join(charts) + "</div></section>"


def _run_roots(prefix: str) -> list[str]:
    store = open_storage(prefix)
    roots = []
    for rel in store.list():
        if posixpath.basename(rel) == MANIFEST and f"/{WORK}/" not in f"/{rel}":
            parent = posixpath.dirname(rel)
            roots.append(prefix.rstrip("/") + ("/" + parent if parent else ""))
    return roots


def _link(run: Run, site: Path) -> str:
    """A link to the run's report: relative for a local run, the s3 URI as text otherwise."""
    if not is_local(run.uri):
        return f"<code>{escape(run.uri.rstrip('/') + '/' + REPORT_HTML)}</code>"
    target = os.path.relpath(local_path(run.uri).resolve() / REPORT_HTML, site.resolve())
    return f"<a href=\"{escape(Path(target).as_posix())}\">{REPORT_HTML}</a>"


def _name(lang: str) -> str:
    return LANG_NAMES.get(lang, lang)
