"""Decontamination: KorQuAD and KLUE items planted into real pages are caught, clean pages never."""

from __future__ import annotations

import gzip
import json
import random
import re
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from corpus.config import ConfigError, load_config
from corpus.storage.s3 import s3_client
from corpus.stats import Stats
from filters import reference_text as rt
from filters.decontam import BenchmarkError, Decontaminator, ngram_hashes
from tests.conftest import DEMO_WARC
from tests.runs import FILTERS_OFF
from tests.warc_factory import article, write_warc

REPLACEMENTS = ["그리고", "정말", "바로", "또한"]


@pytest.fixture(scope="module")
def suite(data_dir, tmp_path_factory):
    """Benchmark files in the three formats, and the clean pages no benchmark item is in.

    KorQuAD: even-numbered articles are the benchmark (questions, contexts and
    answers as JSON lines, gzipped), odd ones the clean contexts. KorQuAD itself
    repeats some passages across articles (전두환 and 노태우 share paragraphs);
    a clean context sharing a 40-character sentence with the benchmark is such a
    repeat, not a clean page, and is left out. KLUE NLI: the first 1,500 pairs
    are the benchmark (Parquet), later premises not among them are clean. KLUE
    STS first sentences are a plain-text benchmark, one item per line.
    """
    root = tmp_path_factory.mktemp("benchmarks")
    with gzip.open(data_dir / "korean_text/korquad/KorQuAD_v1.0_dev.json.gz", "rt", encoding="utf-8") as fh:
        articles = json.load(fh)["data"]
    records = [
        {"id": q["id"], "question": q["question"], "context": p["context"], "answers": q["answers"]}
        for a in articles[::2] for p in a["paragraphs"] for q in p["qas"]
    ]
    with gzip.open(root / "korquad.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    with gzip.open(data_dir / "korean_text/klue/klue-nli-v1.1_dev.json.gz", "rt", encoding="utf-8") as fh:
        nli = json.load(fh)
    pq.write_table(pa.Table.from_pylist(nli[:1500]), root / "klue_nli.parquet")
    with gzip.open(data_dir / "korean_text/klue/klue-sts-v1.1_dev.json.gz", "rt", encoding="utf-8") as fh:
        sts = json.load(fh)
    (root / "klue_sts.txt").write_text("\n".join(r["sentence1"] for r in sts[:300]) + "\n", encoding="utf-8")
    items = {
        "korquad": _unique([r["question"] for r in records] + [r["context"] for r in records]),
        "klue_nli": _unique([t for r in nli[:1500] for t in (r["premise"], r["hypothesis"])]),
        "klue_sts": _unique([r["sentence1"] for r in sts[:300]]),
    }
    taken = set().union(*(_sentences(t) for t in items["korquad"]))
    every_item = set().union(*items.values())
    clean_ko = [p["context"] for a in articles[1::2] for p in a["paragraphs"] if not _sentences(p["context"]) & taken]
    clean_ko += [p for p in _unique([r["premise"] for r in nli[1500:]]) if p not in every_item]
    clean_ko += rt.news_comment_groups(data_dir) + rt.nsmc_review_groups(data_dir)
    clean_en = rt.english_articles(data_dir) + rt.common_crawl_text(data_dir, "en")
    config = {
        "decontam.benchmarks": [
            {"name": "korquad", "files": [str(root / "korquad.jsonl.gz")]},
            {"name": "klue_nli", "files": [str(root / "klue_nli.parquet")], "fields": ["premise", "hypothesis"]},
            {"name": "klue_sts", "files": [str(root / "*.txt")]},
        ]
    }
    return root, config, items, clean_ko, clean_en, rt.news_comment_groups(data_dir)


@pytest.mark.slow
def test_planted_items_are_caught_and_clean_pages_never(suite):
    _, config, items, clean_ko, clean_en, hosts = suite
    stage = Decontaminator(load_config(None, config).decontam)
    spec = stage.cfg.ngram_spec("ko")
    rng = random.Random(7)
    judged = [(name, t) for name, texts in items.items() for t in texts if _judged(t, spec)]
    assert len(judged) > 2000  # every long enough item of the three benchmarks
    exact = [_plant(t, hosts, rng) for _, t in judged]
    light = [_plant(_paraphrase_light(t, rng), hosts, rng) for _, t in judged]
    texts = exact + light + clean_ko + clean_en
    langs = ["ko"] * (len(exact) + len(light) + len(clean_ko)) + ["en"] * len(clean_en)
    stats = Stats()
    _, reasons = stage.apply(pa.table({"text": texts, "lang": langs}), stats)
    reasons = reasons.to_pylist()
    names = [f"decontam:{name}" for name, _ in judged]
    n = len(judged)
    assert sum(r == want for r, want in zip(reasons[:n], names)) / n >= 0.99
    assert sum(r is not None for r in reasons[n : 2 * n]) / n >= 0.99
    assert reasons[2 * n :] == [None] * (len(clean_ko) + len(clean_en))
    assert len(clean_ko) > 1500 and len(clean_en) > 150
    assert stats.counters["decontam:korquad"] >= 2 * 0.99 * sum(name == "korquad" for name, _ in judged)
    assert {"decontam:klue_nli", "decontam:klue_sts"} <= set(stats.counters)


@pytest.mark.slow
def test_annotate_mode_keeps_every_document_and_lists_its_benchmarks(suite):
    _, config, items, clean_ko, _, hosts = suite
    stage = Decontaminator(load_config(None, {**config, "decontam.mode": "annotate"}).decontam)
    planted = _plant(items["korquad"][0] + "\n" + items["klue_nli"][0], hosts, random.Random(1))
    table, reasons = stage.apply(pa.table({"text": [planted, clean_ko[0]], "lang": ["ko", "ko"]}), Stats())
    assert reasons is None
    assert table["contaminated"].to_pylist() == [["korquad", "klue_nli"], []]


@pytest.mark.slow
def test_items_too_short_to_judge_are_not_indexed(suite):
    _, config, items, _, _, hosts = suite
    stage = Decontaminator(load_config(None, config).decontam)
    spec = stage.cfg.ngram_spec("ko")
    short = next(t for t in items["korquad"] if 0 < len(np.unique(ngram_hashes(t, spec))) < spec.min_ngrams)
    assert stage.matches([_plant(short, hosts, random.Random(2))], ["ko"]) == [[]]
    assert stage.index_for("ko").skipped > 0


def test_ngrams_of_a_template_are_not_evidence(tmp_path):
    stem = "Which of the following statements best describes the main role played by the {} in the account given above"
    (tmp_path / "mmlu.txt").write_text("\n".join(stem.format(f"topic{i}") for i in range(60)), encoding="utf-8")
    bench = {"decontam.benchmarks": [{"name": "mmlu", "files": str(tmp_path / "mmlu.txt")}]}
    page = "A quiz page. " + stem.format("river") + "? Answers below."
    assert Decontaminator(load_config(None, bench).decontam).matches([page], ["en"]) == [[]]
    loose = load_config(None, {**bench, "decontam.max_items_per_ngram": 100}).decontam
    assert Decontaminator(loose).matches([page], ["en"]) == [["mmlu"]]


@pytest.mark.slow
def test_benchmark_files_are_read_from_s3(suite, s3_bucket):
    root, _, items, _, _, hosts = suite
    bucket = s3_bucket.removeprefix("s3://")
    s3_client().upload_file(str(root / "korquad.jsonl.gz"), bucket, "bench/korquad.jsonl.gz")
    cfg = load_config(None, {"decontam.benchmarks": [{"name": "korquad", "files": f"{s3_bucket}/bench/*.jsonl.gz"}]})
    context = max(items["korquad"], key=len)
    assert Decontaminator(cfg.decontam).matches([_plant(context, hosts, random.Random(3))], ["ko"]) == [["korquad"]]


@pytest.mark.slow
def test_a_run_drops_contaminated_pages_and_counts_them_by_benchmark(suite, tmp_path):
    _, config, items, clean_ko, _, _ = suite
    contexts = [t for t in items["korquad"] if len(t) > 300][:3]
    pages = [(f"http://copy{i}.test/", article(t), "text/html") for i, t in enumerate(contexts)]
    pages += [(f"http://clean{i}.test/", article(t), "text/html") for i, t in enumerate(clean_ko[:5])]
    write_warc(tmp_path / "in.warc.gz", pages)
    (tmp_path / "run.yaml").write_text(yaml.safe_dump({"decontam": {"benchmarks": config["decontam.benchmarks"]}}))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "corpus_cli", "run", str(tmp_path / "run.yaml"), "--serial", "--no-progress"]
    cmd += ["--input", str(tmp_path / "in.warc.gz"), "--output", str(out)]
    cmd += [f"--set={key}={value}" for key, value in FILTERS_OFF.items()]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "benchmark items found in: korquad 3 documents" in " ".join(done.stdout.split())
    stats = json.loads((out / "stats.json").read_text())
    assert stats["stages"]["decontam"]["ko"]["dropped"]["decontam:korquad"]["docs"] == 3
    assert stats["counters"]["decontam:korquad"] == 3
    assert json.loads((out / "cost.json").read_text())["decontamination"] == {"korquad": 3}
    report = (out / "report.html").read_text()
    assert "Benchmark contamination" in report and "<td>korquad</td><td class=\"n\">3</td>" in report
    manifest = json.loads((out / "manifest.json").read_text())
    kept = [r["url"] for s in manifest["shards"] for r in pq.read_table(out / s["path"]).to_pylist()]
    assert sorted(kept) == [f"http://clean{i}.test/" for i in range(5)]


def test_unreadable_benchmarks_are_refused_naming_the_file(tmp_path):
    (tmp_path / "bad.jsonl").write_text('{"q": "fine"}\nnot json\n', encoding="utf-8")
    cfg = load_config(None, {"decontam.benchmarks": [{"name": "bad", "files": str(tmp_path / "bad.jsonl")}]})
    with pytest.raises(BenchmarkError, match=r"bad\.jsonl line 2 is not JSON"):
        Decontaminator(cfg.decontam)
    (tmp_path / "items.csv").write_text("a,b\n", encoding="utf-8")
    cfg = load_config(None, {"decontam.benchmarks": [{"name": "csv", "files": str(tmp_path / "items.csv")}]})
    with pytest.raises(BenchmarkError, match="format: jsonl"):
        Decontaminator(cfg.decontam)
    with pytest.raises(ConfigError, match="repeated: x"):
        load_config(None, {"decontam.benchmarks": [{"name": "x", "files": "a.txt"}, {"name": "x", "files": "b.txt"}]})
    assert not load_config(None, {}).decontam.enabled


def test_a_run_with_an_unreadable_benchmark_is_refused_before_any_work(tmp_path):
    (tmp_path / "run.yaml").write_text(
        f"decontam:\n  benchmarks:\n    - name: kmmlu\n      files: [{tmp_path}/missing.parquet]\n", encoding="utf-8"
    )
    cmd = [sys.executable, "-m", "corpus_cli", "run", str(tmp_path / "run.yaml"), "--serial", "--no-progress"]
    done = subprocess.run(cmd + ["--input", str(DEMO_WARC), "--output", str(tmp_path / "out")], capture_output=True, text=True)
    assert done.returncode == 2 and "missing.parquet" in done.stderr and "kmmlu" in done.stderr
    assert not (tmp_path / "out").exists()


# --- helpers ---------------------------------------------------------------------------


def _paraphrase_light(text: str, rng: random.Random) -> str:
    """One word in ten (at least one) replaced, spacing doubled, full stops and commas changed."""
    words = text.split()
    for i in rng.sample(range(len(words)), max(1, len(words) // 10)):
        words[i] = rng.choice(REPLACEMENTS)
    return "  ".join(words).replace(".", " !").replace(",", "")


def _plant(item: str, hosts: list[str], rng: random.Random) -> str:
    """The item between two real web pages (Korean news comments), on lines of its own."""
    return f"{rng.choice(hosts)}\n{item}\n{rng.choice(hosts)}"


def _judged(text: str, spec) -> bool:
    return len(np.unique(ngram_hashes(text, spec))) >= spec.min_ngrams


def _sentences(text: str) -> set[str]:
    return {s.strip() for s in re.split(r"(?<=[.!?])\s", text) if len(s.strip()) >= 40}


def _unique(texts: list[str]) -> list[str]:
    return list(dict.fromkeys(t for t in texts if t.strip()))
