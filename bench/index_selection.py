"""Bytes fetched and dollars per kept Korean document: index selection vs whole WARC files.

A mixed-language crawl is laid out as Common Crawl lays it out (WARC files of
one-gzip-member records under crawl-data/, plus a columnar index whose
`content_languages` come from a language detector run on each page, as Common
Crawl's come from CLD2) on a real S3-compatible server (moto on 127.0.0.1).
Then the same pipeline runs twice:

- whole files: every WARC file is read in full and every page goes through
  extraction, language ID and the rest; Korean is what survives;
- index selection: `select.languages: [kor]` picks the records from the
  index; only their bytes are fetched, by coalesced range GETs.

Two crawls are measured. `shared` is the records of five WARC files from
../shared/data as they are (Korean is about 8% of the pages). `cc-share`
repeats the non-Korean records so Korean is 0.74% of pages, its share of a
recent Common Crawl crawl (about 18 M of 2.6 B pages); there bytes and
requests are measured, and the whole-file CPU is the `shared` run's CPU per
page times the page count (the pages are copies).

Dollars: S3 GETs and transfer out of the region at the price sheet's rates
(corpus/accounting/prices.yaml; inside us-east-1 the transfer is free, shown apart),
plus CPU seconds at the sheet's on-demand vCPU-hour.

Usage: .venv/bin/python bench/index_selection.py
"""

from __future__ import annotations

import io
import json
import logging
import random
import socket
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

SHARED = REPO.parent / "shared" / "data" / "warc"
SOURCES = [
    SHARED / "constructed" / "aeb_and_korean_feeds.warc.gz",
    SHARED / "dolma" / "sample-0000.warc.gz",
    SHARED / "resiliparse" / "warcfile.warc.gz",
    SHARED / "resiliparse" / "clueweb-quirk.warc.gz",
    SHARED / "ukwa" / "IAH-urls-wget.warc.gz",
]
CC_KOREAN_SHARE = 18e6 / 2.6e9
RECORDS_PER_FILE = 60
# Both sides read the same page types; RSS is in because most Korean pages here are feeds.
PAGE_TYPES = ["text/html", "application/xhtml+xml", "application/rss+xml"]
# Dedup is corpus-wide work on the kept documents, the same on both sides; left out here.
NO_DEDUP = {"enabled": False}
CRAWL = "crawl-data/CC-MAIN-2099-01/segments/0/warc"


def main() -> None:
    import os

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    os.environ.update(
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}", AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
    )
    try:
        records = labelled_records()
        korean = sum(1 for r in records if r["lang"] == "kor")
        print(f"records: {len(records)} pages from {len(SOURCES)} shared WARC files, {korean} Korean ({korean / len(records):.1%})")
        shared = measure("shared", records, run_whole=True)
        repeat = max(1, round((korean / CC_KOREAN_SHARE - korean) / (len(records) - korean)))
        cc_records = [r for r in records if r["lang"] == "kor"] + [r for r in records if r["lang"] != "kor"] * repeat
        cc = measure("cc-share", cc_records, run_whole=False, cpu_per_page=shared["whole"]["cpu_seconds"] / len(records))
        report([shared, cc])
    finally:
        server.stop()


def labelled_records() -> list[dict]:
    """Every response record of SOURCES as raw gzip member bytes, with the language a
    detector gives its page (fastText on tag-stripped HTML, ISO 639-3 like Common Crawl)."""
    from warcio.archiveiterator import ArchiveIterator

    from corpus.config import LangIdConfig
    from crawlers.decode import charset_from_content_type, decode_html
    from crawlers.screen import cheap_text
    from filters.langid import LanguageIdentifier

    lid = LanguageIdentifier(LangIdConfig())
    iso3 = {"ko": "kor", "en": "eng", "ja": "jpn", "zh": "zho", "ru": "rus", "de": "deu", "pt": "por"}
    out = []
    for path in SOURCES:
        raw = path.read_bytes()
        starts, metas = [], []
        with open(path, "rb") as handle:
            iterator = ArchiveIterator(handle)
            for record in iterator:
                body = record.content_stream().read()
                starts.append(iterator.get_record_offset())
                if record.rec_type != "response" or not record.http_headers:
                    metas.append(None)
                    continue
                content_type = record.http_headers.get_header("Content-Type") or ""
                text = cheap_text(decode_html(body, charset_from_content_type(content_type))[0])
                lang = lid.predict([text])[0][0] if text else "und"
                metas.append({
                    "url": record.rec_headers.get_header("WARC-Target-URI"),
                    "mime": content_type.split(";")[0].strip().lower() or "text/html",
                    "lang": iso3.get(lang, lang),
                })
        bounds = starts + [len(raw)]
        if not raw[: 2] == b"\x1f\x8b":
            continue  # only files with one gzip member per record can be range-read
        for i, meta in enumerate(metas):
            if meta is not None:
                out.append({**meta, "data": raw[bounds[i] : bounds[i + 1]]})
    return out


def measure(name: str, records: list[dict], run_whole: bool, cpu_per_page: float | None = None) -> dict:
    """Lay the records out as a crawl on S3, then run whole-file and index-selected processing."""
    from corpus.accounting import meter
    from corpus.config import RunConfig
    from corpus.storage.s3 import s3_client
    from ray_jobs.pipeline import plan_units

    bucket = f"bench-{name}-{int(time.time())}"
    client = s3_client()
    client.create_bucket(Bucket=bucket)
    shuffled = records[:]
    random.Random(0).shuffle(shuffled)
    rows = []
    for number in range(0, len(shuffled), RECORDS_PER_FILE):
        key = f"{CRAWL}/CC-MAIN-2099-01-{number // RECORDS_PER_FILE:05d}.warc.gz"
        buffer, offset = io.BytesIO(), 0
        for record in shuffled[number : number + RECORDS_PER_FILE]:
            buffer.write(record["data"])
            host = urlsplit(record["url"]).hostname or ""
            rows.append({
                "url": record["url"], "url_host_name": host, "url_host_tld": host.rsplit(".", 1)[-1],
                "content_languages": record["lang"], "content_mime_detected": record["mime"], "fetch_status": 200,
                "warc_filename": key, "warc_record_offset": offset, "warc_record_length": len(record["data"]),
            })
            offset += len(record["data"])
        client.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())
    index = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), index)
    client.put_object(Bucket=bucket, Key="cc-index/part-00000.parquet", Body=index.getvalue())
    files = [f"s3://{bucket}/{CRAWL}/"]
    select = {"index": [f"s3://{bucket}/cc-index/"], "warc_prefix": f"s3://{bucket}/", "mime_types": PAGE_TYPES}
    selected_cfg = RunConfig(select=select, read={"mime_types": PAGE_TYPES}, dedup=NO_DEDUP)
    before = meter.snapshot()
    selected_units = plan_units(selected_cfg)  # reading the index is part of what selection costs
    index_reads = meter.since(before)
    selected = run_units(selected_units, selected_cfg)
    for counter in ("storage_get_requests", "storage_get_bytes"):
        selected[counter] += index_reads.get(counter, 0)
    selected["index_bytes"] = index_reads.get("storage_get_bytes", 0)
    result = {"name": name, "pages": len(records), "korean_pages": sum(r["lang"] == "kor" for r in records),
              "files": (len(records) + RECORDS_PER_FILE - 1) // RECORDS_PER_FILE, "selected": selected}
    whole_cfg = RunConfig(input=files, read={"mime_types": PAGE_TYPES}, dedup=NO_DEDUP)
    if run_whole:
        result["whole"] = run_units(plan_units(whole_cfg), whole_cfg)
    else:  # bytes and requests of reading every file in full; CPU scaled from the `shared` run
        result["whole"] = fetch_only(plan_units(whole_cfg))
        result["whole"]["cpu_seconds"] = cpu_per_page * len(records)
        result["whole"]["korean_docs"] = result["selected"]["korean_docs"]
    return result


def run_units(units, cfg) -> dict:
    from corpus.storage import LocalStorage
    from ray_jobs.unit import UnitModels, process_unit

    models = UnitModels(cfg)
    totals = {"storage_get_requests": 0, "storage_get_bytes": 0, "cpu_seconds": 0.0, "docs": 0}
    korean: set[str] = set()
    with tempfile.TemporaryDirectory() as tmp:
        out = LocalStorage(tmp)
        for unit in units:
            entry = process_unit(unit, models, out)
            counters = entry["stats"]["counters"]
            totals["storage_get_requests"] += counters.get("storage_get_requests", 0)
            totals["storage_get_bytes"] += counters.get("storage_get_bytes", 0)
            totals["cpu_seconds"] += sum(t["cpu_seconds"] for t in entry["stats"]["time"].values())
            totals["docs"] += entry["docs"]
            if entry["staged"]:
                table = pq.read_table(out.path(entry["staged"]), columns=["id", "lang"])
                korean |= {i for i, lang in zip(table["id"].to_pylist(), table["lang"].to_pylist()) if lang == "ko"}
    totals["korean_docs"] = len(korean)
    totals["korean_ids"] = sorted(korean)
    return totals


def fetch_only(units) -> dict:
    from corpus.accounting import meter
    from corpus.storage import open_input

    before = meter.snapshot()
    for unit in units:
        with open_input(unit.uri) as stream:
            while stream.read(8 * 1024 * 1024):
                pass
    used = meter.since(before)
    return {"storage_get_requests": used.get("storage_get_requests", 0), "storage_get_bytes": used.get("storage_get_bytes", 0)}


def dollars(side: dict, egress: bool) -> float:
    from corpus.accounting.prices import load_prices

    sheet = load_prices()
    cost = side["storage_get_requests"] * sheet.storage.get_per_1000.value / 1000
    cost += side["cpu_seconds"] * sheet.vcpu_hour("c7i.4xlarge", "on_demand") / 3600
    if egress:
        cost += side["storage_get_bytes"] / 1e9 * sheet.storage.egress_gb.value
    return cost


def report(results: list[dict]) -> None:
    print(f"{'crawl':<9} {'side':<9} {'files':>5} {'pages':>6} {'GETs':>6} {'MB fetched':>11} {'CPU s':>7} "
          f"{'ko kept':>7} {'$/1k ko (in-region)':>20} {'$/1k ko (egress)':>17}")
    for r in results:
        for side in ("whole", "selected"):
            s = r[side]
            per = 1000 / max(1, s["korean_docs"])
            print(f"{r['name']:<9} {side:<9} {r['files']:>5} {r['pages']:>6} {s['storage_get_requests']:>6} "
                  f"{s['storage_get_bytes'] / 1e6:>11.2f} {s['cpu_seconds']:>7.1f} {s['korean_docs']:>7} "
                  f"{dollars(s, False) * per:>20.5f} {dollars(s, True) * per:>17.5f}")
        bytes_ratio = r["whole"]["storage_get_bytes"] / max(1, r["selected"]["storage_get_bytes"])
        dollar_ratio = dollars(r["whole"], True) / max(1e-12, dollars(r["selected"], True))
        print(f"{r['name']}: {bytes_ratio:.1f}x fewer bytes, {dollar_ratio:.1f}x fewer dollars (with egress) per kept Korean document")
        if "korean_ids" in r["whole"]:
            same = r["whole"]["korean_ids"] == r["selected"]["korean_ids"]
            print(f"{r['name']}: selection keeps the same Korean documents as whole files: {'yes' if same else 'NO'}")
        print(f"{r['name']}: index read {r['selected']['index_bytes'] / 1e3:.1f} kB of the selected side's bytes")
    print(json.dumps({r["name"]: {"bytes_ratio": round(r["whole"]["storage_get_bytes"] / max(1, r["selected"]["storage_get_bytes"]), 1)} for r in results}))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


if __name__ == "__main__":
    main()
