"""`corpus run` on Ray with its Ray driver in a child process, so a dying runtime is reported.

When the local Ray runtime dies (a raylet killed, the machine out of memory),
Ray's core worker ends the driver process from C++: no Python exception, no
`finally`, exit code 1 and nothing said. The driver therefore runs in a child;
this process waits for its result and turns a child that vanished into
RayUnavailable, saying that finished units are kept and a rerun resumes.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
import sys
import traceback
from typing import Any, Literal

from corpus.config import RunConfig
from corpus.publish import PublishRefused
from corpus.shards import ShardEntry
from corpus.stats import Stats
from ray_jobs.finalize import RunResult
from ray_jobs.pipeline import RayUnavailable, RunFailed


def run_in_child(cfg: RunConfig, executor: Literal["ray", "serial"] = "ray") -> RunResult:
    """`ray_jobs.pipeline.run(cfg, executor)` in a child process; its result, or RunFailed saying why."""
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited Ray or threads
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_drive, args=(cfg.model_dump_json(), executor, send), name="corpus-run-driver")
    child.start()
    send.close()  # the child holds the only sending end: its death reads as EOF here
    try:
        kind, payload = receive.recv()
    except EOFError:
        kind, payload = "vanished", None
    finally:
        child.join()
    if kind == "ok":
        return _result(payload)
    if kind == "failed":
        raise RunFailed(payload)
    if kind == "refused":  # the output belongs to another run: a usage error, not a failure
        raise PublishRefused(payload)
    raise RayUnavailable(
        f"the Ray runtime stopped during the run (its driver exited with code {child.exitcode}); "
        "units finished so far are kept: rerun the same command to resume. "
        "Ray's logs are in /tmp/ray/session_latest/logs; --verbose shows them as the run goes"
    )


def _drive(cfg_json: str, executor: str, send: Any) -> None:
    """The child: run, and send back the result as plain data, or why it failed."""
    from ray_jobs.pipeline import run

    cfg = RunConfig.model_validate_json(cfg_json)
    if not cfg.ray.verbose:  # Ray prints the runtime's error reports here (a dying raylet's last 20 log lines)
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - for the life of this process
    logging.basicConfig(level=logging.INFO if cfg.ray.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    try:
        result = run(cfg, executor=executor)
    except PublishRefused as exc:
        send.send(("refused", str(exc)))
    except (RunFailed, FileNotFoundError) as exc:
        send.send(("failed", str(exc)))
    except Exception as exc:  # noqa: BLE001 - a bug: say so in one line, the traceback with --verbose
        logging.getLogger(__name__).info("%s", traceback.format_exc())
        send.send(("failed", f"unexpected {type(exc).__name__}: {exc} (a bug: rerun with --verbose and report it)"))
    else:
        send.send(("ok", _plain(result)))
    finally:
        send.close()


def _plain(result: RunResult) -> dict[str, Any]:
    """A RunResult as data that crosses a process boundary (Stats holds lambdas)."""
    return {**dataclasses.asdict(result), "stats": result.stats.to_dict()}


def _result(data: dict[str, Any]) -> RunResult:
    shards = [ShardEntry(**s) for s in data.pop("shards")]
    return RunResult(**{**data, "stats": Stats.from_dict(data["stats"]), "shards": shards})
