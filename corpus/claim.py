"""Claiming an output: one run writes to an output prefix at a time.

Before a run writes anything it creates `_work/claim.json` create-only
(`Storage.create_exclusive`: a hard link locally, `If-None-Match: *` on S3),
holding who it is: run id, config hash, host, pid, start time. Then:
- a rerun of the same run (same config and inputs) takes the claim over: that
  is how an interrupted run resumes, and two copies of one run write the same
  bytes anyway;
- a different run is refused before it writes anything (`OutputClaimed`),
  unless the claim's holder ran on this host and is no longer alive;
- the claim is released when the run ends, published or failed, so a later
  run with other settings can resume the output (redoing what differs).
A holder on another host that died without releasing cannot be told from a
live one: the refusal says to delete the claim in that case.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterator

from corpus.layout import CLAIM
from corpus.publish import PublishRefused
from corpus.storage import Storage

ATTEMPTS = 5

log = logging.getLogger(__name__)


class OutputClaimed(PublishRefused):
    """Another run, with other settings, is writing to this output."""


@contextmanager
def claimed(out: Storage, run_id: str, config_sha256: str) -> Iterator[dict[str, Any]]:
    """Hold the claim on `out` for the body of the `with`; raise OutputClaimed when another run holds it."""
    mine = {
        "run_id": run_id,
        "config_sha256": config_sha256,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "token": uuid.uuid4().hex,
    }
    take_claim(out, mine)
    try:
        yield mine
    finally:
        release_claim(out, mine)


def take_claim(out: Storage, mine: dict[str, Any]) -> None:
    """Create the claim, or take over one of the same run or of a dead local run."""
    data = json.dumps(mine, indent=1).encode()
    for _ in range(ATTEMPTS):
        try:
            out.create_exclusive(CLAIM, data)
            return
        except FileExistsError:
            pass
        holder = read_claim(out)
        if holder is None:  # released between our write and our read: try again
            continue
        if holder.get("run_id") == mine["run_id"]:
            out.write_bytes(CLAIM, data)
            return
        if not _gone(holder):
            raise OutputClaimed(_refusal(out, holder, mine))
        log.warning(
            "taking over %s from run %s (pid %s on %s), which is no longer running",
            out.url(CLAIM), holder.get("run_id"), holder.get("pid"), holder.get("host"),
        )  # fmt: skip
        out.delete(CLAIM)  # then race any other taker for the create-only write
    raise OutputClaimed(f"could not claim {out.uri}: other runs keep taking it; run one at a time")


def release_claim(out: Storage, mine: dict[str, Any]) -> None:
    """Delete the claim if it is still ours (a same-run rerun may have taken it over)."""
    holder = read_claim(out)
    if holder is not None and holder.get("token") == mine["token"]:
        out.delete(CLAIM)


def read_claim(out: Storage) -> dict[str, Any] | None:
    """The claim's content, None when there is none. An unreadable claim counts
    as another run's, which is refused: the message says how to clear it."""
    try:
        raw = out.read_bytes(CLAIM)
    except FileNotFoundError:
        return None
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {"run_id": None, "host": None, "note": "unreadable claim"}


def _gone(holder: dict[str, Any]) -> bool:
    """True only when the holder ran on this host and its process is gone."""
    if holder.get("host") != socket.gethostname() or not isinstance(holder.get("pid"), int):
        return False
    try:
        os.kill(holder["pid"], 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def _refusal(out: Storage, holder: dict[str, Any], mine: dict[str, Any]) -> str:
    return (
        f"{out.uri} is being written by another run with other settings "
        f"(run {holder.get('run_id')}, config {str(holder.get('config_sha256'))[:12]}, "
        f"pid {holder.get('pid')} on {holder.get('host')}, since {holder.get('started')}); "
        f"this run is {mine['run_id']} (config {mine['config_sha256'][:12]}). Nothing was written. "
        f"Write to another output; or, if that run has stopped, delete {out.url(CLAIM)} "
        "(or the whole output) and rerun."
    )
