"""Resource metering that cost accounting prices.

Storage clients call `count_request` for every request they make; a work unit
snapshots the process's counters before and after, so each unit's stats carry
the requests and bytes it caused, wherever it ran. `process_snapshot` and
`hardware` describe the process and machine that did the work, so the cost of a
run can be reconciled with what the operating system accounted.

A worker calls `mark_started` once it has imported, loaded and warmed up its
models: what the process used until then is its start-up, a fixed cost per
worker that a forecast adds once per worker instead of scaling it with pages.
The driver calls `start_run` when a run begins, so the run's wall time (what
rented machines bill) is measured from there, not from the process's birth.
"""

from __future__ import annotations

import os
import platform
import resource
import socket
import sys
import threading
import time
from collections import Counter
from typing import Any

import psutil

_lock = threading.Lock()
_requests: Counter[str] = Counter()
_started: dict[str, float] | None = None
_run_started: float | None = None


def count_request(verb: str, n_bytes: int = 0) -> None:
    """Record one storage request (`GET`, `PUT`, `LIST`, `HEAD`, `DELETE`) and its payload bytes."""
    with _lock:
        _requests[f"storage_{verb.lower()}_requests"] += 1
        if n_bytes:
            _requests[f"storage_{verb.lower()}_bytes"] += n_bytes


def snapshot() -> Counter[str]:
    with _lock:
        return Counter(_requests)


def since(before: Counter[str]) -> dict[str, int]:
    """Counters accumulated since `before` (a snapshot)."""
    now = snapshot()
    return {key: now[key] - before.get(key, 0) for key in now if now[key] - before.get(key, 0)}


def mark_started() -> None:
    """This process is ready for its first unit: record its start-up (first call wins)."""
    global _started
    if _started is None:
        _started = {"cpu_seconds": time.process_time(), "wall_seconds": _age()}


def start_run() -> None:
    """A run begins in this (driver) process: its wall time counts from now."""
    global _run_started
    _run_started = time.time()


def process_snapshot() -> dict[str, Any]:
    """This process's resource use so far: the figures cost accounting reconciles.

    `cpu_seconds` is the process's whole CPU time (user + system, all threads,
    start-up and imports included); `wall_seconds` its age. `startup` is what
    it had used when it marked itself ready (None if it never did: a driver
    that loads no models); `run_started` when this process began a run (None
    in a worker). Cost accounting charges start-up to the stage `startup` and
    what else the metered stages did not cover to `overhead`, so stage costs
    add up to what the operating system billed the process. `logical_cpus` is
    the machine's vCPU count, what holding it bills; `peak_rss_bytes` the
    process's peak resident memory.
    """
    return {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started": psutil.Process().create_time(),
        "taken": time.time(),
        "wall_seconds": _age(),
        "cpu_seconds": time.process_time(),
        "startup": dict(_started) if _started else None,
        "run_started": _run_started,
        "logical_cpus": os.cpu_count() or 1,
        "peak_rss_bytes": peak_rss_bytes(),
    }


def _age() -> float:
    return max(time.time() - psutil.Process().create_time(), 0.0)


def peak_rss_bytes() -> int:
    """Peak resident memory of this process (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def hardware() -> dict[str, Any]:
    """The machine this process runs on, as a funder would name it."""
    return {
        "host": socket.gethostname(),
        "cpu_model": _cpu_model(),
        "logical_cpus": os.cpu_count() or 1,
        "memory_bytes": int(psutil.virtual_memory().total),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def _cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
