"""`corpus pull` and `corpus mix`: what a trainer does with finished runs: download
verified shards, and weigh runs' tokenized shards into a training mixture."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from corpus_cli.app import app, console, fail, usage


# --- corpus pull ------------------------------------------------------------------------
@app.command()
def pull(
    uri: str = typer.Argument(..., help="a complete run: local folder or s3://bucket/prefix"),
    dest: Path = typer.Argument(..., help="local folder to download into (resumable)"),
    lang: Optional[list[str]] = typer.Option(None, "--lang", "-l", help="only this language (repeatable)"),
    workers: int = typer.Option(8, min=1, help="parallel downloads"),
    tokenized: bool = typer.Option(False, help="also fetch the Megatron .bin/.idx export under tokenized/"),
    removed: bool = typer.Option(False, help="also fetch removed/: what the filters removed, with every figure"),
    progress: bool = typer.Option(True, help="show a progress bar"),
) -> None:
    """Download the shards a run's manifest lists, verify sha256, skip verified files, re-fetch bad ones."""
    from botocore.exceptions import BotoCoreError, ClientError

    from corpus.pull import pull as pull_run
    from corpus.shards import UnknownLanguage

    try:
        result = pull_run(
            uri, dest, langs=lang, workers=workers, tokenized=tokenized, progress=progress, removed=removed
        )
    except UnknownLanguage as exc:
        usage(str(exc))
    except (FileNotFoundError, ValueError, BotoCoreError, ClientError) as exc:
        fail(f"{uri}: {exc}")
    for path, why in sorted(result.failed.items()):
        console.print(f"[red]bad:[/red] {path}: {why}", highlight=False)
    Console().print(
        f"{len(result.fetched)} fetched ({result.bytes_fetched:,} bytes), {len(result.skipped)} already verified, "
        f"{len(result.failed)} failed → {dest}"
    )
    if not result.ok:
        fail(f"{len(result.failed)} file(s) do not match the manifest; rerun `corpus pull` to retry them")


# --- corpus mix -------------------------------------------------------------------------
@app.command()
def mix(
    runs: list[str] = typer.Argument(..., help="complete runs with a Megatron export: folders or s3:// prefixes"),
    output: str = typer.Option(..., "--output", "-o", help="folder or s3:// prefix for mixture.json, data_path.txt/.yaml"),
    tokens: str = typer.Option(..., "--tokens", help="tokens in the mixture, e.g. 100B"),
    weight: list[str] = typer.Option(..., "--weight", "-w", help="LANG=SHARE (repeatable), e.g. ko=0.3; normalised"),
    max_epochs: float = typer.Option(4.0, "--max-epochs", help="most times any token is repeated"),
    seed: int = typer.Option(0, "--seed", help="which prefixes a partial pass takes"),
    rehydrate: Optional[str] = typer.Option(
        None, "--rehydrate", help="weight documents by dup_cluster_size: fineweb2, or buckets LOW=WEIGHT,..."
    ),
) -> None:
    """Pick and repeat runs' tokenized shards to meet token shares; write Megatron --data-path weights."""
    from botocore.exceptions import BotoCoreError, ClientError

    from corpus import mix as mixing

    try:
        total = mixing.parse_tokens(tokens)
        shares = mixing.parse_shares(weight)
        buckets = mixing.rehydration_buckets(rehydrate)
        plan = mixing.plan_mixture(runs, total, shares, max_epochs=max_epochs, seed=seed, rehydration=buckets)
    except mixing.MixError as exc:
        usage(str(exc))
    except (FileNotFoundError, ValueError, BotoCoreError, ClientError) as exc:
        fail(str(exc))
    try:
        out = mixing.write_mixture(plan, output)
    except (mixing.MixError, FileNotFoundError, BotoCoreError, ClientError) as exc:
        fail(f"{output}: {exc}")
    for lang, row in plan.languages().items():
        Console().print(
            f"{lang}: {row['planned_tokens']:,.0f} tokens ({row['share']:.1%}) from {row['datasets']} prefixes, "
            f"{row['epochs']:.3g} epochs of {row['available_tokens']:,} available"
        )
    Console().print(f"wrote {out.url(mixing.MIXTURE)}, {mixing.DATA_PATH_TXT}, {mixing.DATA_PATH_YAML} (read back: ok)")
