"""fastText supervised quality classifier: curated reference text versus random web text.

The project trains what it uses: `corpus train-quality` builds the labelled
set (filters/reference_text.py), holds back a deterministic split, trains with
one thread (so the same data and seed give the same model) and quantizes to a
small `.ftz`. `quality_score` is the model's probability of the `hq` label.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import fasttext
import numpy as np

from corpus.config import QualityConfig
from filters.rule import BatchFigures, Check, Rule

HQ, LQ = "__label__hq", "__label__lq"
_SPACE = re.compile(r"\s+")

# fastText prints a deprecation warning on every load_model; it says nothing useful here.
fasttext.FastText.eprint = lambda *args, **kwargs: None


@dataclass(frozen=True)
class TrainSettings:
    """fastText hyper-parameters; character n-grams carry Korean, whose eojeol vary by ending."""

    epoch: int = 15
    lr: float = 0.5
    dim: int = 32
    word_ngrams: int = 2
    minn: int = 2
    maxn: int = 4
    bucket: int = 200_000
    max_chars: int = 3000
    holdout: float = 0.2
    seed: int = 0
    quantize: bool = True


@dataclass(frozen=True)
class Evaluation:
    precision: float
    recall: float
    accuracy: float
    n_pos: int
    n_neg: int

    def __str__(self) -> str:
        return (
            f"precision {self.precision:.3f}  recall {self.recall:.3f}  accuracy {self.accuracy:.3f}"
            f"  (held back: {self.n_pos} hq, {self.n_neg} lq)"
        )


class QualityClassifier:
    """A trained model, loaded once per worker."""

    def __init__(self, path: str | Path, max_chars: int = 3000) -> None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(
                f"quality model not found at {path}: run `corpus train-quality` or set quality.classifier"
            )
        self.model = fasttext.load_model(str(path))
        self.max_chars = max_chars

    def score(self, texts: list[str | None]) -> np.ndarray:
        """Probability that each text is curated-quality prose, float32 in [0, 1]."""
        if not texts:
            return np.zeros(0, np.float32)
        labels, probs = self.model.predict([prepare(t or "", self.max_chars) for t in texts], k=2)
        out = np.zeros(len(texts), np.float32)
        for i, (labs, ps) in enumerate(zip(labels, probs)):
            for lab, p in zip(labs, ps):
                if lab == HQ:
                    out[i] = min(float(p), 1.0)
        return out

    def evaluate(self, texts: list[str], labels: list[int], threshold: float = 0.5) -> Evaluation:
        predicted = self.score(texts) >= threshold
        truth = np.asarray(labels, bool)
        tp = int(np.sum(predicted & truth))
        return Evaluation(
            precision=tp / max(int(predicted.sum()), 1),
            recall=tp / max(int(truth.sum()), 1),
            accuracy=float(np.mean(predicted == truth)) if len(truth) else 0.0,
            n_pos=int(truth.sum()),
            n_neg=int((~truth).sum()),
        )


def train(
    texts: list[str], labels: list[int], output: str | Path, settings: TrainSettings = TrainSettings()
) -> tuple[QualityClassifier, Evaluation]:
    """Train on the kept split, save to `output`, and evaluate on the held-back split.

    `labels` are 1 for curated text, 0 for web text. The split is by a hash of
    the text, so it does not depend on input order.
    """
    train_rows, held_rows = split(texts, settings.holdout, settings.seed)
    classifier = fit([texts[i] for i in train_rows], [labels[i] for i in train_rows], output, settings)
    evaluation = classifier.evaluate([texts[i] for i in held_rows], [labels[i] for i in held_rows])
    return classifier, evaluation


def fit(
    texts: list[str], labels: list[int], output: str | Path, settings: TrainSettings = TrainSettings()
) -> QualityClassifier:
    """Train on all of `texts` (label 1 curated, 0 web), quantize if asked, save to `output` and load it back."""
    if len(set(labels)) < 2:
        raise ValueError("training needs both positive (curated) and negative (web) examples")
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="quality-train-") as tmp:
        train_file = Path(tmp) / "train.txt"
        with train_file.open("w", encoding="utf-8") as fh:
            for text, label in zip(texts, labels):
                fh.write(f"{HQ if label else LQ} {prepare(text, settings.max_chars)}\n")
        model = fasttext.train_supervised(
            input=str(train_file),
            epoch=settings.epoch,
            lr=settings.lr,
            dim=settings.dim,
            wordNgrams=settings.word_ngrams,
            minn=settings.minn,
            maxn=settings.maxn,
            bucket=settings.bucket,
            thread=1,
            seed=settings.seed,
            verbose=0,
        )
        if settings.quantize:
            model.quantize(input=str(train_file), qnorm=True, retrain=True, cutoff=50_000, thread=1, verbose=0)
    model.save_model(str(output))
    return QualityClassifier(output, settings.max_chars)


def split(texts: list[str], holdout: float, seed: int = 0) -> tuple[list[int], list[int]]:
    """Deterministic train / held-back row indices, by a seeded hash of each text."""
    kept, held = [], []
    for i, text in enumerate(texts):
        digest = hashlib.sha1(f"{seed}:{text}".encode("utf-8", "surrogatepass")).digest()
        (held if int.from_bytes(digest[:4], "big") / 2**32 < holdout else kept).append(i)
    return kept, held


def prepare(text: str, max_chars: int) -> str:
    """One line of lower-cased, space-normalised text, as fastText reads it."""
    return _SPACE.sub(" ", text[:max_chars].lower()).strip()


def _measure(cfg: QualityConfig) -> BatchFigures | None:
    if "quality_classifier" not in cfg.rules:
        return None
    classifier = QualityClassifier(cfg.classifier_path(), cfg.classifier_max_chars)
    return lambda docs, domains: {"quality_score": classifier.score([d.text for d in docs])}


RULE = Rule(
    name="quality_classifier",
    measure=_measure,
    checks=(Check("quality_classifier", "quality_score", "min", "min_quality_score"),),
    per_document=False,
)
