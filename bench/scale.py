"""Scale run: the whole pipeline at its defaults on local Ray over 100,000 pages
made from shared data, with documents/s, CPU per stage and peak memory per
worker as the run passes 25k, 50k and 100k pages (they should stay flat).

Pages are generated deterministically (seeded) into WARC files:
- real pages: every HTML response of the shared WARCs and the shared Korean
  and gold HTML pages, dealt with replacement, so each recurs at other URLs
  (mirrors: exact duplicates, as a crawl has them);
- article pages, Korean and English, each a title and paragraphs drawn from
  real text (Korean blogs, 1920s magazine prose, KorQuAD paragraphs, news
  comments and movie reviews as comment sections, Instagram ads as junk;
  English Common Crawl text and article bodies), with a site template
  (menu, footer), a published date in the page's metadata (some unparseable);
- near duplicates of earlier article pages (another site template, one
  paragraph dropped or a few words changed) and exact copies at other URLs.

One run is enough for the three points: every finished input file writes its
ledger entry (`_work/units/<unit>.json`) with its stats (records read, CPU
per stage) and the process that ran it (pid, peak RSS), so the figures up to
each point are read from the entries written by then; the workers' resident
memory is also sampled with psutil every few seconds (every process the
`corpus run` started: driver, Ray's own processes, unit workers). Figures
after the last point are the driver's finalize (dedup, shards, report), from
stats.json and cost.json.

Usage: nice -n 10 .venv/bin/python bench/scale.py [--pages 100000] [--work DIR]
       [--pages-per-file 1000] [--points 25000,50000,100000] [--set KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import io
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("CORPUS_SHARED_DATA", REPO.parent / "shared" / "data"))
BASE_TIME = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
GENERATOR_VERSION = 1  # bump when the pages a seed makes change

# Shares of the page kinds (the rest are fresh article pages).
REAL_SHARE, NEAR_SHARE, COPY_SHARE, KO_SHARE = 0.10, 0.06, 0.02, 0.55
GARBAGE_DATES = ["2023-13-45", "어제 오후", "sometime last week", "0000-00-00", "32/32/2020"]
REAL_WARCS = [
    "warc/constructed/aeb_and_korean_feeds.warc.gz",
    "warc/dolma/sample-0000.warc.gz",
    "warc/resiliparse/warcfile.warc.gz",
    "warc/resiliparse/clueweb-quirk.warc.gz",
    "warc/ukwa/IAH-urls-wget.warc.gz",
    "warc/ukwa/IAH-20080430204825-00000-blackbook-truncated.warc.gz",
]


def _jsonl(path: Path, field: str = "text") -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [row[field] for row in map(json.loads, f) if row.get(field)]


def _lines(path: Path) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


def _paragraphs(texts: list[str], min_chars: int = 60) -> list[str]:
    out = []
    for text in texts:
        out += [p.strip() for p in text.split("\n\n") if len(p.strip()) >= min_chars]
    return out


class Sources:
    """The real text and pages the generated pages are made of."""

    def __init__(self) -> None:
        kw = SHARED / "korean_web" / "text"
        ko_posts = []
        for name in ("johngrib_blog/posts.jsonl", "krgil_blog/posts.jsonl", "goodgid_blog/posts.jsonl",
                     "byeolgeongon_1920s/articles.jsonl"):  # fmt: skip
            ko_posts += _jsonl(kw / name)
        with gzip.open(SHARED / "korean_text" / "korquad" / "KorQuAD_v1.0_dev.json.gz", "rt", encoding="utf-8") as f:
            korquad = [p["context"] for a in json.load(f)["data"] for p in a["paragraphs"]]
        self.ko_paragraphs = _paragraphs(ko_posts) + korquad
        self.ko_comments = _jsonl(SHARED / "korean_text" / "nsmc" / "nsmc_raw_reviews_sample.jsonl.gz", "review")
        self.ko_comments += _lines(SHARED / "korean_text" / "korean_hate_speech" / "unlabeled__unlabeled_comments_5.txt.gz")
        self.ko_junk = _jsonl(kw / "instagram_ads" / "ads.jsonl")
        self.ko_titles = _lines(SHARED / "korean_text" / "korean_hate_speech" / "news_title__train.news_title.txt.gz")
        en_texts = _jsonl(next((SHARED / "english_text" / "dolma_cc").glob("CC-MAIN-*.jsonl.gz")))
        en_texts += _jsonl(SHARED / "near_dup" / "web_docs_mixed.docs.jsonl.gz")
        gold = [row["text"] for row in map(json.loads, gzip.open(SHARED / "near_dup" / "article_extraction_variants.docs.jsonl.gz", "rt"))
                if row["id"].endswith(":ground_truth")]  # fmt: skip
        self.en_paragraphs = _paragraphs(en_texts + gold) + _paragraphs([t.replace("\n", "\n\n") for t in gold], 120)
        self.en_titles = [p.split(".")[0][:90] for p in self.en_paragraphs if 20 < len(p.split(".")[0]) < 90]
        self.real_pages = _real_pages()


def _real_pages() -> list[tuple[bytes, str]]:
    """(body, content type) of every real HTML page in the shared data."""
    pages = []
    for rel in REAL_WARCS:
        with open(SHARED / rel, "rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type == "response" and record.http_headers is not None:
                    ctype = record.http_headers.get_header("Content-Type") or "text/html"
                    if "html" in ctype:
                        pages.append((record.content_stream().read(), ctype))
    for path in sorted((SHARED / "korean_web").glob("html_*/**/*")):
        if path.is_file() and path.suffix in {".html", ".htm", ".jsp", ".gz"} and "MANIFEST" not in path.name:
            body = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
            pages.append((body, "text/html"))
    for path in sorted((SHARED / "gold_extraction" / "scrapinghub_aeb" / "html").glob("*.gz")):
        pages.append((gzip.decompress(path.read_bytes()), "text/html; charset=utf-8"))
    return pages


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _article(src: Sources, seed: int, j: int) -> dict:
    """The content of article page j: language, site, title, paragraphs, comments, date."""
    rng = random.Random(f"{seed}:article:{j}")
    ko = rng.random() < KO_SHARE
    paragraphs = src.ko_paragraphs if ko else src.en_paragraphs
    body = [rng.choice(paragraphs) for _ in range(rng.randint(3, 8))]
    if ko and rng.random() < 0.08:  # an ad page: hashtag and DM-for-price captions
        body = [rng.choice(src.ko_junk) for _ in range(rng.randint(2, 5))]
    comments = [rng.choice(src.ko_comments) for _ in range(rng.randint(0, 6))] if ko else []
    day = BASE_TIME - dt.timedelta(days=rng.randint(0, 3000), seconds=rng.randint(0, 86399))
    date = rng.choice(GARBAGE_DATES) if rng.random() < 0.03 else day.isoformat().replace("+00:00", "Z")
    return {
        "lang": "ko" if ko else "en",
        "site": rng.randint(0, 399),
        "title": rng.choice(src.ko_titles if ko else src.en_titles),
        "body": body,
        "comments": comments,
        "date": date,
    }


def _html(a: dict, template: int) -> bytes:
    menu = "".join(f'<li><a href="/c/{k}">{"메뉴" if a["lang"] == "ko" else "Section"} {k}</a></li>' for k in range(template % 7 + 3))
    paragraphs = "".join(f"<p>{_esc(p)}</p>" for p in a["body"])
    comments = "".join(f'<li class="comment">{_esc(c)}</li>' for c in a["comments"])
    return (
        f'<!doctype html><html lang="{a["lang"]}"><head><meta charset="utf-8"><title>{_esc(a["title"])}</title>'
        f'<meta property="article:published_time" content="{a["date"]}"></head><body>'
        f'<header><nav><ul>{menu}</ul></nav></header>'
        f'<main><article><h1>{_esc(a["title"])}</h1>{paragraphs}</article>'
        f'<section class="comments"><ul>{comments}</ul></section></main>'
        f'<footer>site {a["site"]} · template {template} · © 2026</footer></body></html>'
    ).encode()


def _near_copy(a: dict, rng: random.Random) -> dict:
    """Same article on another site: a paragraph dropped or a few words changed."""
    body = list(a["body"])
    if len(body) > 3 and rng.random() < 0.5:
        body.pop(rng.randrange(len(body)))
    else:
        k = rng.randrange(len(body))
        words = body[k].split(" ")
        for _ in range(max(1, len(words) // 20)):
            words[rng.randrange(len(words))] = rng.choice(["update", "수정", "2026", "news"])
        body[k] = " ".join(words)
    return {**a, "body": body, "site": rng.randint(400, 999)}


def page(src: Sources, seed: int, i: int) -> tuple[str, bytes, str, str]:
    """Page i: (url, body, content type, kind)."""
    rng = random.Random(f"{seed}:page:{i}")
    roll = rng.random()
    if roll < REAL_SHARE:
        body, ctype = rng.choice(src.real_pages)
        return f"https://mirror{rng.randint(0, 99)}.example/{i}", body, ctype, "real"
    if i > 100 and roll < REAL_SHARE + NEAR_SHARE:
        j = rng.randrange(i // 2, i)  # near recent pages: they land in the same or nearby files
        return f"https://near{rng.randint(0, 99)}.example/{i}", _html(_near_copy(_article(src, seed, j), rng), rng.randint(0, 50)), "text/html; charset=utf-8", "near"
    if i > 100 and roll < REAL_SHARE + NEAR_SHARE + COPY_SHARE:
        j = rng.randrange(0, i)
        a = _article(src, seed, j)
        return f"https://copy{rng.randint(0, 99)}.example/{i}", _html(a, a["site"]), "text/html; charset=utf-8", "copy"
    a = _article(src, seed, i)
    return f"https://site{a['site']}.example/{a['lang']}/{i}", _html(a, a["site"]), "text/html; charset=utf-8", "article"


def fetch_time(i: int) -> str:
    """WARC-Date of page i: one page a second from BASE_TIME."""
    return (BASE_TIME + dt.timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")


def generate(dest: Path, pages: int, per_file: int, seed: int) -> list[Path]:
    """Write the WARC files (skipped when `dest` already holds this exact set)."""
    stamp = dest / "generated.json"
    want = {"pages": pages, "per_file": per_file, "seed": seed, "version": GENERATOR_VERSION}
    files = [dest / f"scale-{seed}-{k:04d}.warc.gz" for k in range(-(-pages // per_file))]
    if stamp.exists() and json.loads(stamp.read_text()) == want and all(f.exists() for f in files):
        return files
    dest.mkdir(parents=True, exist_ok=True)
    src = Sources()
    kinds: dict[str, int] = {}
    for k, path in enumerate(files):
        buffer = io.BytesIO()
        writer = WARCWriter(buffer, gzip=True)
        for i in range(k * per_file, min(pages, (k + 1) * per_file)):
            url, body, ctype, kind = page(src, seed, i)
            kinds[kind] = kinds.get(kind, 0) + 1
            http = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
            headers = {"WARC-Date": fetch_time(i), "WARC-Record-ID": f"<urn:scale:{seed}:{i}>"}
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                                          http_headers=http, warc_headers_dict=headers))  # fmt: skip
        path.write_bytes(buffer.getvalue())
    stamp.write_text(json.dumps(want))
    print(f"generated {pages:,} pages in {len(files)} files: {json.dumps(kinds)}", flush=True)
    return files


class Monitor(threading.Thread):
    """Appends the resident memory of every process the run started to a JSON-lines file every few seconds."""

    def __init__(self, proc: subprocess.Popen, log: Path, every: float = 5.0) -> None:
        super().__init__(daemon=True)
        self.root, self.log, self.every = psutil.Process(proc.pid), log, every
        self.stop = threading.Event()

    def run(self) -> None:
        with open(self.log, "a") as f:
            while not self.stop.is_set():
                f.write(json.dumps({"t": time.time(), "procs": self.sample()}) + "\n")
                f.flush()
                self.stop.wait(self.every)

    def sample(self) -> list[tuple[int, str, int]]:
        try:
            procs = [self.root] + self.root.children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        rows = []
        for p in procs:
            try:
                rows.append((p.pid, _role(p), p.memory_info().rss))
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return rows


def _role(p: psutil.Process) -> str:
    text = p.name() + " " + " ".join(p.cmdline())
    if "MapWorker" in text or "UnitProcessor" in text:
        return "unit worker"
    if "corpus.cli" in text:
        return "driver"
    return "ray (other)"


def _entries(out: Path) -> list[dict]:
    """Finished units' ledger entries, in the order they were written."""
    entries = []
    for path in (out / "_work" / "units").glob("*.json"):
        try:
            entries.append(json.loads(path.read_text()))
        except (OSError, ValueError):  # being written
            continue
    return sorted(entries, key=lambda e: e["process"]["taken"])


def _samples(log: Path) -> list[tuple[float, int, str, int]]:
    rows = []
    for line in (log.read_text().splitlines() if log.exists() else []):
        try:
            sample = json.loads(line)
        except ValueError:  # the last line, being written
            continue
        rows += [(sample["t"], pid, role, rss) for pid, role, rss in sample["procs"]]
    return rows


def checkpoint_rows(entries: list[dict], samples: list, points: list[int]) -> list[dict]:
    """Figures for each interval between points (the first from when the first
    worker was ready), from the ledger entries written by then."""
    ready = min(e["process"]["started"] + (e["process"]["startup"] or {}).get("wall_seconds", 0.0) for e in entries)
    rows, done, prev_t, prev_pages = [], 0, ready, 0
    it = iter(entries)
    for point in points:
        stage_cpu: dict[str, float] = {}
        t = prev_t
        for entry in it:
            stats = entry["stats"]
            done += int(stats["counters"].get("records_read", 0))
            for stage, v in stats.get("time", {}).items():
                stage_cpu[stage] = stage_cpu.get(stage, 0.0) + float(v.get("cpu_seconds", 0.0))
            t = entry["process"]["taken"]
            if done >= point:
                break
        pages = done - prev_pages
        if pages == 0:
            break
        peak: dict[int, int] = {}
        for when, pid, role, rss in samples:
            if role == "unit worker" and when <= t:
                peak[pid] = max(peak.get(pid, 0), rss)
        ledger_peak = {e["process"]["pid"]: e["process"]["peak_rss_bytes"] for e in entries if e["process"]["taken"] <= t}
        rows.append({
            "point": point, "pages": done, "interval_pages": pages, "interval_wall_s": t - prev_t,
            "docs_per_s": pages / max(t - prev_t, 1e-9), "cumulative_docs_per_s": done / max(t - ready, 1e-9),
            "cpu_ms_per_page": {k: 1000 * v / pages for k, v in sorted(stage_cpu.items())},
            "cpu_ms_per_page_total": 1000 * sum(stage_cpu.values()) / pages,
            "docs_per_cpu_s": pages / max(sum(stage_cpu.values()), 1e-9),
            "worker_rss_mib_sampled": sorted(round(v / 2**20) for v in peak.values()),
            "worker_peak_rss_mib_ledger": sorted(round(v / 2**20) for v in ledger_peak.values()),
            "workers_seen": len(ledger_peak),
        })  # fmt: skip
        prev_t, prev_pages = t, done
        if done < point:  # the run has not reached this point yet
            break
    return rows


def summarize(out: Path, monitor_log: Path, points: list[int], run_wall: tuple[float, float] | None = None) -> dict:
    """The figures of a finished run, or of one still running (points reached so far)."""
    entries, samples = _entries(out), _samples(monitor_log)
    report = {
        "machine": {"cpus": os.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
                    "cpu": _cpu_model(), "load_now": os.getloadavg()},  # fmt: skip
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="minutes"),
        "units_done": len(entries),
        "points": checkpoint_rows(entries, samples, points) if entries else [],
    }
    peaks: dict[str, int] = {}
    for _, _, role, rss in samples:
        peaks[role] = max(peaks.get(role, 0), rss)
    report["peak_rss_mib_by_role"] = {k: round(v / 2**20) for k, v in sorted(peaks.items())}
    if (out / "manifest.json").exists():  # complete: the run's own accounts
        stats = json.loads((out / "stats.json").read_text())
        cost = json.loads((out / "cost.json").read_text())
        started = cost["run_wall_seconds"]
        if run_wall:
            started = run_wall[1] - run_wall[0]
        last_unit = max(e["process"]["taken"] for e in entries) - min(e["process"]["started"] for e in entries)
        report |= {
            "wall_s": started, "records_read": stats.get("counters", {}).get("records_read"),
            "finalize_wall_s": sum(stats["time"][k]["wall_seconds"] for k in ("dedup", "shards") if k in stats["time"]),
            "docs_per_s_whole_run": stats["counters"]["records_read"] / started,
            "cpu_s_by_stage": {k: round(v["cpu_seconds"], 1) for k, v in cost["stages"].items()},
            "processes": [{"pid": p["pid"], "driver": p["driver"], "units": p["units"], "cpu_s": round(p["cpu_seconds"]),
                           "peak_rss_mib": round(p["peak_rss_bytes"] / 2**20)} for p in cost["processes"]],
            "funnel": {f["stage"]: f["docs"] for f in cost["funnel"]},
            "counters": stats.get("counters", {}),
            "units_span_s": last_unit,
        }  # fmt: skip
    return report


def _cpu_model() -> str:
    for line in open("/proc/cpuinfo", encoding="utf-8"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def print_table(r: dict) -> None:
    m = r["machine"]
    print(f"\nscale run, {r['date']}: {m['cpus']} x {m['cpu']}, load now {m['load_now'][0]:.1f}; units done {r['units_done']}")
    stages = sorted({k for row in r["points"] for k in row["cpu_ms_per_page"]})
    print("| pages | docs/s (interval) | docs/s (cumulative) | docs per CPU s | CPU ms/page | "
          + " | ".join(stages) + " | unit workers' RSS MiB, sampled | their peak RSS MiB, ledger |")  # fmt: skip
    print("|" + "---|" * (7 + len(stages)))
    for row in r["points"]:
        cells = " | ".join(f"{row['cpu_ms_per_page'].get(s, 0):.1f}" for s in stages)
        print(f"| {row['pages']:,} | {row['docs_per_s']:.1f} | {row['cumulative_docs_per_s']:.1f} | {row['docs_per_cpu_s']:.1f} | "
              f"{row['cpu_ms_per_page_total']:.1f} | {cells} | {', '.join(map(str, row['worker_rss_mib_sampled'])) or '-'} | "
              f"{', '.join(map(str, row['worker_peak_rss_mib_ledger']))} |")  # fmt: skip
    print("peak RSS by role (MiB): " + ", ".join(f"{k} {v:,}" for k, v in r["peak_rss_mib_by_role"].items()))
    if "funnel" in r:
        print(f"whole run: {r['records_read']:,} pages in {r['wall_s']:,.0f} s wall ({r['docs_per_s_whole_run']:.1f} docs/s, "
              f"start-up and finalize included; dedup + shards {r['finalize_wall_s']:,.0f} s)")  # fmt: skip
        print("CPU s by stage (cost.json): " + ", ".join(f"{k} {v:,}" for k, v in r["cpu_s_by_stage"].items()))
        print("processes (cost.json): " + "; ".join(
            f"{'driver' if p['driver'] else 'worker'} {p['pid']}: {p['units']} units, {p['cpu_s']:,} CPU s, peak {p['peak_rss_mib']:,} MiB"
            for p in r["processes"]))  # fmt: skip
        print("funnel (docs out): " + ", ".join(f"{k} {v:,}" for k, v in r["funnel"].items()))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=100_000)
    ap.add_argument("--pages-per-file", type=int, default=1000)
    ap.add_argument("--points", default="25000,50000,100000")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "corpus-scale")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="passed to corpus run")
    ap.add_argument("--json", type=Path, help="write the figures here too")
    ap.add_argument("--summarize", action="store_true", help="only print the figures of the run in --work so far")
    args = ap.parse_args()
    points = [p for p in map(int, args.points.split(",")) if p <= args.pages] or [args.pages]
    out, monitor_log, log_path = (args.work / f"{name}-{args.pages}{ext}" for name, ext in
                                  (("out", ""), ("monitor", ".jsonl"), ("run", ".log")))  # fmt: skip
    if args.summarize:
        report = summarize(out, monitor_log, points)
    else:
        t0 = time.time()
        generate(args.work / "warc", args.pages, args.pages_per_file, args.seed)
        print(f"generation {time.time() - t0:,.0f} s", flush=True)
        report = _run(args, out, monitor_log, log_path, points)
        if report is None:
            return 1
    print_table(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


def _run(args, out: Path, monitor_log: Path, log_path: Path, points: list[int]) -> dict | None:
    """`corpus run` at its defaults over the generated files, watched; its figures."""
    warcs = sorted(args.work.joinpath("warc").glob("*.warc.gz"))[: -(-args.pages // args.pages_per_file)]
    cmd = [sys.executable, "-m", "corpus_cli", "run", "--no-progress", "--output", str(out)]
    for path in warcs:
        cmd += ["--input", str(path)]
    for kv in args.set:
        cmd += ["--set", kv]
    shutil.rmtree(out, ignore_errors=True)
    monitor_log.unlink(missing_ok=True)
    started = time.time()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(REPO)})
        mon = Monitor(proc, monitor_log)
        mon.start()
        rc = proc.wait()
        mon.stop.set()
        mon.join()
    ended = time.time()
    if rc != 0:
        print(f"corpus run failed (exit {rc}); see {log_path}", flush=True)
        return None
    return summarize(out, monitor_log, points, (started, ended))


if __name__ == "__main__":
    sys.exit(main())
