"""A work unit's stages: one list, in order, each fitting the one stage contract (corpus/stages.py)."""

from __future__ import annotations

import json

from corpus.config import RunConfig
from corpus.stats import Stats
from ray_jobs.unit import run_stages, unit_stages
from ray_jobs.warm_up import warm_up_records


def _every_stage_on(tmp_path) -> RunConfig:
    bench = tmp_path / "bench.jsonl"
    bench.write_text(json.dumps({"question": "어느 나라의 수도가 서울인가요 그리고 그 인구는 얼마인가요"}) + "\n", encoding="utf-8")
    return RunConfig(screen={"enabled": True}, decontam={"benchmarks": [{"name": "toy", "files": [str(bench)]}]},
                     pii={"key": "test-key"})


def test_stages_run_screen_extract_langid_then_document_stages_with_token_counting_last(tmp_path):
    stages = unit_stages(_every_stage_on(tmp_path), {})
    assert [s.name for s in stages] == [
        "screen", "extract", "langid", "quality", "decontam", "pii", "dedup_signatures", "tokens"
    ]


def test_a_stage_that_is_off_is_not_in_the_list(tmp_path):
    cfg = RunConfig(screen={"enabled": False}, quality={"enabled": False}, pii={"enabled": False},
                    dedup={"enabled": False}, tokenizer={"count": False})
    assert [s.name for s in unit_stages(cfg, {})] == ["extract", "langid"]


def test_each_stage_is_counted_in_list_order_and_pages_become_documents_at_extraction(tmp_path):
    class Models:  # what run_stages reads of UnitModels
        stages = unit_stages(_every_stage_on(tmp_path), {})

    stats = Stats()
    kept, _, _ = run_stages(warm_up_records(), Models, stats)
    assert list(stats.stages) == ["read"] + [s.name for s in Models.stages]
    assert kept.num_rows == 2 and kept["n_tokens"].null_count == 0
    assert {"text", "lang", "quality_score", "pii", "_dedup_key"} <= set(kept.column_names)
    assert not {"payload", "payload_size", "content_type"} & set(kept.column_names)
