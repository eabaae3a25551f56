"""Readiness on hand-made results: adoption over production periods (managers), ticket effects
and worsening processes (support), each sentence from the numbers put in."""

from __future__ import annotations

import pandas as pd

from analytics.core.catalog import Catalog, Metric
from analytics.decide.readiness import _managers, _support
from analytics.decide.results import EffectRow, Results, TrendRow

ADOPTION = Metric("adoption_rate", "Adoption rate", kind="process")
TICKETS = Metric("tickets", "Tickets per agent", direction="lower")
HANDLE = Metric("handle", "Handle time", kind="process", direction="lower")


def _results(dataset: dict, effects: tuple = (), trends: tuple = ()) -> Results:
    meta = {"settings": {"alpha": 0.01}}
    return Results(meta, dataset, effects, (), (), (), (), (), trends, ())


def _series(metric: str, means: list[float], phase: str = "production") -> pd.DataFrame:
    periods = pd.date_range("2025-01-06", periods=len(means), freq="W-MON")
    # stored out of order: the sentence must read first and last by period
    return pd.DataFrame(
        {"metric": metric, "phase": phase, "period": periods[::-1], "mean": means[::-1]}
    )


def test_adoption_rising_over_production_periods_is_good() -> None:
    series = pd.concat(
        [
            _series("adoption_rate", [0.2, 0.35, 0.5]),
            _series("adoption_rate", [0.9, 0.9], phase="pilot"),
            pd.DataFrame({"metric": ["adoption_rate"], "phase": ["production"], "period": [None],
                          "mean": [5.0]}),
        ]
    )  # fmt: skip
    results = _results({"phases": {"production": 300}, "sites": ["A", "B", "C"]})
    evidence, signal = _managers(results, Catalog((ADOPTION,)), series)
    assert evidence == (
        "Production data comes from some of 3 sites; whether their managers were involved is "
        "not in the data.",
        "Adoption rate went from 0.2 to 0.5 over 3 production periods.",
    )
    assert signal == "good"


def test_adoption_falling_is_a_concern_and_one_period_says_nothing() -> None:
    results = _results({"phases": {}, "sites": []})
    falling = _managers(results, Catalog((ADOPTION,)), _series("adoption_rate", [0.6, 0.45]))
    assert falling == (
        ("Adoption rate went from 0.6 to 0.45 over 2 production periods.",),
        "concern",
    )
    flat = _managers(results, Catalog((ADOPTION,)), _series("adoption_rate", [0.6, 0.6]))
    assert flat[1] == "good"
    one = _managers(results, Catalog((ADOPTION,)), _series("adoption_rate", [0.6]))
    assert one == (("The data holds no adoption or usage measure.",), "unknown")


def _tickets(lift: float, ci: tuple[float, float]) -> EffectRow:
    return EffectRow(
        "tickets", "production_vs_baseline", "overall", None, True, "twfe", 100, 100, 1.0, 1.0,
        0.0, (0.0, 0.0), lift, ci, 0.01, 0.01,
    )  # fmt: skip


def test_fewer_tickets_with_an_interval_above_zero_is_good_support() -> None:
    # lower is better: a change of -20% (-30% to -10%) is an improvement of +20% (+10% to +30%)
    results = _results({}, effects=(_tickets(-0.2, (-0.3, -0.1)),))
    evidence, signal = _support(results, Catalog((TICKETS,)), pd.DataFrame())
    assert evidence == (
        "Tickets per agent: an improvement of +20.0% in production against the baseline "
        "(change -20.0%; 99% interval +10.0% to +30.0%).",
    )
    assert signal == "good"


def test_more_tickets_is_a_concern_and_an_interval_across_zero_says_nothing() -> None:
    worse = _results({}, effects=(_tickets(0.2, (0.1, 0.3)),))
    assert _support(worse, Catalog((TICKETS,)), pd.DataFrame())[1] == "concern"
    across = _results({}, effects=(_tickets(0.05, (-0.05, 0.15)),))
    assert _support(across, Catalog((TICKETS,)), pd.DataFrame())[1] == "unknown"
    touching = _results({}, effects=(_tickets(-0.1, (-0.2, 0.0)),))
    assert _support(touching, Catalog((TICKETS,)), pd.DataFrame())[1] == "unknown"


def test_a_process_worsening_period_after_period_is_a_concern() -> None:
    # handle time (lower is better) rising +2.5 a period, p = 0.01 < 0.05
    rising = TrendRow("handle", 2.5, (1.0, 4.0), 0.01, 8, "")
    evidence, signal = _support(_results({}, trends=(rising,)), Catalog((HANDLE,)), pd.DataFrame())
    assert evidence == (
        "Handle time is getting worse in production, period after period (+2.5 a period over "
        "8 periods).",
    )
    assert signal == "concern"
    for trend in (
        TrendRow("handle", 2.5, (1.0, 4.0), 0.05, 8, ""),  # p not below 0.05
        TrendRow("handle", -2.5, (-4.0, -1.0), 0.01, 8, ""),  # improving
        TrendRow("handle", 2.5, (1.0, 4.0), float("nan"), 8, ""),
    ):
        quiet = _support(_results({}, trends=(trend,)), Catalog((HANDLE,)), pd.DataFrame())
        assert quiet == (
            ("The data holds no ticket or incident measure and no process decline.",),
            "unknown",
        )
