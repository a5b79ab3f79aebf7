"""Resource metering that cost accounting prices.

Storage clients call `count_request` for every request they make; a work unit
snapshots the process's counters before and after, so each unit's stats carry
the requests and bytes it caused, wherever it ran.
"""

from __future__ import annotations

import threading
from collections import Counter

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
