"""Rule 2's sentence word for word: "even worse than the baseline" only when the whole interval is
below zero (a top of exactly 0 is not worse)."""

from __future__ import annotations

import pytest
from test_verdict import SETTINGS, evidence

from analytics.decide.verdict import decide

NO_EFFECT = (
    "No meaningful effect: even the top of the 99% interval ({top}) is below the 5% worth "
    "scaling for."
)


@pytest.mark.parametrize(
    ("lift", "low", "high", "top", "worse"),
    [
        (0.01, -0.01, 0.03, "+3.0%", False),
        (-0.01, -0.02, 0.0, "+0.0%", False),
        (-0.08, -0.10, -0.06, "-6.0%", True),
    ],
)
def test_rule2_says_worse_than_the_baseline_only_below_zero(
    lift: float, low: float, high: float, top: str, worse: bool
) -> None:
    d = decide(evidence(lift=lift, lift_low=low, lift_high=high), SETTINGS)
    assert d.verdict == "do_not_scale"
    tail = " It is even worse than the baseline." if worse else ""
    assert d.reasons[0] == NO_EFFECT.format(top=top) + tail
