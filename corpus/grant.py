"""A budget a grant office can file: line items, contingency, and spending by month.

`corpus budget` forecasts what a token target takes (`corpus.budget.forecast`);
this turns it into what a proposal lists: compute (machine time held, as a
cloud bills it), storage of the output for the months it is kept, egress for
each time a trainer pulls it, storage requests, and a contingency on their sum.
Every line keeps the forecast's low and high.

Spending is phased by calendar month from the start date: compute and requests
fall on the days the nodes run; storage grows with the output while it is
written, then holds it whole for `months` months; the pulls are billed in the
month the run ends. A deadline (`by`, "2027-06": the end of that month)
sets the nodes instead: the fewest that finish in time.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import math
import re
from typing import Any

from corpus.budget import BudgetError, forecast
from corpus.cost import GIB
from corpus.prices import PriceSheet

KEYS = ("point", "low", "high")
MAX_NODES = 10_000


def parse_month(text: str) -> dt.date:
    """'2027-06' -> the last day of June 2027 (a deadline means the month's end)."""
    match = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", text)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise BudgetError(f"a month looks like YYYY-MM, e.g. 2027-06; got {text!r}")
    year, month = int(match.group(1)), int(match.group(2))
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def parse_day(text: str) -> dt.date:
    """'2027-01-04' -> that date."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise BudgetError(f"a start day looks like YYYY-MM-DD, e.g. 2027-01-04; got {text!r}") from None


def parse_percent(text: str) -> float:
    """'15%' or '15' or '0.15' -> 0.15."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(%?)\s*", text)
    if not match:
        raise BudgetError(f"a contingency looks like 15% (or 0.15); got {text!r}")
    value = float(match.group(1))
    share = value / 100 if match.group(2) or value > 1 else value
    if share >= 1:
        raise BudgetError(f"a contingency must be under 100%, got {text!r}")
    return share


def grant_budget(
    cost: dict[str, Any],
    targets: dict[str, float],
    sheet: PriceSheet,
    *,
    nodes: int = 10,
    by: dt.date | None = None,
    start: dt.date | None = None,
    months: int = 12,
    pulls: int = 1,
    contingency: float = 0.15,
    **forecast_args: Any,
) -> dict[str, Any]:
    """The forecast with line items and monthly phasing; `by` overrides `nodes`."""
    if months < 0 or pulls < 0:
        raise BudgetError(f"--months and --pulls cannot be negative (got {months} and {pulls})")
    start = start or dt.date.today()
    if by is not None:
        if by <= start:
            raise BudgetError(f"--by {by:%Y-%m} is not after the start, {start:%Y-%m-%d}")
        nodes = _nodes_to_finish(cost, targets, sheet, (by - start).days + 1, forecast_args)
    plan = forecast(cost, targets, sheet, nodes=nodes, **forecast_args)
    output_gb = plan["output_terabytes"] * 1e12 / GIB
    calendar_ = _calendar(start, plan["wall_days"]["point"], months)
    lines = {
        "compute": plan["compute_usd"],
        "requests": plan["requests"]["usd"],
        "storage": _flat(output_gb * sheet.storage.gb_month.value * sum(m["stored"] for m in calendar_)),
        "egress": _flat(output_gb * sheet.storage.egress_gb.value * pulls),
    }
    subtotal = {k: _sum(v[k] for v in lines.values()) for k in KEYS}
    lines["contingency"] = {k: None if subtotal[k] is None else subtotal[k] * contingency for k in KEYS}
    total = {k: _sum(v[k] for v in lines.values()) for k in KEYS}
    krw = sheet.krw_per_usd.value
    return {
        "forecast": plan,
        "nodes": plan["nodes"],
        "deadline": by.isoformat() if by else None,
        "start": start.isoformat(),
        "wall_days": plan["wall_days"],
        "months_kept": months,
        "pulls": pulls,
        "contingency_share": contingency,
        "krw_per_usd": krw,
        "lines": lines,
        "total_usd": total,
        "total_krw": {k: None if v is None else v * krw for k, v in total.items()},
        "end": calendar_[-1]["run_end"],
        "by_month": _phasing(calendar_, lines, output_gb * sheet.storage.gb_month.value, contingency),
    }


def line_rows(grant: dict[str, Any], currency: str = "usd") -> list[tuple[str, ...]]:
    """(item, first currency, low, high, second currency) rows; `currency` krw puts KRW first."""
    names = {
        "compute": f"compute, {grant['nodes']} node(s) held {grant['wall_days']['point']:,.1f} days",
        "requests": "storage requests",
        "storage": f"storage while written, then {grant['months_kept']} month(s) kept",
        "egress": f"egress, {grant['pulls']} pull(s) by trainers",
        "contingency": f"contingency {grant['contingency_share']:.0%}",
    }
    rows = [(names[k], *_money(v, grant["krw_per_usd"], currency)) for k, v in grant["lines"].items()]
    return rows + [("total", *_money(grant["total_usd"], grant["krw_per_usd"], currency))]


def month_rows(grant: dict[str, Any], currency: str = "usd") -> list[tuple[str, ...]]:
    """(month, compute, requests, storage, egress, contingency, total) in the first currency."""
    rate = grant["krw_per_usd"] if currency == "krw" else 1.0
    fmt = "{:,.0f}" if currency == "krw" else "{:,.2f}"
    items = ("compute", "requests", "storage", "egress", "contingency", "total")
    return [(m["month"], *(fmt.format(m[k] * rate) for k in items)) for m in grant["by_month"]]


def to_csv(grant: dict[str, Any]) -> str:
    """Line items, then months, in USD and KRW, for a spreadsheet."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["section", "item", "usd", "usd_low", "usd_high", "krw"])
    krw = grant["krw_per_usd"]
    for name, value in [*grant["lines"].items(), ("total", grant["total_usd"])]:
        writer.writerow(["line", name, *(_num(value[k]) for k in KEYS), _num(value["point"] * krw)])
    for month in grant["by_month"]:
        for item in ("compute", "requests", "storage", "egress", "contingency", "total"):
            writer.writerow(["month " + month["month"], item, _num(month[item]), "", "", _num(month[item] * krw)])
    return buf.getvalue()


# --- helpers -----------------------------------------------------------------------------
def _nodes_to_finish(cost, targets, sheet, days: int, forecast_args) -> int:
    """The fewest nodes whose wall time fits in `days` (doubling, then bisection)."""
    def fits(n: int) -> bool:
        return forecast(cost, targets, sheet, nodes=n, **forecast_args)["wall_days"]["point"] <= days

    high = 1
    while not fits(high):
        if high >= MAX_NODES:
            raise BudgetError(f"even {MAX_NODES:,} nodes do not finish within {days} days: set a later --by")
        high = min(high * 2, MAX_NODES)
    low = high // 2
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if fits(mid) else (mid, high)
    return high


def _calendar(start: dt.date, run_days: float, months: int) -> list[dict[str, Any]]:
    """Each calendar month from the start to the end of retention: the share of the run's
    days in it, the output's average share in storage (growing while written, whole for
    `months` months after), and whether the run ends in it (when trainers pull)."""
    run_days = max(run_days, 1e-9)
    end = start + dt.timedelta(days=math.ceil(run_days))
    kept_until = _add_months(end, months) if months else end
    out = []
    cursor = dt.date(start.year, start.month, 1)
    while cursor < max(kept_until, end) or not out:
        after = _add_months(cursor, 1)
        days = [cursor + dt.timedelta(days=i) for i in range((after - cursor).days)]
        stored = sum(_stored(day, start, end, kept_until, run_days) for day in days) / len(days)
        out.append({"month": f"{cursor:%Y-%m}", "running": _overlap(start, end, cursor, after) / (end - start).days,
                    "stored": stored, "ends": cursor <= end < after, "run_end": end.isoformat()})
        cursor = after
    return out


def _stored(day: dt.date, start: dt.date, end: dt.date, kept_until: dt.date, run_days: float) -> float:
    if day < start or day >= kept_until:
        return 0.0
    return min((day - start).days / run_days, 1.0) if day < end else 1.0


def _phasing(calendar_, lines, month_usd: float, contingency: float) -> list[dict[str, Any]]:
    rows = []
    for month in calendar_:
        row = {
            "month": month["month"],
            "compute": lines["compute"]["point"] * month["running"],
            "requests": lines["requests"]["point"] * month["running"],
            "storage": month_usd * month["stored"],
            "egress": lines["egress"]["point"] if month["ends"] else 0.0,
        }
        row["contingency"] = contingency * (row["compute"] + row["requests"] + row["storage"] + row["egress"])
        row["total"] = sum(row[k] for k in ("compute", "requests", "storage", "egress", "contingency"))
        rows.append(row)
    return rows


def _overlap(start, end, first, after) -> float:
    return max((min(end, after) - max(start, first)).days, 0)


def _add_months(day: dt.date, n: int) -> dt.date:
    """The same day `n` months later (the month's last day where it is shorter)."""
    years, month = divmod(day.month - 1 + n, 12)
    year, month = day.year + years, month + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _flat(value: float) -> dict[str, float]:
    return {k: value for k in KEYS}


def _sum(values) -> float | None:
    values = list(values)
    return None if any(v is None for v in values) else sum(values)


def _money(value: dict[str, float | None], krw: float, currency: str) -> tuple[str, str, str, str]:
    rate, other = (krw, 1.0) if currency == "krw" else (1.0, krw)
    first = "₩{:,.0f}" if currency == "krw" else "${:,.0f}"
    second = "${:,.0f}" if currency == "krw" else "₩{:,.0f}"
    show = lambda v, r, f: "n/a" if v is None else f.format(v * r)  # noqa: E731
    return (show(value["point"], rate, first), show(value["low"], rate, first), show(value["high"], rate, first),
            show(value["point"], other, second))


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"
