"""Readiness evidence worked by hand: the pipeline question at its thresholds (1% of rows rejected,
5% of values missing, 3 days or one period of the data's own cadence without data), the owner of
the last decision, and the gaps said in the data's own unit."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from analytics.decide.decisions import DecisionRecord
from analytics.decide.readiness import _gap, _owner, _pipeline
from analytics.store.database import DatasetInfo


def _info(rows: int, rejected: int) -> DatasetInfo:
    return DatasetInfo(1, "pilot.csv", "file", "ab", rows, rejected, datetime(2025, 1, 1), None)


def _quality(missing: tuple[float, float], days: tuple[int, int], **extra: object) -> pd.DataFrame:
    frame = {"site": ["Lyon", "Nice"], "rows": [300.0, 100.0], "missing_share": list(missing)}
    return pd.DataFrame(frame | {"days_missing": list(days)} | extra)


def test_exactly_at_every_threshold_the_pipeline_is_good() -> None:
    # 10 of 1,000 rejected is 1.0%, not above 1%; missing (0.02 x 300 + 0.05 x 100) / 400 = 2.75%;
    # Nice misses exactly 5% of values and 3 days: neither is above its threshold.
    evidence, signal = _pipeline(_quality((0.02, 0.05), (0, 3), cadence="daily"), _info(990, 10))
    assert signal == "good"
    assert evidence == (
        "10 of 1,000 rows (1.0%) were rejected at load.",
        "2.8% of metric values are missing overall.",
        "No site misses more than 5.0% of values or more than 3 days.",
    )


def test_one_row_more_rejected_is_a_concern() -> None:
    # 11 of 1,001 = 1.099% > 1%, with clean sites.
    evidence, signal = _pipeline(_quality((0.0, 0.0), (0, 0)), _info(990, 11))
    assert signal == "concern"
    assert evidence[0] == "11 of 1,001 rows (1.1%) were rejected at load."
    assert evidence[1] == "0.0% of metric values are missing overall."


def test_sites_past_a_threshold_are_named_with_their_gap_in_the_cadence_unit() -> None:
    # Lyon misses 4 days (one week of weekly data), Nice 6% of values: both named; missing
    # overall (0.02 x 300 + 0.06 x 100) / 400 = 3.0%.
    quality = _quality((0.02, 0.06), (4, 0), cadence="weekly", periods_missing=[1, 0])
    evidence, signal = _pipeline(quality, None)
    assert signal == "concern"
    assert evidence == (
        "3.0% of metric values are missing overall.",
        "Lyon: 2.0% of values missing and 1 week without data.",
        "Nice: 6.0% of values missing and 0 weeks without data.",
    )


def test_a_clean_weekly_feed_is_judged_on_its_own_cadence() -> None:
    evidence, signal = _pipeline(_quality((0.0, 0.01), (0, 0), cadence="weekly"), None)
    assert signal == "good"
    assert evidence[-1] == "No site misses more than 5.0% of values or any week of its weekly data."
    daily = _pipeline(_quality((0.0, 0.01), (0, 0), cadence="daily"), None)[0]
    assert daily[-1] == "No site misses more than 5.0% of values or more than 3 days."


def test_no_rows_and_no_quality_leave_the_pipeline_unknown() -> None:
    assert _pipeline(pd.DataFrame(), None) == (
        ("There is no data to judge the pipeline by.",),
        "unknown",
    )
    evidence, signal = _pipeline(pd.DataFrame(), _info(0, 0))
    assert evidence == ("0 of 0 rows (0.0%) were rejected at load.",) and signal == "good"


def test_gaps_in_days_unless_the_cadence_counts_periods() -> None:
    assert _gap({"days_missing": 4}) == "4 days"
    assert _gap({"days_missing": 1, "cadence": "daily", "periods_missing": 9}) == "1 day"
    assert _gap({"days_missing": 14, "cadence": "weekly", "periods_missing": 2}) == "2 weeks"
    assert _gap({"days_missing": 40, "cadence": "monthly", "periods_missing": 1}) == "1 month"
    assert _gap({"days_missing": 5, "cadence": "weekly"}) == "5 days"


def test_the_owner_is_the_last_decisions_or_unknown() -> None:
    assert _owner(()) == (
        ("The data does not name an owner, and no decision has been recorded yet.",),
        "unknown",
    )
    last = DecisionRecord(4, 1, datetime(2025, 3, 2, 9, 0), "no_go", "@coo", "", {}, {})
    older = DecisionRecord(3, 1, datetime(2025, 2, 1, 9, 0), "go", "@cfo", "", {}, {})
    assert _owner((last, older)) == (
        ("The last recorded decision (2025-03-02, No-go) named @coo as owner.",),
        "good",
    )
