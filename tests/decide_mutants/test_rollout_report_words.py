"""The rollout report's small pieces by hand: a lift signed so that positive is better, the
placebo test as results.json writes it, and the breakdown sentence with and without units."""

from __future__ import annotations

import math

from analytics.core.catalog import Metric
from analytics.decide.rollout_report import breakdown_sentence, good_interval, placebo_dict
from analytics.engine.placebo import PlaceboTest
from analytics.engine.sensitivity import Breakdown

AHT = Metric("aht", "Handle time", direction="lower", unit="min")
SAVED = Metric("saved", "Minutes saved")


def test_a_lift_is_signed_so_that_positive_is_better_with_its_interval_sorted() -> None:
    assert good_interval(AHT, -0.1, -0.15, -0.05) == (0.1, 0.05, 0.15)
    assert good_interval(SAVED, 0.1, 0.05, 0.15) == (0.1, 0.05, 0.15)
    assert good_interval(AHT, 0.02, -0.01, 0.05) == (-0.02, -0.05, 0.01)


def test_the_placebo_test_is_written_with_its_rank_size_floor_and_statistic() -> None:
    # |t| 2.5 beaten by one placebo of four: rank 2 of 5, p = 0.4; 7 assignments: floor 1/8
    test = PlaceboTest(2.5, (3.0, 2.0, 1.0, 0.5), 7)
    assert placebo_dict(test) == {
        "rank": 2, "size": 5, "assignments": 7, "p_value": 0.4, "floor": 0.125,
        "statistic": 2.5,
    }  # fmt: skip
    assert placebo_dict(None) is None


def test_the_breakdown_sentence_gives_the_drift_and_the_pre_period_slope() -> None:
    broke = Breakdown(0.0421, "need_more_data", -0.0123, (-0.03, 0.0054), 0.95)
    assert breakdown_sentence(AHT, broke, "week") == (
        "This verdict holds unless the live sites were drifting apart from the others by "
        "0.0421 min a week since go-live. Before go-live the live sites drifted by -0.0123 min "
        "a week against the others (95% interval -0.03 to +0.0054)."
    )
    no_slope = Breakdown(0.5, "do_not_scale", math.nan, (math.nan, math.nan), 0.95)
    assert breakdown_sentence(SAVED, no_slope, "month") == (
        "This verdict holds unless the live sites were drifting apart from the others by 0.5 a "
        "month since go-live."
    )
    assert breakdown_sentence(SAVED, None, "week") == ""
    assert breakdown_sentence(SAVED, Breakdown(math.inf, "", 0.0, (0.0, 0.0), 0.95), "week") == ""
