"""The speed levers on by default lose no document the previous defaults kept.

The evaluation set is the shared real WARCs the screen was measured on (English
and Korean pages, Japanese shops, Chinese and Russian spam, old crawls), run
through every per-document stage at the product's defaults, once as the
defaults were before the levers and once as they are now.
"""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from corpus.config import load_config
from corpus.storage import LocalStorage
from ray_jobs.unit import UnitModels, WorkUnit, process_unit
from tests.test_screen import WARCS

BEFORE = {"screen.enabled": False}


def _kept(data_dir, tmp_path, overrides):
    models, out = UnitModels(load_config(None, overrides)), LocalStorage(str(tmp_path))
    kept: dict[str, str] = {}
    for name in WARCS:
        entry = process_unit(WorkUnit.for_input(str(data_dir / "warc" / name)), models, out)
        if entry["staged"]:
            table = pq.read_table(out.path(entry["staged"]), columns=["id", "text"])
            kept.update(zip(table["id"].to_pylist(), table["text"].to_pylist()))
    return kept


@pytest.mark.slow
def test_the_fast_defaults_keep_every_document_the_previous_defaults_kept(data_dir, tmp_path):
    before = _kept(data_dir, tmp_path / "before", BEFORE)
    now = _kept(data_dir, tmp_path / "now", {})
    assert len(before) >= 100
    assert sorted(set(before) - set(now)) == []
