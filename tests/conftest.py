"""Shared fixtures: real data from ../shared/data, a local Ray runtime, temp outputs.

Markers for the fast loop (`make test-fast`, `pytest -m "not ray and not slow"`):
- `ray`: given here to every test that uses `ray_local` (directly or through
  another fixture); a test that starts Ray any other way in this process fails,
  naming the fixture. A test whose child process starts Ray (`corpus run` or
  `corpus crawl` without `--serial`) carries `@pytest.mark.ray` itself.
- `slow`: given here to every test that uses one of `SLOW_FIXTURES` (a whole
  pipeline run or a model trained); a test over `SLOW_CPU_SECONDS` by itself
  carries `@pytest.mark.slow`, and the summary lists any such test left unmarked.
"""

from __future__ import annotations

import os
import resource
import sys
from pathlib import Path

import pytest

# Fixture modules: a real S3-compatible server on 127.0.0.1 (`s3_endpoint`, `s3_bucket`).
pytest_plugins = ["tests.s3_server"]

REPO = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("CORPUS_SHARED_DATA", REPO.parent / "shared" / "data"))
WARC = DATA / "warc"
DEMO_WARC = REPO / "data" / "demo" / "demo.warc.gz"

# Fixtures that run a whole pipeline or train a model, here and in test modules
# (test_pipeline, test_pull, test_classifier, test_mix): seconds of CPU before the first test using one.
SLOW_FIXTURES = {"serial_run", "five_warc_run", "demo_run_filters_off", "demo_run", "local_run", "s3_run", "small_model",
                 "two_runs"}
SLOW_CPU_SECONDS = 2.0
UNMARKED_SLOW_PROPERTY = "unmarked_slow_cpu_seconds"
CPU_AT_START = pytest.StashKey[float]()


def pytest_configure(config):
    if not DATA.is_dir():
        raise pytest.UsageError(f"shared test data not found at {DATA}; set CORPUS_SHARED_DATA")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if "ray_local" in used:
            item.add_marker(pytest.mark.ray)
        if used & SLOW_FIXTURES:
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """A test that starts Ray without `ray_local` would slip into the fast loop unmarked."""
    running = _ray_running()
    result = yield
    if not running and _ray_running() and item.get_closest_marker("ray") is None:
        pytest.fail(f"{item.nodeid} started Ray: use the `ray_local` fixture, which marks it `ray`")
    return result


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[CPU_AT_START] = _cpu_seconds()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """CPU seconds, not wall time, so a loaded machine does not make every test look slow.

    Measured from setup to the end of teardown and carried on the teardown report,
    so the summary sees it under pytest-xdist too (workers send reports, not stashes)."""
    report = yield
    if call.when == "teardown" and CPU_AT_START in item.stash:
        spent = _cpu_seconds() - item.stash[CPU_AT_START]
        if spent > SLOW_CPU_SECONDS and not any(item.get_closest_marker(m) for m in ("slow", "ray")):
            report.user_properties.append((UNMARKED_SLOW_PROPERTY, spent))
    return report


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    reports = [r for kind in terminalreporter.stats.values() for r in kind if getattr(r, "when", None) == "teardown"]
    unmarked = sorted((spent, r.nodeid) for r in reports for name, spent in r.user_properties if name == UNMARKED_SLOW_PROPERTY)
    if unmarked:
        title = f"not marked slow, over {SLOW_CPU_SECONDS:g} CPU seconds with the fixtures they set up first"
        terminalreporter.section(title)
        for spent, nodeid in reversed(unmarked):
            terminalreporter.write_line(f"{spent:6.1f} s  {nodeid}")


def _ray_running() -> bool:
    ray = sys.modules.get("ray")
    return ray is not None and ray.is_initialized()


def _cpu_seconds() -> float:
    """This process (every thread) and the child processes it has waited for."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def ray_local():
    """One local Ray runtime for the whole session (starting Ray costs seconds)."""
    import ray

    from corpus.config import RayConfig
    from ray_jobs.pipeline import init_ray

    from ray_jobs.pipeline import RayUnavailable

    cfg = RayConfig(num_cpus=2, object_store_memory_mb=512, progress=False)
    try:
        init_ray(cfg)
    except RayUnavailable:  # GCS start-up can time out on a loaded 2-core machine; every Ray test shares this one
        ray.shutdown()
        init_ray(cfg)
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
    cmd = [sys.executable, "-m", "corpus_cli", "run", "--serial", "--no-progress", "--output", str(out)]
    for path in inputs:
        cmd += ["--input", str(path)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert done.returncode == 0, done.stderr[-2000:]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return out, cpu


@pytest.fixture(scope="session")
def demo_run_filters_off(tmp_path_factory) -> Path:
    """The demo WARC run serially as `tests.runs.run_serial` runs it (filters off, default row groups)."""
    from tests.runs import run_serial

    out = tmp_path_factory.mktemp("demo-filters-off") / "out"
    run_serial(str(out))
    return out


@pytest.fixture(scope="session")
def five_warcs(tmp_path_factory) -> Path:
    """The resume and cluster tests' inputs (see `copy_five_warcs`)."""
    from tests.reference_runs import copy_five_warcs

    return copy_five_warcs(tmp_path_factory.mktemp("warc"), DATA)


@pytest.fixture(scope="session")
def five_warc_run(five_warcs, tmp_path_factory) -> Path:
    """One uninterrupted serial run of `five_warcs` in this process: the reference units."""
    from ray_jobs.pipeline import run
    from tests.reference_runs import five_warc_config

    out = tmp_path_factory.mktemp("full")
    run(five_warc_config(five_warcs, out), executor="serial")
    return out
