"""`corpus run`, `corpus recut` and `corpus crawl`: the data team's verbs that make
WARC and shards on this machine (local Ray, or the cluster in `ray.address`)."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from corpus.config import RunConfig
from corpus_cli.app import ConfigArg, InputOpt, OutputOpt, SetOpt, app, build_config, crawl_config, fail, require_io, usage
from corpus_cli.summary import print_summary


# --- corpus run -------------------------------------------------------------------------
@app.command()
def run(
    config: Optional[Path] = ConfigArg,
    input: Optional[list[str]] = InputOpt,
    output: Optional[str] = OutputOpt,
    set: Optional[list[str]] = SetOpt,
    workers: Optional[int] = typer.Option(None, min=1, help="parallel unit processors (default: one per CPU)"),
    serial: bool = typer.Option(False, help="run units in this process without Ray (debugging)"),
    progress: bool = typer.Option(True, help="show progress bars"),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """Run every stage on local Ray (or the cluster in ray.address) and publish the output."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s")
    cfg = build_config(config, input, output, set)
    cfg.ray.progress, cfg.ray.verbose = progress, verbose
    if workers:
        cfg.ray.workers = workers
    require_io(cfg)
    _require_local_inputs(cfg)
    _check_benchmarks(cfg)
    from corpus.publish import PublishRefused
    from ray_jobs.driver import run_in_child  # imports Ray: only once the arguments are known to be good
    from ray_jobs.pipeline import RunFailed
    from ray_jobs.pipeline import run as run_pipeline

    started = time.monotonic()
    try:  # on Ray the driver runs in a child process, so a runtime that dies is reported (ray_jobs/driver.py)
        result = run_pipeline(cfg, executor="serial") if serial else run_in_child(cfg, executor="ray")
    except PublishRefused as exc:  # the output is another run's: choose another (exit 2)
        usage(str(exc))
    except RunFailed as exc:
        fail(str(exc))
    except FileNotFoundError as exc:
        fail(str(exc))
    print_summary(result, time.monotonic() - started)


def _require_local_inputs(cfg: RunConfig) -> None:
    """Refuse a local input that matches no file, or a URI no storage reads, before Ray starts
    (s3:// ones are listed later)."""
    from corpus.storage import UnknownScheme, expand, is_local

    try:
        missing = [p for p in cfg.input if is_local(p) and not expand(p)]
    except UnknownScheme as exc:
        usage(str(exc))
    if missing:
        usage(f"no input file matches {', '.join(missing)}: check the path (quote a glob so the shell leaves it alone)")


def _check_benchmarks(cfg: RunConfig) -> None:
    """A decontamination benchmark that cannot be read is a config error: refuse before any work."""
    from filters.decontam import BenchmarkError, check_benchmarks

    try:
        check_benchmarks(cfg.decontam)
    except BenchmarkError as exc:
        usage(str(exc))


# --- corpus recut -----------------------------------------------------------------------
@app.command()
def recut(
    source: str = typer.Argument(..., help="a complete run: local folder or s3://bucket/prefix"),
    config: Optional[Path] = typer.Argument(None, help="config YAML; default: the run's own config"),
    output: str = typer.Option(..., "--output", "-o", help="new output folder or s3://bucket/prefix"),
    set: Optional[list[str]] = typer.Option(None, "--set", help="override a field, e.g. --set quality.ko.min_words=20"),
) -> None:
    """Decide language ID and quality again from a run's stored figures: new shards, dedup, stats, cost, report, no re-extraction."""
    from corpus.publish import PublishRefused
    from filters.recut import RecutRefused
    from ray_jobs.recut import original_config
    from ray_jobs.recut import recut as recut_run

    try:
        base = original_config(source)
    except RecutRefused as exc:
        usage(str(exc))
    except FileNotFoundError as exc:
        fail(str(exc))
    cfg = build_config(config, base["input"], output, set, base)
    cfg.ray.progress = False
    started = time.monotonic()
    try:
        result = recut_run(source, cfg)
    except (RecutRefused, PublishRefused) as exc:
        usage(str(exc))
    except FileNotFoundError as exc:
        fail(str(exc))
    print_summary(result, time.monotonic() - started)


# --- corpus crawl -----------------------------------------------------------------------
@app.command()
def crawl(
    config: Optional[Path] = ConfigArg,
    seeds: Optional[Path] = typer.Option(None, "--seeds", help="file of start URLs, one per line (# comments)"),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="folder or s3:// prefix for warc/ and the resumable crawl state"),
    allow_network: Optional[list[str]] = typer.Option(
        None, "--allow-network", help="CIDR the crawler may reach although not public, e.g. 10.1.0.0/16 (repeatable)"
    ),
    set: Optional[list[str]] = SetOpt,
    partitions: Optional[int] = typer.Option(None, min=1, help="host partitions, one Ray task each (default: CPUs)"),
    serial: bool = typer.Option(False, help="crawl in this process without Ray (one partition)"),
    progress: bool = typer.Option(True, help="show progress bars"),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """Fetch seeds and the in-scope pages they link to, politely and safely, into WARC files.

    Settings come from the config's `crawl:` section; the flags override it.
    Rerunning with the same output resumes without refetching archived pages.
    """
    from corpus.accounting.report import vcpu_time
    from ray_jobs.crawl import CrawlFailed
    from ray_jobs.crawl import crawl as run_crawl_job
    from ray_jobs.pipeline import RayUnavailable

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s")
    cfg = crawl_config(config, seeds, output, set, allow_network, partitions)
    cfg.ray.progress, cfg.ray.verbose = progress, verbose
    try:
        summary = run_crawl_job(cfg.crawl, [], cfg.crawl.output, executor="serial" if serial else "ray", ray_cfg=cfg.ray)
    except (CrawlFailed, RayUnavailable) as exc:
        fail(str(exc))
    out = Console()
    out.print(
        f"{summary.archived:,} pages archived this run; {summary.finished:,} URLs done in total, "
        f"{summary.pending:,} left; {summary.partitions} partition(s), {summary.rounds} round(s)"
    )
    outcomes = {k[len("outcome_"):]: v for k, v in summary.stats.counters.items() if k.startswith("outcome_")}
    if outcomes:
        out.print("outcomes: " + ", ".join(f"{k} {v:,}" for k, v in sorted(outcomes.items(), key=lambda kv: -kv[1])))
    out.print(f"WARC: {len(summary.warc_files)} file(s) in {summary.output}/warc")
    out.print(
        f"held {vcpu_time(summary.held_cpu_seconds)} ({vcpu_time(summary.cpu_seconds)} busy) in "
        f"{summary.wall_seconds:,.0f} s; runs over this WARC carry it in their cost report ({summary.output}/_crawl/usage.json)"
    )
    out.print(f"next: corpus run --input '{summary.output}/warc/*.warc.gz' --output OUT", highlight=False)
