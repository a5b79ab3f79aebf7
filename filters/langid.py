"""Language identification with a fastText LID model (lid.176, GlotLID, ...).

The model is loaded once per worker by whoever owns the process; the functions
here only take texts and give back labels, so they run the same in a test, a
loop or a Ray actor.
"""

from __future__ import annotations

from pathlib import Path

import fasttext
import pyarrow as pa

from corpus.config import MODELS_DIR, LangIdConfig
from corpus.stats import Stats

DEFAULT_LID_MODEL = MODELS_DIR / "lid.176.ftz"

# fastText prints a deprecation warning on every load_model; it says nothing useful here.
fasttext.FastText.eprint = lambda *args, **kwargs: None


class LanguageIdentifier:
    """Stage `langid`: a loaded fastText LID model and the run's language policy."""

    name = "langid"

    def __init__(self, cfg: LangIdConfig) -> None:
        self.cfg = cfg
        self.model = fasttext.load_model(str(resolve_model_path(cfg)))

    def predict(self, texts: list[str]) -> tuple[list[str], list[float]]:
        """Top language and its probability for each text (newlines flattened, clipped)."""
        if not texts:
            return [], []
        flat = [" ".join(t[: self.cfg.max_chars].split()) for t in texts]
        labels, probs = self.model.predict(flat, k=1)
        langs = [lab[0].removeprefix("__label__") if lab else "und" for lab in labels]
        scores = [float(min(p[0], 1.0)) if len(p) else 0.0 for p in probs]
        return langs, scores

    def apply(self, table: pa.Table, stats: Stats) -> tuple[pa.Table, pa.Array]:
        """Add `lang` and `lang_score`; return the table and the drop reasons."""
        langs, scores = self.predict(table["text"].to_pylist())
        reasons = [self.decide(lang, score) for lang, score in zip(langs, scores)]
        table = table.append_column("lang", pa.array(langs, pa.string()))
        table = table.append_column("lang_score", pa.array(scores, pa.float32()))
        return table, pa.array(reasons, pa.string())

    def decide(self, lang: str, score: float) -> str | None:
        if lang not in self.cfg.languages:
            return "other_language"
        if score < self.cfg.threshold(lang):
            return "low_confidence"
        return None


def resolve_model_path(cfg: LangIdConfig) -> Path:
    path = Path(cfg.model) if cfg.model else DEFAULT_LID_MODEL
    if not path.is_file():
        hint = "run `make setup` to unpack lid.176.ftz" if not cfg.model else "check langid.model in the config"
        raise FileNotFoundError(f"fastText language-ID model not found at {path}: {hint}")
    return path
