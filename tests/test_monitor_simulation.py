"""Acceptance of the monitor by simulation on cells (issue 15, item 3): 500 seeded years after a
decision, the monitor run after each of 52 weekly appends through the engine `watch` uses.

Without any change, at most 5% of years may raise any alert (the outcome's two alarms, every
site's alarm and the guardrail's); when the improvement falls by min_effect ten weeks after the
decision, the outcome's alarm must fire within 8 weekly looks in at least 80% of years, and
never before the change in those years. The design is in tests/monitor_sim.py.
"""

from __future__ import annotations

import monitor_sim as sim
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

YEARS = 500


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with threadpool_limits(limits=1, user_api="blas"):  # small solves: threads only contend
        yield


def test_no_change_years_rarely_raise_any_alert() -> None:
    first_any, first_outcome = sim.run(YEARS, seed=1, drop=False)
    alerted = int((first_any > 0).sum())
    assert alerted <= 37, f"{alerted} of {YEARS} no-change years raised an alert"
    # The outcome's alarms spend half the year's 5%: not far below it either (calibrated,
    # not merely silent): between 0.2% and 4% of years.
    assert 1 <= int((first_outcome > 0).sum()) <= 20


def test_a_drop_of_min_effect_is_caught_within_eight_weeks() -> None:
    _, first = sim.run(YEARS, seed=2, drop=True)
    change = sim.CHANGE_WEEK + 1  # the first look that holds a changed week
    caught = (first >= change) & (first < change + 8)
    assert int(caught.sum()) >= 0.8 * YEARS, f"caught in {int(caught.sum())} of {YEARS} years"
    assert int(((first > 0) & (first < change)).sum()) <= 37  # alarms before the change are rare


def test_the_threshold_holds_its_level_for_correlated_looks() -> None:
    """The simulated threshold for equicorrelated looks, checked on fresh draws."""
    from analytics.engine import monitor

    rng = np.random.default_rng(7)
    rho, k, alpha = 0.3, 0.5, 0.05
    h = monitor.threshold(rho, k, alpha, 52)
    z = np.sqrt(rho) * rng.standard_normal(20_000) + np.sqrt(1 - rho) * rng.standard_normal(
        (52, 20_000)
    )
    crossed = (monitor.cusum(z, k) > h).any(axis=0).mean()
    assert crossed == pytest.approx(alpha, abs=0.006)
    # Ignoring the correlation would set a lower threshold and alarm more often.
    assert monitor.threshold(0.0, k, alpha, 52) < h
