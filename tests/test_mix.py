"""`corpus mix`: token shares met from two real runs, read back through the Megatron format."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml

from corpus import mix as mixing
from corpus.megatron import IndexedDataset
from corpus.storage.s3 import s3_client
from corpus.storage import open_input, open_storage
from tests.conftest import DATA, WARC
from tests.runs import run_serial
from tests.warc_factory import article, write_warc

EXPORT = {"tokenizer.export_megatron": True}
SEQ_LEN = 256


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """The demo WARC (mostly Korean) and the constructed WARC (mostly English), each exported for Megatron."""
    root = tmp_path_factory.mktemp("mix-runs")
    a = run_serial(str(root / "a"), **EXPORT, **{"shards.target_bytes": 30_000})
    b = run_serial(str(root / "b"), [str(WARC / "constructed" / "aeb_and_korean_feeds.warc.gz")], **EXPORT)
    return str(root / "a"), str(root / "b"), a.manifest, b.manifest


def test_a_mixture_of_two_runs_meets_its_shares_when_drawn_by_a_blended_loader(two_runs, tmp_path):
    a, b, *_ = two_runs
    done = _mix(a, b, "--output", str(tmp_path / "mix"), "--tokens", "150K", "--weight", "ko=0.3", "--weight", "en=0.7")
    assert done.returncode == 0, done.stderr
    pairs = mixing.read_data_path((tmp_path / "mix" / "data_path.txt").read_text())
    plan = json.loads((tmp_path / "mix" / "mixture.json").read_text())
    langs = {d["prefix"]: d["lang"] for d in plan["datasets"]}
    assert {langs[p] for _, p in pairs} == {"ko", "en"} and {Path(p).parts[-4] for _, p in pairs} == {"a", "b"}
    drawn = _blended_draw(pairs, samples=5_000)
    tokens = {lang: sum(n for p, n in drawn.items() if langs[p] == lang) for lang in ("ko", "en")}
    total = sum(tokens.values())
    assert abs(tokens["ko"] / total - 0.3) < 0.01 and abs(tokens["en"] / total - 0.7) < 0.01
    # ko needs repeats (the runs hold ~38K Korean tokens for 45K wanted), en a part of what they hold
    assert 1 < plan["languages"]["ko"]["epochs"] <= 4 and plan["languages"]["en"]["epochs"] < 1
    yaml_pairs = yaml.safe_load((tmp_path / "mix" / "data_path.yaml").read_text())["data_path"]
    assert list(zip(yaml_pairs[::2], yaml_pairs[1::2])) == pairs


def test_a_target_beyond_the_epoch_cap_is_refused_saying_by_how_much(two_runs, tmp_path):
    a, b, *_ = two_runs
    done = _mix(a, b, "--output", str(tmp_path / "mix"), "--tokens", "2M", "--weight", "ko=0.3", "--weight", "en=0.7")
    assert done.returncode == 2
    message = " ".join(done.stderr.split())
    assert "ko: 600K tokens wanted" in message and "short by" in message and "--max-epochs 4" in message
    assert not (tmp_path / "mix").exists()
    held = sum(len(_stream(str(p.with_suffix("")))) for run in (a, b) for p in Path(run).glob("tokenized/lang=ko/*.bin"))
    assert f"4 epochs give {mixing._fmt(4 * held)}" in message


def test_the_same_seed_gives_the_same_mixture_and_the_cap_holds(two_runs):
    a, b, *_ = two_runs
    shares = mixing.parse_shares(["ko=1", "en=3"])
    first = mixing.plan_mixture([a, b], 60_000, shares, max_epochs=2, seed=5)
    again = mixing.plan_mixture([a, b], 60_000, shares, max_epochs=2, seed=5)
    assert first.data_path() == again.data_path()
    assert all(d.epochs <= 2 for d in first.datasets)
    picked = {seed: [d.prefix for d in mixing.plan_mixture([a, b], 60_000, shares, seed=seed).datasets if d.weight] for seed in range(6)}
    assert len({tuple(p) for p in picked.values()}) > 1  # the seed decides which Korean prefixes a partial pass takes


def test_runs_and_mixture_on_s3(two_runs, s3_bucket):
    a, b, *_ = two_runs
    _upload(Path(b), f"{s3_bucket}/runs/b")
    plan = mixing.plan_mixture([a, f"{s3_bucket}/runs/b"], 100_000, {"en": 0.5, "ko": 0.5})
    out = mixing.write_mixture(plan, f"{s3_bucket}/mixes/m1")
    assert mixing.verify_mixture(out) == pytest.approx({"en": 0.5, "ko": 0.5})
    line = mixing.read_data_path(open_storage(f"{s3_bucket}/mixes/m1").read_bytes("data_path.txt").decode())
    assert any(p.startswith(f"{s3_bucket}/runs/b/tokenized/") for _, p in line)
    with open_input(next(p for _, p in line if p.startswith("s3://")) + ".idx") as stream:
        assert stream.read(9) == b"MMIDIDX\x00\x00"


@pytest.mark.slow
def test_a_run_without_a_megatron_export_is_refused(tmp_path):
    run_serial(str(tmp_path / "plain"), [str(WARC / "warcio" / "example.warc.gz")])
    done = _mix(str(tmp_path / "plain"), "--output", str(tmp_path / "mix"), "--tokens", "1K", "--weight", "en=1")
    assert done.returncode == 2 and "export_megatron" in done.stderr


def test_rehydration_counts_each_document_by_its_duplicate_cluster_size(tmp_path):
    texts = _english_pages(6)
    pages = [(f"http://site{i}.test/", article(t), "text/html") for i, t in enumerate(texts)]
    pages += [(f"http://mirror{k}.test/", article(texts[0]), "text/html") for k in range(4)]  # a cluster of 5
    pages += [(f"http://mirror{k}.test/b", article(texts[1]), "text/html") for k in range(2)]  # a cluster of 3
    write_warc(tmp_path / "in.warc.gz", pages)
    out = tmp_path / "run"
    settings = {**EXPORT, "dedup.enabled": True, "langid.thresholds": {"en": 0.0}, "shards.target_bytes": 4_000}
    result = run_serial(str(out), [str(tmp_path / "in.warc.gz")], **settings)
    rows = [r for s in result.manifest["shards"] for r in pq.read_table(out / s["path"]).to_pylist()]
    sizes = {r["text"][:200]: r["dup_cluster_size"] for r in rows}
    assert len(rows) == 6 and sorted(sizes.values()) == [1, 1, 1, 1, 3, 5]
    buckets = mixing.rehydration_buckets("1=1,2=2,5=4")
    plain = mixing.plan_mixture([str(out)], 1_000, {"en": 1.0})
    hydrated = mixing.plan_mixture([str(out)], 1_000, {"en": 1.0}, rehydration=buckets)
    for d in hydrated.datasets:
        shard = pq.read_table(Path(d.prefix.replace("tokenized", "shards") + ".parquet"))
        weight = [{1: 1, 3: 2, 5: 4}[s] for s in shard["dup_cluster_size"].to_pylist()]
        assert d.mass == sum((n + 1) * w for n, w in zip(shard["n_tokens"].to_pylist(), weight))
    assert [d.mass for d in plain.datasets] == [d.tokens for d in plain.datasets]
    assert [d.mass for d in hydrated.datasets] != [d.tokens for d in hydrated.datasets]


def test_usage_errors_are_named():
    with pytest.raises(mixing.MixError, match="100B"):
        mixing.parse_tokens("lots")
    assert mixing.parse_tokens("100B") == 1e11
    with pytest.raises(mixing.MixError, match="LANG=SHARE"):
        mixing.parse_shares(["ko"])
    with pytest.raises(mixing.MixError, match="start at cluster size 1"):
        mixing.rehydration_buckets("2=2")
    assert mixing.rehydration_weight(np.array([1, 2, 4, 99, 100, 5000]), mixing.FINEWEB2_REHYDRATION).tolist() == [1, 2, 3, 5, 8, 1]


# --- helpers ---------------------------------------------------------------------------


def _mix(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "corpus_cli", "mix", *args], capture_output=True, text=True, timeout=300)


def _blended_draw(pairs: list[tuple[float, str]], samples: int) -> dict[str, int]:
    """Tokens drawn per prefix when `samples` sequences are drawn as megatron-core's
    blending does (each next sample from the dataset furthest below its weight), each
    read from the prefix's documents in order, wrapping into another epoch at the end."""
    weights = np.array([w for w, _ in pairs]) / sum(w for w, _ in pairs)
    streams = {p: _stream(p) for _, p in pairs}
    counts = np.zeros(len(pairs), np.int64)
    drawn = {p: 0 for _, p in pairs}
    for i in range(samples):
        pick = int(np.argmax(weights * max(i, 1) - counts))
        stream = streams[pairs[pick][1]]
        piece = stream[(counts[pick] * SEQ_LEN + np.arange(SEQ_LEN)) % len(stream)]
        drawn[pairs[pick][1]] += len(piece)
        counts[pick] += 1
    return drawn


def _stream(prefix: str) -> np.ndarray:
    """Every token of a prefix, documents in order, read with the project's Megatron reader."""
    dataset = IndexedDataset(prefix)
    return np.concatenate([dataset[i] for i in range(len(dataset))])


def _upload(folder: Path, uri: str) -> None:
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    for path in folder.rglob("*"):
        if path.is_file():
            s3_client().upload_file(str(path), bucket, f"{prefix}/{path.relative_to(folder).as_posix()}")


def _english_pages(n: int) -> list[str]:
    with gzip.open(DATA / "near_dup" / "web_docs_mixed.docs.jsonl.gz", "rt") as fh:
        docs = [json.loads(line)["text"] for line in fh]
    return [t.replace("\n", "\n\n") for t in docs if 200 <= len(t.split()) <= 600 and t.isascii()][:n]
