"""Running the pipeline in tests: serial (no Ray), any output URI, config overrides."""

from __future__ import annotations

from corpus.config import load_config
from ray_jobs.finalize import RunResult
from ray_jobs.pipeline import run
from tests.conftest import DEMO_WARC


def run_serial(output: str, inputs: list[str] | None = None, **overrides) -> RunResult:
    """One run of `inputs` (default: the demo WARC) into `output`, local path or s3://."""
    inputs = inputs or [str(DEMO_WARC)]
    cfg = load_config(None, {"input": inputs, "output": str(output), "ray.progress": False, **overrides})
    return run(cfg, executor="serial")
