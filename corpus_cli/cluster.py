"""`corpus submit`, `status`, `logs` and `stop`: runs and crawls as jobs on a Ray
cluster, through its Jobs API (the dashboard address, e.g. http://HEAD:8265)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from corpus_cli.app import (
    ConfigArg,
    InputOpt,
    OutputOpt,
    SetOpt,
    app,
    build_config,
    console,
    crawl_config,
    fail,
    require_io,
    usage,
)


AddressOpt = typer.Option(
    None,
    "--address",
    envvar="RAY_ADDRESS",
    help="Ray dashboard of the cluster, e.g. http://HEAD:8265; a token in $RAY_AUTH_TOKEN is sent",
)
JobArg = typer.Argument(..., help="job id, as printed by `corpus submit`")


@app.command()
def submit(
    config: Optional[Path] = ConfigArg,
    input: Optional[list[str]] = InputOpt,
    output: Optional[str] = OutputOpt,
    set: Optional[list[str]] = SetOpt,
    address: Optional[str] = AddressOpt,
    workers: Optional[int] = typer.Option(None, min=1, help="parallel unit processors (default: one per free CPU)"),
    wait: bool = typer.Option(False, "--wait", help="stream the job's log and exit with its outcome"),
    crawl: bool = typer.Option(False, "--crawl", help="submit `corpus crawl` (the config's crawl: section) instead of a run"),
    seeds: Optional[Path] = typer.Option(None, "--seeds", help="with --crawl: file of start URLs, one per line"),
) -> None:
    """Run on a Ray cluster as a job. The same run submitted again is reported, not repeated;
    after a failed or stopped job it resumes, skipping finished units. Prints the job id.
    With --crawl, the job is `corpus crawl` (--output is the crawl's; partitions spread over the cluster)."""
    from ray_jobs.submit import ClusterError
    from ray_jobs.submit import submit as submit_job

    if crawl:
        if input:
            usage("--input is for runs; a crawl takes --seeds")
        cfg = crawl_config(config, seeds, output, set)
    else:
        cfg = build_config(config, input, output, set)
        require_io(cfg)
    if workers:
        cfg.ray.workers = workers
    try:
        job = submit_job(cfg, address, verb="crawl" if crawl else "run")
    except ClusterError as exc:
        fail(str(exc))
    if job.new:
        console.print(f"submitted job {job.job_id}; follow it with `corpus logs {job.job_id} --follow`")
    else:
        console.print(f"already submitted: job {job.job_id} is {job.status}; not submitting it again")
    typer.echo(job.job_id)
    if wait:
        _follow(address, job.job_id)


@app.command()
def status(
    job: Optional[str] = typer.Argument(None, help="job id; default: every corpus job on the cluster"),
    address: Optional[str] = AddressOpt,
) -> None:
    """Status of one job, or of every corpus job the cluster remembers."""
    from ray_jobs.submit import ClusterError, job_status, list_runs

    try:
        states = [job_status(address, job)] if job else list_runs(address)
    except ClusterError as exc:
        fail(str(exc))
    table = Table(title="corpus jobs")
    for col in ("job", "status", "output", "message"):
        table.add_column(col, overflow="fold")
    for state in states:
        table.add_row(state.job_id, state.status, state.output, state.message)
    Console(width=200).print(table)


@app.command()
def logs(
    job: str = JobArg,
    address: Optional[str] = AddressOpt,
    follow: bool = typer.Option(False, "--follow", "-f", help="stream until the job ends; exit with its outcome"),
) -> None:
    """The job's log so far, or streamed to the end with --follow."""
    from ray_jobs.submit import ClusterError, job_logs

    if follow:
        _follow(address, job)
        return
    try:
        typer.echo(job_logs(address, job), nl=False)
    except ClusterError as exc:
        fail(str(exc))


@app.command()
def stop(job: str = JobArg, address: Optional[str] = AddressOpt) -> None:
    """Stop a job. Finished units are kept: submitting the same run again resumes it."""
    from ray_jobs.submit import ClusterError
    from ray_jobs.submit import stop as stop_job

    try:
        stopped = stop_job(address, job)
    except ClusterError as exc:
        fail(str(exc))
    console.print(f"stopping job {job}" if stopped else f"job {job} had already ended")


def _follow(address: Optional[str], job: str) -> None:
    from ray_jobs.submit import ClusterError, follow_logs

    try:
        state = follow_logs(address, job, lambda chunk: (sys.stdout.write(chunk), sys.stdout.flush()))
    except ClusterError as exc:
        fail(str(exc))
    if state.status != "SUCCEEDED":
        fail(f"job {job} {state.status}: {state.message}")
    console.print(f"job {job} succeeded; output: {state.output}")
