"""What `corpus submit` sends to a cluster, decided without one."""

from __future__ import annotations

import json
import socket
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from corpus.config import REPO_ROOT, RunConfig, load_config
from corpus_cli.main import app
from ray_jobs.submit import (
    JOB_CONFIG,
    auth_headers,
    for_cluster,
    package_project,
    project_dependencies,
    runtime_env,
    submission_id,
)


def make_config(**overrides) -> RunConfig:
    return load_config(None, {"input": ["/data/a.warc.gz"], "output": "s3://bucket/run", **overrides})


def test_submission_id_is_stable_for_the_same_run():
    assert submission_id(make_config()) == submission_id(make_config())
    assert submission_id(make_config()).startswith("corpus-")


def test_submission_id_changes_with_inputs_output_and_stage_settings():
    base = submission_id(make_config())
    assert submission_id(make_config(input=["/data/b.warc.gz"])) != base
    assert submission_id(make_config(output="s3://bucket/other")) != base
    assert submission_id(make_config(**{"langid.languages": ["ko"]})) != base


def test_submission_id_ignores_where_and_how_ray_runs():
    base = submission_id(make_config())
    assert submission_id(make_config(**{"ray.workers": 8, "ray.entrypoint_num_cpus": 1})) == base


def test_a_crawl_is_named_by_its_crawl_section_alone():
    crawl = make_config(**{"crawl.seeds": ["https://example.kr/"], "crawl.output": "s3://bucket/crawl"})
    base = submission_id(crawl, "crawl")
    assert base.startswith("corpus-crawl-") and base != submission_id(crawl)
    assert submission_id(make_config(**{"crawl.seeds": ["https://example.kr/"], "crawl.output": "s3://bucket/crawl",
                                        "langid.languages": ["ko"]}), "crawl") == base
    assert submission_id(make_config(**{"crawl.seeds": ["https://example.kr/"], "crawl.output": "s3://b/other"}), "crawl") != base


@pytest.mark.parametrize(
    "args, message",
    [(["--output", "out"], "no seeds"), (["--input", "x.warc.gz", "--output", "out"], "--input is for runs")],
)
def test_submit_crawl_without_seeds_or_with_inputs_is_a_usage_error(args, message):
    result = CliRunner().invoke(app, ["submit", "--crawl", *args, "--address", "http://127.0.0.1:1"])
    assert result.exit_code == 2 and message in result.stderr


def test_local_paths_become_absolute_and_uris_stay(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = for_cluster(load_config(None, {"input": ["warc/*.warc.gz", "s3://b/x.warc.gz"], "output": "out"}))
    assert cfg.input == [str(tmp_path / "warc/*.warc.gz"), "s3://b/x.warc.gz"]
    assert cfg.output == str(tmp_path / "out")
    crawl = for_cluster(load_config(None, {"crawl.output": "crawl"}))
    assert crawl.crawl.output == str(tmp_path / "crawl")
    assert cfg.ray.address == "auto" and cfg.ray.progress is False


def test_package_carries_code_models_and_the_job_config(tmp_path):
    cfg = for_cluster(make_config())
    root = package_project(cfg, tmp_path / "pkg")
    lid = root / "models/lid.176.ftz"  # git-ignored in the repo, so it must be copied on purpose
    assert lid.read_bytes() == (REPO_ROOT / "models/lid.176.ftz").read_bytes()
    assert (root / "ray_jobs/pipeline.py").is_file() and (root / "corpus_cli/main.py").is_file()
    assert not list(root.rglob("__pycache__")) and not (root / ".venv").exists() and not (root / "tests").exists()
    assert RunConfig.model_validate_json((root / JOB_CONFIG).read_text()) == cfg


def test_package_is_what_ray_uploads(tmp_path):
    """Ray zips the working_dir honouring .gitignore; the copy has none, so the model survives."""
    from ray._private.runtime_env.packaging import create_package

    root = package_project(for_cluster(make_config()), tmp_path / "pkg")
    create_package(str(root), tmp_path / "pkg.zip", include_gitignore=True)
    names = zipfile.ZipFile(tmp_path / "pkg.zip").namelist()
    assert "models/lid.176.ftz" in names and JOB_CONFIG in names


@pytest.fixture(autouse=True)
def no_aws_settings(monkeypatch):
    """Other tests' S3 server leaves AWS_* set for the session; these tests choose their own."""
    for name in ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)


def test_runtime_env_installs_project_dependencies_only_when_asked(tmp_path):
    plain = runtime_env(make_config(), tmp_path)
    assert plain == {"working_dir": str(tmp_path)}
    bare = runtime_env(make_config(**{"ray.install_dependencies": True, "ray.pip": ["extra==1.0"]}), tmp_path)
    assert bare["pip"] == project_dependencies() + ["extra==1.0"]
    assert any(dep.startswith("trafilatura") for dep in bare["pip"])


def test_runtime_env_forwards_only_named_variables_that_are_set(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000")
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-forwarded-unless-named")
    env = runtime_env(make_config(), tmp_path)
    assert env["env_vars"] == {"AWS_ENDPOINT_URL": "http://127.0.0.1:9000"}


def test_token_from_environment_token_file_or_rays_default_file(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("RAY_AUTH_TOKEN_PATH", raising=False)
    monkeypatch.setenv("RAY_AUTH_TOKEN", "abc123")
    assert auth_headers() == {"authorization": "Bearer abc123"}
    monkeypatch.delenv("RAY_AUTH_TOKEN")
    assert auth_headers() == {}
    (tmp_path / ".ray").mkdir()
    (tmp_path / ".ray" / "auth_token").write_text("raysdefault\n")  # the file Ray's own messages name
    assert auth_headers() == {"authorization": "Bearer raysdefault"}
    (tmp_path / "token").write_text("fromfile\n")
    monkeypatch.setenv("RAY_AUTH_TOKEN_PATH", str(tmp_path / "token"))
    assert auth_headers() == {"authorization": "Bearer fromfile"}


class _TokenDashboard(BaseHTTPRequestHandler):
    """Answers like a Ray dashboard with token authentication: 401 without the token."""

    def do_GET(self):  # noqa: N802 - http.server's name
        if self.headers.get("Authorization") != "Bearer s3cret":
            body, status = b"Unauthorized: Missing authentication token", 401
        elif self.path.startswith("/api/version"):
            body, status = json.dumps({"version": "4", "ray_version": "2.60.0", "ray_commit": "x"}).encode(), 200
        else:
            body, status = b"[]", 200
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def token_dashboard(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"):
        monkeypatch.delenv(name, raising=False)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TokenDashboard)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    server.shutdown()


def test_a_dashboard_that_wants_a_token_is_told_apart_from_an_unreachable_one(token_dashboard):
    address, home = token_dashboard
    result = CliRunner().invoke(app, ["status", "--address", address])
    assert result.exit_code == 1
    assert "needs a token and none was found" in result.stderr and "cannot reach" not in result.stderr
    assert "~/.ray/auth_token" in result.stderr
    (home / ".ray").mkdir()
    (home / ".ray" / "auth_token").write_text("s3cret\n")
    result = CliRunner().invoke(app, ["status", "--address", address])
    assert result.exit_code == 0, result.stderr


def test_submit_without_input_is_a_usage_error():
    result = CliRunner().invoke(app, ["submit", "--output", "out", "--address", "http://127.0.0.1:1"])
    assert result.exit_code == 2 and "no input" in result.stderr


def test_submit_with_an_invalid_config_names_the_field(tmp_path):
    bad = tmp_path / "run.yaml"
    bad.write_text("ray:\n  max_task_retries: -5\n")
    result = CliRunner().invoke(app, ["submit", str(bad), "-i", "x.warc.gz", "-o", "out", "--address", "http://x:1"])
    assert result.exit_code == 2 and "ray.max_task_retries" in result.stderr


def test_unreachable_cluster_fails_with_the_address():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    address = f"http://127.0.0.1:{port}"
    result = CliRunner().invoke(app, ["submit", "-i", "x.warc.gz", "-o", "out", "--address", address])
    assert result.exit_code == 1
    assert address in result.stderr and "cannot reach" in result.stderr


@pytest.mark.parametrize("verb", [["status"], ["logs", "corpus-x"], ["stop", "corpus-x"]])
def test_management_verbs_fail_cleanly_without_a_cluster(verb):
    result = CliRunner().invoke(app, [*verb, "--address", "http://127.0.0.1:9"])
    assert result.exit_code == 1 and "cannot reach" in result.stderr


def test_job_config_round_trips_through_yaml_loading(tmp_path):
    """The job runs `corpus run corpus-job.json`: the JSON must load as the same config."""
    cfg = for_cluster(make_config(**{"langid.thresholds": {"ko": 0.4, "en": 0.7}}))
    path = tmp_path / JOB_CONFIG
    path.write_text(cfg.model_dump_json(indent=1))
    assert load_config(path) == cfg
    assert json.loads(path.read_text())["ray"]["address"] == "auto"


def test_a_job_failing_on_a_missing_module_says_how_to_install_the_project():
    from ray.job_submission import JobDetails, JobStatus, JobType

    from ray_jobs.submit import _state

    log = "Traceback (most recent call last):\n  ...\nModuleNotFoundError: No module named 'typer'\n"
    info = JobDetails(type=JobType.SUBMISSION, status=JobStatus.FAILED, entrypoint="python -m corpus_cli run",
                      submission_id="corpus-1", message=f"Job entrypoint command failed with exit code 1, last available logs:\n{log}")
    state = _state(info)
    assert "no module 'typer'" in state.message and "ray.install_dependencies=true" in state.message
    ok = JobDetails(type=JobType.SUBMISSION, status=JobStatus.SUCCEEDED, entrypoint="x", submission_id="corpus-2",
                    message="done")
    assert _state(ok).message == "done"
