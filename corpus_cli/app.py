"""The `corpus` Typer app and what every verb family shares: the exit codes, the
config every run-like verb builds from a file and flags, and the common options.

Exit codes: 0 success, 2 bad usage or config (`usage`), 1 failure (`fail`). The
verbs live one family per module (`corpus_cli.main` lists them); each parses and
validates its arguments, then calls one function below it that does the work.
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn, Optional

import typer
import yaml
from rich.console import Console
from rich.markup import escape

from corpus.config import ConfigError, RunConfig, load_config, with_overrides

# Help is plain text: Rich markup would eat bracketed examples such as `[en,ko]`.
app = typer.Typer(
    help="Turn web archives into English and Korean training shards, and account for what it cost.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
console = Console(stderr=True)


@app.callback()
def _root() -> None:
    """corpus-builder: web archives to English and Korean training shards, with costs."""


def usage(message: str) -> NoReturn:
    """Bad usage or config: say what, exit 2."""
    console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def fail(message: str) -> NoReturn:
    """The work itself failed: say why, exit 1."""
    console.print(f"[red]failed:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


ConfigArg = typer.Argument(None, help="run config YAML; every option has a default", exists=False)
InputOpt = typer.Option(None, "--input", "-i", help="WARC path, glob or s3:// URI (repeatable)")
OutputOpt = typer.Option(None, "--output", "-o", help="output folder or s3://bucket/prefix")
SetOpt = typer.Option(None, "--set", help="override a config field, e.g. --set langid.languages=[ko]")


# --- shared option parsing --------------------------------------------------------------
def build_config(
    config: Optional[Path],
    inputs: Optional[list[str]],
    output: Optional[str],
    sets: Optional[list[str]],
    base: Optional[dict] = None,
) -> RunConfig:
    """Config file, then --set overrides, then --input/--output; exit 2 on any error."""
    overrides: dict = {}
    for item in sets or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            usage(f"--set expects KEY=VALUE (e.g. langid.languages=[en,ko]), got {item!r}")
        try:
            overrides[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or "not valid YAML"
            usage(f"--set {item}: the value is not valid YAML ({problem}); write it as in the config file, "
                  "e.g. langid.languages=[en,ko], and quote text with brackets or colons")
    if inputs:
        overrides["input"] = list(inputs)
    if output:
        overrides["output"] = output
    try:
        return load_config(config, overrides, None if config else base)
    except ConfigError as exc:
        usage(str(exc))


def require_io(cfg: RunConfig) -> None:
    """A run needs input and output before anything starts (exit 2 naming the missing one)."""
    if not cfg.input and not cfg.select.index:
        usage("no input: pass --input GLOB or set `input:` (or `select.index:`) in the config")
    if not cfg.output:
        usage("no output: pass --output DIR or set `output:` in the config")


def crawl_config(
    config: Path | None,
    seeds: Path | None,
    output: str | None,
    set: list[str] | None,
    allow_network: list[str] | None = None,
    partitions: int | None = None,
) -> RunConfig:
    """The config a crawl runs with: the file's `crawl:` section, the flags over it,
    the seeds file's URLs added to `crawl.seeds`; exit 2 when seeds or output are missing."""
    cfg = build_config(config, None, None, set)
    overrides: dict = {}
    if output:
        overrides["crawl.output"] = output
    if allow_network:
        overrides["crawl.allow_networks"] = [*cfg.crawl.allow_networks, *allow_network]
    if partitions:
        overrides["crawl.partitions"] = partitions
    if seeds:
        overrides["crawl.seeds"] = [*cfg.crawl.seeds, *_read_seeds(seeds)]
    if overrides:
        cfg = _with(cfg, overrides)
    if not cfg.crawl.seeds:
        usage("no seeds: pass --seeds FILE or set `crawl.seeds:` in the config")
    if not cfg.crawl.output:
        usage("no output: pass --output DIR or set `crawl.output:` in the config")
    return cfg


def _with(cfg: RunConfig, overrides: dict) -> RunConfig:
    """`cfg` with dotted overrides applied and validated; exit 2 naming the field."""
    try:
        return with_overrides(cfg, overrides)
    except ConfigError as exc:
        usage(str(exc))


def _read_seeds(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        usage(f"cannot read seeds file {path}: {exc.strerror}")
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
