"""Resource metering that cost accounting prices.

Storage clients call `count_request` for every request they make; a work unit
snapshots the process's counters before and after, so each unit's stats carry
the requests and bytes it caused, wherever it ran. `process_snapshot` and
`hardware` describe the process and machine that did the work, so the cost of a
run can be reconciled with what the operating system accounted.
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


def process_snapshot() -> dict[str, Any]:
    """This process's resource use so far: the figures cost accounting reconciles.

    `cpu_seconds` is the process's whole CPU time (user + system, all threads,
    start-up and imports included); `wall_seconds` its age. Cost accounting
    charges what the metered stages did not cover to an `overhead` stage, so
    stage costs add up to what the operating system billed the process.
    `peak_rss_bytes` is the process's peak resident memory.
    """
    proc = psutil.Process()
    started = proc.create_time()
    return {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started": started,
        "wall_seconds": max(time.time() - started, 0.0),
        "cpu_seconds": time.process_time(),
        "peak_rss_bytes": peak_rss_bytes(),
    }


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
