"""`corpus submit`, `status`, `logs`, `stop`: runs on a Ray cluster through the Jobs API.

A submitted run is `corpus run` (or, with `verb="crawl"`, `corpus crawl` and
the config's `crawl:` section) executed as the job's entrypoint on the cluster,
with the project (its packages and `models/`, including the git-ignored
`lid.176.ftz`) carried in the job's runtime_env. Its submission id is derived
from the config, so submitting the same run twice reports the job that already
exists instead of starting a second one; after a failed or stopped attempt the
same command starts the next attempt (`corpus-<hash>-2`, ...), which resumes
from the ledger and skips finished units.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
import tempfile
import time
import tomllib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Literal

from corpus.config import REPO_ROOT, RunConfig
from corpus.storage import is_local, local_path

JOB_PREFIX = "corpus-"
JOB_CONFIG = "corpus-job.json"
# What the job (`python -m corpus_cli`) and its workers import, and the models; nothing else is uploaded.
PROJECT_DIRS = ("corpus_cli", "corpus", "crawlers", "filters", "dedup", "ray_jobs", "models")
TOKEN_PATH_ENV = "RAY_AUTH_TOKEN_PATH"
TERMINAL = {"SUCCEEDED", "FAILED", "STOPPED"}


class ClusterError(RuntimeError):
    """The cluster could not be reached or refused a request; the message says what to do."""


@dataclass(frozen=True)
class Submission:
    job_id: str
    status: str
    new: bool  # False: this run was already submitted and `job_id` is that job


@dataclass(frozen=True)
class JobState:
    job_id: str
    status: str
    message: str
    output: str
    start_time: int | None
    end_time: int | None


Verb = Literal["run", "crawl"]


def submit(cfg: RunConfig, address: str | None, verb: Verb = "run") -> Submission:
    """Submit `cfg` as a job, unless the same run (or crawl) is already running or finished."""
    cfg = for_cluster(cfg)
    client = connect(address)
    base = submission_id(cfg, verb)
    with _asking("list the cluster's jobs"):
        attempts = _attempts(client, base)
    for job in reversed(attempts):
        if job.status not in {"FAILED", "STOPPED"}:
            return Submission(job.job_id, job.status, new=False)
    job_id = base if not attempts else f"{base}-{len(attempts) + 1}"
    with tempfile.TemporaryDirectory(prefix="corpus-job-") as tmp:
        env = runtime_env(cfg, package_project(cfg, Path(tmp) / "project"))
        try:
            with _asking("submit the job"):
                client.submit_job(
                    entrypoint=f"python -m corpus_cli {verb} {JOB_CONFIG} --no-progress --verbose",
                    submission_id=job_id,
                    runtime_env=env,
                    metadata={"corpus_run": base, "output": cfg.crawl.output if verb == "crawl" else cfg.output},
                    entrypoint_num_cpus=cfg.ray.entrypoint_num_cpus or None,
                    entrypoint_memory=cfg.ray.entrypoint_memory_mb * 1024 * 1024 or None,
                    entrypoint_resources=cfg.ray.entrypoint_resources or None,
                )
        except ClusterError as exc:
            if "already exists" in str(exc):  # a concurrent submit of the same run won the race
                return Submission(job_id, job_status(address, job_id).status, new=False)
            raise
    return Submission(job_id, "PENDING", new=True)


def for_cluster(cfg: RunConfig) -> RunConfig:
    """The config as the job runs it: local paths made absolute, Ray joined, no progress bars.

    Local paths must name the same files on every node (a shared filesystem);
    otherwise use s3:// for input and output.
    """
    cfg = cfg.model_copy(deep=True)
    cfg.input = [_absolute(uri) for uri in cfg.input]
    cfg.output = _absolute(cfg.output)
    cfg.crawl.output = _absolute(cfg.crawl.output)
    cfg.ray.address = "auto"
    cfg.ray.progress = False
    return cfg


def submission_id(cfg: RunConfig, verb: Verb = "run") -> str:
    """Same config, inputs and output give the same id (where Ray runs does not count);
    a crawl's id comes from its `crawl:` section alone."""
    if verb == "crawl":
        key = cfg.crawl.model_dump_json()
        return f"{JOB_PREFIX}crawl-{hashlib.sha256(key.encode()).hexdigest()[:16]}"
    key = f"{cfg.sha256()}\n{cfg.output}"
    return f"{JOB_PREFIX}{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def connect(address: str | None) -> Any:
    """A Jobs API client for `address` (or $RAY_ADDRESS), with Ray's token if one is found."""
    from ray.exceptions import AuthenticationError
    from ray.job_submission import JobSubmissionClient

    where = address or os.environ.get("RAY_ADDRESS") or "(no --address and no RAY_ADDRESS)"
    headers = auth_headers()
    try:
        return JobSubmissionClient(address, headers=headers)
    except AuthenticationError:  # the dashboard answered: only the token is wrong or missing
        problem = "refused the token sent" if headers else "needs a token and none was found"
        raise ClusterError(
            f"the Ray dashboard at {where} {problem}: put the cluster's token (`ray get-auth-token` on its head) "
            "in ~/.ray/auth_token, or in $RAY_AUTH_TOKEN, or in a file named by $RAY_AUTH_TOKEN_PATH"
        ) from None
    except Exception as exc:  # noqa: BLE001 - bad address, old dashboard: all end the command
        raise ClusterError(f"cannot reach the Ray dashboard at {where}: {type(exc).__name__}: {exc}") from None


def auth_headers() -> dict[str, str]:
    """Ray's own token loading, whatever this shell's RAY_AUTH_MODE: $RAY_AUTH_TOKEN,
    else the file in $RAY_AUTH_TOKEN_PATH, else ~/.ray/auth_token."""
    from ray._raylet import AuthenticationTokenLoader

    named = os.environ.get(TOKEN_PATH_ENV)
    if named and not os.environ.get("RAY_AUTH_TOKEN", "").strip():
        try:  # Ray aborts the process on an unreadable token file; say so instead
            if not Path(named).expanduser().read_text().strip():
                raise ClusterError(f"the token file in ${TOKEN_PATH_ENV} ({named}) is empty")
        except OSError as exc:
            raise ClusterError(f"cannot read the token file in ${TOKEN_PATH_ENV} ({named}): {exc.strerror}") from None
    loader = AuthenticationTokenLoader.instance()
    loader.reset_cache()  # the token may have changed since this process last asked
    try:
        return dict(loader.get_token_for_http_header(ignore_auth_mode=True))
    finally:  # the loader is process-wide: a token cached here would be sent by a local ray.init later
        loader.reset_cache()


def package_project(cfg: RunConfig, dest: Path) -> Path:
    """Copy what workers import, the models and the job's config into `dest` (the working_dir)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")
    for name in PROJECT_DIRS:
        if (REPO_ROOT / name).is_dir():
            shutil.copytree(REPO_ROOT / name, dest / name, ignore=ignore)
    (dest / JOB_CONFIG).write_text(cfg.model_dump_json(indent=1), encoding="utf-8")
    return dest


def runtime_env(cfg: RunConfig, working_dir: Path) -> dict[str, Any]:
    """working_dir with the project; pip requirements when the cluster lacks them; chosen env vars."""
    env: dict[str, Any] = {"working_dir": str(working_dir)}
    pip = list(cfg.ray.pip)
    if cfg.ray.install_dependencies:
        pip = project_dependencies() + pip
    if pip:
        env["pip"] = pip
    forwarded = cfg.ray.forwarded_env()
    if forwarded:
        env["env_vars"] = forwarded
    return env


def project_dependencies() -> list[str]:
    """The runtime requirements declared in pyproject.toml."""
    with open(REPO_ROOT / "pyproject.toml", "rb") as handle:
        return list(tomllib.load(handle)["project"]["dependencies"])


def job_status(address: str | None, job_id: str) -> JobState:
    client = connect(address)
    with _asking(f"get the status of job {job_id!r}"):
        return _state(client.get_job_info(job_id))


def list_runs(address: str | None) -> list[JobState]:
    """Every corpus job the cluster remembers, oldest first."""
    client = connect(address)
    with _asking("list the cluster's jobs"):
        jobs = [_state(j) for j in client.list_jobs() if (j.submission_id or "").startswith(JOB_PREFIX)]
    return sorted(jobs, key=lambda j: (j.start_time or 0, j.job_id))


def job_logs(address: str | None, job_id: str) -> str:
    client = connect(address)
    with _asking(f"get the logs of job {job_id!r}"):
        return client.get_job_logs(job_id)


def follow_logs(address: str | None, job_id: str, write: Callable[[str], None]) -> JobState:
    """Stream the job's log until it ends; return its final state."""
    client = connect(address)

    async def tail() -> None:
        async for chunk in client.tail_job_logs(job_id):
            write(chunk)

    with _asking(f"follow the logs of job {job_id!r}"):
        asyncio.run(tail())
    state = job_status(address, job_id)
    while state.status not in TERMINAL:  # the log stream closes a moment before the status settles
        time.sleep(0.5)
        state = job_status(address, job_id)
    return state


def stop(address: str | None, job_id: str) -> bool:
    """Ask the job to stop; False when it had already ended. Finished units are kept."""
    client = connect(address)
    with _asking(f"stop job {job_id!r}"):
        return client.stop_job(job_id)


@contextmanager
def _asking(what: str) -> Iterator[None]:
    """Turn the Jobs API's failures (unknown job, refused token, lost connection) into ClusterError."""
    from ray.exceptions import RayError

    try:
        yield
    except (RuntimeError, ConnectionError, RayError) as exc:
        raise ClusterError(f"could not {what}: {exc}") from None


def _attempts(client: Any, base: str) -> list[JobState]:
    jobs = [_state(j) for j in client.list_jobs() if j.submission_id and _attempt(j.submission_id, base)]
    return sorted(jobs, key=lambda j: _attempt(j.job_id, base))


def _attempt(job_id: str, base: str) -> int:
    """1 for `base`, n for `base-n`, 0 for another run's job."""
    if job_id == base:
        return 1
    head, _, n = job_id.rpartition("-")
    return int(n) if head == base and n.isdigit() else 0


def _state(info: Any) -> JobState:
    status = str(getattr(info.status, "value", info.status))
    return JobState(
        job_id=info.submission_id or info.job_id,
        status=status,
        message=explain_failure(status, info.message or ""),
        output=(info.metadata or {}).get("output", ""),
        start_time=info.start_time,
        end_time=info.end_time,
    )


def explain_failure(status: str, message: str) -> str:
    """A failed job's message, with what to do when the cluster's Python lacks a module the project needs."""
    missing = re.search(r"No module named '([\w.]+)'", message)
    if status != "FAILED" or not missing:
        return message
    return (
        f"{message.rstrip()}\nthe cluster's Python has no module {missing.group(1)!r}: submit again with "
        "--set ray.install_dependencies=true (pip-installs the project's dependencies for the job), "
        "or install the project in the nodes' environment"
    )


def _absolute(uri: str) -> str:
    if not uri or not is_local(uri):
        return uri
    return os.path.abspath(local_path(uri))
