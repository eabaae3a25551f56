"""The decision-time references the watch compares with, from hand-made results: the improvement
(sign x estimate) and the standard error read back from the verdict's interval at its level."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analytics.core.catalog import Metric
from analytics.decide.results import MetricVerdict, Results, SiteVerdict
from analytics.decide.watch import _first, _Then

AHT = Metric("aht", "Handle time", direction="lower")


def _results() -> Results:
    q99 = stats.norm.ppf(0.995)
    verdict = MetricVerdict(
        "aht", "Handle time", "scale", -0.1, (-0.1 - q99 * 0.02, -0.1 + q99 * 0.02), 0.99,
        "imputation", "", "scale", -0.12, (-0.2, -0.04), (), (), None, None, "",
    )  # fmt: skip
    q95 = stats.norm.ppf(0.975)
    sites = (
        SiteVerdict("csat", "Lyon", "scale", 9.0, (8.0, 10.0), ()),
        SiteVerdict("aht", "Lyon", "scale", -0.2, (-0.2 - q95 * 0.05, -0.2 + q95 * 0.05), ()),
    )
    return Results({}, {}, (), (), (verdict,), sites, (), (), (), ())


def test_the_reference_is_the_improvement_and_its_se_at_the_verdicts_level() -> None:
    ref, se, method = _Then(_results(), 0.05).reference(AHT)
    assert (ref, method) == (0.1, "imputation")
    assert se == pytest.approx(0.02, rel=1e-9)
    missing = _Then(_results(), 0.05).reference(Metric("csat", "Satisfaction"))
    assert math.isnan(missing[0]) and math.isnan(missing[1]) and missing[2] == ""


def test_a_site_reference_reads_its_interval_at_one_minus_alpha() -> None:
    ref, se = _Then(_results(), 0.05).site_reference(AHT, "Lyon")
    assert ref == 0.2 and se == pytest.approx(0.05, rel=1e-9)
    assert all(math.isnan(v) for v in _Then(_results(), 0.05).site_reference(AHT, "Pau"))


def test_the_first_crossing_is_counted_in_periods_after_the_decision() -> None:
    periods = pd.DatetimeIndex(["2025-03-03", "2025-03-10", "2025-03-17", "2025-03-24"])
    post = np.array([False, True, False, True])
    assert str(_first(periods, post, SimpleNamespace(first=np.array([[1]])))) == "2025-03-24"
    assert str(_first(periods, post, SimpleNamespace(first=np.array([0])))) == "2025-03-10"
    assert _first(periods, post, SimpleNamespace(first=np.array([-1]))) is None
