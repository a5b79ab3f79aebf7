"""A pilot forecasts a bigger run of the same mix: start-up is fixed, page work scales."""

from __future__ import annotations

import pytest

from bench.forecast_accuracy import compare, pilot_and_run

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def pilot_run(tmp_path_factory):
    """A 2-file pilot and a 4-file run over disjoint files dealt from the shared WARCs."""
    return pilot_and_run(tmp_path_factory.mktemp("forecast"), seed=0)


def test_two_file_pilot_forecasts_four_file_run_within_15_percent(pilot_run):
    result = compare(*pilot_run)
    assert abs(result["cpu_error"]) <= 0.15, result
    assert abs(result["usd_error"]) <= 0.15, result


def test_start_up_is_most_of_a_small_pilot_and_scaling_it_would_miss(pilot_run):
    """What makes the split matter: scaling the pilot's start-up with pages misses by far more."""
    pilot, _ = pilot_run
    assert pilot["fixed"]["workers"] == 1 and pilot["fixed"]["per_worker_cpu_seconds"] > 0
    assert pilot["stages"]["startup"]["cpu_seconds"] > 0.3 * pilot["total"]["cpu_seconds"]
    assert compare(*pilot_run)["old_cpu_error"] > 0.15
