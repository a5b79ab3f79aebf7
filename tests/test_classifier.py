"""fastText quality classifier: trains from curated vs web text and separates a held-back split."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from corpus.config import QualityConfig
from corpus.stats import Stats
from corpus_cli.main import app
from filters import reference_text as rt
from filters.classifier import QualityClassifier, TrainSettings, split, train
from filters.eval_sets import evaluation_sets
from filters.quality import QualityFilter

SMALL = TrainSettings(epoch=15, dim=16, quantize=False)


@pytest.fixture(scope="module")
def labelled(data_dir) -> tuple[list[str], list[int]]:
    positives = rt.korquad_paragraphs(data_dir)[::4] + rt.chunks(rt.english_articles(data_dir))[::2]
    negatives = rt.chunks(rt.common_crawl_text(data_dir))[::3] + rt.news_comment_groups(data_dir, limit=150)
    return positives + negatives, [1] * len(positives) + [0] * len(negatives)


@pytest.fixture(scope="module")
def small_model(labelled, tmp_path_factory):
    texts, labels = labelled
    return train(texts, labels, tmp_path_factory.mktemp("q") / "small.bin", SMALL)


def test_small_model_separates_the_held_back_split(small_model):
    _, evaluation = small_model
    assert evaluation.n_pos > 30 and evaluation.n_neg > 30
    assert evaluation.accuracy >= 0.85
    assert evaluation.precision >= 0.8 and evaluation.recall >= 0.8


def test_training_is_deterministic(labelled, small_model, tmp_path):
    texts, labels = labelled
    again, _ = train(texts, labels, tmp_path / "again.bin", SMALL)
    first, _ = small_model
    _, held = split(texts, SMALL.holdout, SMALL.seed)
    probe = [texts[i] for i in held[:50]]
    assert np.array_equal(first.score(probe), again.score(probe))


def test_split_ignores_input_order():
    texts = [f"document {i}" for i in range(200)]
    _, held = split(texts, 0.2)
    _, held_reversed = split(texts[::-1], 0.2)
    assert {texts[i] for i in held} == {texts[::-1][i] for i in held_reversed}
    assert 20 < len(held) < 60


def test_training_refuses_a_single_class(tmp_path):
    with pytest.raises(ValueError, match="both positive"):
        train(["a good text"] * 10, [1] * 10, tmp_path / "m.bin", SMALL)


def held_back(data_dir, name: str, lang: str) -> list[str]:
    """Texts of one evaluation set's held-back half: the shipped model never trained on them."""
    sets = [s for s in evaluation_sets(data_dir) if s.name == name and s.lang == lang]
    return [s.text for s in sets[0].half("held-back").samples]


@pytest.mark.slow
def test_shipped_model_scores_every_clean_register_above_real_junk(data_dir):
    """Forum comments, blogs and 1920s prose are clean registers now; Instagram ads are the junk."""
    model = QualityClassifier(QualityConfig().classifier_path())
    ads = [t for t in held_back(data_dir, "instagram ads", "ko") if len(t) >= 200][:200]
    assert np.median(model.score(ads)) < 0.2
    for name in ("encyclopedic (KorQuAD Wikipedia)", "forum comments (news comments)", "developer blog (goodgid)",
                 "archaic prose (1920s magazine)"):
        assert np.median(model.score(held_back(data_dir, name, "ko"))) > 0.8, name


@pytest.mark.slow
def test_stage_adds_quality_score_and_drops_below_threshold(data_dir):
    stage = QualityFilter(QualityConfig(rules=["quality_classifier"]))
    ads = [t for t in held_back(data_dir, "instagram ads", "ko") if len(t) >= 200][:20]
    paragraphs = held_back(data_dir, "encyclopedic (KorQuAD Wikipedia)", "ko")[:20]
    table = pa.table({"text": paragraphs + ads, "lang": ["ko"] * 40})
    table, reasons = stage.apply(table, Stats())
    scores = table["quality_score"].to_numpy()
    assert ((scores >= 0) & (scores <= 1)).all()
    dropped = [r == "quality_classifier" for r in reasons.to_pylist()]
    assert sum(dropped[:20]) <= 1 and sum(dropped[20:]) >= 15


def test_missing_model_says_how_to_get_one(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-quality"):
        QualityClassifier(tmp_path / "none.ftz")


@pytest.mark.slow
def test_train_quality_from_a_teams_own_labelled_files(data_dir, tmp_path):
    """Curated text as JSON lines (with one broken line), web text as a run's Parquet shard."""
    curated = tmp_path / "curated.jsonl.gz"
    lines = [json.dumps({"text": t, "source": "korquad"}, ensure_ascii=False) for t in rt.korquad_paragraphs(data_dir)[:400]]
    curated.write_bytes(gzip.compress("\n".join(lines[:200] + ["{not json", '{"title": "no text"}'] + lines[200:]).encode()))
    web = tmp_path / "web.parquet"
    pq.write_table(pa.table({"id": range(300), "text": rt.news_comment_groups(data_dir, limit=300)}), web)
    model = tmp_path / "team.ftz"
    result = CliRunner().invoke(
        app,
        ["train-quality", "--positive", str(curated), "--negative", str(web), "-o", str(model), "--epoch", "15", "--no-quantize"],
    )
    assert result.exit_code == 0, result.output
    text = "".join(result.output.split())  # the console wraps long paths anywhere, even inside a name
    assert f"{curated}(hq):400examples" in text and f"{web}(lq):300examples" in text
    assert f"{curated}:2line(s)skipped" in text
    scores = QualityClassifier(model).score(rt.korquad_paragraphs(data_dir)[400:450] + rt.news_comment_groups(data_dir, limit=400)[-50:])
    assert np.median(scores[:50]) > 0.7 and np.median(scores[50:]) < 0.3


def test_train_quality_needs_both_classes_of_files(tmp_path):
    only = tmp_path / "curated.txt"
    only.write_text("a curated sentence\n")
    result = CliRunner().invoke(app, ["train-quality", "--positive", str(only), "-o", str(tmp_path / "m.ftz")])
    assert result.exit_code == 2
    assert "--positive and --negative go together" in result.output
    missing = CliRunner().invoke(
        app, ["train-quality", "--positive", str(only), "--negative", str(tmp_path / "none.jsonl"), "-o", str(tmp_path / "m.ftz")]
    )
    assert missing.exit_code == 1 and "none.jsonl" in missing.output


@pytest.mark.slow
def test_training_by_register_fits_the_calibration_half_and_judges_each_register_on_the_other(data_dir, tmp_path):
    from ray_jobs.quality_training import train_by_register

    korquad = rt.korquad_paragraphs(data_dir)
    ads = [t for t in held_back(data_dir, "instagram ads", "ko") if len(t) >= 200]
    halves = {
        "calibration": {("wiki", 1): korquad[:150], ("ads", 0): ads[:150]},
        "held-back": {("wiki", 1): korquad[150:250], ("ads", 0): ads[150:250]},
    }
    _, evaluation, per_source = train_by_register(halves, tmp_path / "m.bin", SMALL, None)
    assert per_source[("wiki", 1)][:2] == (150, 100) and per_source[("ads", 0)][:2] == (150, 100)
    assert per_source[("wiki", 1)][2] >= 0.9 and per_source[("ads", 0)][2] >= 0.8
    assert evaluation.n_pos == 100 and evaluation.n_neg == 100
