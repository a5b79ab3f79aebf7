"""Shared fixtures: real data from ../shared/data, a local Ray runtime, temp outputs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Fixture modules: a real S3-compatible server on 127.0.0.1 (`s3_endpoint`, `s3_bucket`).
pytest_plugins = ["tests.s3_server"]

REPO = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("CORPUS_SHARED_DATA", REPO.parent / "shared" / "data"))
WARC = DATA / "warc"
DEMO_WARC = REPO / "data" / "demo" / "demo.warc.gz"


def pytest_configure(config):
    if not DATA.is_dir():
        raise pytest.UsageError(f"shared test data not found at {DATA}; set CORPUS_SHARED_DATA")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def ray_local():
    """One local Ray runtime for the whole session (starting Ray costs seconds)."""
    import ray

    from corpus.config import RayConfig
    from ray_jobs.pipeline import init_ray

    init_ray(RayConfig(num_cpus=2, object_store_memory_mb=512, progress=False))
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def serial_run(tmp_path_factory):
    """A real `corpus run --serial` over two WARCs (English, and English plus Korean),
    in a child process; returns (output folder, CPU seconds the OS accounted to it)."""
    import resource
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("serial-run") / "out"
    inputs = [WARC / "dolma" / "sample-0000.warc.gz", WARC / "constructed" / "aeb_and_korean_feeds.warc.gz"]
    cmd = [sys.executable, "-m", "corpus.cli", "run", "--serial", "--no-progress", "--output", str(out)]
    for path in inputs:
        cmd += ["--input", str(path)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert done.returncode == 0, done.stderr[-2000:]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return out, cpu
