"""Value at scale reads its delivered interval on the verdict's basis: with 1–4 live sites the
placebo test's critical value times the robust standard error (the old code read a normal
quantile times the same se, which is not the verdict's interval).

Design: S0-S2 go live in July (S0 piloted in March-May), S4-S7 stay on the old way of working
until September and S8-S9 throughout; 3 live sites, so the placebo path (83 permuted assignments). The critical value is
recomputed by hand from the placebo statistics (p = (1 + #|t| ≥ c) / S ≤ α), and the estimate
and its robust se against a row-level statsmodels two-stage fit."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from test_analysis import staggered_rows, store_rows

from analytics.decide.analysis import analyse
from analytics.decide.rollout import analyse_rollout
from analytics.engine.aggregate import Filters, cells_from_days, summarise_days


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    out = staggered_rows()
    month = pd.to_datetime(out["date"]).dt.month - 1
    keep = out["site"].isin(["S0", "S1", "S2", "S8", "S9"]) | (
        out["site"].isin(["S4", "S5", "S6", "S7"]) & (month < 9)
    )
    return out[keep & (out["site"] != "S3")].reset_index(drop=True)


def test_value_interval_is_the_verdicts_placebo_interval(rows) -> None:
    store, catalog = store_rows(rows)
    results = analyse(store, 1, catalog)
    alpha = 0.05 / 2  # two outcomes: the verdicts' Bonferroni level
    (value,) = [v for v in results.value_at_scale if v.metric == "cost"]
    roll = results.rollout("cost")
    assert roll.estimator["method"] == "imputation_placebo"
    # The placebo statistics and the critical value by hand.
    days = summarise_days(store.cursor(), 1, ["cost"], Filters(grain="month"))
    group = cells_from_days(days, ["cost"], "month").drop(columns="metric")
    est = analyse_rollout(group, 0.05).production
    placebo = est.placebo
    # One shared window, 9 sites with baseline rows in it: C(9, 3) − 1 sets of three.
    assert (placebo.search, placebo.assignments) == ("permutation", 83)
    size = len(placebo.placebo_t) + 1
    # A real |t| just above the (k+1)-th largest placebo has p = (1 + k) / S: the largest k
    # with (1 + k) / S ≤ α sets the critical value (S = 84 here: k = 1, the second largest).
    k = max(j for j in range(size) if (1 + j) / size <= alpha)
    c = sorted(placebo.placebo_t, reverse=True)[k]
    assert est.placebo.critical(alpha) == pytest.approx(c)
    # The estimate and its se from rows: OLS of baseline rows on site + month, mean row effect.
    rows = rows.assign(month=pd.to_datetime(rows["date"]).dt.strftime("%Y-%m"))
    fit = smf.ols("cost ~ C(site) + C(month)", data=rows[rows["phase"] == "baseline"]).fit()
    live = rows[rows["phase"] == "production"]
    tau = float((live["cost"] - fit.predict(live)).mean())
    assert est.estimate == pytest.approx(tau, rel=1e-9)
    scale = -1.0 * 1.0 * 10000  # lower is better × value per unit × annual volume
    expected = sorted((scale * (tau - c * est.se), scale * (tau + c * est.se)))
    assert value.delivered_ci == pytest.approx(expected, rel=1e-9)
    assert value.delivered == pytest.approx(scale * tau, rel=1e-9)
    # The verdict's lift interval is on the same basis: lift ± c·lift_se.
    lo, hi = est.lift_ci(1 - alpha)
    assert (hi - lo) / 2 == pytest.approx(c * est.lift_se, rel=1e-12)
    verdict = results.verdict("cost")
    assert verdict.ci == pytest.approx((lo, hi), rel=1e-12)
    # Not the normal quantile the old code read (here wider than the verdict's interval).
    normal = 2.241402727604947  # scipy.stats.norm.ppf(1 - 0.025 / 2)
    assert math.isfinite(c) and abs(c - normal) > 0.5
    assert np.ptp(value.delivered_ci) == pytest.approx(2 * c * abs(scale) * est.se, rel=1e-9)
