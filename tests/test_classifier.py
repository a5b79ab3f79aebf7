"""fastText quality classifier: trains from curated vs web text and separates a held-back split."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from corpus.config import QualityConfig
from corpus.stats import Stats
from filters import reference_text as rt
from filters.classifier import QualityClassifier, TrainSettings, split, train
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


def test_shipped_model_scores_curated_above_web_text(data_dir):
    model = QualityClassifier(QualityConfig().classifier_path())
    _, held_ko = split(rt.korquad_paragraphs(data_dir), 0.2)
    curated = [rt.korquad_paragraphs(data_dir)[i] for i in held_ko]
    comments = rt.news_comment_groups(data_dir, limit=1000)[-100:]  # past the 300 used in training
    assert np.median(model.score(curated)) > 0.8
    assert np.median(model.score(comments)) < 0.2


def test_stage_adds_quality_score_and_drops_below_threshold(data_dir):
    stage = QualityFilter(QualityConfig(rules=["quality_classifier"]))
    comments = rt.news_comment_groups(data_dir, limit=1000)[-20:]
    paragraphs = rt.korquad_paragraphs(data_dir)[:20]
    table = pa.table({"text": paragraphs + comments, "lang": ["ko"] * 40})
    table, reasons = stage.apply(table, Stats())
    scores = table["quality_score"].to_numpy()
    assert ((scores >= 0) & (scores <= 1)).all()
    dropped = [r == "quality_classifier" for r in reasons.to_pylist()]
    assert sum(dropped[:20]) <= 1 and sum(dropped[20:]) >= 15


def test_missing_model_says_how_to_get_one(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-quality"):
        QualityClassifier(tmp_path / "none.ftz")
