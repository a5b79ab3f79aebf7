"""Corpus-wide dedup on staged parts: injected near-duplicates of real documents
are found, distinct documents are not merged, Ray equals the plain path."""

from __future__ import annotations

import gzip
import json
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus.config import DedupConfig, load_config
from corpus.stats import Stats
from corpus.storage import LocalStorage
from dedup.index import IndexMismatch
from dedup.shingles import Shingler
from dedup.signatures import SignatureStage
from ray_jobs.dedup import DOCS_PER_PARTITION, deduplicate, partition_count
from ray_jobs.pipeline import RunFailed, run
from tests.warc_factory import article, write_warc


def _docs(data_dir, name, n):
    with gzip.open(data_dir / "near_dup" / f"{name}.docs.jsonl.gz", "rt") as f:
        return [json.loads(line) for _, line in zip(range(n), f)]


def _edit(text: str, rate: float, rng: random.Random) -> str:
    """Replace `rate` of the words and swap two paragraphs: a templated copy."""
    words = text.split(" ")
    for i in rng.sample(range(len(words)), max(1, int(len(words) * rate))):
        words[i] = "edited"
    paragraphs = " ".join(words).split("\n")
    if len(paragraphs) > 2:
        paragraphs[0], paragraphs[-1] = paragraphs[-1], paragraphs[0]
    return "\n".join(paragraphs)


def _jaccard(a, b) -> float:
    a, b = set(a), set(b)
    return len(a & b) / len(a | b)


@pytest.fixture(scope="module")
def corpus(data_dir):
    """Distinct English and Korean originals (the low-duplication control set),
    plus edited copies (1-10% of words) of some, spread over three parts."""
    rng = random.Random(7)
    originals = [d for d in _docs(data_dir, "web_docs_mixed", 633) if len(d["text"].split()) >= 150][:120]
    rows = [{"id": f"o{i:04d}", "lang": "en", "text": d["text"], "quality_score": 0.5} for i, d in enumerate(originals)]
    copies = {}
    for i in range(0, 40):
        copy_id = f"c{i:04d}"
        rows.append({"id": copy_id, "lang": "en", "text": _edit(originals[i]["text"], rng.choice([0.01, 0.03]), rng), "quality_score": 0.9 if i % 2 else 0.1})
        copies[copy_id] = f"o{i:04d}"
    rows.append({"id": "x0000", "lang": "en", "text": originals[50]["text"].upper(), "quality_score": 0.5})
    ko = [d["text"] for d in _docs(data_dir, "ko_news_comments", 400) if len(d["text"]) > 120][:30]
    for i, text in enumerate(ko):
        rows.append({"id": f"k{i:04d}", "lang": "ko", "text": text, "quality_score": None})
    rows.append({"id": "k9000", "lang": "ko", "text": ko[0] + " 진짜", "quality_score": None})
    rows += [{"id": "e0000", "lang": "en", "text": "", "quality_score": None}, {"id": "e0001", "lang": "en", "text": " ", "quality_score": None}]
    rng.shuffle(rows)
    return rows, copies


def _stage(tmp_path, rows, cfg):
    out = LocalStorage(tmp_path)
    stage = SignatureStage(cfg)
    staged = []
    for part in range(3):
        table = pa.Table.from_pylist(rows[part::3], schema=pa.schema([("id", pa.string()), ("lang", pa.string()), ("text", pa.string()), ("quality_score", pa.float32())]))
        table, _ = stage.apply(table, Stats())
        rel = f"_work/staged/part{part}.parquet"
        out.path(rel).parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, out.path(rel))
        staged.append(rel)
    return out, staged


def _decide(tmp_path, rows, cfg, run_id="r1"):
    out, staged = _stage(tmp_path, rows, cfg)
    decisions = deduplicate(cfg, out, staged, run_id, len(rows))
    stats, kept = Stats(), []
    for rel in staged:
        kept.append(decisions.apply(rel, pq.read_table(out.path(rel)), stats))
    return pa.concat_tables(kept), stats


def test_injected_near_duplicates_are_removed_and_originals_kept(tmp_path, corpus):
    rows, copies = corpus
    kept, stats = _decide(tmp_path, rows, DedupConfig(executor="local"))
    kept_ids = set(kept["id"].to_pylist())
    text = {r["id"]: r["text"] for r in rows}
    shingles = Shingler("word", 5)
    similar = [c for c, o in copies.items() if _jaccard(shingles(text[c]), shingles(text[o])) >= 0.85]
    assert len(similar) >= 10
    assert sum(1 for c in similar if len({c, copies[c]} & kept_ids) == 1) / len(similar) >= 0.9
    found = sum(1 for c, o in copies.items() if len({c, o} & kept_ids) == 1)
    originals = {r["id"] for r in rows if r["id"].startswith("o")}
    for gone in originals - kept_ids - set(copies.values()):  # the set has a few natural duplicates
        best = max(_jaccard(shingles(text[gone]), shingles(text[other])) for other in text if other != gone)
        assert best >= 0.5, f"{gone} was merged with no document sharing half its shingles"
    clusters = dict(zip(kept["id"].to_pylist(), kept["dup_cluster"].to_pylist()))
    assert all(clusters[k] == k for k in kept_ids)
    assert "x0000" not in kept_ids  # the upper-cased copy: an exact duplicate after normalising
    assert stats.dropped_docs("dedup_exact", "exact_duplicate") >= 2
    dropped = stats.dropped_docs("dedup_exact") + stats.dropped_docs("dedup_near")
    assert dropped == len(rows) - kept.num_rows
    assert stats.dropped_docs("dedup_near", "near_duplicate") >= found
    assert {"e0000", "e0001"} & kept_ids == {"e0000"}  # empty texts: exact duplicates, never near


def test_survivor_is_the_higher_quality_copy(tmp_path, corpus):
    rows, copies = corpus
    kept, _ = _decide(tmp_path, rows, DedupConfig(executor="local"))
    kept_ids = set(kept["id"].to_pylist())
    for i, (copy_id, original) in enumerate(sorted(copies.items())):
        if {copy_id, original} <= kept_ids:
            continue
        assert (copy_id in kept_ids) == (i % 2 == 1), copy_id  # 0.9 beats 0.5 beats 0.1


def test_korean_edited_comment_is_a_near_duplicate(tmp_path, corpus):
    rows, _ = corpus
    kept, _ = _decide(tmp_path, rows, DedupConfig(executor="local"))
    ids = set(kept["id"].to_pylist())
    assert "k0000" in ids and "k9000" not in ids


@pytest.mark.ray
def test_ray_path_equals_plain_path(tmp_path, corpus, ray_local):
    rows, _ = corpus
    plain, plain_stats = _decide(tmp_path / "plain", rows, DedupConfig(executor="local"))
    on_ray, ray_stats = _decide(tmp_path / "ray", rows, DedupConfig(executor="ray", partitions=3))
    assert plain.select(["id", "dup_cluster"]).to_pylist() == on_ray.select(["id", "dup_cluster"]).to_pylist()
    assert plain_stats.to_dict()["stages"] == ray_stats.to_dict()["stages"]


@pytest.mark.parametrize("n_docs", [0, 1, 250_000, 1_000_000, 1_000_001, 50_000_000])
def test_partitions_grow_with_the_corpus_so_a_partition_stays_bounded(n_docs):
    """A reduce task holds one partition: its size, not the corpus's, sets worker memory."""
    partitions = partition_count(DedupConfig(), n_docs)
    assert partitions >= 2
    assert n_docs / partitions <= DOCS_PER_PARTITION
    assert partition_count(DedupConfig(partitions=7), n_docs) == 7


def test_index_keeps_next_run_from_readmitting(tmp_path, corpus):
    rows, _ = corpus
    index = str(tmp_path / "index")
    first, _ = _decide(tmp_path / "a", rows, DedupConfig(executor="local", index=index), run_id="month1")
    again = [dict(r, id="n" + r["id"]) for r in rows]
    second, stats = _decide(tmp_path / "b", again, DedupConfig(executor="local", index=index), run_id="month2")
    assert first.num_rows > 100
    assert second.num_rows == 0  # every document, renamed, is already in the corpus
    assert stats.dropped_docs("dedup_exact") + stats.dropped_docs("dedup_near") == len(rows)


def test_verified_run_checks_candidates_against_the_index_signatures(tmp_path, data_dir):
    """The index keeps signatures, so next month's LSH-only collisions with it are cut too."""
    near = _near_dup_pair(data_dir)
    index = str(tmp_path / "index")
    cfg = DedupConfig(executor="local", verify=True, index=index)
    month1 = [a for a, _ in BELOW] + [near[0]]
    _decide(tmp_path / "a", _comments(data_dir, month1), cfg, run_id="month1")
    month2 = [b for _, b in BELOW] + [near[1]]
    kept, stats = _decide(tmp_path / "b", _comments(data_dir, month2), cfg, run_id="month2")
    assert set(kept["id"].to_pylist()) == {b for _, b in BELOW}  # only the real near-duplicate goes
    assert stats.dropped_docs("dedup_near", "near_duplicate") == 1


def test_index_written_without_signatures_still_keeps_its_documents_out(tmp_path, data_dir):
    """Collisions with an index part that has no signatures cannot be checked: LSH decides."""
    index = str(tmp_path / "index")
    month1 = [a for a, _ in BELOW]
    _decide(tmp_path / "a", _comments(data_dir, month1), DedupConfig(executor="local", verify=False, index=index), run_id="m1")
    month2 = [b for _, b in BELOW]
    kept, _ = _decide(tmp_path / "b", _comments(data_dir, month2), DedupConfig(executor="local", index=index), run_id="m2")
    assert kept.num_rows == 0


def test_index_with_other_settings_is_refused(tmp_path, corpus):
    rows, _ = corpus
    index = str(tmp_path / "index")
    _decide(tmp_path / "a", rows[:30], DedupConfig(executor="local", index=index), run_id="m1")
    with pytest.raises(ValueError, match="built with"):
        _decide(tmp_path / "b", rows[:30], DedupConfig(executor="local", index=index, num_perm=64), run_id="m2")


def test_index_of_the_other_signature_scheme_is_refused_by_name(tmp_path, corpus):
    """Signatures of two schemes are incomparable: the error names both and the fix."""
    rows, _ = corpus
    index = str(tmp_path / "index")
    _decide(tmp_path / "a", rows[:30], DedupConfig(executor="local", index=index, scheme="affine32"), run_id="m1")
    with pytest.raises(IndexMismatch, match=r"holds 'affine32' MinHash signatures, this run computes 'oph'.*dedup.scheme: affine32"):
        _decide(tmp_path / "b", rows[:30], DedupConfig(executor="local", index=index), run_id="m2")
    kept, _ = _decide(tmp_path / "c", rows[:30], DedupConfig(executor="local", index=index, scheme="affine32"), run_id="m3")
    assert kept.num_rows == 0  # the same scheme still reads it


def test_a_run_refuses_a_mismatched_index_before_reading_any_input(tmp_path, corpus):
    rows, _ = corpus
    index = str(tmp_path / "index")
    _decide(tmp_path / "a", rows[:30], DedupConfig(executor="local", index=index, scheme="legacy"), run_id="m1")
    write_warc(tmp_path / "in.warc.gz", [("http://a.test/", article(rows[0]["text"]), "text/html")])
    cfg = load_config(None, {"input": [str(tmp_path / "in.warc.gz")], "output": str(tmp_path / "out"), "dedup.index": index})
    with pytest.raises(RunFailed, match="holds 'legacy' MinHash signatures"):
        run(cfg, executor="serial")
    assert not (tmp_path / "out" / "_work").exists()


def _comments(data_dir, ids):
    with gzip.open(data_dir / "near_dup" / "ko_news_comments.docs.jsonl.gz", "rt") as f:
        found = {d["id"]: d["text"] for d in map(json.loads, f) if d["id"] in ids}
    return [{"id": i, "lang": "ko", "text": found[i], "quality_score": None} for i in ids]


# Real comment pairs with exact char-5 Jaccard 0.619 and 0.420 whose signatures (default
# scheme and seed) share an LSH band at 0.7/128 but agree on under 70% of positions.
BELOW = [("kocohub_u5:9474", "kocohub_u5:12627"), ("kocohub_u5:2966", "kocohub_u5:8648")]


def _near_dup_pair(data_dir):
    with gzip.open(data_dir / "near_dup" / "ko_news_comments.pairs.tsv.gz", "rt") as f:
        rows = [line.rstrip("\n").split("\t") for line in f][1:]
    return next((a, b) for a, b, char5, _, label in rows if label == "near_dup" and float(char5) < 0.95)


def test_verify_cuts_candidates_whose_estimated_jaccard_is_below_threshold(tmp_path, data_dir):
    near = _near_dup_pair(data_dir)
    rows = _comments(data_dir, [i for pair in BELOW + [near] for i in pair])
    plain, _ = _decide(tmp_path / "plain", rows, DedupConfig(executor="local", verify=False))
    verified, stats = _decide(tmp_path / "verify", rows, DedupConfig(executor="local", verify=True))
    for a, b in BELOW:
        assert len({a, b} & set(plain["id"].to_pylist())) == 1  # LSH alone merges them
        assert {a, b} <= set(verified["id"].to_pylist())  # the signature check separates them
    assert len(set(near) & set(verified["id"].to_pylist())) == 1  # a real near-duplicate still goes
    assert stats.dropped_docs("dedup_near", "near_duplicate") == 1


@pytest.mark.slow
def test_kiwi_morpheme_shingles_find_an_edited_korean_comment(tmp_path, data_dir):
    near = _near_dup_pair(data_dir)
    rows = _comments(data_dir, list(near) + ["kocohub_u5:2", "kocohub_u5:3"])
    shingler = Shingler("morpheme", 3)
    grams = {g.decode() for g in shingler("사과를 먹었다")}
    assert grams == {"사과 를 먹", "를 먹 었", "먹 었 다"}  # Kiwi splits particles and endings off
    morphemes = {"ko": {"kind": "morpheme", "size": 3}}
    kept, _ = _decide(tmp_path, rows, DedupConfig(executor="local", shingles=morphemes))
    ids = set(kept["id"].to_pylist())
    assert len(set(near) & ids) == 1 and {"kocohub_u5:2", "kocohub_u5:3"} <= ids
