"""The `corpus` command. Exit codes: 0 success, 2 bad usage or config, 1 failure.

This module alone imports across packages: each verb parses and validates its
arguments here, then calls one function that does the work.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Optional

import typer
import yaml
from rich.console import Console
from rich.table import Table

from corpus.config import ConfigError, RunConfig, load_config

app = typer.Typer(
    help="Turn web archives into English and Korean training shards, and account for what it cost.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)


def main() -> None:
    app()


@app.callback()
def _root() -> None:
    """corpus-builder: web archives to English and Korean training shards, with costs."""


# --- shared option parsing --------------------------------------------------------------
def build_config(
    config: Optional[Path], inputs: Optional[list[str]], output: Optional[str], sets: Optional[list[str]]
) -> RunConfig:
    """Config file, then --set overrides, then --input/--output; exit 2 on any error."""
    overrides: dict = {}
    for item in sets or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            _usage(f"--set expects KEY=VALUE (e.g. langid.languages=[en,ko]), got {item!r}")
        overrides[key.strip()] = yaml.safe_load(value)
    if inputs:
        overrides["input"] = list(inputs)
    if output:
        overrides["output"] = output
    try:
        return load_config(config, overrides)
    except ConfigError as exc:
        _usage(str(exc))


def _usage(message: str) -> None:
    console.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(2)


def _fail(message: str) -> None:
    console.print(f"[red]failed:[/red] {message}", highlight=False)
    raise typer.Exit(1)


ConfigArg = typer.Argument(None, help="run config YAML; every option has a default", exists=False)
InputOpt = typer.Option(None, "--input", "-i", help="WARC path, glob or s3:// URI (repeatable)")
OutputOpt = typer.Option(None, "--output", "-o", help="output folder or s3://bucket/prefix")
SetOpt = typer.Option(None, "--set", help="override a config field, e.g. --set langid.languages=[ko]")


# --- corpus run -------------------------------------------------------------------------
@app.command()
def run(
    config: Optional[Path] = ConfigArg,
    input: Optional[list[str]] = InputOpt,
    output: Optional[str] = OutputOpt,
    set: Optional[list[str]] = SetOpt,
    workers: Optional[int] = typer.Option(None, help="parallel unit processors (default: one per CPU)"),
    serial: bool = typer.Option(False, help="run units in this process without Ray (debugging)"),
    progress: bool = typer.Option(True, help="show progress bars"),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """Run every stage on local Ray (or the cluster in ray.address) and publish the output."""
    from ray_jobs.pipeline import RunFailed
    from ray_jobs.pipeline import run as run_pipeline

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s")
    cfg = build_config(config, input, output, set)
    cfg.ray.progress = progress
    if workers:
        cfg.ray.workers = workers
    if not cfg.input:
        _usage("no input: pass --input GLOB or set `input:` in the config")
    if not cfg.output:
        _usage("no output: pass --output DIR or set `output:` in the config")
    try:
        result = run_pipeline(cfg, executor="serial" if serial else "ray")
    except RunFailed as exc:
        _fail(str(exc))
    except FileNotFoundError as exc:
        _fail(str(exc))
    print_summary(result)


def print_summary(result) -> None:
    """The funnel and the per-language totals a data team checks first."""
    out = Console()
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
    out.print(f"output: {result.output}")


if __name__ == "__main__":
    sys.exit(main())
