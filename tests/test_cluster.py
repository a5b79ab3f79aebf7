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
import yaml
from typer.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from corpus_cli.main import app
from crawlers.fetch import host_key
from ray_jobs.crawl import partition_of
from tests.crawl_site import crawl_config, linked_sites
from tests.reference_runs import five_warc_config, ledgers, published, reference_at

pytestmark = [pytest.mark.ray, pytest.mark.slow, pytest.mark.timeout(420)]

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
        self._bring_up(
            "head",
            ["--head", "--port", str(self.gcs_port), "--include-dashboard", "true", "--dashboard-host", "127.0.0.1",
             "--dashboard-port", str(self.dashboard_port), "--ray-client-server-port", str(_free_port())],
            cpus=1,
        )  # fmt: skip
        self._bring_up("worker", ["--address", f"127.0.0.1:{self.gcs_port}"], cpus=2)

    def _bring_up(self, name: str, args: list[str], cpus: int, tries: int = 3) -> None:
        """Start a node until the cluster counts its CPU. `ray start` gives its raylet a fixed 30 s
        to register, which a loaded 2-core machine can miss; nothing has run on the node yet, so
        starting it again is safe."""
        for attempt in range(tries):
            self.nodes[name] = self._start_node(name, args)
            try:
                self._wait_for(lambda: self._cpus() >= cpus, f"{name} node")
                return
            except RuntimeError:
                self.kill_node(name)
                if attempt == tries - 1:
                    raise

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


def submit_args(inputs: Path, out: Path) -> list[str]:
    return ["submit", "--input", f"{inputs}/*.warc.gz", "--output", str(out)]


@pytest.fixture(scope="module")
def submitted(cluster, five_warcs, five_warc_run, tmp_path_factory):
    """An uninterrupted submitted run: CLI result, output folder, expected published bytes."""
    out = tmp_path_factory.mktemp("submitted") / "out"
    expected = reference_at(five_warc_run, five_warc_config(five_warcs, out))
    return cluster.cli(*submit_args(five_warcs, out), "--wait"), out, expected


def test_submit_wait_runs_the_job_and_matches_a_local_run(submitted):
    result, out, expected = submitted
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("corpus-")
    assert "output by language" in result.stdout  # the job's own log, streamed by --wait
    assert published(out) == expected


def test_status_and_logs_of_a_finished_job(cluster, submitted):
    job_id = submitted[0].stdout.splitlines()[0]
    status = cluster.cli("status", job_id)
    assert status.exit_code == 0 and "SUCCEEDED" in status.stdout
    assert job_id in cluster.cli("status").stdout
    logs = cluster.cli("logs", job_id)
    assert logs.exit_code == 0 and "5 input files, 0 already done, 5 to process" in logs.stdout


def test_second_submit_of_the_same_run_is_reported_not_repeated(cluster, submitted, five_warcs):
    result, out, _ = submitted
    job_id = result.stdout.splitlines()[0]
    again = cluster.cli(*submit_args(five_warcs, out))
    assert again.exit_code == 0 and again.stdout.splitlines()[0] == job_id
    assert "already submitted" in again.stderr and "SUCCEEDED" in again.stderr
    jobs = [line for line in cluster.cli("status").stdout.splitlines() if job_id[:12] in line]
    assert len(jobs) == 1


def test_requests_without_the_token_are_refused(cluster):
    result = cluster.cli("status", token=False)
    assert result.exit_code == 1
    assert "Authentication" in result.stderr or "token" in result.stderr


def test_killed_worker_mid_run_ends_with_identical_output(cluster, five_warcs, five_warc_run, tmp_path):
    out = tmp_path / "out"
    expected = reference_at(five_warc_run, five_warc_config(five_warcs, out))
    job_id = cluster.cli(*submit_args(five_warcs, out)).stdout.splitlines()[0]
    done_at_kill = _wait_for_ledgers(out, at_least=1)
    victims = cluster.processes("UnitProcessor")
    assert victims and done_at_kill < 5, "the kill must land while units are still running"
    for proc in victims:
        proc.kill()
    followed = cluster.cli("logs", job_id, "--follow")
    assert followed.exit_code == 0, followed.output
    assert published(out) == expected


def test_stopped_job_resumes_skipping_finished_units_and_matches(cluster, five_warcs, five_warc_run, tmp_path):
    out = tmp_path / "out"
    expected = reference_at(five_warc_run, five_warc_config(five_warcs, out))
    first = cluster.cli(*submit_args(five_warcs, out)).stdout.splitlines()[0]
    _wait_for_ledgers(out, at_least=1)
    assert cluster.cli("stop", first).exit_code == 0
    assert cluster.cli("logs", first, "--follow").exit_code == 1  # stopped, not succeeded
    kept = ledgers(out)
    assert 1 <= len(kept) < 5 and not (out / "manifest.json").exists()

    resumed = cluster.cli(*submit_args(five_warcs, out), "--wait")
    assert resumed.exit_code == 0, resumed.output
    assert resumed.stdout.splitlines()[0] == f"{first}-2"
    assert f"{len(kept)} already done, {5 - len(kept)} to process" in resumed.stdout
    after = ledgers(out)
    assert {name: after[name] for name in kept} == kept  # finished units were not run again
    assert published(out) == expected


def _wait_for_ledgers(out: Path, at_least: int, timeout: float = JOB_TIMEOUT) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = len(ledgers(out)) if out.exists() else 0
        if done >= at_least:
            return done
        time.sleep(0.05)
    raise AssertionError(f"no unit finished in {timeout}s under {out}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]



def test_submitted_crawl_spreads_partitions_over_the_nodes_with_each_host_in_one(cluster, data_dir, tmp_path):
    """Seeds in both partitions: two one-CPU tasks at once can only run on two nodes."""
    sites = linked_sites(data_dir)
    out = tmp_path / "crawl"
    settings = crawl_config(partitions=2, domains=["127.0.0.1"], max_depth=5, delay_seconds=0.5)  # tasks overlap
    run_yaml = tmp_path / "crawl.yaml"
    run_yaml.write_text(yaml.safe_dump({"crawl": settings.model_dump(mode="json")}))
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("".join(site.url("/") + "\n" for site in sites))
    args = ["submit", str(run_yaml), "--crawl", "--seeds", str(seeds), "--output", str(out)]
    try:
        result = cluster.cli(*args, "--wait")
        again = cluster.cli(*args)
    finally:
        for site in sites:
            site.__exit__(None, None, None)
    assert result.exit_code == 0, result.output
    job_id = result.stdout.splitlines()[0]
    assert job_id.startswith("corpus-crawl-") and "8 pages archived" in result.stdout  # the job's own log
    assert again.stdout.splitlines()[0] == job_id and "already submitted" in again.stderr
    hosts: dict[str, set[int]] = {}
    for warc in sorted((out / "warc").glob("*.warc.gz")):
        with open(warc, "rb") as handle:
            for record in ArchiveIterator(handle):
                if record.rec_type == "response":
                    url = record.rec_headers["WARC-Target-URI"]
                    hosts.setdefault(host_key(url), set()).add(int(warc.name.split("-")[1]))
    assert set(hosts) == {site.host for site in sites}
    assert all(parts == {partition_of(host, 2)} for host, parts in hosts.items())
    for site in sites:
        assert sorted(site.paths()) == ["/", "/a", "/robots.txt"]  # one fetch each, over the whole cluster
    [session] = json.loads((out / "_crawl/usage.json").read_text())["sessions"]
    assert len(session["workers"]) == 2 and all("Ray node" in w for w in session["workers"]), session["workers"]


def test_losing_the_worker_node_mid_run_ends_with_identical_output(cluster, five_warcs, five_warc_run, tmp_path):
    """Runs last: afterwards the cluster has only its head node."""
    out = tmp_path / "out"
    expected = reference_at(five_warc_run, five_warc_config(five_warcs, out))
    job_id = cluster.cli(*submit_args(five_warcs, out)).stdout.splitlines()[0]
    done_at_kill = _wait_for_ledgers(out, at_least=1)
    assert done_at_kill < 5, "the node must be lost while units are still running"
    cluster.kill_node("worker")
    followed = cluster.cli("logs", job_id, "--follow")
    assert followed.exit_code == 0, followed.output
    assert published(out) == expected
