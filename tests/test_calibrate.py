"""`corpus calibrate`: thresholds fitted to clean and junk samples, a fragment `corpus run` accepts, clear errors."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from corpus.config import QualityConfig, load_config
from corpus_cli.main import app
from filters import junk_pages
from filters import reference_text as rt
from filters.calibrate import CalibrationError, Labelled, calibrate

FAST = QualityConfig(rules=["spam", "hashtags", "korean", "gopher_quality", "gopher_repetition", "c4", "fineweb"])


@pytest.fixture(scope="module")
def files(data_dir, tmp_path_factory):
    """Two clean registers (JSON lines, Parquet) and two junk types (plain text, JSON lines)."""
    root = tmp_path_factory.mktemp("calibrate")
    news = root / "news.jsonl"
    news.write_text("\n".join(json.dumps({"text": t}, ensure_ascii=False) for t in rt.klue_documents(data_dir)[:60]),
                    encoding="utf-8")
    wiki = root / "wiki.parquet"
    pq.write_table(pa.table({"text": rt.korquad_paragraphs(data_dir)[:60]}), wiki)
    menus = root / "menus.txt"
    menus.write_text("\n".join(p.replace("\n", " ") for p in junk_pages.pages("portal_menu", "ko", 40)), encoding="utf-8")
    gambling = root / "gambling.jsonl"
    gambling.write_text("\n".join(json.dumps({"text": t}, ensure_ascii=False)
                                  for t in junk_pages.pages("gambling", "ko", 40)), encoding="utf-8")
    return {"news": news, "wiki": wiki, "menus": menus, "gambling": gambling, "root": root}


@pytest.mark.slow
def test_fitted_thresholds_keep_every_clean_register_and_drop_junk(data_dir):
    clean = [Labelled("wiki", True, rt.korquad_paragraphs(data_dir)[:80]),
             Labelled("news", True, rt.klue_documents(data_dir)[:80])]
    junk = [Labelled("gambling", False, junk_pages.pages("gambling", "ko", 40)),
            Labelled("seo", False, junk_pages.pages("seo_keywords", "ko", 40))]
    # Start from thresholds far too strict for Korean prose: calibration must relax them.
    strict = FAST.model_copy(update={"ko": FAST.ko.model_copy(update={"min_words": 400})})
    result = calibrate(clean + junk, "ko", keep=0.97, cfg=strict)
    before = {name: kept for name, _, _, kept in result.before}
    after = {name: kept for name, _, _, kept in result.after}
    assert before["wiki"] < 0.5
    assert after["wiki"] >= 0.97 and after["news"] >= 0.97
    assert after["gambling"] <= 0.05 and after["seo"] <= 0.05


@pytest.mark.slow
def test_calibrate_writes_a_fragment_corpus_run_accepts(files, tmp_path):
    out = tmp_path / "thresholds.yaml"
    result = CliRunner().invoke(app, [
        "calibrate", "--clean", str(files["news"]), "--clean", str(files["wiki"]),
        "--junk", str(files["menus"]), "--junk", str(files["gambling"]), "--lang", "ko", "--output", str(out),
    ])
    assert result.exit_code == 0, result.output
    assert "before" in result.output and "after" in result.output
    fragment = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert set(fragment) == {"quality"} and set(fragment["quality"]) == {"ko"}
    cfg = load_config(out)
    assert cfg.quality.ko.model_dump() != QualityConfig().ko.model_dump()
    assert cfg.quality.en == QualityConfig().en


@pytest.mark.parametrize("problem", ["empty", "unknown_lang", "too_small", "no_junk", "missing_file"])
def test_calibrate_refuses_bad_inputs_with_exit_2(files, tmp_path, problem):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    small = tmp_path / "small.txt"
    small.write_text("한 줄짜리 문서입니다.\n" * 5, encoding="utf-8")
    clean, junk, lang = [str(files["news"])], [str(files["gambling"])], "ko"
    expected = {
        "empty": "no documents", "unknown_lang": "unknown language 'xx'", "too_small": "too few to calibrate on",
        "no_junk": "--junk", "missing_file": "cannot read",
    }[problem]
    if problem == "empty":
        clean.append(str(empty))
    elif problem == "unknown_lang":
        lang = "xx"
    elif problem == "too_small":
        junk = [str(small)]
    elif problem == "missing_file":
        junk = [str(tmp_path / "nope.jsonl")]
    args = ["calibrate", "--lang", lang]
    for path in clean:
        args += ["--clean", path]
    if problem != "no_junk":
        for path in junk:
            args += ["--junk", path]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert expected in " ".join(result.output.split())


def test_calibration_needs_both_sides():
    with pytest.raises(CalibrationError, match="clean .* and junk"):
        calibrate([Labelled("a", True, ["텍스트"] * 30)], "ko", cfg=FAST)
