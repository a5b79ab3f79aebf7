"""What `corpus run` prints: its own progress and summary, Ray kept quiet, a dying runtime reported."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import psutil
import pytest

from tests.conftest import DEMO_WARC, WARC

pytestmark = [pytest.mark.ray, pytest.mark.slow, pytest.mark.timeout(600)]


def corpus_run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "corpus_cli", "run", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=500, **kwargs)


def test_a_run_shows_its_own_progress_and_a_cost_summary_then_a_rerun_is_already_complete(tmp_path):
    out = tmp_path / "out"
    first = corpus_run("--input", str(DEMO_WARC), "--output", str(out), "--workers", "1")
    assert first.returncode == 0, first.stderr[-3000:]
    assert "documents/s" in first.stderr and "MB/s" in first.stderr and "1/1 files" in first.stderr
    assert "streaming_executor" not in first.stderr and "INFO" not in first.stderr  # Ray Data's log block
    assert "wall time" in first.stdout and "USD per million tokens" in first.stdout
    assert f"report: {out}/report.html" in first.stdout
    again = corpus_run("--input", str(DEMO_WARC), "--output", str(out), "--workers", "1")
    assert again.returncode == 0 and "already complete" in again.stdout


def test_a_local_ray_runtime_that_dies_is_a_failed_line_saying_rerun(tmp_path):
    inputs = sorted(str(p) for p in WARC.glob("*/*.warc.gz")) + [str(DEMO_WARC)]
    cmd = [sys.executable, "-m", "corpus_cli", "run", "--output", str(tmp_path / "out"), "--no-progress", "--workers", "1"]
    for path in inputs:
        cmd += ["--input", path]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_child(proc.pid, "UnitProcessor", timeout=300)  # Ray is up and the units are under way
    _wait_for_child(proc.pid, "raylet", timeout=10).send_signal(signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 1, stderr[-3000:]
    assert "failed: the Ray runtime stopped during the run" in stderr and "rerun the same command to resume" in stderr
    assert "StackTrace" not in stderr and "Traceback" not in stderr
    assert len(stderr.splitlines()) < 15, stderr
    assert "Raylet is terminated" not in stdout  # Ray's error reports stay in its logs without --verbose


def _wait_for_child(pid: int, word: str, timeout: float) -> psutil.Process:
    """The first process under `pid` whose command line holds `word` (Ray names its processes so)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in psutil.Process(pid).children(recursive=True):
            try:
                if word in " ".join(child.cmdline()):
                    return child
            except psutil.Error:
                continue
        time.sleep(0.5)
    raise AssertionError(f"no process with {word!r} under {pid} in {timeout}s")
