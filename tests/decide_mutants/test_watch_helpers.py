"""The watch's small steps, worked by hand: the cadence from the dates, the decision's window,
each cell mean's variance, a standard error read back from an interval, the band of each point,
the recent lift and a site's own decision-time reference."""

from __future__ import annotations

import math
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analytics.core.errors import ScalegateError
from analytics.decide.decisions import DecisionRecord
from analytics.decide.watch import (
    RECENT,
    Z_BAND,
    _own_reference,
    _points,
    _recent,
    _se_from_ci,
    _variances,
    grain_of,
    latest_decision,
    window_end,
)
from analytics.store.database import Store


def _dates(*days: str) -> pd.DataFrame:
    return pd.DataFrame({"date": [pd.Timestamp(d) if d else None for d in days]})


def test_the_cadence_is_weeks_up_to_a_7_day_median_gap_else_months() -> None:
    assert grain_of(_dates("2025-01-01", "2025-01-02", "2025-01-03")) == "week"
    assert grain_of(_dates("2025-01-01", "2025-01-08", "2025-01-15", None)) == "week"  # gap 7
    assert grain_of(_dates("2025-01-01", "2025-01-09", "2025-01-17")) == "month"  # gap 8
    assert grain_of(_dates("2025-01-01", "2025-02-01", "2025-03-01")) == "month"
    assert grain_of(_dates("2025-01-01", "2025-01-01")) == "week"  # one distinct date
    assert grain_of(_dates(None)) == "week"
    # the median gap, not the mean: gaps 1, 1, 30 -> 1 day
    assert grain_of(_dates("2025-01-01", "2025-01-02", "2025-01-03", "2025-02-02")) == "week"


def _decision(snapshot: dict) -> DecisionRecord:
    return DecisionRecord(1, 1, datetime(2025, 3, 7, 10, 0), "go", "@cfo", "", {}, snapshot)


def test_the_window_ends_on_the_last_day_the_decision_saw() -> None:
    assert window_end(_decision({"dataset": {"date_max": "2025-03-02"}})) == date(2025, 3, 2)
    assert window_end(_decision({"dataset": {"date_max": None}})) == date(2025, 3, 7)
    assert window_end(_decision({})) == date(2025, 3, 7)


def test_no_decision_to_watch_is_said_in_one_sentence(store: Store) -> None:
    with pytest.raises(ScalegateError, match=r"^No decision is recorded for this dataset yet: "):
        latest_decision(store, 1)


def test_cell_variances_are_s2_over_n_with_one_row_cells_on_the_pooled_s2() -> None:
    # cells of 5 rows (m2 8), 3 rows (m2 4) and 1 row (m2 0): pooled s2 = 12 / (9 - 3) = 2
    cells = pd.DataFrame({"n": [5, 3, 1], "m2": [8.0, 4.0, 0.0]})
    expected = [8 / 4 / 5, 4 / 2 / 3, 2.0 / 1]
    assert _variances(cells) == pytest.approx(expected, rel=1e-12)
    # a 2-row cell (m2 0.5) beside a 1-row one: pooled s2 = 0.5 / (3 - 2) = 0.5
    assert _variances(pd.DataFrame({"n": [2, 1], "m2": [0.5, 0.0]})) == pytest.approx([0.25, 0.5])
    # only one-row cells: the pooled s2 divides by max(n - cells, 1) = 1
    assert _variances(pd.DataFrame({"n": [1, 1], "m2": [0.0, 0.0]})) == pytest.approx([0.0, 0.0])


def test_a_standard_error_is_read_back_from_an_interval_at_its_level() -> None:
    se = 0.04
    for level in (0.9, 0.95, 0.99):
        q = stats.norm.ppf(0.5 + level / 2)
        assert _se_from_ci((0.1 - q * se, 0.1 + q * se), level) == pytest.approx(se, rel=1e-12)
    assert math.isnan(_se_from_ci((math.nan, 0.2), 0.95))
    assert math.isnan(_se_from_ci((0.0, math.inf), 0.95))


def test_points_carry_a_95_band_and_the_cusum_after_the_decision_only() -> None:
    periods = pd.DatetimeIndex(["2025-03-03", "2025-03-10", "2025-03-17", "2025-03-24"])
    post = np.array([False, True, True, True])
    value = np.array([0.1, np.nan, 0.3, -0.2])
    var = np.array([0.0004, 0.01, 0.0009, 0.0016])
    stat = np.array([0.5, 1.5, 2.5])
    points = _points(periods, post, value, var, stat)
    assert Z_BAND == pytest.approx(stats.norm.ppf(0.975))
    # the second period has no value: skipped, but its CUSUM value is used up
    assert [p.period for p in points] == [date(2025, 3, 3), date(2025, 3, 17), date(2025, 3, 24)]
    first, third, fourth = points
    assert (first.value, first.after_decision) == (0.1, False) and math.isnan(first.cusum)
    assert (first.low, first.high) == pytest.approx((0.1 - Z_BAND * 0.02, 0.1 + Z_BAND * 0.02))
    assert (third.cusum, fourth.cusum) == (1.5, 2.5) and third.after_decision
    assert (fourth.low, fourth.high) == pytest.approx((-0.2 - Z_BAND * 0.04, -0.2 + Z_BAND * 0.04))
    no_stat = _points(periods, post, value, var, None)
    assert all(math.isnan(p.cusum) for p in no_stat)


def test_the_recent_lift_is_the_mean_of_the_last_finite_periods() -> None:
    lifts = np.array([9.0, 1.0, 2.0, np.nan, 3.0, 4.0, 5.0, 6.0, np.nan])
    finite = [v for v in lifts if np.isfinite(v)]
    assert _recent(lifts) == pytest.approx(np.mean(finite[-RECENT:]))
    assert _recent(np.array([0.5])) == 0.5
    assert math.isnan(_recent(np.array([np.nan, np.nan])))


def test_a_sites_own_reference_is_the_mean_lift_and_the_se_of_that_mean() -> None:
    lift = np.array([0.1, 0.3, np.nan, 0.2])
    var = np.array([0.01, 0.04, 0.02, np.nan])
    # kept: periods 1 and 2; mean 0.2, se = sqrt(0.01 + 0.04) / 2
    est, se = _own_reference(lift, var)
    assert est == pytest.approx(0.2) and se == pytest.approx(math.sqrt(0.05) / 2)
    assert all(math.isnan(v) for v in _own_reference(np.array([np.nan]), np.array([1.0])))
    # one period kept: its lift and its own standard error
    assert _own_reference(np.array([0.3, np.nan]), np.array([0.04, 0.01])) == pytest.approx(
        (0.3, 0.2)
    )
