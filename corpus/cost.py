"""What a run used, and what that cost: the figures behind cost.json and report.html.

Two steps, kept apart so a run can be re-priced without re-running it:

- `measure` gathers the resources a run used from its stats (CPU and wall seconds
  per stage, documents and bytes per stage and language, storage requests), its
  ledger entries (which process ran each unit) and the driver's own process.
  What a worker used before it was ready for its first unit (interpreter
  start-up, imports, loading and warming up its models) becomes the stage
  `startup`: a fixed cost per worker (`usage["fixed"]`) that a forecast adds
  once per worker rather than scaling with pages. Whatever else a process used
  outside the metered stages (staging writes, a driver's Ray bookkeeping,
  finalize) becomes the stage `overhead`, so the stages add up to what the
  operating system billed.
- `usage["held"]` is the machine time the run held: its wall time times the
  vCPUs of every machine it used. A cloud bill follows that, busy or idle;
  the stages' CPU is what the work used. `price` prices both.
- `price` turns that usage into money with a price sheet.

A run over the WARC of a live crawl (`usage["crawls"]`, see `corpus.crawl_usage`)
also carries that crawl's held vCPU time, in proportion to the WARC bytes it read,
as the compute line `crawl`: acquiring pages is part of what its tokens cost.

How a stage's cost is shared between languages (`cost.split_by`): in proportion
to the bytes (or documents) of each *output* language entering the stage.
Stages that run before language ID see no language yet; they, `overhead`,
storage requests and stored bytes are shared by the output languages' shares of
the language-ID stage's input (storage: of the output bytes). Documents of
languages that are not kept carry no cost of their own: what reading and
identifying them cost is borne by the kept languages, because that is what it
took to find them. So the languages' costs add up to the run's total.
"""

from __future__ import annotations

import csv
import io
import os
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from corpus import meter
from corpus.config import CostConfig
from corpus.prices import PriceSheet
from corpus.stats import UNKNOWN_LANG, Stats
from corpus.storage import Storage

FORMAT = 1
STARTUP = "startup"
OVERHEAD = "overhead"
CRAWL = "crawl"
LANGID_STAGE = "langid"
GIB = 1024**3
RESAMPLES = 1000
MAX_RESAMPLED_PAGES = 20_000
WRITE_VERBS = {"put", "post", "list", "copy"}
FREE_VERBS = {"delete"}


def measure(
    run_id: str,
    config_sha256: str,
    stats: Stats,
    entries: list[dict[str, Any]],
    languages: dict[str, dict[str, int]],
    driver: dict[str, Any] | None,
) -> dict[str, Any]:
    """Resources the run used, reconciled per process (see the module docstring).

    `entries` are the units' ledger entries; `languages` the manifest's totals
    per output language; `driver` the finalizing process's `meter.process_snapshot()`
    taken after everything it metered (None when re-measuring a finished run).
    """
    stages = _stages(stats)
    processes = _processes(stats, entries, driver)
    startup_cpu = sum(p["startup_cpu_seconds"] or 0.0 for p in processes)
    startup_wall = sum(p["startup_wall_seconds"] or 0.0 for p in processes)
    overhead_cpu = sum(max(p["cpu_seconds"] - p["metered_cpu_seconds"] - (p["startup_cpu_seconds"] or 0.0), 0.0) for p in processes)
    overhead_wall = sum(max(p["wall_seconds"] - p["metered_wall_seconds"] - (p["startup_wall_seconds"] or 0.0), 0.0) for p in processes)
    stages[STARTUP] = {"cpu_seconds": startup_cpu, "wall_seconds": startup_wall, "by_lang": {}}
    stages[OVERHEAD] = {"cpu_seconds": overhead_cpu, "wall_seconds": overhead_wall, "by_lang": {}}
    return {
        "format": FORMAT,
        "run_id": run_id,
        "config_sha256": config_sha256,
        "hardware": meter.hardware(),
        "run_wall_seconds": _run_wall(driver),
        "processes": processes,
        "stages": stages,
        "fixed": _fixed(processes),
        "held": _held(processes, _run_wall(driver)),
        "requests": _requests(stats),
        "selection": _selection(stats, entries),
        "languages": _languages(stats, languages),
        "inputs": [_input(entry) for entry in entries],
        "funnel": funnel(stats, sorted(languages)),
    }


def price(usage: dict[str, Any], sheet: PriceSheet, cfg: CostConfig) -> dict[str, Any]:
    """cost.json: the usage plus every line priced in USD (and KRW), per stage and language."""
    vcpu_hour = sheet.vcpu_hour(cfg.instance, cfg.market)
    krw = cfg.krw_per_usd or sheet.krw_per_usd.value
    langs = sorted(usage["languages"])
    reference = _reference_shares(usage, langs, cfg.split_by)
    lines: list[dict[str, Any]] = []
    crawl_cpu = sum(c["held_cpu_seconds"] * c["share"] for c in usage.get("crawls", []))
    if crawl_cpu:
        lines.append(_line("compute", CRAWL, crawl_cpu / 3600 * vcpu_hour, reference, cpu_seconds=crawl_cpu))
    for name, stage in usage["stages"].items():
        usd = stage["cpu_seconds"] / 3600 * vcpu_hour
        shares = _stage_shares(stage, langs, cfg.split_by) or reference
        lines.append(_line("compute", name, usd, shares, cpu_seconds=stage["cpu_seconds"]))
    requests_usd = sum(_request_usd(verb, slot["requests"], sheet) for verb, slot in usage["requests"].items())
    output_bytes = sum(v["bytes"] for v in usage["languages"].values())
    storage_shares = _normalise({lang: usage["languages"][lang]["bytes"] for lang in langs}) or reference
    lines.append(_line("storage", "storage requests", requests_usd, reference))
    month_usd = output_bytes / GIB * sheet.storage.gb_month.value
    lines.append(_line("storage", "output storage, first month", month_usd, storage_shares))
    total = sum(line["usd"] for line in lines)
    cpu_seconds = sum(line.get("cpu_seconds", 0.0) for line in lines)
    return {
        **usage,
        "currency": "USD",
        "krw_per_usd": krw,
        "pricing": {
            "instance": cfg.instance,
            "market": cfg.market,
            "vcpu_hour_usd": vcpu_hour,
            "split_by": cfg.split_by,
            "sheet": sheet.model_dump(mode="json"),
        },
        "lines": lines,
        "total": {
            "usd": total,
            "krw": total * krw,
            "cpu_seconds": cpu_seconds,
            "vcpu_hours": cpu_seconds / 3600,
            "spot_usd": _with_market(lines, vcpu_hour, sheet.vcpu_hour(cfg.instance, "spot")),
            "on_demand_usd": _with_market(lines, vcpu_hour, sheet.vcpu_hour(cfg.instance, "on_demand")),
            "held": _held_total(usage.get("held"), lines, vcpu_hour, krw),
        },
        "storage_per_month": {
            "output_bytes": output_bytes,
            "usd": month_usd,
            "egress_usd_per_download": output_bytes / GIB * sheet.storage.egress_gb.value,
        },
        "per_language": _per_language(usage, lines, krw, sheet),
    }


def page_yield(out: Storage, usage: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Tokens per input page of each output language, with a bootstrap 95% range.

    Every page language ID gave to the language is one value: the tokens of its
    document in the shards, or 0 for a page a later stage (quality, dedup)
    removed. Resampling those pages 1,000 times (seeded, so a re-price gives
    the same range) gives a range even from a single input file; it sees the
    variation between pages, not between crawls or files. Above 20,000 pages a
    sample of them is resampled and the spread scaled back to all the pages.
    """
    found = {}
    langid = usage["stages"].get(LANGID_STAGE, {}).get("by_lang", {})
    for lang in sorted(usage["languages"]):
        pages = langid.get(lang, {}).get("docs_in", 0)
        tokens = _shard_tokens(out, lang)
        if not pages or tokens is None:
            continue
        values = np.zeros(max(pages, len(tokens)))
        values[: len(tokens)] = tokens
        point, low, high = _bootstrap_mean(values, seed=sum(map(ord, lang)))
        found[lang] = {"pages": int(values.size), "docs": len(tokens), "resamples": RESAMPLES,
                       "tokens_per_page": {"point": point, "low": low, "high": high}}
    return found


def funnel(stats: Stats, langs: list[str]) -> list[dict[str, Any]]:
    """Documents left after each stage: all languages, and each output language."""
    data = stats.to_dict()["stages"]
    rows: list[dict[str, Any]] = []
    read = data.get("read", {})
    if read:
        rows.append({"stage": "input records", "docs": sum(v["docs_in"] for v in read.values()), "by_lang": {}})
    for name, by_lang in data.items():
        docs = sum(v["docs_out"] for lang, v in by_lang.items() if name != LANGID_STAGE or lang in langs or not langs)
        rows.append(
            {"stage": name, "docs": docs, "by_lang": {lang: by_lang[lang]["docs_out"] for lang in langs if lang in by_lang}}
        )
    return rows


def to_csv(cost: dict[str, Any]) -> str:
    """cost.csv: one row per priced line and per language, for a spreadsheet."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["section", "item", "lang", "cpu_seconds", "tokens", "usd", "krw", "usd_per_million_tokens"])
    krw = cost["krw_per_usd"]
    for line in cost["lines"]:
        writer.writerow([line["kind"], line["item"], "all", _num(line.get("cpu_seconds")), "", _num(line["usd"]), _num(line["usd"] * krw), ""])
        for lang, usd in line["by_lang"].items():
            writer.writerow([line["kind"], line["item"], lang, "", "", _num(usd), _num(usd * krw), ""])
    for lang, slot in cost["per_language"].items():
        writer.writerow(
            ["language", "total", lang, "", slot["tokens"], _num(slot["usd"]), _num(slot["krw"]), _num(slot["usd_per_million_tokens"])]
        )
    total = cost["total"]
    writer.writerow(["total", "total", "all", _num(total["cpu_seconds"]), "", _num(total["usd"]), _num(total["krw"]), ""])
    return buf.getvalue()


# --- measuring ---------------------------------------------------------------------------
def _stages(stats: Stats) -> dict[str, dict[str, Any]]:
    data = stats.to_dict()
    names = list(data["stages"]) + [s for s in data["time"] if s not in data["stages"]]
    stages: dict[str, dict[str, Any]] = {}
    for name in names:
        t = data["time"].get(name, {"cpu_seconds": 0.0, "wall_seconds": 0.0})
        by_lang = {
            lang: {k: v[k] for k in ("docs_in", "bytes_in", "docs_out", "bytes_out")}
            for lang, v in data["stages"].get(name, {}).items()
        }
        stages[name] = {"cpu_seconds": t["cpu_seconds"], "wall_seconds": t["wall_seconds"], "by_lang": by_lang}
    return stages


def _processes(stats: Stats, entries: list[dict[str, Any]], driver: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One row per process that did work: its OS-accounted CPU and what the stages metered of it."""
    procs: dict[tuple, dict[str, Any]] = {}
    unit_cpu = unit_wall = 0.0
    for entry in entries:
        cpu, wall = _metered(entry["stats"])
        unit_cpu, unit_wall = unit_cpu + cpu, unit_wall + wall
        snap = entry.get("process")
        if snap:
            proc = _proc(procs, snap)
            proc["metered_cpu_seconds"] += cpu
            proc["metered_wall_seconds"] += wall
            proc["units"] += 1
    if driver:
        total_cpu, total_wall = _metered(stats.to_dict())
        proc = _proc(procs, driver)
        proc["metered_cpu_seconds"] += max(total_cpu - unit_cpu, 0.0)
        proc["metered_wall_seconds"] += max(total_wall - unit_wall, 0.0)
        proc["driver"] = True
    return list(procs.values())


def _proc(procs: dict[tuple, dict[str, Any]], snap: dict[str, Any]) -> dict[str, Any]:
    key = (snap["host"], snap["pid"], snap["started"])
    proc = procs.setdefault(
        key,
        {"host": snap["host"], "pid": snap["pid"], "started": snap["started"], "cpu_seconds": 0.0, "wall_seconds": 0.0,
         "peak_rss_bytes": 0, "metered_cpu_seconds": 0.0, "metered_wall_seconds": 0.0, "units": 0, "driver": False,
         "startup_cpu_seconds": None, "startup_wall_seconds": None, "logical_cpus": snap.get("logical_cpus")},
    )
    # Snapshots of one process only grow: the latest holds its totals so far.
    for field in ("cpu_seconds", "wall_seconds", "peak_rss_bytes"):
        proc[field] = max(proc[field], snap[field])
    if snap.get("startup"):
        proc["startup_cpu_seconds"] = snap["startup"]["cpu_seconds"]
        proc["startup_wall_seconds"] = snap["startup"]["wall_seconds"]
    return proc


def _run_wall(driver: dict[str, Any] | None) -> float | None:
    """The run's wall time: from `meter.start_run` (else the driver's birth) to finalize."""
    if not driver:
        return None
    began = driver.get("run_started")
    return driver["taken"] - began if began and "taken" in driver else driver["wall_seconds"]


def _fixed(processes: list[dict[str, Any]]) -> dict[str, Any]:
    """What does not grow with pages: each worker's start-up, and a driver that ran no units.

    `per_worker_*` are means over the workers that marked their start-up; a
    forecast multiplies them by its number of workers. A driver that loaded no
    models (Ray runs) is a fixed cost per run: imports, planning, Ray bookkeeping.
    """
    workers = [p for p in processes if p["startup_cpu_seconds"] is not None]
    driver = sum(p["cpu_seconds"] - p["metered_cpu_seconds"] for p in processes if p["driver"] and p["startup_cpu_seconds"] is None)
    n = len(workers)
    return {
        "workers": n,
        "per_worker_cpu_seconds": sum(p["startup_cpu_seconds"] for p in workers) / n if n else 0.0,
        "per_worker_wall_seconds": sum(p["startup_wall_seconds"] for p in workers) / n if n else 0.0,
        "driver_cpu_seconds": max(driver, 0.0),
    }


def _held(processes: list[dict[str, Any]], wall: float | None) -> dict[str, Any] | None:
    """Machine time the run held: its wall time times the vCPUs of each host it used."""
    if not wall:
        return None
    hosts: dict[str, int] = {}
    for p in processes:
        hosts[p["host"]] = max(hosts.get(p["host"], 0), p.get("logical_cpus") or os.cpu_count() or 1)
    vcpus = sum(hosts.values())
    return {"wall_seconds": wall, "hosts": hosts, "nodes": len(hosts), "vcpus": vcpus, "vcpu_seconds": wall * vcpus}


def _metered(stats_dict: dict[str, Any]) -> tuple[float, float]:
    times = stats_dict.get("time", {}).values()
    return sum(t["cpu_seconds"] for t in times), sum(t["wall_seconds"] for t in times)


def _requests(stats: Stats) -> dict[str, dict[str, int]]:
    verbs: dict[str, dict[str, int]] = {}
    for name, value in stats.counters.items():
        if name.startswith("storage_") and name.endswith(("_requests", "_bytes")):
            _, verb, kind = name.split("_", 2)
            verbs.setdefault(verb, {"requests": 0, "bytes": 0})[kind] += value
    return dict(sorted(verbs.items()))


def _selection(stats: Stats, entries: list[dict[str, Any]]) -> dict[str, Any] | None:
    """What Common Crawl index selection read, when the run used it: index rows and bytes
    (the run's GET bytes beyond its units' own), and the units' range GETs per record."""
    scanned = stats.counters.get("index_rows_scanned", 0)
    if not scanned:
        return None
    unit_gets = sum(e["stats"].get("counters", {}).get("storage_get_requests", 0) for e in entries)
    unit_bytes = sum(e["stats"].get("counters", {}).get("storage_get_bytes", 0) for e in entries)
    records = sum(v["docs_in"] for e in entries for v in e["stats"].get("stages", {}).get("read", {}).values())
    return {
        "rows_scanned": scanned,
        "rows_selected": stats.counters.get("index_rows_selected", 0),
        "index_get_bytes": max(stats.counters.get("storage_get_bytes", 0) - unit_bytes, 0),
        "index_get_requests": max(stats.counters.get("storage_get_requests", 0) - unit_gets, 0),
        "range_gets_per_record": unit_gets / records if records else None,
    }


def _languages(stats: Stats, languages: dict[str, dict[str, int]]) -> dict[str, dict[str, Any]]:
    """Output per language; tokens flagged `tokens_measured` false where no tokenizer counted them."""
    text = _text_bytes(stats)
    out = {}
    for lang, totals in sorted(languages.items()):
        out[lang] = {**totals, "text_bytes": text.get(lang, 0), "tokens_measured": totals.get("tokens", 0) > 0}
    return out


def _text_bytes(stats: Stats) -> dict[str, int]:
    """Text bytes per language leaving the last document stage (before shards are cut)."""
    found: dict[str, int] = {}
    for name, by_lang in stats.to_dict()["stages"].items():
        if name == "shards":
            continue
        for lang, v in by_lang.items():
            if lang != UNKNOWN_LANG:
                found[lang] = v["bytes_out"]
    return found


def _input(entry: dict[str, Any]) -> dict[str, Any]:
    """One input file's figures: what `corpus budget` extrapolates from, file by file."""
    stats = entry["stats"]
    read = stats.get("stages", {}).get("read", {})
    langid = stats.get("stages", {}).get(LANGID_STAGE, {})
    counters = stats.get("counters", {})
    size = counters.get("storage_get_bytes") or _local_size(entry["uri"])
    cpu, wall = _metered(stats)
    text = _text_bytes(Stats.from_dict(stats))
    return {
        "uri": entry["uri"],
        "pages": sum(v["docs_in"] for v in read.values()),
        "input_bytes": size,
        "cpu_seconds": cpu,
        "wall_seconds": wall,
        "pages_by_lang": {lang: v["docs_in"] for lang, v in sorted(langid.items())},
        "text_bytes_by_lang": text,
    }


def _shard_tokens(out: Storage, lang: str) -> np.ndarray | None:
    """n_tokens of every document in the language's shards; None without token counts."""
    parts = [rel for rel in sorted(out.list(f"shards/lang={lang}/")) if rel.endswith(".parquet")]
    columns = []
    for rel in parts:
        part = pq.ParquetFile(pa.BufferReader(out.read_bytes(rel)))
        if "n_tokens" not in part.schema_arrow.names:
            return None
        columns.append(part.read(columns=["n_tokens"])["n_tokens"].to_numpy(zero_copy_only=False))
    return np.concatenate(columns) if columns else None


def _bootstrap_mean(values: np.ndarray, seed: int) -> tuple[float, float, float]:
    """The mean and the 2.5th and 97.5th percentiles of its bootstrap distribution."""
    rng = np.random.default_rng(seed)
    sample = values if values.size <= MAX_RESAMPLED_PAGES else rng.choice(values, MAX_RESAMPLED_PAGES, replace=False)
    means = np.array([rng.choice(sample, sample.size).mean() for _ in range(RESAMPLES)])
    point = float(values.mean())
    shrink = np.sqrt(sample.size / values.size)  # the spread of a mean over all pages, not over the sample
    low, high = np.percentile(means - sample.mean(), [2.5, 97.5]) * shrink
    return point, max(point + float(low), 0.0), point + float(high)


def _local_size(uri: str) -> int | None:
    try:
        return os.path.getsize(uri)
    except OSError:
        return None


# --- pricing -----------------------------------------------------------------------------
def _line(kind: str, item: str, usd: float, shares: dict[str, float], **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "item": item, "usd": usd, "by_lang": {lang: usd * s for lang, s in shares.items()}, **extra}


def _stage_shares(stage: dict[str, Any], langs: list[str], split_by: str) -> dict[str, float]:
    key = "bytes_in" if split_by == "bytes" else "docs_in"
    return _normalise({lang: stage["by_lang"][lang][key] for lang in langs if lang in stage["by_lang"]})


def _reference_shares(usage: dict[str, Any], langs: list[str], split_by: str) -> dict[str, float]:
    """Output languages' shares of the language-ID input; by output bytes if there was no language ID."""
    langid = usage["stages"].get(LANGID_STAGE)
    shares = _stage_shares(langid, langs, split_by) if langid else {}
    return shares or _normalise({lang: usage["languages"][lang]["bytes"] for lang in langs})


def _normalise(weights: dict[str, float]) -> dict[str, float]:
    total = sum(weights.values())
    return {k: v / total for k, v in weights.items()} if total > 0 else {}


def _request_usd(verb: str, n: int, sheet: PriceSheet) -> float:
    if verb in FREE_VERBS:
        return 0.0
    per_1000 = sheet.storage.put_per_1000 if verb in WRITE_VERBS else sheet.storage.get_per_1000
    return n / 1000 * per_1000.value


def _held_total(held: dict[str, Any] | None, lines: list[dict[str, Any]], vcpu_hour: float, krw: float) -> dict[str, Any] | None:
    """The run priced as a cloud bills it: held vCPU time in place of the run's CPU used
    (a crawl's line is held time already; storage lines stay as they are)."""
    if not held:
        return None
    compute = held["vcpu_seconds"] / 3600 * vcpu_hour
    others = sum(line["usd"] for line in lines if line["kind"] != "compute" or line["item"] == CRAWL)
    used = sum(line.get("cpu_seconds", 0.0) for line in lines if line["kind"] == "compute" and line["item"] != CRAWL)
    return {
        "vcpu_seconds": held["vcpu_seconds"],
        "vcpu_hours": held["vcpu_seconds"] / 3600,
        "compute_usd": compute,
        "usd": compute + others,
        "krw": (compute + others) * krw,
        "busy_share": used / held["vcpu_seconds"] if held["vcpu_seconds"] else None,
    }


def _with_market(lines: list[dict[str, Any]], used: float, other: float) -> float:
    """The total had compute been bought on the other market."""
    return sum(line["usd"] * (other / used if line["kind"] == "compute" and used else 1.0) for line in lines)


def _per_language(
    usage: dict[str, Any], lines: list[dict[str, Any]], krw: float, sheet: PriceSheet
) -> dict[str, dict[str, Any]]:
    """Cost and tokens per output language; tokens estimated from text bytes (the
    sheet's `bytes_per_token`) only where the run has no tokenizer counts."""
    out = {}
    for lang, slot in usage["languages"].items():
        usd = sum(line["by_lang"].get(lang, 0.0) for line in lines)
        tokens = slot.get("tokens", 0)
        ratio = sheet.assumptions.bytes_per_token.get(lang)
        if not slot["tokens_measured"] and ratio:
            tokens = round(slot["text_bytes"] / ratio.value)
        out[lang] = {
            "docs": slot["docs"],
            "tokens": tokens,
            "tokens_measured": slot["tokens_measured"],
            "text_bytes": slot["text_bytes"],
            "usd": usd,
            "krw": usd * krw,
            "usd_per_million_tokens": usd / tokens * 1e6 if tokens else None,
            "usd_per_gb_text": usd / (slot["text_bytes"] / 1e9) if slot["text_bytes"] else None,
        }
    return out


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"
