"""`corpus mix`: a training mixture of published runs, as Megatron `--data-path` weights.

A mixture asks for a token budget and a share per language. Each language's
share is filled from the runs' Megatron exports (`tokenized/` prefixes): when
the runs hold more than needed, whole prefixes are taken in a seeded order (the
last one in part); when they hold less, every prefix is repeated by the same
factor, never beyond `max_epochs` (Muennighoff et al. 2023: up to about four
epochs of repeated data are worth nearly as much as fresh data). A target the
runs cannot meet within that cap is refused, saying by how much.

A dataset's weight is the share of the mixture's tokens drawn from it, so a
blended loader (megatron-core's `BlendedDataset`) that samples by weight draws
each language in its share. Tokens are counted as the `.bin` holds them, one
end-of-document token per document included.

Rehydration (FineWeb-2): with `rehydrate`, a document of duplicate-cluster
size s counts `weight(s)` times, by buckets of s. A blend weights whole
prefixes, so a prefix's mass is the sum over its documents of tokens times
weight: rehydration moves weight toward prefixes rich in mid-sized clusters;
a trainer that repeats single documents reads `dup_cluster_size` from the shards
and uses `rehydration_weight` with the same buckets.

Outputs (MIX is a local folder or s3://): `mixture.json` (the plan),
`data_path.txt` (the `--data-path` line), `data_path.yaml` (the same list),
each read back and checked before `mix` returns.
"""

from __future__ import annotations

import json
import math
import random
import re
import struct
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from corpus.accounting.target import SUFFIXES
from corpus.megatron import CODE_DTYPES, MAGIC, VERSION, token_dtype
from corpus.layout import shard_of_tokenized
from corpus.manifest import read_manifest
from corpus.storage import Storage, open_input, open_storage

FORMAT = 1
MIXTURE, DATA_PATH_TXT, DATA_PATH_YAML = "mixture.json", "data_path.txt", "data_path.yaml"
# FineWeb-2's published upsampling by cluster size: lower bound of a bucket -> times a document counts.
FINEWEB2_REHYDRATION = {1: 1.0, 2: 2.0, 3: 3.0, 5: 5.0, 100: 8.0, 1000: 1.0}


class MixError(ValueError):
    """A mixture that cannot be built as asked; the message says what to change."""


class MixShortfall(MixError):
    """The runs hold too few tokens of a language for its share within the epoch cap."""


@dataclass
class Dataset:
    """One Megatron prefix of one run, and what the mixture takes from it."""

    prefix: str
    run: str
    lang: str
    docs: int
    tokens: int
    mass: float
    planned_tokens: float = 0.0
    epochs: float = 0.0
    weight: float = 0.0


@dataclass
class Mixture:
    """The plan: what was asked (tokens, shares, cap, seed, rehydration) and every dataset's part."""

    tokens: float
    shares: dict[str, float]
    max_epochs: float
    seed: int
    rehydration: dict[int, float] | None
    tokenizer: dict[str, Any]
    runs: list[dict[str, str]]
    datasets: list[Dataset] = field(default_factory=list)

    def languages(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for lang in sorted(self.shares):
            mine = [d for d in self.datasets if d.lang == lang]
            available = sum(d.tokens for d in mine)
            planned = sum(d.planned_tokens for d in mine)
            out[lang] = {
                "share": self.shares[lang],
                "target_tokens": self.tokens * self.shares[lang],
                "planned_tokens": planned,
                "available_tokens": available,
                "epochs": planned / available if available else 0.0,
                "datasets": sum(1 for d in mine if d.weight > 0),
            }
        return out

    def data_path(self) -> list[float | str]:
        """Megatron's `--data-path` list: weight, prefix, weight, prefix, ..."""
        return [item for d in self.datasets if d.weight > 0 for item in (d.weight, d.prefix)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "tokens": self.tokens,
            "shares": self.shares,
            "max_epochs": self.max_epochs,
            "seed": self.seed,
            "rehydration": {str(k): v for k, v in self.rehydration.items()} if self.rehydration else None,
            "tokenizer": self.tokenizer,
            "runs": self.runs,
            "languages": self.languages(),
            "datasets": [asdict(d) for d in self.datasets if d.weight > 0],
        }


def parse_tokens(text: str) -> float:
    """`100B` → 1e11; suffixes K, M, B (or G), T; plain numbers too."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([KMBGT]?)\s*", text, re.IGNORECASE)
    value = float(match.group(1)) * SUFFIXES[match.group(2).upper()] if match else 0.0
    if not value > 0:
        raise MixError(f"--tokens looks like 100B, 2.5T or 500000000 (above 0); got {text!r}")
    return value


def parse_shares(pairs: list[str]) -> dict[str, float]:
    """`["ko=0.3", "en=0.7"]` → shares summing to 1 (weights are normalised)."""
    weights: dict[str, float] = {}
    for pair in pairs:
        lang, sep, value = pair.partition("=")
        try:
            weight = float(value) if sep and lang.strip() else -1.0
        except ValueError:
            weight = -1.0
        if not weight > 0 or math.isinf(weight):
            raise MixError(f"--weight looks like LANG=SHARE with a share above 0, e.g. ko=0.3; got {pair!r}")
        if lang.strip() in weights:
            raise MixError(f"--weight gives {lang.strip()} twice")
        weights[lang.strip()] = weight
    if not weights:
        raise MixError("give at least one --weight LANG=SHARE, e.g. --weight ko=0.3 --weight en=0.7")
    total = sum(weights.values())
    return {lang: w / total for lang, w in sorted(weights.items())}


def rehydration_buckets(text: str | None) -> dict[int, float] | None:
    """None (off), FineWeb-2's buckets for `fineweb2`, or `LOW=WEIGHT,...` buckets
    (lower bound of a cluster-size bucket = times its documents count), starting at 1."""
    if not text:
        return None
    if text == "fineweb2":
        return dict(FINEWEB2_REHYDRATION)
    buckets: dict[int, float] = {}
    for part in text.split(","):
        match = re.fullmatch(r"\s*([0-9]+)\s*=\s*([0-9]*\.?[0-9]+)\s*", part)
        if not match or int(match.group(1)) < 1:
            raise MixError(f"rehydration buckets look like fineweb2 or 1=1,2=2,3=3,5=5,100=8,1000=1; got {text!r}")
        buckets[int(match.group(1))] = float(match.group(2))
    if 1 not in buckets:
        raise MixError(f"rehydration buckets must start at cluster size 1; got {text!r}")
    return dict(sorted(buckets.items()))


def rehydration_weight(sizes: np.ndarray, buckets: dict[int, float]) -> np.ndarray:
    """Times each document counts: the weight of the bucket its cluster size falls in."""
    bounds = sorted(buckets)
    weights = np.array([buckets[b] for b in bounds])
    return weights[np.searchsorted(bounds, np.maximum(sizes, 1), side="right") - 1]


def plan_mixture(
    runs: list[str],
    tokens: float,
    shares: dict[str, float],
    max_epochs: float = 4.0,
    seed: int = 0,
    rehydration: dict[int, float] | None = None,
) -> Mixture:
    """Decide what each prefix of `runs` contributes; raise MixShortfall when the cap is too low."""
    if max_epochs <= 0:
        raise MixError(f"--max-epochs must be above 0; got {max_epochs}")
    manifests = [(uri, read_manifest(open_storage(uri))) for uri in runs]
    tokenizer = _one_tokenizer(manifests)
    datasets = [d for uri, manifest in manifests for d in _datasets(uri, manifest, tokenizer, rehydration)]
    missing = sorted(lang for lang in shares if not any(d.lang == lang for d in datasets))
    if missing:
        have = sorted({d.lang for d in datasets})
        raise MixError(f"no run has tokenized shards of {', '.join(missing)} (they hold {', '.join(have) or 'none'})")
    mixture = Mixture(tokens, shares, max_epochs, seed, rehydration, tokenizer, [{"uri": u, "run_id": m["run_id"]} for u, m in manifests])
    shortfalls = []
    for lang, share in shares.items():
        mine = sorted((d for d in datasets if d.lang == lang), key=lambda d: (d.run, d.prefix))
        shortfall = _fill(mine, tokens * share, max_epochs, random.Random(f"{seed}:{lang}"))
        if shortfall:
            shortfalls.append(_shortfall_text(lang, share, tokens, mine, max_epochs))
        mixture.datasets.extend(mine)
    if shortfalls:
        best = min(_most_tokens(share, [d for d in datasets if d.lang == lang], max_epochs) for lang, share in shares.items())
        raise MixShortfall(
            "the runs cannot meet this mixture within --max-epochs "
            f"{max_epochs:g}:\n  " + "\n  ".join(shortfalls) + f"\nat these shares the runs give at most {_fmt(best)} tokens"
        )
    for d in mixture.datasets:
        d.weight = d.planned_tokens / tokens
    return mixture


def write_mixture(mixture: Mixture, output: str) -> Storage:
    """Write the plan, the `--data-path` line and its YAML to `output`, then read them back and check them."""
    out = open_storage(output)
    line = " ".join(_item(x) for x in mixture.data_path())
    out.write_bytes(MIXTURE, (json.dumps(mixture.to_dict(), indent=2, ensure_ascii=False) + "\n").encode())
    out.write_bytes(DATA_PATH_TXT, (line + "\n").encode())
    header = f"# corpus mix: {_fmt(mixture.tokens)} tokens, " + ", ".join(f"{k}={v:g}" for k, v in mixture.shares.items())
    out.write_bytes(DATA_PATH_YAML, (header + "\n" + yaml.safe_dump({"data_path": mixture.data_path()}, sort_keys=False)).encode())
    verify_mixture(out)
    return out


def verify_mixture(out: Storage) -> dict[str, float]:
    """Read a written mixture back: the line and the YAML agree with the plan, the
    weights sum to 1, every prefix is a Megatron index whose `.bin` holds the planned
    tokens, and each language's weight is its share. Returns the shares read back."""
    plan = json.loads(out.read_bytes(MIXTURE))
    line = read_data_path(out.read_bytes(DATA_PATH_TXT).decode())
    listed = yaml.safe_load(out.read_bytes(DATA_PATH_YAML))["data_path"]
    pairs = list(zip(listed[::2], listed[1::2]))
    expected = [(d["weight"], d["prefix"]) for d in plan["datasets"]]
    if line != pairs or [p for _, p in line] != [p for _, p in expected]:
        raise MixError(f"{out.uri}: {DATA_PATH_TXT} and {DATA_PATH_YAML} do not list the planned prefixes")
    if any(not math.isclose(a, b, rel_tol=1e-9) for (a, _), (b, _) in zip(line, expected)):
        raise MixError(f"{out.uri}: the weights written differ from the plan")
    if not math.isclose(sum(w for w, _ in line), 1.0, abs_tol=1e-9):
        raise MixError(f"{out.uri}: the weights sum to {sum(w for w, _ in line)}, not 1")
    for d in plan["datasets"]:
        if _bin_tokens(d["prefix"]) != d["tokens"]:
            raise MixError(f"{d['prefix']}.bin no longer holds the {d['tokens']} tokens the plan counted")
    shares: dict[str, float] = {}
    for (weight, _), d in zip(line, plan["datasets"]):
        shares[d["lang"]] = shares.get(d["lang"], 0.0) + weight
    for lang, share in plan["shares"].items():
        if not math.isclose(shares.get(lang, 0.0), share, abs_tol=1e-9):
            raise MixError(f"{out.uri}: {lang} gets {shares.get(lang, 0.0):.6f} of the weight, not {share:.6f}")
    return shares


def read_data_path(text: str) -> list[tuple[float, str]]:
    """(weight, prefix) pairs of a `--data-path` line (Megatron's weighted form)."""
    items = text.split()
    if len(items) % 2:
        raise MixError("a weighted --data-path line alternates weight and prefix; this one has an odd count")
    return [(float(w), p) for w, p in zip(items[::2], items[1::2])]


# --- planning ---------------------------------------------------------------------------


def _fill(datasets: list[Dataset], target: float, max_epochs: float, rng: random.Random) -> bool:
    """Set planned tokens for one language; True when the cap cannot be met."""
    total_mass = sum(d.mass for d in datasets)
    scale = target / total_mass
    if scale >= 1:
        for d in datasets:
            d.planned_tokens = scale * d.mass
    else:
        order = datasets[:]
        rng.shuffle(order)
        left = target
        for d in order:
            d.planned_tokens = min(d.mass, left)
            left -= d.planned_tokens
    for d in datasets:
        d.epochs = d.planned_tokens / d.tokens if d.tokens else 0.0
    return any(d.epochs > max_epochs * (1 + 1e-12) for d in datasets)


def _most_tokens(share: float, datasets: list[Dataset], max_epochs: float) -> float:
    """The largest mixture whose `share` of this language stays within the cap (uniform scaling)."""
    worst = max(d.mass / d.tokens for d in datasets if d.tokens)
    return sum(d.mass for d in datasets) * max_epochs / worst / share


def _shortfall_text(lang: str, share: float, tokens: float, datasets: list[Dataset], max_epochs: float) -> str:
    need = tokens * share
    can = _most_tokens(share, datasets, max_epochs) * share
    held = sum(d.tokens for d in datasets)
    epochs = max(d.epochs for d in datasets)
    return (
        f"{lang}: {_fmt(need)} tokens wanted ({share:.4g} of {_fmt(tokens)}), the runs hold {_fmt(held)}; "
        f"{max_epochs:g} epochs give {_fmt(can)}: short by {_fmt(need - can)} tokens "
        f"(it would take {epochs:.3g} epochs)"
    )


def _datasets(uri: str, manifest: dict[str, Any], tokenizer: dict[str, Any], rehydration) -> list[Dataset]:
    exported = [e for e in manifest.get("tokenized") or [] if e["path"].endswith(".bin")]
    if not exported:
        raise MixError(
            f"{uri} has no Megatron export: rerun it with tokenizer.export_megatron: true "
            "(--set tokenizer.export_megatron=true)"
        )
    storage = open_storage(uri)
    itemsize = token_dtype(tokenizer["vocab_size"]).itemsize
    out = []
    for entry in exported:
        rel = entry["path"].removesuffix(".bin")
        if any(ch.isspace() for ch in storage.url(rel)):
            raise MixError(f"{storage.url(rel)}: a --data-path prefix cannot hold spaces; move or pull the run elsewhere")
        tokens = entry["bytes"] // itemsize
        mass = float(tokens)
        if rehydration:
            mass = _rehydrated_mass(storage, uri, rel, rehydration)
        out.append(Dataset(storage.url(rel), uri, entry["lang"], entry["docs"], tokens, mass))
    return out


def _rehydrated_mass(storage: Storage, uri: str, rel: str, buckets: dict[int, float]) -> float:
    """Σ over a prefix's documents of (tokens + end-of-document) × weight(cluster size)."""
    shard = shard_of_tokenized(rel)
    with open_input(storage.url(shard)) as stream:
        parquet = pq.ParquetFile(stream)
        if "dup_cluster_size" not in parquet.schema_arrow.names or "n_tokens" not in parquet.schema_arrow.names:
            raise MixError(
                f"{uri}: {shard} has no dup_cluster_size (or n_tokens): rehydration needs a run with dedup "
                "and token counting on, written by a version that records cluster sizes"
            )
        table = parquet.read(columns=["n_tokens", "dup_cluster_size"])
    tokens = pc.fill_null(table["n_tokens"], 0).to_numpy() + 1
    sizes = pc.fill_null(table["dup_cluster_size"], 1).to_numpy()
    return float(np.sum(tokens * rehydration_weight(sizes, buckets)))


def _one_tokenizer(manifests: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Token ids from different tokenizers cannot share a model: every run must use one."""
    seen = {}
    for uri, manifest in manifests:
        info = manifest.get("tokenizer") or {}
        seen.setdefault(info.get("sha256"), (uri, info))
    if len(seen) > 1:
        names = "; ".join(f"{uri}: {info.get('name')} ({str(sha)[:12]})" for sha, (uri, info) in seen.items())
        raise MixError(f"the runs were tokenized with different tokenizers, so their ids cannot be mixed: {names}")
    return next(iter(seen.values()))[1]


def _bin_tokens(prefix: str) -> int:
    """Tokens a prefix's `.bin` holds, after checking its `.idx` header (format in corpus/megatron.py)."""
    with open_input(prefix + ".idx") as stream:
        head = stream.read(34)
    if head[:9] != MAGIC:
        raise MixError(f"{prefix}.idx is not a Megatron index")
    version, code = struct.unpack_from("<QB", head, 9)
    if version != VERSION or code not in CODE_DTYPES:
        raise MixError(f"{prefix}.idx has index version {version}, dtype code {code}: not what this reader knows")
    size = _size(prefix + ".bin")
    return size // CODE_DTYPES[code].itemsize


def _size(uri: str) -> int:
    with open_input(uri) as stream:
        return stream.seek(0, 2)


def _item(value: float | str) -> str:
    return repr(value) if isinstance(value, float) else value


def _fmt(tokens: float) -> str:
    for suffix, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(tokens) >= size:
            return f"{tokens / size:.3g}{suffix}"
    return f"{tokens:.0f}"
