"""The watch's share test (watch_data.share_rise) equals statsmodels' pooled two-proportion z test."""

from __future__ import annotations

import pytest
from statsmodels.stats.proportion import proportions_ztest

from analytics.decide.watch_data import share_rise


@pytest.mark.parametrize(
    ("bad_then", "total_then", "bad_now", "total_now"),
    [(10, 200, 25, 210), (30, 400, 12, 150), (5, 50, 5, 50), (3, 1000, 9, 40), (120, 300, 80, 310)],
)
def test_share_rise_is_the_one_sided_pooled_z_test(
    bad_then: int, total_then: int, bad_now: int, total_now: int
) -> None:
    _, expected = proportions_ztest(
        [bad_now, bad_then], [total_now, total_then], alternative="larger", prop_var=False
    )
    assert share_rise(bad_then, total_then, bad_now, total_now) == pytest.approx(
        expected, rel=1e-12
    )


def test_a_hand_worked_rise() -> None:
    # then 10/100, now 20/100: pooled 0.15, se = sqrt(0.15 * 0.85 * 0.02) = 0.0504975, z = 1.98030
    # one-sided p = 1 - Phi(1.98030) = 0.023835
    assert share_rise(10, 100, 20, 100) == pytest.approx(0.023835, abs=2e-6)
    assert share_rise(20, 100, 10, 100) == pytest.approx(1 - 0.023835, abs=2e-6)


def test_no_rows_on_either_side_or_no_spread_gives_a_plain_answer() -> None:
    assert share_rise(0, 0, 5, 10) == 1.0
    assert share_rise(5, 10, 0, 0) == 1.0
    assert share_rise(0, -1, 5, 10) == 1.0
    # every row bad then and now, or none: the spread is 0
    assert share_rise(0, 10, 0, 20) == 1.0
    assert share_rise(10, 10, 20, 20) == 1.0


def test_a_single_row_on_each_side_is_still_tested() -> None:
    # then 0/1, now 1/1: pooled 0.5, se = sqrt(0.25 * 2) = 0.70711, z = 1.41421, p = 0.078650
    assert share_rise(0, 1, 1, 1) == pytest.approx(0.078650, abs=2e-6)
