"""Which alert a fallen production improvement raises, from hand-made alarms: below the
threshold, under the retention floor (the floor itself is kept) or declined, each sentence with
the recent lift, the decision-time one, and the first period the alarm crossed."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import numpy as np
import pandas as pd

from analytics.core.catalog import Catalog, Metric
from analytics.decide.watch import _effect_alerts

AHT = Metric("aht", "Handle time", direction="lower", min_effect=0.05)
CATALOG = Catalog((AHT,))  # retention floor 50%
DATA = SimpleNamespace(
    periods=pd.DatetimeIndex(["2025-03-03", "2025-03-10", "2025-03-17", "2025-03-24"]),
    post=np.array([False, False, True, True]),
)


def _alarm(crossed: bool, first: int = 1, peak: float = 4.5, h: float = 3.1) -> SimpleNamespace:
    return SimpleNamespace(
        crossed=np.array([crossed]),
        first=np.array([first if crossed else -1]),
        statistic=np.array([[1.0], [np.nan], [peak]]),
        h=h,
    )


def _alerts(lifts: list[float], ref: float, decline: bool = True, below: bool | None = None):
    alarms = SimpleNamespace(
        decline=_alarm(decline), below=None if below is None else _alarm(below, 0, 7.0, 2.2)
    )
    return _effect_alerts(AHT, DATA, alarms, np.array(lifts), ref, CATALOG)  # type: ignore[arg-type]


def test_a_decline_keeping_most_of_the_improvement() -> None:
    # recent mean of the last four: (0.08 + 0.06 + 0.07 + 0.05) / 4 = 0.065; 0.065 / 0.10 = 65%
    [alert] = _alerts([0.2, 0.08, 0.06, 0.07, 0.05], 0.10)
    assert (alert.kind, alert.metric, alert.site, alert.causal) == (
        "effect_declined", "aht", None, True,
    )  # fmt: skip
    assert alert.since == date(2025, 3, 24)
    assert (alert.statistic, alert.threshold) == (4.5, 3.1)
    assert alert.message == (
        "Handle time: the production improvement has fallen since the decision, +6.5% over the "
        "latest periods against +10.0% when decided (keeping 65% of it); first significant in "
        "the period of 2025-03-24."
    )


def test_under_the_retention_floor_and_exactly_at_it() -> None:
    [under] = _alerts([0.06, 0.06], 0.15)  # 40% kept
    assert under.kind == "retention_below_floor"
    assert "(keeping 40% of it, under the 50% floor)" in under.message
    [at] = _alerts([0.1, 0.1], 0.2)  # exactly 50% kept: not under the floor
    assert at.kind == "effect_declined" and "(keeping 50% of it)" in at.message


def test_below_the_threshold_by_the_recent_lift_or_by_its_own_alarm() -> None:
    [low] = _alerts([0.03, 0.03], 0.10)
    assert low.kind == "effect_below_threshold" and "(below the 5% threshold)" in low.message
    [at] = _alerts([0.05, 0.05], 0.08)  # exactly the threshold: a decline, not below it
    assert at.kind == "effect_declined"
    [alarmed] = _alerts([0.09, 0.09], 0.10, decline=False, below=True)
    assert alarmed.kind == "effect_below_threshold"
    assert (alarmed.statistic, alarmed.threshold, alarmed.since) == (7.0, 2.2, date(2025, 3, 17))


def test_no_alarm_or_no_positive_reference() -> None:
    assert _alerts([0.01], 0.10, decline=False) == []
    assert _alerts([0.01], 0.10, decline=False, below=False) == []
    [no_ref] = _alerts([0.07, 0.07], 0.0)
    assert no_ref.kind == "effect_declined" and "(lower than then)" in no_ref.message
