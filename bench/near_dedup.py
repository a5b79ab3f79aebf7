"""Near-dedup of a million documents on this machine, through the pipeline's path.

Documents are generated deterministically from real shared text: each is 4-8
sentences drawn (by a seed derived from its number) from English Common Crawl
sample pages or Korean KorQuAD paragraphs and news comments. One document in
`--dup-every` is an injected near-duplicate: a copy of an earlier original with
1-10% of its words replaced, deleted or inserted and, for half of them, two
sentences swapped. Everything is a function of the document number, so any
document can be regenerated to check a decision.

Steps, as in a run: `SignatureStage` over parts of `--part-docs` documents
(two processes, like two per-unit workers), staged Parquet parts under
`--workdir`, then `find_duplicates` (Ray exchange by default). Reports wall
time per step, peak RSS of the driver, peak heap and object-store pages of
every worker process (sampled),
and precision/recall against exact Jaccard of the configured shingles:

  recall    = injected pairs with exact J >= threshold that ended in one cluster
  precision = removed near-duplicates whose exact J with their survivor >= threshold
              (and, separately, the share that belong to the same injected family)

  .venv/bin/python bench/near_dedup.py --docs 1000000
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import random
import re
import resource
import shutil
import threading
import time
from collections import defaultdict
from multiprocessing import get_context
from pathlib import Path

import psutil
import pyarrow as pa
import pyarrow.parquet as pq

from corpus.config import DedupConfig
from corpus.stats import Stats
from corpus.storage import LocalStorage
from corpus.layout import DEDUP_DIR
from dedup.plan import find_duplicates
from dedup.shingles import Shingler
from dedup.signatures import SignatureStage
from ray_jobs.dedup import exchange_for

DATA = Path(os.environ.get("CORPUS_DATA", "/work/shared/data"))
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--part-docs", type=int, default=50_000)
    parser.add_argument("--dup-every", type=int, default=100, help="one injected near-duplicate per this many docs")
    parser.add_argument("--executor", choices=["ray", "local"], default="ray")
    parser.add_argument("--partitions", type=int, default=0, help="shuffle partitions (0: the pipeline's auto)")
    parser.add_argument("--scheme", choices=["oph", "affine32", "legacy"], default="oph", help="MinHash signature scheme")
    parser.add_argument("--verify", action="store_true", help="keep only candidate pairs whose estimated J reaches the threshold")
    parser.add_argument(
        "--object-store-mib", type=int, default=2048, help="Ray object store size; beyond it Ray spills to disk"
    )
    parser.add_argument("--workdir", default=None, help="default: /tmp/near_dedup_bench-SCHEME")
    parser.add_argument(
        "--reuse", action="store_true", help="keep staged parts from an earlier run with the same --docs/--part-docs"
    )
    args = parser.parse_args()

    cfg = DedupConfig(executor=args.executor, partitions=args.partitions or None, verify=args.verify, scheme=args.scheme)
    work = Path(args.workdir or f"/tmp/near_dedup_bench-{args.scheme}")
    bounds = [
        (lo, min(lo + args.part_docs, args.docs), args.dup_every, str(work), args.scheme)
        for lo in range(0, args.docs, args.part_docs)
    ]
    staged = [_part_name(lo) for lo, *_ in bounds]
    reuse = args.reuse and all((work / rel).exists() for rel in staged)
    if not reuse:
        shutil.rmtree(work, ignore_errors=True)
        (work / "_work" / "staged").mkdir(parents=True)
    monitor = RssMonitor()
    monitor.start()

    start = time.perf_counter()
    if not reuse:
        with get_context("fork").Pool(2) as pool:
            pool.map(_stage_part, bounds, chunksize=1)
    t_stage = time.perf_counter() - start
    stage_peaks = monitor.take()

    if args.executor == "ray":
        import ray

        ray.init(num_cpus=2, object_store_memory=args.object_store_mib * 1024**2, include_dashboard=False, log_to_driver=False)
    start = time.perf_counter()
    find_duplicates(cfg, LocalStorage(str(work)), staged, "bench", exchange_for(cfg, args.docs))
    t_dedup = time.perf_counter() - start
    dedup_peaks = monitor.take()
    monitor.stop()

    decisions = pq.read_table(str(work / DEDUP_DIR)) if (work / DEDUP_DIR).exists() else None
    quality = _evaluate(cfg, decisions, args.docs, args.dup_every)
    mib = 1024 * 1024
    print(f"documents: {args.docs}, parts: {len(staged)}, injected near-duplicates: {quality['injected']}")
    print(f"executor: {args.executor}, object store: {args.object_store_mib} MiB, partitions: {cfg.partitions or 'auto'}, threshold: {cfg.threshold}, num_perm: {cfg.num_perm}, scheme: {cfg.scheme}, verify: {cfg.verify}")
    print(f"signatures (2 processes): {'reused' if reuse else ''} {t_stage:.1f} s, {args.docs / t_stage:.0f} docs/s")
    print(f"find_duplicates: {t_dedup:.1f} s, {args.docs / t_dedup:.0f} docs/s")
    print(f"wall total: {t_stage + t_dedup:.1f} s")
    for step, peaks in (("signature workers", stage_peaks), ("dedup worker processes", dedup_peaks)):
        top = sorted(peaks.values(), reverse=True)[:6]
        print(f"peak heap / object-store pages, {step} (MiB, top 6): {[(round(h / mib), round(s / mib)) for h, s in top]}")
    print(f"peak RSS driver (MiB): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}")
    print(f"decisions sha256: {_digest(decisions)}")
    for key in ("exact_removed", "near_removed", "positives", "recall", "precision_jaccard", "precision_family"):
        print(f"{key}: {quality[key]}")
    print(f"recall by exact-J bucket: {quality['buckets']}")
    print(f"removed near-duplicates by exact J to survivor: {quality['removed_by_j']}")


# --- the generated corpus ------------------------------------------------------------


_POOLS: dict[str, list[str]] = {}


def pools() -> dict[str, list[str]]:
    """Sentence pools per language from shared real text (loaded once per process)."""
    if not _POOLS:
        en: list[str] = []
        with gzip.open(DATA / "english_text/dolma_cc/CC-MAIN-20190717121559-20190717143559-00140.sample.jsonl.gz", "rt") as f:
            for line in f:
                doc = json.loads(line)
                if _lang(doc) == "en":
                    en += [s.strip() for s in _SENTENCE.split(doc["text"]) if 8 <= len(s.split()) <= 60]
        ko: list[str] = []
        korquad = json.load(gzip.open(DATA / "korean_text/korquad/KorQuAD_v1.0_dev.json.gz", "rt"))
        for article in korquad["data"]:
            for para in article["paragraphs"]:
                ko += [s.strip() for s in _SENTENCE.split(para["context"]) if 30 <= len(s) <= 300]
        with gzip.open(DATA / "korean_text/korean_hate_speech/unlabeled__unlabeled_comments_5.txt.gz", "rt") as f:
            ko += [line.strip() for line in f if 30 <= len(line.strip()) <= 300]
        _POOLS.update(en=sorted(set(en)), ko=sorted(set(ko)))
    return _POOLS


def _lang(doc: dict) -> str:
    lang = doc.get("_lang_fasttext_lid176")
    return lang.get("lang", "") if isinstance(lang, dict) else str(lang)


def original_of(i: int, dup_every: int) -> int | None:
    """The original an injected document copies, or None for an original."""
    if i % dup_every != dup_every - 1:
        return None
    rng = random.Random(f"orig{i}")
    while True:
        j = rng.randrange(0, i)
        if j % dup_every != dup_every - 1:
            return j


def document(i: int, dup_every: int) -> tuple[str, str]:
    """(lang, text) of document i."""
    orig = original_of(i, dup_every)
    if orig is not None:
        lang, text = document(orig, dup_every)
        return lang, _edit(text, random.Random(f"edit{i}"))
    rng = random.Random(f"doc{i}")
    lang = "ko" if i % 2 else "en"
    pool = pools()[lang]
    return lang, "\n".join(pool[rng.randrange(len(pool))] for _ in range(rng.randint(4, 8)))


def _edit(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    if rng.random() < 0.5 and len(lines) > 2:
        a, b = rng.sample(range(len(lines)), 2)
        lines[a], lines[b] = lines[b], lines[a]
    words = "\n".join(lines).split(" ")
    for _ in range(max(1, round(len(words) * rng.uniform(0.01, 0.10)))):
        k = rng.randrange(len(words))
        op = rng.random()
        if op < 0.4:
            words[k] = words[rng.randrange(len(words))]
        elif op < 0.7 and len(words) > 1:
            del words[k]
        else:
            words.insert(k, words[rng.randrange(len(words))])
    return " ".join(words)


def _stage_part(bound: tuple[int, int, int, str, str]) -> str:
    lo, hi, dup_every, work, scheme = bound
    docs = [document(i, dup_every) for i in range(lo, hi)]
    quality = [random.Random(f"q{i}").random() for i in range(lo, hi)]
    table = pa.table(
        {
            "id": [f"d{i:08d}" for i in range(lo, hi)],
            "lang": [lang for lang, _ in docs],
            "text": [text for _, text in docs],
            "quality_score": quality,
        }
    )
    # parts keep the signature bytes, so one staging serves runs with and without --verify
    table, _ = SignatureStage(DedupConfig(verify=True, scheme=scheme)).apply(table, Stats())
    rel = _part_name(lo)
    pq.write_table(table, f"{work}/{rel}", compression="zstd")
    return rel


def _part_name(lo: int) -> str:
    return f"_work/staged/part-{lo:09d}.parquet"


def _digest(decisions: pa.Table | None) -> str:
    """One hash of every decision, to compare runs with other settings."""
    if decisions is None:
        return "none"
    rows = decisions.select(["id", "cluster_id", "reason"]).sort_by("id")
    return hashlib.sha256(json.dumps(rows.to_pydict()).encode()).hexdigest()[:16]


# --- scoring ---------------------------------------------------------------------------


def _evaluate(cfg: DedupConfig, decisions: pa.Table | None, n: int, dup_every: int) -> dict:
    cluster: dict[int, int] = {}
    reasons: dict[int, str | None] = {}
    if decisions is not None:
        for doc_id, cid, reason in zip(*(decisions[c].to_pylist() for c in ("id", "cluster_id", "reason"))):
            cluster[int(doc_id[1:])] = int(cid[1:])
            reasons[int(doc_id[1:])] = reason
    shinglers: dict[str, Shingler] = {}

    def jaccard(a: int, b: int) -> float:
        (la, ta), (_, tb) = document(a, dup_every), document(b, dup_every)
        spec = cfg.shingle(la)
        sh = shinglers.setdefault(la, Shingler(spec.kind, spec.size))
        sa, sb = set(sh(ta)), set(sh(tb))
        return len(sa & sb) / len(sa | sb) if sa | sb else 1.0

    def family(i: int) -> int:
        return original_of(i, dup_every) if original_of(i, dup_every) is not None else i

    injected = [i for i in range(dup_every - 1, n, dup_every)]
    buckets: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    positives = found_positives = 0
    for i in injected:
        orig = original_of(i, dup_every)
        j = jaccard(i, orig)
        together = cluster.get(i, i) == cluster.get(orig, orig)
        bucket = f"{min(int(j * 10), 9) / 10:.1f}"
        buckets[bucket][0] += together
        buckets[bucket][1] += 1
        if j >= cfg.threshold:
            positives += 1
            found_positives += together
    near = [i for i, r in reasons.items() if r == "near_duplicate"]
    to_survivor = [jaccard(i, cluster[i]) for i in near]
    good_j = sum(j >= cfg.threshold for j in to_survivor)
    removed_by_j: dict[str, int] = defaultdict(int)
    for j in to_survivor:
        removed_by_j[f"{min(int(j * 10), 9) / 10:.1f}"] += 1
    good_family = sum(family(i) == family(cluster[i]) for i in near)
    return {
        "injected": len(injected),
        "exact_removed": sum(r == "exact_duplicate" for r in reasons.values()),
        "near_removed": len(near),
        "positives": positives,
        "recall": round(found_positives / positives, 4) if positives else None,
        "precision_jaccard": round(good_j / len(near), 4) if near else None,
        "precision_family": round(good_family / len(near), 4) if near else None,
        "buckets": {k: f"{v[0]}/{v[1]}" for k, v in sorted(buckets.items())},
        "removed_by_j": dict(sorted(removed_by_j.items())),
    }


class RssMonitor:
    """Samples every descendant process (pool and Ray workers) every 0.2 s and
    keeps, per process, the peak of its heap (RssAnon: private anonymous memory)
    and of the shared-memory pages it has touched (RssShmem: Ray's object store,
    which Ray bounds by `object_store_memory` and spills to disk beyond that).
    USS would mix the two: object-store pages only one worker has touched count
    as private there."""

    def __init__(self) -> None:
        self.peaks: dict[int, tuple[int, int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def take(self) -> dict[int, tuple[int, int]]:
        """(heap, shared) peaks in bytes since the last take, per worker process."""
        peaks, self.peaks = self.peaks, {}
        return peaks

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(0.2):
            for proc in me.children(recursive=True):
                try:
                    name = " ".join(proc.cmdline()[:3])
                    if "default_worker" not in name and "ray::" not in name and "multiprocessing" not in name and "near_dedup" not in name:
                        continue
                    heap, shared = _resident(proc.pid)
                except (psutil.Error, OSError):
                    continue
                old_heap, old_shared = self.peaks.get(proc.pid, (0, 0))
                self.peaks[proc.pid] = (max(old_heap, heap), max(old_shared, shared))


def _resident(pid: int) -> tuple[int, int]:
    """(RssAnon, RssShmem) of a process in bytes, from /proc/<pid>/status."""
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(("RssAnon:", "RssShmem:")):
                name, value, _unit = line.split()
                fields[name] = int(value) * 1024
    return fields.get("RssAnon:", 0), fields.get("RssShmem:", 0)


if __name__ == "__main__":
    main()
