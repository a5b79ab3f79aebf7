"""What `corpus run` and `corpus recut` print when they finish: the funnel and the
per-language totals a data team checks first, then what the run cost."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table

from corpus.layout import COST_JSON, REPORT_HTML


def print_summary(result, wall_seconds: float) -> None:
    """The funnel and the per-language totals a data team checks first, then what it cost."""
    out = Console()
    if result.already_complete:
        out.print(f"already complete: {result.output} holds this run ({result.run_id}); nothing was redone", highlight=False)
        out.print(f"report: {result.output.rstrip('/')}/{REPORT_HTML}", highlight=False)
        return
    stats = result.stats
    funnel = Table(title=f"run {result.run_id}: documents through each stage")
    for col in ("stage", "in", "out", "dropped (top reasons)"):
        funnel.add_column(col, justify="left" if col in ("stage", "dropped (top reasons)") else "right")
    for stage, langs in stats.to_dict()["stages"].items():
        if stage == "shards":
            continue
        docs_in = sum(v["docs_in"] for v in langs.values())
        docs_out = sum(v["docs_out"] for v in langs.values())
        reasons: dict[str, int] = {}
        for v in langs.values():
            for reason, slot in v["dropped"].items():
                reasons[reason] = reasons.get(reason, 0) + slot["docs"]
        top = ", ".join(f"{r} {n}" for r, n in sorted(reasons.items(), key=lambda kv: -kv[1])[:4])
        funnel.add_row(stage, f"{docs_in:,}", f"{docs_out:,}", top)
    out.print(funnel)
    langs = Table(title="output by language")
    for col in ("lang", "docs", "tokens", "bytes", "shards"):
        langs.add_column(col, justify="right")
    for lang, totals in result.manifest["languages"].items():
        n = sum(1 for s in result.shards if s.lang == lang)
        langs.add_row(lang, f"{totals['docs']:,}", f"{totals['tokens']:,}", f"{totals['bytes']:,}", str(n))
    out.print(langs)
    if stats.errors:
        errors = ", ".join(f"{k} x{v['count']}" for k, v in stats.errors.items())
        out.print(f"input problems (counted in stats.json): {errors}")
    matched = {k.removeprefix("decontam:"): n for k, n in stats.counters.items() if k.startswith("decontam:")}
    if matched:
        out.print("benchmark items found in: " + ", ".join(f"{name} {n:,} documents" for name, n in sorted(matched.items())))
    out.print(f"output: {result.output}", highlight=False)
    out.print(_cost_line(result, wall_seconds), highlight=False, soft_wrap=True)


def _cost_line(result, wall_seconds: float) -> str:
    """Wall time, the run's priced cost and its cost per million tokens, and where the report is."""
    from corpus.storage import open_storage

    store = open_storage(result.output)
    report = f"report: {result.output.rstrip('/')}/{REPORT_HTML}"
    if not store.exists(COST_JSON):
        return f"wall time {_duration(wall_seconds)}; {report}"
    usd = json.loads(store.read_bytes(COST_JSON))["total"]["usd"]
    tokens = sum(totals["tokens"] for totals in result.manifest["languages"].values())
    per_million = f" ({usd / tokens * 1e6:.4g} USD per million tokens)" if tokens else ""
    return f"wall time {_duration(wall_seconds)}; cost {usd:.4g} USD{per_million}; {report}"


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"
