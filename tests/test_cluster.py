"""`corpus submit` against a real two-node Ray cluster started with `ray start`.

The cluster runs in its own processes (isolated temp dir and HOME, token
authentication on, free ports on 127.0.0.1) and is driven only through the Jobs
API, so it never meets the in-process `ray_local` of other test files. Each node
is a `ray start --block` in its own session: killing that session is losing the
node, and the fixture kills both sessions at the end.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
from typer.testing import CliRunner

from corpus.cli import app
from tests.conftest import REPO

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]

VENV_BIN = Path(sys.executable).parent
JOB_TIMEOUT = 180


class TwoNodeCluster:
    """A head and a worker node, one CPU each, on 127.0.0.1."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.token = secrets.token_hex(16)
        self.env = {
            **os.environ,
            "HOME": str(root / "home"),
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "RAY_USAGE_STATS_ENABLED": "0",
            "RAY_AUTH_MODE": "token",
            "RAY_AUTH_TOKEN": self.token,
        }
        for name in ("RAY_ADDRESS", "CORPUS_SHARED_DATA"):
            self.env.pop(name, None)
        (root / "home").mkdir()
        self.gcs_port = _free_port()
        self.dashboard_port = _free_port()
        self.address = f"http://127.0.0.1:{self.dashboard_port}"
        self.nodes: dict[str, subprocess.Popen] = {}

    def start(self) -> None:
        self.nodes["head"] = self._start_node(
            "head",
            ["--head", "--port", str(self.gcs_port), "--include-dashboard", "true", "--dashboard-host", "127.0.0.1",
             "--dashboard-port", str(self.dashboard_port), "--ray-client-server-port", str(_free_port())],
        )
        self._wait_for(lambda: self._cpus() >= 1, "head node")
        self.nodes["worker"] = self._start_node("worker", ["--address", f"127.0.0.1:{self.gcs_port}"])
        self._wait_for(lambda: self._cpus() >= 2, "worker node")

    def kill_node(self, name: str) -> None:
        """Lose a node: SIGKILL every process of its session (raylet, agents, workers)."""
        sid = self.nodes[name].pid
        for proc in psutil.process_iter():
            try:
                if os.getsid(proc.pid) == sid:
                    proc.kill()
            except (ProcessLookupError, psutil.Error):
                pass
        self.nodes[name].wait(30)

    def stop(self) -> None:
        for name in ("worker", "head"):
            if name in self.nodes and self.nodes[name].poll() is None:
                self.kill_node(name)

    def processes(self, title: str) -> list[psutil.Process]:
        """This cluster's processes whose command line mentions `title` (Ray names actors so)."""
        sids = {p.pid for p in self.nodes.values()}
        found = []
        for proc in psutil.process_iter():
            try:
                if os.getsid(proc.pid) in sids and title in " ".join(proc.cmdline()):
                    found.append(proc)
            except (ProcessLookupError, psutil.Error):
                pass
        return found

    def cli(self, *args: str, token: bool = True):
        """`corpus ARGS --address …` in this process, as a user with (or without) the token."""
        env = {"RAY_AUTH_TOKEN": self.token if token else ""}
        return CliRunner().invoke(app, [*args, "--address", self.address], env=env)

    def _start_node(self, name: str, args: list[str]) -> subprocess.Popen:
        temp = Path(tempfile.mkdtemp(prefix=f"r{name[0]}", dir=self.root))  # short: unix socket paths
        command = [
            str(VENV_BIN / "ray"), "start", "--block", "--num-cpus", "1", "--node-ip-address", "127.0.0.1",
            "--temp-dir", str(temp), "--object-store-memory", str(128 * 1024 * 1024), "--disable-usage-stats",
            "--node-manager-port", str(_free_port()), "--object-manager-port", str(_free_port()),
            "--dashboard-agent-listen-port", str(_free_port()), "--dashboard-agent-grpc-port", str(_free_port()),
            "--runtime-env-agent-port", str(_free_port()), "--metrics-export-port", str(_free_port()),
            *args,
        ]  # fmt: skip
        log = open(self.root / f"{name}.log", "wb")
        return subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def _cpus(self) -> float:
        request = urllib.request.Request(
            f"{self.address}/nodes?view=summary", headers={"Authorization": f"Bearer {self.token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                nodes = json.load(response)["data"]["summary"]
        except (OSError, ValueError, KeyError):  # not up yet
            return 0
        return sum(n["raylet"]["resourcesTotal"].get("CPU", 0) for n in nodes if n["raylet"]["state"] == "ALIVE")

    def _wait_for(self, ready, what: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.nodes.values()):
                logs = "\n".join((self.root / f"{n}.log").read_text(errors="replace")[-2000:] for n in self.nodes)
                raise RuntimeError(f"{what} did not come up:\n{logs}")
            time.sleep(0.5)


@pytest.fixture(scope="module")
def cluster():
    root = Path(tempfile.mkdtemp(prefix="crb-", dir="/tmp"))
    cluster = TwoNodeCluster(root)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, data_dir) -> Path:
    """Six real WARCs; two copies of the 5 MB one keep units in flight long enough to kill."""
    folder = tmp_path_factory.mktemp("warc")
    big = data_dir / "warc/constructed/aeb_and_korean_feeds.warc.gz"
    for n in (1, 2):
        shutil.copy(big, folder / f"feeds-{n}.warc.gz")
    for rel in ("dolma/sample-0000.warc.gz", "resiliparse/clueweb-quirk.warc.gz", "resiliparse/warcfile.warc.gz",
                "ukwa/IAH-urls-wget.warc.gz"):  # fmt: skip
        shutil.copy(data_dir / "warc" / rel, folder / rel.replace("/", "-"))
    return folder


@pytest.fixture(scope="module")
def reference(cluster, inputs, tmp_path_factory):
    """An uninterrupted submitted run: job id, output folder, CLI result."""
    out = tmp_path_factory.mktemp("reference")
    result = cluster.cli("submit", "--input", f"{inputs}/*.warc.gz", "--output", str(out), "--wait")
    return result, out


def test_submit_wait_runs_the_job_to_completion(reference):
    result, out = reference
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["languages"]["en"]["docs"] > 100 and manifest["languages"]["ko"]["docs"] > 0
    job_id = result.stdout.splitlines()[0]
    assert job_id.startswith("corpus-")
    assert "output by language" in result.stdout  # the job's own log, streamed by --wait


def test_status_and_logs_of_a_finished_job(cluster, reference):
    job_id = reference[0].stdout.splitlines()[0]
    status = cluster.cli("status", job_id)
    assert status.exit_code == 0 and "SUCCEEDED" in status.stdout
    listing = cluster.cli("status")
    assert job_id in listing.stdout
    logs = cluster.cli("logs", job_id)
    assert logs.exit_code == 0 and "6 input files, 0 already done, 6 to process" in logs.stdout


def test_second_submit_of_the_same_run_is_reported_not_repeated(cluster, reference, inputs):
    result, out = reference
    again = cluster.cli("submit", "--input", f"{inputs}/*.warc.gz", "--output", str(out))
    assert again.exit_code == 0
    assert again.stdout.splitlines()[0] == result.stdout.splitlines()[0]
    assert "already submitted" in again.stderr and "SUCCEEDED" in again.stderr
    listing = cluster.cli("status").stdout
    assert listing.count("corpus-") == len(set(line.split()[1] for line in listing.splitlines() if "corpus-" in line))


def test_requests_without_the_token_are_refused(cluster):
    result = cluster.cli("status", token=False)
    assert result.exit_code == 1
    assert "Authentication" in result.stderr or "token" in result.stderr


def test_killed_worker_mid_run_ends_with_identical_output(cluster, reference, inputs, tmp_path):
    out = tmp_path / "out"
    submitted = cluster.cli("submit", "--input", f"{inputs}/*.warc.gz", "--output", str(out))
    job_id = submitted.stdout.splitlines()[0]
    done_at_kill = _wait_for_ledgers(out, at_least=1)
    victims = cluster.processes("UnitProcessor")
    assert victims and done_at_kill < 6, "the kill must land while units are still running"
    for proc in victims:
        proc.kill()
    followed = cluster.cli("logs", job_id, "--follow")
    assert followed.exit_code == 0, followed.output
    assert _published(out) == _published(reference[1])


def test_stopped_job_resumes_and_ends_with_identical_output(cluster, reference, inputs, tmp_path):
    out = tmp_path / "out"
    args = ("submit", "--input", f"{inputs}/*.warc.gz", "--output", str(out))
    first = cluster.cli(*args).stdout.splitlines()[0]
    _wait_for_ledgers(out, at_least=1)
    assert cluster.cli("stop", first).exit_code == 0
    assert cluster.cli("logs", first, "--follow").exit_code == 1  # stopped, not succeeded
    kept = {p.name: p.stat().st_mtime_ns for p in (out / "_work/units").glob("*.json")}
    assert 1 <= len(kept) < 6 and not (out / "manifest.json").exists()

    resumed = cluster.cli(*args, "--wait")
    assert resumed.exit_code == 0, resumed.output
    assert resumed.stdout.splitlines()[0] == f"{first}-2"
    assert f"{len(kept)} already done, {6 - len(kept)} to process" in resumed.stdout
    assert {n: (out / "_work/units" / n).stat().st_mtime_ns for n in kept} == kept  # finished units not redone
    assert _published(out) == _published(reference[1])


def _wait_for_ledgers(out: Path, at_least: int, timeout: float = JOB_TIMEOUT) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = len(list((out / "_work/units").glob("*.json")))
        if done >= at_least:
            return done
        time.sleep(0.05)
    raise AssertionError(f"no unit finished in {timeout}s under {out}")


def _published(out: Path) -> dict[str, bytes]:
    """What consumers read: every shard and the manifest, byte for byte."""
    files = sorted(out.glob("shards/**/*.parquet")) + [out / "manifest.json"]
    assert len(files) > 1
    return {str(p.relative_to(out)): p.read_bytes() for p in files}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]

