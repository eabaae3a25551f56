"""Rule 5 for row-level data that carries a count of periods but no period unit: the sentence asks
for rows, never for "more None" or sites over the same periods."""

from __future__ import annotations

from test_verdict import SETTINGS, evidence

from analytics.decide.verdict import decide


def test_rows_without_a_period_unit_are_asked_for_as_rows() -> None:
    # est 0.08 >= delta 0.05, half-width 0.10: rule 4 needs it below 0.08, a factor
    # (0.10 / 0.08)^2 = 1.5625: 40 rows -> 62.5, so ceil(22.5) = 23 more rows.
    for unit in ("", None):
        e = evidence(
            lift=0.08, lift_low=-0.02, lift_high=0.18, n_rows=40, n_sites=4, dataset_sites=4,
            periods=10, period_unit=unit,
        )  # fmt: skip
        d = decide(e, SETTINGS)
        assert d.verdict == "need_more_data"
        assert d.rows_needed == 23
        assert d.reasons[0].endswith(
            "too wide to tell a worthwhile improvement from none. About 23 more production rows "
            "would settle it."
        )
        assert d.reasons[1] == (
            "The production improvement is +8.0% (99% interval -2.0% to +18.0%; Minutes saved: "
            "change +8.0%), against a threshold of 5%."
        )
