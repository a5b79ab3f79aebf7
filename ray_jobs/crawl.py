"""`corpus crawl`: hosts partitioned across Ray tasks, in rounds, so politeness holds cluster-wide.

A host belongs to exactly one partition (a stable hash of `host[:port]`), and
only that partition's task fetches it, so per-host concurrency, delay and
Crawl-delay hold however many workers run. A task that finds links to another
partition's hosts returns them; the driver hands them over in the next round,
and each partition's crawl resumes from its own journal. Rounds stop when no
links move between partitions, the page budget is spent, or `max_rounds`.

The partition count is fixed by the first run in an output folder (kept in
`_crawl/layout.json`); a resume with a different count is refused, since it
would move hosts between journals.

Output is a folder, or an `s3://` prefix when workers share no folder: each
task then crawls into its own scratch folder and publishes as it goes
(`crawlers.mirror`), and the driver keeps the shared state files the same way.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import os
import socket
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Literal

from corpus.accounting.crawl_usage import record_session
from corpus.config import CrawlConfig, RayConfig
from corpus.layout import CRAWL_PARTITIONS, CRAWL_SCOPE, CRAWL_STATE, JOURNAL_PREFIX, JOURNAL_SUFFIX, WARC_DIR
from corpus.stats import Stats
from corpus.storage import is_local, local_path, open_storage
from crawlers.crawl import CrawlReport, resolve_scope, run_crawl
from crawlers.fetch import host_key
from crawlers.frontier import normalise_url
from crawlers.mirror import OutputMirror

log = logging.getLogger(__name__)


class CrawlFailed(RuntimeError):
    """The crawl could not start or finish; the message says why and what to do."""


@dataclass
class CrawlSummary:
    """Totals over all partitions and rounds."""

    output: str
    partitions: int
    rounds: int = 0
    archived: int = 0
    finished: int = 0
    pending: int = 0
    warc_files: list[str] = field(default_factory=list)
    stats: Stats = field(default_factory=Stats)
    cpu_seconds: float = 0.0
    held_cpu_seconds: float = 0.0  # one CPU per partition task for as long as it ran (more if it used more)
    wall_seconds: float = 0.0
    warc_bytes: dict[str, int] = field(default_factory=dict)
    workers: set[str] = field(default_factory=set)  # where partitions ran, over all rounds
    latest: dict[int, CrawlReport] = field(default_factory=dict)  # each partition's last report, any round


def partition_of(host: str, partitions: int) -> int:
    """Stable partition of a host (same on every machine and Python run)."""
    return int.from_bytes(hashlib.sha256(host.encode()).digest()[:8], "big") % partitions


def crawl(
    cfg: CrawlConfig,
    seeds: list[str],
    output: str,
    *,
    executor: Literal["ray", "serial"] = "ray",
    ray_cfg: RayConfig | None = None,
) -> CrawlSummary:
    """Crawl from `seeds` into `output` (WARC under `output/warc/`); resumes what is there.
    What it used is added to `output/_crawl/usage.json` for the runs over its WARC.
    Raises CrawlFailed, saying why, when the output cannot be used or a partition fails."""
    from botocore.exceptions import BotoCoreError, ClientError

    output = output.rstrip("/")
    try:
        return _crawl(cfg, seeds, output, executor, ray_cfg or RayConfig())
    except (OSError, BotoCoreError, ClientError) as exc:
        raise CrawlFailed(f"{output}: {type(exc).__name__}: {exc}; fix that and rerun: the crawl resumes") from None


def _crawl(cfg: CrawlConfig, seeds: list[str], output: str, executor: str, ray_cfg: RayConfig) -> CrawlSummary:
    started = time.monotonic()
    seeds = [*cfg.seeds, *seeds]
    with _shared_state(output) as state:
        cfg = resolve_scope(cfg.model_copy(update={"seeds": []}), seeds, state)
        if not cfg.domains and not cfg.tlds:
            raise CrawlFailed("nothing in scope: give seeds with http(s) hosts, or crawl.domains / crawl.tlds")
        partitions = 1 if executor == "serial" else _partition_count(cfg, ray_cfg)
        partitions = _fix_layout(state, partitions, output)
    summary = CrawlSummary(output=output, partitions=partitions)
    by_partition = _group(seeds, partitions, summary.stats)
    if executor == "serial" or partitions == 1:
        tally = _Tally()
        with _progress(ray_cfg.progress) as show:
            send = lambda done, archived: show(*tally.add(done, archived))  # noqa: E731
            report = _crawl_task(cfg.model_dump_json(), output, 0, 1, by_partition.get(0, []), cfg.max_pages, send)
        _record(summary, [CrawlReport(**report)])
        summary.rounds = 1
    else:
        _crawl_on_ray(cfg, by_partition, output, partitions, ray_cfg, summary)
    store = open_storage(output)
    summary.warc_files = [store.url(rel) for rel in store.list(f"{WARC_DIR}/") if rel.endswith(".warc.gz")]
    summary.wall_seconds = time.monotonic() - started
    record_session(
        output,
        held_cpu_seconds=summary.held_cpu_seconds,
        busy_cpu_seconds=summary.cpu_seconds,
        wall_seconds=summary.wall_seconds,
        pages_archived=summary.archived,
        partitions=partitions,
        warc_bytes=summary.warc_bytes,
        workers=sorted(summary.workers),
    )
    return summary


@contextmanager
def _shared_state(output: str) -> Iterator[Path]:
    """The crawl's shared state files (scope, layout) in a local folder: the output
    itself, or for `s3://` a scratch copy published back if the block succeeds."""
    if is_local(output):
        yield local_path(output)
        return
    store, names = open_storage(output), [CRAWL_SCOPE, CRAWL_PARTITIONS]
    with tempfile.TemporaryDirectory(prefix="corpus-crawl-") as scratch:
        for name in names:
            if store.exists(name):
                store.download_file(name, Path(scratch) / name)
        yield Path(scratch)
        for name in names:
            if (Path(scratch) / name).exists():
                store.upload_file(name, Path(scratch) / name)


def _crawl_on_ray(cfg: CrawlConfig, handoff, output: str, partitions: int, ray_cfg: RayConfig, summary) -> None:
    import ray

    from ray_jobs.pipeline import init_ray

    init_ray(ray_cfg)
    forwarded = ray_cfg.forwarded_env()
    # SPREAD: partitions are network-bound, so each node's bandwidth and address should carry some.
    task = ray.remote(num_cpus=1, max_retries=2, scheduling_strategy="SPREAD")(_crawl_task)
    if forwarded:  # e.g. the S3 endpoint, for workers started before it was set
        task = task.options(runtime_env={"env_vars": forwarded})
    tally = ray.remote(num_cpus=0)(_Tally).remote()
    send = functools.partial(_send_to, tally)
    finished: dict[int, int] = {}
    targets = sorted(set(handoff) | _partitions_with_journal(output))
    cfg_json = cfg.model_dump_json()
    with _progress(ray_cfg.progress) as show:
        for round_no in range(cfg.max_rounds):
            remaining = cfg.max_pages - sum(finished.values())
            if not targets or remaining <= 0:
                break
            share = math.ceil(remaining / len(targets))
            waiting = {
                task.remote(cfg_json, output, p, partitions, handoff.get(p, []), finished.get(p, 0) + share, send): p
                for p in targets
            }
            reports, failed = _gather(waiting, show, tally)
            for report in reports:
                finished[report.partition] = report.finished_total
            _record(summary, reports)
            if failed:
                raise CrawlFailed(f"{len(failed)} partition(s) failed; rerun to resume them:\n" + "\n".join(failed))
            summary.rounds = round_no + 1
            handoff = _group_links([link for r in reports for link in r.foreign], partitions)
            targets = sorted(set(handoff) | {r.partition for r in reports if r.pending})
        outcomes = sum(n for k, n in summary.stats.counters.items() if k.startswith("outcome_"))
        show(outcomes, summary.archived)  # exact: the last counts sent may still be on their way


def _gather(partitions: dict, show: Callable[[int, int], None], tally) -> tuple[list[CrawlReport], list[str]]:
    """Wait for a round's partition tasks, drawing progress; their reports, and why any failed."""
    import ray

    reports, failed, waiting = [], [], list(partitions)
    while waiting:
        ready, waiting = ray.wait(waiting, num_returns=len(waiting), timeout=1.0)
        for ref in ready:
            try:
                reports.append(CrawlReport(**ray.get(ref)))
            except ray.exceptions.RayError as exc:
                cause = getattr(exc, "cause", None) or exc
                failed.append(f"  partition {partitions[ref]}: {type(cause).__name__}: {cause}")
        show(*ray.get(tally.totals.remote()))
    return reports, failed


def _crawl_task(
    cfg_json: str, output: str, partition: int, partitions: int, seeds, max_finished: int, send: Callable | None = None
) -> dict:
    """One partition's crawl (on a Ray worker, or in process); returns its report as plain data.
    `send(done, archived)` receives its progress about once a second."""
    cfg = CrawlConfig.model_validate_json(cfg_json)
    seeds = [tuple(s) for s in seeds]
    counter = _Counter(send)
    options = {
        "partition": partition,
        "owns": lambda host: partition_of(host, partitions) == partition,
        "max_finished": max_finished,
        "on_fetch": counter if send else None,
        "worker": _worker_name(),
    }
    try:
        if is_local(output):
            return run_crawl(cfg, seeds, str(local_path(output)), **options).to_dict()
        with tempfile.TemporaryDirectory(prefix=f"corpus-crawl-{partition:05d}-") as scratch:
            mirror = OutputMirror(open_storage(output), Path(scratch), cfg.warc_prefix, partition, cfg.checkpoint_seconds)
            mirror.pull()
            return run_crawl(cfg, seeds, scratch, mirror=mirror, **options).to_dict()
    finally:
        counter.flush()


# --- progress ----------------------------------------------------------------------------
class _Tally:
    """URLs finished and pages archived this invocation, over all partitions (a Ray actor on Ray)."""

    def __init__(self) -> None:
        self.done = self.archived = 0

    def add(self, done: int, archived: int) -> tuple[int, int]:
        self.done, self.archived = self.done + done, self.archived + archived
        return self.done, self.archived

    def totals(self) -> tuple[int, int]:
        return self.done, self.archived


class _Counter:
    """A partition's `on_fetch`: counts finished URLs and sends the counts on at most once a second."""

    def __init__(self, send: Callable | None) -> None:
        self.send, self.done, self.archived, self.last = send, 0, 0, time.monotonic()

    def __call__(self, url: str, outcome: str) -> None:
        self.done += 1
        self.archived += outcome == "archived"
        if time.monotonic() - self.last >= 1.0:
            self.flush()

    def flush(self) -> None:
        if self.send and (self.done or self.archived):
            self.send(self.done, self.archived)
        self.done = self.archived = 0
        self.last = time.monotonic()


def _worker_name() -> str:
    """This host, and the Ray node when on one: which machine crawled a partition."""
    ray = sys.modules.get("ray")  # not imported: not on Ray, and not worth a second of importing
    name = socket.gethostname()
    if ray is None or not ray.is_initialized():
        return name
    return f"{name} (Ray node {ray.get_runtime_context().get_node_id()})"


def _send_to(tally, done: int, archived: int) -> None:
    tally.add.remote(done, archived)


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[int, int], None]]:
    """One bar for the whole crawl; yields `show(done, archived)` taking running totals."""
    from tqdm import tqdm

    with tqdm(desc="crawl", unit=" URLs", disable=not enabled) as bar:

        def show(done: int, archived: int) -> None:
            bar.update(done - bar.n)
            bar.set_postfix(archived=archived)

        yield show


def _record(summary: CrawlSummary, reports: list[CrawlReport]) -> None:
    for report in reports:
        summary.archived += report.archived
        summary.cpu_seconds += report.cpu_seconds
        summary.held_cpu_seconds += max(report.wall_seconds, report.cpu_seconds)  # threads may keep more than one CPU busy
        summary.warc_bytes.update(report.warc_bytes)
        summary.workers.add(report.worker)
        summary.stats.merge(Stats.from_dict(report.stats))
    summary.latest.update({r.partition: r for r in reports})  # a partition idle this round keeps its totals
    summary.finished = sum(r.finished_total for r in summary.latest.values())
    summary.pending = sum(r.pending for r in summary.latest.values())


def _group(seeds: list[str], partitions: int, stats: Stats) -> dict[int, list[tuple[str, int]]]:
    grouped: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for seed in seeds:
        url = normalise_url(seed)
        if url is None:
            stats.error("bad_seed_url", seed[:200], "not an absolute http(s) URL")
            continue
        grouped[partition_of(host_key(url), partitions)].append((url, 0))
    return dict(grouped)


def _group_links(links: list[tuple[str, int]], partitions: int) -> dict[int, list[tuple[str, int]]]:
    grouped: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for url, depth in links:
        grouped[partition_of(host_key(url), partitions)].append((url, depth))
    return dict(grouped)


def _partition_count(cfg: CrawlConfig, ray_cfg: RayConfig) -> int:
    """Configured, or one per CPU: the cluster's when joining one, else this machine's."""
    if cfg.partitions or ray_cfg.workers:
        return cfg.partitions or ray_cfg.workers
    if ray_cfg.address:
        import ray

        from ray_jobs.pipeline import init_ray

        init_ray(ray_cfg)
        return max(int(ray.cluster_resources().get("CPU", 1)), 1)
    return ray_cfg.num_cpus or os.cpu_count() or 1


def _fix_layout(state: Path, partitions: int, output: str) -> int:
    layout = state / CRAWL_PARTITIONS
    if layout.exists():
        before = json.loads(layout.read_text())["partitions"]
        if before != partitions:
            raise CrawlFailed(
                f"{output} was crawled with {before} partition(s), not {partitions}: resume with "
                f"--partitions {before} (or crawl.partitions: {before}), or use a new output folder"
            )
        return before
    layout.parent.mkdir(parents=True, exist_ok=True)
    layout.write_text(json.dumps({"partitions": partitions}))
    return partitions


def _partitions_with_journal(output: str) -> set[int]:
    names = [rel.rsplit("/", 1)[1] for rel in open_storage(output).list(f"{CRAWL_STATE}/")]
    return {
        int(n[len(JOURNAL_PREFIX) : -len(JOURNAL_SUFFIX)])
        for n in names
        if n.startswith(JOURNAL_PREFIX) and n.endswith(JOURNAL_SUFFIX)
    }
