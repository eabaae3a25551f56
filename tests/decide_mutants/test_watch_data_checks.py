"""The watch's data checks on hand-made day rows and loads: silence for more than two periods,
missing values and rejected rows that rose by 2 points and past p < 0.001, each sentence's
numbers worked by hand."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from analytics.decide.watch_data import missing_values, rejected_rows, stopped
from analytics.store.history import LoadRecord


def _days(rows: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame({"date": [pd.Timestamp(d) for d, _ in rows], "site": [s for _, s in rows]})


def test_the_dataset_is_stopped_after_more_than_two_periods_of_silence() -> None:
    days = _days([("2025-03-01", "A"), ("2025-03-10", "A"), ("2025-03-10", "B")])
    # 14 days after the last row is two weeks: not yet; 15 days is.
    assert stopped(days, date(2025, 3, 24), "week") == []
    [finding] = stopped(days, date(2025, 3, 25), "week")
    assert (finding.kind, finding.site, finding.since) == ("data_stopped", None, date(2025, 3, 10))
    assert finding.message == "No rows have arrived since 2025-03-10 (15 days before 2025-03-25)."
    # monthly: two periods are 62 days
    assert stopped(days, date(2025, 5, 11), "month") == []
    assert [f.kind for f in stopped(days, date(2025, 5, 12), "month")] == ["data_stopped"]


def test_a_site_silent_for_more_than_two_periods_while_others_send_is_named() -> None:
    days = _days([("2025-03-01", "A"), ("2025-03-15", "B"), ("2025-03-16", "B")])
    # A's last row is 15 days before the data's last (2025-03-16): more than two weeks.
    [finding] = stopped(days, date(2025, 3, 17), "week")
    assert (finding.kind, finding.site, finding.since) == ("site_stopped", "A", date(2025, 3, 1))
    assert (
        finding.message
        == "Site A has sent no rows since 2025-03-01, while the data runs to 2025-03-16."
    )
    exactly = _days([("2025-03-02", "A"), ("2025-03-16", "B")])  # 14 days: not yet
    assert stopped(exactly, date(2025, 3, 17), "week") == []


def test_no_dated_rows_means_nothing_to_say() -> None:
    empty = pd.DataFrame({"date": [None, None], "site": ["A", "B"]})
    assert stopped(empty, date(2025, 3, 17), "week") == []


def _metric_days(then: tuple[int, int], now: tuple[int, int]) -> pd.DataFrame:
    """rows and recorded values (n0) on one day before the window's end and one after."""
    return pd.DataFrame(
        {
            "date": [pd.Timestamp("2025-03-01"), pd.Timestamp("2025-03-20"), None],
            "rows": [then[0], now[0], 999],
            "n0": [then[1], now[1], 0],
        }
    )


def test_missing_values_that_rose_are_worded_with_both_shares() -> None:
    # then 20 of 1,000 missing (2.0%), now 80 of 1,000 (8.0%): +6 points, z = 6.19, p ~ 3e-10
    [finding] = missing_values(
        _metric_days((1000, 980), (1000, 920)), [("aht", "Handle time", 0)], date(2025, 3, 10)
    )
    assert (finding.kind, finding.metric, finding.site, finding.since) == (
        "quality_dropped",
        "aht",
        None,
        None,
    )
    assert (
        finding.message
        == "Handle time is missing on 8.0% of rows since the decision, against 2.0% before it."
    )


@pytest.mark.parametrize(
    ("then", "now"),
    [
        ((1000, 980), (1000, 961)),  # +1.9 points: under the 2-point floor, however sure
        ((50, 49), (50, 47)),  # +4 points on 50 rows: p = 0.15, not below 0.001
        ((1000, 980), (0, 0)),  # nothing since the decision
        ((0, 0), (1000, 900)),  # nothing before it
    ],
)
def test_missing_values_below_either_bar_or_without_rows_say_nothing(then, now) -> None:
    assert (
        missing_values(_metric_days(then, now), [("aht", "Handle time", 0)], date(2025, 3, 10))
        == []
    )


def test_a_rise_of_exactly_two_points_is_enough_when_sure() -> None:
    # then 0 of 1,000, now 20 of 1,000: exactly +2 points (0.02 - 0.0, exact in floats);
    # pooled 1%, se = sqrt(0.01 x 0.99 x 0.002) = 0.00445, z = 4.49, p = 3.5e-6
    found = missing_values(
        _metric_days((1000, 1000), (1000, 980)), [("m", "M", 0)], date(2025, 3, 10)
    )
    assert len(found) == 1
    assert (
        found[0].message
        == "M is missing on 2.0% of rows since the decision, against 0.0% before it."
    )
    loads = [_load(1, 1000, 0, date(2025, 3, 1)), _load(2, 1000, 20, date(2025, 3, 20))]
    assert len(rejected_rows(loads, date(2025, 3, 10))) == 1


def _load(seq: int, read: int, rejected: int, date_max: date | None) -> LoadRecord:
    return LoadRecord(
        1,
        seq,
        "append",
        datetime(2025, 3, 1),
        "f.csv",
        "h",
        read - rejected,
        rejected,
        0,
        None,
        date_max,
        0,
        {},
    )


def test_rejected_rows_that_rose_are_worded_with_both_shares() -> None:
    loads = [
        _load(1, 1000, 10, date(2025, 3, 1)),
        _load(2, 500, 5, None),
        _load(3, 1000, 60, date(2025, 3, 20)),
    ]
    # before: 15 of 1,500 (1.0%); after: 60 of 1,000 (6.0%)
    [finding] = rejected_rows(loads, date(2025, 3, 10))
    assert finding.kind == "quality_dropped" and finding.metric is None
    assert (
        finding.message
        == "6.0% of the rows added since the decision were set aside at load, against 1.0% before it."
    )


def test_rejected_rows_below_either_bar_or_without_loads_say_nothing() -> None:
    window = date(2025, 3, 10)
    base = _load(1, 1000, 10, date(2025, 3, 1))
    assert rejected_rows([base, _load(2, 1000, 29, date(2025, 3, 20))], window) == []  # +1.9 points
    assert (
        rejected_rows(
            [_load(1, 50, 0, date(2025, 3, 1)), _load(2, 50, 2, date(2025, 3, 20))], window
        )
        == []
    )
    assert rejected_rows([base], window) == []
    assert rejected_rows([_load(2, 1000, 60, date(2025, 3, 20))], window) == []
    # the decision's own last day counts as before it
    assert rejected_rows([base, _load(2, 1000, 60, window)], window) == []


def test_a_load_ending_on_the_decisions_last_day_counts_before_it() -> None:
    # before: 10 of 1,000 and 200 of 1,000 (ending on the window's last day): 10.5%;
    # after: 60 of 1,000 (6.0%), a fall, so no alert. Without the second load it would read 1%.
    window = date(2025, 3, 10)
    loads = [
        _load(1, 1000, 10, date(2025, 3, 1)),
        _load(2, 1000, 200, window),
        _load(3, 1000, 60, date(2025, 3, 20)),
    ]
    assert rejected_rows(loads, window) == []
    assert len(rejected_rows([loads[0], loads[2]], window)) == 1


def test_a_rise_of_exactly_two_points_counts_as_two_points() -> None:
    """1% set aside before the decision and 3% after is a rise of 2 points (in floating point
    0.03 - 0.01 is 0.0199...): with 1,000 rows on each side the one-sided z test gives
    p = 0.0008 < 0.001, so it alerts; 2.9% (1.9 points) does not."""
    from datetime import date

    from analytics.decide.watch_data import rejected_rows, rose, share_rise
    from analytics.store.history import LoadRecord

    def load(seq: int, rejected: int, day: date) -> LoadRecord:
        return LoadRecord(1, seq, "load", day, "f.csv", "x", 1000 - rejected, rejected, 0,
                          day, day, 0, {})  # fmt: skip

    end = date(2025, 3, 31)
    assert rose(0.01, 0.03) and not rose(0.01, 0.029)
    assert share_rise(10, 1000, 30, 1000) < 0.001
    found = rejected_rows([load(1, 10, date(2025, 3, 1)), load(2, 30, date(2025, 4, 7))], end)
    assert [f.message for f in found] == [
        "3.0% of the rows added since the decision were set aside at load, against 1.0% before it."
    ]
    assert rejected_rows([load(1, 10, date(2025, 3, 1)), load(2, 29, date(2025, 4, 7))], end) == []
