"""Local Ray start-up: Ray gives its raylet a fixed 30 s to register, which a loaded
machine can miss; `corpus run` starts it again instead of failing a run that has not begun.
Ray's own start is replaced here by one that times out a given number of times, since a real
raylet cannot be made slow on demand."""

from __future__ import annotations

import pytest
import ray

from corpus.config import RayConfig
from ray_jobs import pipeline

SLOW = "The current node timed out during startup. This could happen because some of the raylet failed to startup"


@pytest.fixture
def starts(monkeypatch):
    calls = {"init": 0, "shutdown": 0, "failures": []}

    def init(**kwargs):
        calls["init"] += 1
        if calls["failures"]:
            raise Exception(calls["failures"].pop(0))

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", init)
    monkeypatch.setattr(ray, "shutdown", lambda: calls.__setitem__("shutdown", calls["shutdown"] + 1))
    return calls


def test_a_raylet_too_slow_to_register_is_started_again(starts):
    starts["failures"] = [SLOW, SLOW]
    pipeline.init_ray(RayConfig())
    assert starts["init"] == 3 and starts["shutdown"] == 2


def test_it_gives_up_after_its_tries_with_the_usual_error(starts):
    starts["failures"] = [SLOW] * pipeline.LOCAL_START_TRIES
    with pytest.raises(pipeline.RayUnavailable, match="could not start Ray: The current node timed out"):
        pipeline.init_ray(RayConfig())
    assert starts["init"] == pipeline.LOCAL_START_TRIES


def test_other_start_failures_are_not_retried(starts):
    starts["failures"] = ["object store memory too large"]
    with pytest.raises(pipeline.RayUnavailable, match="object store memory too large"):
        pipeline.init_ray(RayConfig())
    assert starts["init"] == 1 and starts["shutdown"] == 0
