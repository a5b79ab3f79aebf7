"""`corpus tokenizer train`, `corpus train-quality` and `corpus calibrate`: fit the
models and thresholds a run uses (BPE tokenizer, quality classifier, quality cuts)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
import yaml
from rich.console import Console
from rich.table import Table

from corpus_cli.app import SetOpt, app, build_config, console, fail, usage


# --- corpus tokenizer train -------------------------------------------------------------
tokenizer_app = typer.Typer(help="Train the BPE tokenizer that counts tokens.", no_args_is_help=True)
app.add_typer(tokenizer_app, name="tokenizer")


@tokenizer_app.command("train")
def tokenizer_train(
    run_uri: str = typer.Argument(..., help="a complete run (local or s3://) whose shards are the sample"),
    output: Path = typer.Option(Path("models/tokenizer.json"), "--output", "-o", help="tokenizer.json to write"),
    config: Optional[Path] = typer.Option(None, "--config", help="run config whose tokenizer.train section applies"),
    set: Optional[list[str]] = SetOpt,
    vocab_size: Optional[int] = typer.Option(None, help="default 32000"),
    sample_chars: Optional[int] = typer.Option(None, help="characters sampled over all languages"),
    weight: Optional[list[str]] = typer.Option(None, help="LANG=WEIGHT share of the sample (repeatable)"),
) -> None:
    """Train a byte-level BPE on a language-balanced sample of a run's shards."""
    from botocore.exceptions import BotoCoreError, ClientError

    from corpus.tokenizer import train_tokenizer

    sets = list(set or [])
    if vocab_size:
        sets.append(f"tokenizer.train.vocab_size={vocab_size}")
    if sample_chars:
        sets.append(f"tokenizer.train.sample_chars={sample_chars}")
    if weight:
        pairs = [w.partition("=") for w in weight]
        if any(not sep for _, sep, _ in pairs):
            usage(f"--weight expects LANG=WEIGHT, got {weight}")
        sets.append("tokenizer.train.weights={" + ",".join(f"{k}: {v}" for k, _, v in pairs) + "}")
    cfg = build_config(config, None, None, sets)
    try:
        report = train_tokenizer(run_uri, cfg.tokenizer.train, output)
    except (FileNotFoundError, ValueError, BotoCoreError, ClientError) as exc:
        fail(f"{run_uri}: {exc}")
    for lang in sorted(report.docs):
        Console().print(f"{lang}: {report.docs[lang]:,} docs, {report.chars[lang]:,} chars (x{report.repeats[lang]})")
    if report.missing:
        console.print(f"[yellow]warning:[/yellow] no text for {', '.join(report.missing)}", highlight=False)
    Console().print(f"wrote {report.output}: vocab {report.vocab_size:,}, sha256 {report.sha256[:16]}")


# --- corpus train-quality ---------------------------------------------------------------
@app.command("train-quality")
def train_quality(
    data: Path = typer.Option(
        Path(__file__).resolve().parent.parent.parent / "shared" / "data",
        "--data",
        envvar="CORPUS_SHARED_DATA",
        help="the shared data folder (SOURCES.md) holding curated and web text",
    ),
    positive: list[str] = typer.Option(
        [], "--positive", help="curated text to train on instead of --data (.jsonl[.gz], .parquet or .txt; repeatable)"
    ),
    negative: list[str] = typer.Option([], "--negative", help="web text, the other class (same formats; repeatable)"),
    output: Path = typer.Option(Path("models/quality.ftz"), "--output", "-o", help="fastText model to write"),
    lang: Optional[str] = typer.Option(None, help="train for one language (en or ko); default: joint"),
    epoch: int = typer.Option(15, min=1),
    dim: int = typer.Option(32, min=2),
    holdout: float = typer.Option(0.2, min=0.05, max=0.5, help="share held back for precision/recall"),
    seed: int = typer.Option(0),
    quantize: bool = typer.Option(True, help="write a small quantized .ftz"),
) -> None:
    """Train the fastText quality classifier (curated text vs web text) and print held-back precision/recall.

    From --data: trains on the evaluation set's calibration half and prints, per
    clean register and junk type, the held-back share it gets right."""
    from filters.classifier import TrainSettings
    from ray_jobs.quality_training import file_sources, register_halves, train_by_register, train_from_sources

    if lang not in (None, "en", "ko"):
        usage(f"--lang must be en or ko, got {lang!r}")
    if bool(positive) != bool(negative):
        usage("--positive and --negative go together: the classifier needs both classes")
    if not positive and not data.is_dir():
        usage(f"--data {data} is not a folder; point it at the shared data (see SOURCES.md)")
    settings = TrainSettings(epoch=epoch, dim=dim, holdout=holdout, seed=seed, quantize=quantize)
    try:
        skipped: dict[str, int] = {}
        if positive:
            sources, skipped = file_sources(positive, negative)
            _, evaluation, counts = train_from_sources(sources, output, settings, lang)
            for source, n in counts.items():
                Console().print(f"{source}: {n:,} examples")
        else:
            _, evaluation, per_source = train_by_register(register_halves(data), output, settings, lang)
            Console().print("| source | label | trained | held back | held back right at 0.5 |")
            Console().print("|---|---|---|---|---|")
            for (source, label), (n_train, n_held, right) in per_source.items():
                Console().print(f"| {source} | {'hq' if label else 'lq'} | {n_train:,} | {n_held:,} | {right:.1%} |")
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    for source, n in skipped.items():
        if n:
            Console().print(f"{source}: {n:,} line(s) skipped (not JSON, or no text)")
    Console().print(f"held-back split at score 0.5: {evaluation}")
    Console().print(f"wrote {output} ({output.stat().st_size:,} bytes)")


# --- corpus calibrate ------------------------------------------------------------------
@app.command()
def calibrate(
    clean: list[str] = typer.Option(..., "--clean", help="clean text of one register per file (.jsonl[.gz], .parquet, .txt; local or s3://)"),
    junk: list[str] = typer.Option(..., "--junk", help="junk text of one type per file (same formats)"),
    lang: str = typer.Option(..., "--lang", help="language whose thresholds are fitted: ko or en"),
    keep: float = typer.Option(0.97, "--keep", help="share of every clean register that must be kept"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="write the config fragment here (YAML)"),
    config: Optional[Path] = typer.Option(None, "--config", help="run config whose quality section is the starting point"),
) -> None:
    """Fit one language's quality thresholds (and classifier cut) to clean and junk samples; print kept % before and after."""
    from botocore.exceptions import BotoCoreError, ClientError

    from filters.calibrate import CalibrationError, Labelled
    from filters.calibrate import calibrate as fit_thresholds
    from ray_jobs.quality_training import read_labelled_file

    cfg = build_config(config, None, None, None)
    sets = []
    for uris, is_clean in ((clean, True), (junk, False)):
        for uri in uris:
            try:
                texts, _ = read_labelled_file(uri)
            except (OSError, ValueError, BotoCoreError, ClientError) as exc:
                usage(f"{uri}: cannot read ({exc}); give JSON lines with a text field, Parquet with a text column, or plain text")
            sets.append(Labelled(uri, is_clean, texts))
    try:
        result = fit_thresholds(sets, lang, keep, cfg.quality)
    except CalibrationError as exc:
        usage(str(exc))
    table = Table("file", "kind", "docs", "before", "after", title=f"kept ({lang}; clean >= {keep:.0%} wanted)")
    for (name, is_clean, docs, before), (*_, after) in zip(result.before, result.after):
        table.add_row(name, "clean" if is_clean else "junk", f"{docs:,}", f"{before:.1%}", f"{after:.1%}")
    Console().print(table)
    fragment = yaml.safe_dump(result.fragment(lang), sort_keys=False, allow_unicode=True)
    if output is None:
        Console().print(fragment, highlight=False, markup=False)
    else:
        output.write_text(fragment, encoding="utf-8")
        Console().print(f"wrote {output}: pass it to `corpus run` (or merge its quality section into your config)")
