"""Benchmark decontamination: drop (or flag) documents that contain benchmark items.

A benchmark item (a question, a passage, a sentence: every text field of every
record of the team's benchmark files) counts as present in a document when at
least `min_overlap` of the item's distinct n-grams occur in the document: PaLM's
rule (Chowdhery et al. 2022, appendix C: 70% of 8-grams), with the share and
the sizes configurable per language. English uses word n-grams, Korean
character n-grams over letters and digits only, so spacing (띄어쓰기) and
punctuation changes do not hide a copy, and a few changed words leave most of a
long item's n-grams intact.

N-grams are 64-bit hashes (a polynomial over per-unit hashes, then a mixer), so
the index of a large benchmark suite is a few sorted numpy arrays, built once
per worker (`Decontaminator.__init__`). N-grams shared by more than
`max_items_per_ngram` items are templates ("Which of the following"), not
evidence, and are left out of both sides of the share. Items with fewer than a
language's `min_ngrams` n-grams are too short to judge and are not indexed: in
a short item, half its n-grams are as often a shared phrase as a copy
(measured in bench/decontam.py; README: Decontamination).
"""

from __future__ import annotations

import gzip
import io
import json
import re
from typing import Any, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import xxhash
from botocore.exceptions import BotoCoreError, ClientError

from corpus.config import BenchmarkConfig, DecontamConfig, NgramConfig
from corpus.normalize import normalize
from corpus.stats import Stats
from corpus.storage import expand_inputs, open_input

REASON_PREFIX = "decontam:"
ANNOTATION = "contaminated"
_NON_WORD = re.compile(r"[\W_]+")
_WORD = re.compile(r"\w+")
_PRIME = np.uint64(0x100000001B3)


class BenchmarkError(ValueError):
    """A benchmark file that cannot be read: the message names the file and what to do."""


class Decontaminator:
    """Stage `decontam`: reads every benchmark once, then matches batches against the index."""

    name = "decontam"

    def __init__(self, cfg: DecontamConfig) -> None:
        self.cfg = cfg
        self.names = [b.name for b in cfg.benchmarks]
        items = [(i, text) for i, bench in enumerate(cfg.benchmarks) for text in read_benchmark(bench)]
        self.indexes: dict[tuple[str, int, int], NgramIndex] = {}
        for spec in [*cfg.ngrams.values(), cfg.default_ngrams]:
            if _spec_key(spec) not in self.indexes:
                self.indexes[_spec_key(spec)] = NgramIndex(spec, items, cfg.max_items_per_ngram)

    def apply(self, table: pa.Table, stats: Stats) -> tuple[pa.Table, pa.Array | None]:
        matches = self.matches(table["text"].to_pylist(), _langs(table))
        for name in self.names:
            found = sum(name in m for m in matches)
            if found:
                stats.bump(REASON_PREFIX + name, found)
        if self.cfg.mode == "annotate":
            return table.append_column(ANNOTATION, pa.array(matches, pa.list_(pa.string()))), None
        return table, pa.array([REASON_PREFIX + m[0] if m else None for m in matches], pa.string())

    def matches(self, texts: list[str | None], langs: list[str | None]) -> list[list[str]]:
        """Names of the benchmarks each document contains an item of, in config order."""
        out = []
        for text, lang in zip(texts, langs):
            found = self.index_for(lang).benchmarks_in(text, self.cfg.min_overlap)
            out.append([self.names[b] for b in found])
        return out

    def index_for(self, lang: str | None) -> "NgramIndex":
        return self.indexes[_spec_key(self.cfg.ngram_spec(lang))]


class NgramIndex:
    """Distinct n-gram hashes of every item, with the items that hold each (CSR arrays).

    An item is judged when it keeps `min_ngrams` n-grams once templates are left out.
    """

    def __init__(self, spec: NgramConfig, items: list[tuple[int, str]], max_items: int) -> None:
        self.spec = spec
        pairs_hash, pairs_item, benchmark_of = [], [], []
        for benchmark, text in items:
            grams = np.unique(ngram_hashes(text, spec))
            if len(grams) < spec.min_ngrams:
                continue
            pairs_hash.append(grams)
            pairs_item.append(np.full(len(grams), len(benchmark_of), np.int64))
            benchmark_of.append(benchmark)
        hashes = np.concatenate(pairs_hash) if pairs_hash else np.zeros(0, np.uint64)
        owners = np.concatenate(pairs_item) if pairs_item else np.zeros(0, np.int64)
        order = np.argsort(hashes, kind="stable")
        hashes, owners = hashes[order], owners[order]
        keys, counts = np.unique(hashes, return_counts=True)
        evidence = counts <= max_items
        kept_rows = np.repeat(evidence, counts)
        self.keys = keys[evidence]
        self.offsets = np.r_[0, np.cumsum(counts[evidence])].astype(np.int64)
        self.owners = owners[kept_rows]
        self.item_ngrams = np.bincount(self.owners, minlength=len(benchmark_of))
        self.judged = self.item_ngrams >= spec.min_ngrams
        self.benchmark_of = np.asarray(benchmark_of, np.int64)
        self.items = int(np.count_nonzero(self.judged))
        self.skipped = len(items) - self.items

    def benchmarks_in(self, text: str | None, min_overlap: float) -> list[int]:
        """Benchmarks (sorted numbers) with an item whose n-gram share in `text` reaches `min_overlap`."""
        if not len(self.keys):
            return []
        grams = np.unique(ngram_hashes(text, self.spec))
        where = np.searchsorted(self.keys, grams)
        where[where == len(self.keys)] = 0
        hit = where[self.keys[where] == grams]
        if not len(hit):
            return []
        lengths = self.offsets[hit + 1] - self.offsets[hit]
        rows = np.repeat(self.offsets[hit] - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        items, found = np.unique(self.owners[rows], return_counts=True)
        present = items[(found >= min_overlap * self.item_ngrams[items]) & self.judged[items]]
        return sorted(set(self.benchmark_of[present].tolist()))


def check_benchmarks(cfg: DecontamConfig) -> dict[str, int]:
    """Read every benchmark once before a run starts, so a bad file stops it before any
    work (BenchmarkError names the file); returns the distinct texts per benchmark."""
    counts = {}
    for bench in cfg.benchmarks:
        counts[bench.name] = sum(1 for _ in read_benchmark(bench))
        if not counts[bench.name]:
            raise BenchmarkError(f"benchmark {bench.name!r}: {', '.join(bench.files)} hold no text to match")
    return counts


def ngram_hashes(text: str | None, spec: NgramConfig) -> np.ndarray:
    """64-bit hash of every n-gram of `text` (with repeats), in order.

    Words are runs of letters and digits after NFKC and lower-casing; characters
    are the letters and digits alone. Text shorter than one n-gram has none.
    """
    norm = normalize(text)
    if spec.kind == "char":
        units = np.frombuffer(_NON_WORD.sub("", norm).encode("utf-32-le"), np.uint32).astype(np.uint64)
        units = _mix(units)
    else:
        words = _WORD.findall(norm)
        units = np.fromiter((xxhash.xxh3_64_intdigest(w.encode("utf-8", "surrogatepass")) for w in words), np.uint64, len(words))
    n = len(units) - spec.size + 1
    if n <= 0:
        return np.zeros(0, np.uint64)
    grams = np.zeros(n, np.uint64)
    for j in range(spec.size):
        grams = grams * _PRIME + units[j : j + n]
    return _mix(grams)


def read_benchmark(bench: BenchmarkConfig) -> Iterator[str]:
    """Every text of a benchmark's files: the chosen fields (default: every string) of each record."""
    for uri in expand_inputs(bench.files):
        try:
            with open_input(uri) as stream:
                raw = stream.read()
        except (OSError, ValueError, BotoCoreError, ClientError) as exc:
            raise BenchmarkError(f"benchmark {bench.name!r}: cannot read {uri}: {exc}") from None
        if uri.endswith(".gz"):
            raw = gzip.decompress(raw)
        kind = _format(bench, uri)
        records = _records(raw, kind, uri, bench.name)
        seen: set[str] = set()
        for record in records:
            for text in _texts(record, bench.fields):
                if text not in seen:
                    seen.add(text)
                    yield text


def _records(raw: bytes, kind: str, uri: str, name: str) -> Iterator[Any]:
    if kind == "parquet":
        try:
            yield from pq.read_table(io.BytesIO(raw)).to_pylist()
        except pa.ArrowInvalid as exc:
            raise BenchmarkError(f"benchmark {name!r}: {uri} is not Parquet: {exc}") from None
        return
    text = raw.decode("utf-8-sig", errors="replace")
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if kind == "text":
            yield line
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError as exc:
            raise BenchmarkError(
                f"benchmark {name!r}: {uri} line {number} is not JSON ({exc.msg}); give JSON lines "
                "(one object per line), Parquet, or plain text (.txt, one item per line)"
            ) from None


def _texts(record: Any, fields: list[str]) -> Iterator[str]:
    """The chosen fields (dotted paths) of a record, or every string in it."""
    if not fields or isinstance(record, str):
        yield from _strings(record)
        return
    for path in fields:
        value = record
        for key in path.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        yield from _strings(value)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if value.strip():
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def _format(bench: BenchmarkConfig, uri: str) -> str:
    if bench.format != "auto":
        return bench.format
    name = uri.removesuffix(".gz").lower()
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".jsonl", ".json", ".ndjson")):
        return "jsonl"
    if name.endswith(".txt"):
        return "text"
    raise BenchmarkError(
        f"benchmark {bench.name!r}: cannot tell the format of {uri} from its name; "
        "name it .jsonl, .parquet or .txt (optionally .gz), or set format: jsonl | parquet | text"
    )


def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads every input bit over the whole hash."""
    z = values + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _spec_key(spec: NgramConfig) -> tuple[str, int, int]:
    return spec.kind, spec.size, spec.min_ngrams


def _langs(table: pa.Table) -> list[str | None]:
    return table["lang"].to_pylist() if "lang" in table.column_names else [None] * table.num_rows
