"""Running the pipeline in tests: serial (no Ray), any output URI, config overrides."""

from __future__ import annotations

from pathlib import Path

from corpus.config import load_config
from ray_jobs.finalize import RunResult
from ray_jobs.pipeline import run
from tests.conftest import DEMO_WARC

# Publishing, pulling and token counting do not depend on which documents the
# filters keep; turning them off keeps these tests about what they test (and
# keeps the demo's few English pages in, so both languages reach the shards).
FILTERS_OFF = {"quality.enabled": False, "pii.enabled": False, "dedup.enabled": False}


def run_serial(output: str | Path, inputs: list[str | Path] | None = None, *, filters: bool = False, **overrides) -> RunResult:
    """One run of `inputs` (default: the demo WARC) into `output`, local path or s3://,
    with quality, PII and dedup off unless `filters`."""
    inputs = [str(p) for p in inputs] if inputs else [str(DEMO_WARC)]
    stages = {} if filters else FILTERS_OFF
    settings = {"input": inputs, "output": str(output), "ray.progress": False, **stages, **overrides}
    return run(load_config(None, settings), executor="serial")
