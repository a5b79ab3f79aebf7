"""One run writes to an output at a time: the claim, on local disk and on S3."""

import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from corpus.claim import OutputClaimed, claimed
from corpus.layout import CLAIM
from corpus.config import load_config
from corpus.manifest import read_manifest
from corpus.publish import file_sha256
from corpus.storage import open_storage
from ray_jobs.pipeline import RunFailed
from ray_jobs.unit import unit_settings
from tests.conftest import DEMO_WARC, REPO
from tests.runs import FILTERS_OFF, run_serial
from tests.test_publish import objects

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(params=["local", "s3"])
def output(request, tmp_path):
    if request.param == "local":
        return str(tmp_path / "out")
    return request.getfixturevalue("s3_bucket") + "/runs/claimed"


def claim_of(output: str, **holder) -> None:
    """A claim as another run would have left it."""
    claim = {"run_id": "someone-else", "config_sha256": "f" * 64, "host": "elsewhere", "pid": 1,
             "started": "2026-12-02T00:00:00+00:00", "token": "theirs", **holder}  # fmt: skip
    open_storage(output).create_exclusive(CLAIM, json.dumps(claim).encode())


def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_a_run_with_other_settings_is_refused_while_another_holds_the_output(output):
    claim_of(output)
    before = objects(output)
    with pytest.raises(OutputClaimed, match="being written by another run") as refused:
        run_serial(output)
    assert open_storage(output).uri in str(refused.value) and "another output" in str(refused.value)
    assert objects(output) == before, "the refused run wrote nothing"


def test_a_live_local_run_is_not_mistaken_for_a_dead_one(output):
    with claimed(open_storage(output), "someone-else", "f" * 64):  # this process: alive, on this host
        with pytest.raises(OutputClaimed, match=f"pid {os.getpid()} on {socket.gethostname()}"):
            run_serial(output)
    assert not open_storage(output).exists(CLAIM), "the holder released its claim"


@pytest.mark.slow
def test_the_claim_of_a_run_that_died_on_this_host_is_taken_over(output):
    claim_of(output, host=socket.gethostname(), pid=dead_pid())
    result = run_serial(output)
    assert read_manifest(open_storage(output)) == result.manifest
    assert not open_storage(output).exists(CLAIM), "released when the run ended"


def test_a_rerun_of_the_same_run_takes_its_claim_over_from_any_host(output, demo_run_filters_off):
    first = read_manifest(open_storage(str(demo_run_filters_off)))  # the same run's id, written to another place
    claim_of(output, run_id=first["run_id"])
    assert run_serial(output).run_id == first["run_id"]
    assert not open_storage(output).exists(CLAIM)


def test_the_claim_is_released_when_a_run_fails(output, tmp_path):
    with pytest.raises(RunFailed, match="no input could be read"):
        run_serial(output, inputs=[str(tmp_path / "missing.warc.gz")])
    assert not open_storage(output).exists(CLAIM)


@pytest.mark.slow
def test_two_runs_with_different_settings_started_together_publish_one_whole_run(output):
    """The issue's race: the loser is refused (exit 2, no traceback) and has written nothing."""
    settings = [dict(FILTERS_OFF), {**FILTERS_OFF, "langid.languages": ["ko"]}]
    runs = [_start_cli(output, s) for s in settings]
    done = [(p.wait(240), p.stderr.read()) for p in runs]
    assert sorted(code for code, _ in done) == [0, 2], done
    winner = settings[[code for code, _ in done].index(0)]
    loser = next(err for code, err in done if code == 2)
    assert "Traceback" not in loser and "PublishRefused" not in loser
    assert open_storage(output).uri in " ".join(loser.split())

    store = open_storage(output)
    cfg = load_config(None, {"input": [str(DEMO_WARC)], "output": output, **winner})
    manifest = read_manifest(store)
    assert manifest["config_sha256"] == cfg.sha256()
    ledger = [json.loads(store.read_bytes(rel)) for rel in store.list("_work/units/")]
    assert ledger and all(e["key"]["settings"] == unit_settings(cfg, os.environ) for e in ledger)
    for shard in manifest["shards"]:  # what `corpus pull` verifies: every listed file, byte for byte
        local = tmp_file()
        store.download_file(shard["path"], local)
        assert file_sha256(local) == shard["sha256"], shard["path"]
    assert not store.exists(CLAIM)


def _start_cli(output: str, settings: dict) -> subprocess.Popen:
    sets = [f"--set={key}={json.dumps(value)}" for key, value in settings.items()]
    command = [sys.executable, "-m", "corpus_cli", "run", "--serial", "--no-progress",
               "--input", str(DEMO_WARC), "--output", output, *sets]  # fmt: skip
    return subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def tmp_file() -> Path:
    return Path(tempfile.mkdtemp()) / "file"
