"""The "since the decision" table, from hand-made changes: verdicts in words, the improvement
(sign x change) beside the raw change, then and now, today's interval low to high."""

from __future__ import annotations

import math

import pytest

from analytics.decide.decisions import VerdictChange, _num, _pair, changes_frame

NAN = math.nan


def test_a_lower_is_better_metric_reads_as_improvement_and_change() -> None:
    aht = VerdictChange(
        "aht", "Handle time", "scale", "fix_first", -0.12, -0.05, (-0.2, -0.04), (-0.09, -0.01),
        sign=-1,
    )  # fmt: skip
    [row] = changes_frame((aht,)).to_dict("records")
    assert row == {
        "Metric": "Handle time",
        "Better when": "lower",
        "Verdict then": "Scale",
        "Verdict now": "Fix first",
        "Changed": "yes",
        "Improvement then": "+12.0%",
        "Change then": "-12.0%",
        "Improvement now": "+5.0%",
        "Change now": "-5.0%",
        "Improvement interval now": "+1.0% to +9.0%",
    }


def test_a_metric_missing_on_one_side_says_so_and_unchanged_reads_no() -> None:
    new = VerdictChange("csat", "Satisfaction", None, "scale", NAN, 0.04, (NAN, NAN), (0.01, 0.07))
    same = VerdictChange("fcr", "Resolved", "need_more_data", "need_more_data", 0.02, 0.03,
                         (-0.01, 0.05), (0.0, 0.06))  # fmt: skip
    odd = VerdictChange("x", "X", "retired_verdict", None, 0.1, NAN, (0.0, 0.2), (NAN, NAN))
    frame = changes_frame((new, same, odd))
    assert list(frame.columns) == [
        "Metric", "Better when", "Verdict then", "Verdict now", "Changed", "Improvement then",
        "Change then", "Improvement now", "Change now", "Improvement interval now",
    ]  # fmt: skip
    first, second, third = frame.to_dict("records")
    assert first["Better when"] == "higher"
    assert first["Verdict then"] == "— (not in this view)" and first["Changed"] == "yes"
    assert first["Improvement then"] == "n/a" and first["Improvement now"] == "+4.0%"
    assert second["Changed"] == "no" and second["Verdict now"] == "Inconclusive: need more data"
    assert second["Improvement interval now"] == "+0.0% to +6.0%"
    assert third["Verdict then"] == "—" and third["Verdict now"] == "— (not in this view)"
    assert third["Improvement interval now"] == "n/a"
    assert changes_frame(()).empty and list(changes_frame(()).columns) == list(frame.columns)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(3, 3.0), (-0.5, -0.5), (None, NAN), ("0.5", NAN), (math.inf, NAN), (NAN, NAN)],
)
def test_snapshot_numbers_are_read_only_when_finite(raw: object, expected: float) -> None:
    got = _num(raw)
    assert got == expected or (math.isnan(got) and math.isnan(expected))


def test_snapshot_intervals_are_read_only_as_pairs() -> None:
    assert _pair([0.1, 0.3]) == (0.1, 0.3)
    assert _pair((-1, 2)) == (-1.0, 2.0)
    for bad in (None, [0.1], [0.1, 0.2, 0.3], "ab", {"lo": 1, "hi": 2}):
        assert all(math.isnan(v) for v in _pair(bad))
    lo, hi = _pair([None, 0.2])
    assert math.isnan(lo) and hi == 0.2
