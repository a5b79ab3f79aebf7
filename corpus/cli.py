"""The `corpus` command. Exit codes: 0 success, 2 bad usage or config, 1 failure.

This module alone imports across packages: each verb parses and validates its
arguments here, then calls one function that does the work.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Optional

import typer
import yaml
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from corpus.config import ConfigError, RunConfig, load_config, with_overrides
from corpus.layout import COST_JSON, REPORT_HTML

# Help is plain text: Rich markup would eat bracketed examples such as `[en,ko]`.
app = typer.Typer(
    help="Turn web archives into English and Korean training shards, and account for what it cost.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
console = Console(stderr=True)


def main() -> None:
    app()


@app.callback()
def _root() -> None:
    """corpus-builder: web archives to English and Korean training shards, with costs."""


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
            _usage(f"--set expects KEY=VALUE (e.g. langid.languages=[en,ko]), got {item!r}")
        try:
            overrides[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or "not valid YAML"
            _usage(f"--set {item}: the value is not valid YAML ({problem}); write it as in the config file, "
                   "e.g. langid.languages=[en,ko], and quote text with brackets or colons")
    if inputs:
        overrides["input"] = list(inputs)
    if output:
        overrides["output"] = output
    try:
        return load_config(config, overrides, None if config else base)
    except ConfigError as exc:
        _usage(str(exc))


def _usage(message: str) -> None:
    console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _fail(message: str) -> None:
    console.print(f"[red]failed:[/red] {escape(message)}", highlight=False, soft_wrap=True)
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
    _require_io(cfg)
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
        _usage(str(exc))
    except RunFailed as exc:
        _fail(str(exc))
    except FileNotFoundError as exc:
        _fail(str(exc))
    print_summary(result, time.monotonic() - started)


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
        _usage(str(exc))
    except FileNotFoundError as exc:
        _fail(str(exc))
    cfg = build_config(config, base["input"], output, set, base)
    cfg.ray.progress = False
    started = time.monotonic()
    try:
        result = recut_run(source, cfg)
    except (RecutRefused, PublishRefused) as exc:
        _usage(str(exc))
    except FileNotFoundError as exc:
        _fail(str(exc))
    print_summary(result, time.monotonic() - started)


def _require_io(cfg: RunConfig) -> None:
    if not cfg.input and not cfg.select.index:
        _usage("no input: pass --input GLOB or set `input:` (or `select.index:`) in the config")
    if not cfg.output:
        _usage("no output: pass --output DIR or set `output:` in the config")


def _check_benchmarks(cfg: RunConfig) -> None:
    """A decontamination benchmark that cannot be read is a config error: refuse before any work."""
    from filters.decontam import BenchmarkError, check_benchmarks

    try:
        check_benchmarks(cfg.decontam)
    except BenchmarkError as exc:
        _usage(str(exc))


def _require_local_inputs(cfg: RunConfig) -> None:
    """Refuse a local input that matches no file before Ray starts (s3:// ones are listed later)."""
    missing = [p for p in cfg.input if "://" not in p and not _local_files(p)]
    if missing:
        _usage(f"no input file matches {', '.join(missing)}: check the path (quote a glob so the shell leaves it alone)")


def _local_files(pattern: str) -> list[str]:
    import glob
    import os

    return [m for m in glob.glob(os.path.expanduser(pattern), recursive=True) if os.path.isfile(m)]


def print_summary(result, wall_seconds: float) -> None:
    """The funnel and the per-language totals a data team checks first, then what it cost."""
    out = Console()
    if result.already_complete:
        out.print(f"already complete: {result.output} holds this run ({result.run_id}); nothing was redone", highlight=False)
        out.print(f"report: {result.output.rstrip('/')}/{REPORT_HTML}", highlight=False)
        return
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
    matched = {k.removeprefix("decontam:"): n for k, n in stats.counters.items() if k.startswith("decontam:")}
    if matched:
        out.print("benchmark items found in: " + ", ".join(f"{name} {n:,} documents" for name, n in sorted(matched.items())))
    out.print(f"output: {result.output}", highlight=False)
    out.print(_cost_line(result, wall_seconds), highlight=False, soft_wrap=True)


def _cost_line(result, wall_seconds: float) -> str:
    """Wall time, the run's priced cost and its cost per million tokens, and where the report is."""
    import json

    from corpus.storage import open_storage

    store = open_storage(result.output)
    report = f"report: {result.output.rstrip('/')}/{REPORT_HTML}"
    if not store.exists(COST_JSON):
        return f"wall time {_duration(wall_seconds)}; {report}"
    usd = json.loads(store.read_bytes(COST_JSON))["total"]["usd"]
    tokens = sum(totals["tokens"] for totals in result.manifest["languages"].values())
    per_million = f" ({usd / tokens * 1e6:.4g} USD per million tokens)" if tokens else ""
    return f"wall time {_duration(wall_seconds)}; cost {usd:.4g} USD{per_million}; {report}"


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


# --- corpus crawl -----------------------------------------------------------------------
def _crawl_config(
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
        _usage("no seeds: pass --seeds FILE or set `crawl.seeds:` in the config")
    if not cfg.crawl.output:
        _usage("no output: pass --output DIR or set `crawl.output:` in the config")
    return cfg


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
    cfg = _crawl_config(config, seeds, output, set, allow_network, partitions)
    cfg.ray.progress, cfg.ray.verbose = progress, verbose
    try:
        summary = run_crawl_job(cfg.crawl, [], cfg.crawl.output, executor="serial" if serial else "ray", ray_cfg=cfg.ray)
    except (CrawlFailed, RayUnavailable) as exc:
        _fail(str(exc))
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


def _with(cfg: RunConfig, overrides: dict) -> RunConfig:
    """`cfg` with dotted overrides applied and validated; exit 2 naming the field."""
    try:
        return with_overrides(cfg, overrides)
    except ConfigError as exc:
        _usage(str(exc))


def _read_seeds(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        _usage(f"cannot read seeds file {path}: {exc.strerror}")
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


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
        _usage(str(exc))
    except (FileNotFoundError, ValueError, BotoCoreError, ClientError) as exc:
        _fail(f"{uri}: {exc}")
    for path, why in sorted(result.failed.items()):
        console.print(f"[red]bad:[/red] {path}: {why}", highlight=False)
    Console().print(
        f"{len(result.fetched)} fetched ({result.bytes_fetched:,} bytes), {len(result.skipped)} already verified, "
        f"{len(result.failed)} failed → {dest}"
    )
    if not result.ok:
        _fail(f"{len(result.failed)} file(s) do not match the manifest; rerun `corpus pull` to retry them")


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
        _usage(str(exc))
    except (FileNotFoundError, ValueError, BotoCoreError, ClientError) as exc:
        _fail(str(exc))
    try:
        out = mixing.write_mixture(plan, output)
    except (mixing.MixError, FileNotFoundError, BotoCoreError, ClientError) as exc:
        _fail(f"{output}: {exc}")
    for lang, row in plan.languages().items():
        Console().print(
            f"{lang}: {row['planned_tokens']:,.0f} tokens ({row['share']:.1%}) from {row['datasets']} prefixes, "
            f"{row['epochs']:.3g} epochs of {row['available_tokens']:,} available"
        )
    Console().print(f"wrote {out.url(mixing.MIXTURE)}, {mixing.DATA_PATH_TXT}, {mixing.DATA_PATH_YAML} (read back: ok)")


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
            _usage(f"--weight expects LANG=WEIGHT, got {weight}")
        sets.append("tokenizer.train.weights={" + ",".join(f"{k}: {v}" for k, _, v in pairs) + "}")
    cfg = build_config(config, None, None, sets)
    try:
        report = train_tokenizer(run_uri, cfg.tokenizer.train, output)
    except (FileNotFoundError, ValueError, BotoCoreError, ClientError) as exc:
        _fail(f"{run_uri}: {exc}")
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
        _usage(f"--lang must be en or ko, got {lang!r}")
    if bool(positive) != bool(negative):
        _usage("--positive and --negative go together: the classifier needs both classes")
    if not positive and not data.is_dir():
        _usage(f"--data {data} is not a folder; point it at the shared data (see SOURCES.md)")
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
        _fail(str(exc))
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
                _usage(f"{uri}: cannot read ({exc}); give JSON lines with a text field, Parquet with a text column, or plain text")
            sets.append(Labelled(uri, is_clean, texts))
    try:
        result = fit_thresholds(sets, lang, keep, cfg.quality)
    except CalibrationError as exc:
        _usage(str(exc))
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


# --- corpus submit / status / logs / stop (Ray cluster, Jobs API) ----------------------
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
            _usage("--input is for runs; a crawl takes --seeds")
        cfg = _crawl_config(config, seeds, output, set)
    else:
        cfg = build_config(config, input, output, set)
        _require_io(cfg)
    if workers:
        cfg.ray.workers = workers
    try:
        job = submit_job(cfg, address, verb="crawl" if crawl else "run")
    except ClusterError as exc:
        _fail(str(exc))
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
        _fail(str(exc))
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
        _fail(str(exc))


@app.command()
def stop(job: str = JobArg, address: Optional[str] = AddressOpt) -> None:
    """Stop a job. Finished units are kept: submitting the same run again resumes it."""
    from ray_jobs.submit import ClusterError
    from ray_jobs.submit import stop as stop_job

    try:
        stopped = stop_job(address, job)
    except ClusterError as exc:
        _fail(str(exc))
    console.print(f"stopping job {job}" if stopped else f"job {job} had already ended")


def _follow(address: Optional[str], job: str) -> None:
    from ray_jobs.submit import ClusterError, follow_logs

    try:
        state = follow_logs(address, job, lambda chunk: (sys.stdout.write(chunk), sys.stdout.flush()))
    except ClusterError as exc:
        _fail(str(exc))
    if state.status != "SUCCEEDED":
        _fail(f"job {job} {state.status}: {state.message}")
    console.print(f"job {job} succeeded; output: {state.output}")


# --- corpus report / corpus budget (cost accounting) -----------------------------------------
PricesOpt = typer.Option(None, "--prices", help="your price sheet YAML, merged over the defaults")
InstanceOpt = typer.Option("c7i.4xlarge", "--instance", help="instance type in the price sheet")
MarketOpt = typer.Option("on_demand", "--market", help="on_demand or spot")


@app.command()
def report(
    out: str = typer.Argument(..., help="a run's output folder or s3://bucket/prefix"),
    prices: Optional[Path] = PricesOpt,
    instance: str = InstanceOpt,
    market: str = MarketOpt,
    krw_per_usd: Optional[float] = typer.Option(None, "--krw-per-usd", help="KRW view rate"),
    split_by: str = typer.Option("bytes", "--split-by", help="share stage costs between languages by bytes or docs"),
    target: Optional[list[str]] = typer.Option(
        None, "--target", help="LANG=TOKENS the 'next crawl' section prices (repeatable; default ko=50B en=200B)"
    ),
    nodes: int = typer.Option(10, "--nodes", help="nodes the next crawl's wall time is spread over"),
    language: str = typer.Option("en", "--language", help="report.html in en (English) or ko (Korean); figures are the same"),
) -> None:
    """(Re)write cost.json, cost.csv and report.html of a finished run, priced with the given sheet."""
    from corpus.accounting.report import rewrite_report
    from corpus.config import CostConfig
    from corpus.storage import open_storage

    if language not in ("en", "ko"):
        _usage(f"--language is en or ko, got {language!r}")
    forecast = {"forecast_nodes": nodes} | ({"forecast_targets": target} if target else {})
    cost_cfg = _cost_config(CostConfig, prices, instance, market, krw_per_usd, split_by, **forecast)
    try:
        cost = rewrite_report(open_storage(out), cost_cfg, language)
    except FileNotFoundError as exc:
        _fail(str(exc))
    langs = ", ".join(
        f"{lang} {s['tokens']:,} tokens at {s['usd_per_million_tokens'] or 0:.6g} USD per million"
        for lang, s in cost["per_language"].items()
    )
    Console().print(f"total {cost['total']['usd']:.6g} USD ({cost['total']['krw']:,.2f} KRW); {langs}")
    Console().print(f"wrote {out.rstrip('/')}/report.html, cost.json, cost.csv")


@app.command()
def budget(
    from_: str = typer.Option(..., "--from", help="a finished run's output whose cost.json is extrapolated"),
    target: list[str] = typer.Option(..., "--target", help="LANG=TOKENS, e.g. ko=50B (repeatable)"),
    nodes: int = typer.Option(10, "--nodes", help="nodes the wall time is spread over (as the report's default)"),
    by: Optional[str] = typer.Option(None, "--by", help="finish by the end of this month (YYYY-MM): sets --nodes"),
    start: Optional[str] = typer.Option(None, "--start", help="first day of the work (YYYY-MM-DD; default today)"),
    months: int = typer.Option(12, "--months", help="months the output is kept in storage after the run"),
    pulls: int = typer.Option(1, "--pulls", help="times trainers download the whole output (egress)"),
    contingency: str = typer.Option("15%", "--contingency", help="added to the sum of the line items"),
    currency: str = typer.Option("usd", "--currency", help="usd or krw: the currency shown first"),
    instance: str = InstanceOpt,
    market: str = MarketOpt,
    mix: str = typer.Option("commoncrawl", "--mix", help="language shares: commoncrawl (cited) or run (the run's input)"),
    prices: Optional[Path] = PricesOpt,
    as_json: bool = typer.Option(False, "--json", help="print the forecast (with its grant budget) as JSON only"),
    as_csv: bool = typer.Option(False, "--csv", help="print the grant budget's line items and months as CSV only"),
) -> None:
    """Forecast pages, crawls, compute, wall time, storage, requests and cost for token targets,
    compare whole-file reading with index selection, and lay it out as a grant budget by month."""
    import json

    from corpus.accounting.grant import grant_budget, parse_day, parse_month, parse_percent, to_csv
    from corpus.accounting.prices import PriceError, load_prices
    from corpus.accounting.target import BudgetError, parse_target
    from corpus.storage import open_storage

    if market not in ("on_demand", "spot") or mix not in ("commoncrawl", "run") or currency not in ("usd", "krw"):
        _usage("--market is on_demand or spot; --mix is commoncrawl or run; --currency is usd or krw")
    try:
        targets = dict(parse_target(t) for t in target)
        first_day = parse_day(start) if start else None
        deadline = parse_month(by) if by else None
        sheet = load_prices(prices)
        storage = open_storage(from_)
        if not storage.exists(COST_JSON):
            _usage(f"{from_} has no cost.json: run `corpus report {from_}` first, or point --from at a run's output")
        cost = json.loads(storage.read_bytes(COST_JSON))
        grant = grant_budget(cost, targets, sheet, nodes=nodes, by=deadline, start=first_day, months=months, pulls=pulls,
                             contingency=parse_percent(contingency), instance=instance, market=market, mix=mix)
    except (BudgetError, PriceError) as exc:
        _usage(str(exc))
    if as_json:
        print(json.dumps(grant["forecast"] | {"grant": {k: v for k, v in grant.items() if k != "forecast"}}, indent=2))
    elif as_csv:
        sys.stdout.write(to_csv(grant))
    else:
        _print_budget(grant, targets, currency)


@app.command()
def portfolio(
    prefixes: list[str] = typer.Argument(..., help="local folders or s3://bucket/prefix holding run outputs"),
    output: Path = typer.Option(..., "--output", help="folder for the static site (index.html)"),
) -> None:
    """One offline page over every complete run found: tokens, spend, cost per million tokens, funnels."""
    from corpus.accounting.portfolio import PortfolioError, write_portfolio

    try:
        page = write_portfolio(list(prefixes), str(output))
    except PortfolioError as exc:
        _usage(str(exc))
    Console().print(f"wrote {page}")


def _print_budget(grant: dict, targets: dict[str, float], currency: str) -> None:
    from corpus.accounting.budget import range_notes, span, strategy_rows, strategy_text, supply_notes, table_rows
    from corpus.accounting.grant import line_rows, month_rows

    result = grant["forecast"]
    out = Console(width=max(Console().width, 100))  # a table wrapped at 80 columns splits its labels
    goal = ", ".join(f"{lang} {tokens:,.0f} tokens" for lang, tokens in targets.items())
    nodes = result["nodes"]
    tables = [
        (f"budget for {goal} ({result['instance']}, {result['market'].replace('_', '-')}, {nodes} node(s))",
         ("quantity", "estimate", "low", "high"), table_rows(result)),
        ("how to read Common Crawl for it", ("quantity", "whole WARC files", "index selection"), strategy_rows(result)),
        (f"grant budget (from {grant['start']}, reading whole WARC files)",
         ("line item", *((f"{currency.upper()}", "low", "high", "KRW" if currency == "usd" else "USD"))), line_rows(grant, currency)),
        (f"spending by month, {currency.upper()}", ("month", "compute", "requests", "storage", "egress", "contingency", "total"),
         month_rows(grant, currency)),
    ]
    for title, columns, rows in tables:
        table = Table(title=title)
        for i, col in enumerate(columns):
            table.add_column(col, justify="left" if i == 0 else "right")
        for row in rows:
            table.add_row(*row)
        out.print(table)
    total = result["total_usd"]
    deadline = f" to finish by {grant['deadline'][:7]}" if grant["deadline"] else ""
    lines = [
        f"before contingency and egress: {total['point']:,.0f} USD (95% range {span(total, lambda v: f'{v:,.0f}')} USD); "
        f"{result['wall_days']['point']:,.1f} days on {nodes} node(s){deadline}",
        strategy_text(result),
        *supply_notes(result),
        *(f"warning: {w}" for w in result["supply"]["warnings"]),
        *range_notes(result),
        "assumptions:",
        *(f"  - {a['text']} [{a['source']}, {a['date']}]" for a in result["assumptions"]),
    ]
    for line in lines:
        out.print(line, markup=False, highlight=False)


def _cost_config(model, prices, instance, market, krw_per_usd, split_by, **more):
    try:
        return model(prices=str(prices) if prices else None, instance=instance, market=market,
                     krw_per_usd=krw_per_usd, split_by=split_by, **more)
    except Exception as exc:  # pydantic names the field; any invalid option is a usage error
        _usage(f"invalid cost option: {exc}")


if __name__ == "__main__":
    sys.exit(main())
