"""Lift retention (rule 3) from the imputation estimator's pilot and production effects, checked
against a row-level computation that shares no code with the engine: statsmodels OLS of the
baseline rows on site and month dummies, each treated row's counterfactual predicted, the
effects as mean row effects, their influence per row from the dummies' pseudo-inverse, the
lift's by the delta method, and Fieller's quadratic solved by hand. Bases: production (8 live
sites) clustered by site (row influences summed per site, t on 9 df), the one-site pilot and
one site's production with cells as units (row influences summed per phase × site × channel ×
month cell, normal quantile); their covariance on cells."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from test_analysis import staggered_rows, store_rows

from analytics.decide.analysis import analyse

Z = 1.959963984540054  # normal 97.5% quantile: a one-site effect
T9 = 2.2621571627409915  # t 97.5% quantile on 9 df: 10 sites with baseline rows, clustered


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    out = staggered_rows()
    out["month"] = pd.to_datetime(out["date"]).dt.strftime("%Y-%m")
    return out


@pytest.fixture(scope="module")
def results(rows):
    store, catalog = store_rows(staggered_rows())
    return analyse(store, 1, catalog)


def _lift_influence(rows: pd.DataFrame, treated: pd.Series, y: str) -> tuple[float, np.ndarray]:
    """The imputation lift of the treated rows and its influence per row (zeros elsewhere)."""
    base = rows["phase"] == "baseline"
    fit = smf.ols(f"{y} ~ C(site) + C(month)", data=rows[base]).fit()
    z_all = fit.model.data.orig_exog.columns
    design = pd.get_dummies(rows[["site", "month"]], drop_first=True, dtype=float)
    design.insert(0, "Intercept", 1.0)
    names = {c: c.replace("C(site)[T.", "site_").replace("C(month)[T.", "month_").rstrip("]")
             for c in z_all}  # fmt: skip
    z = design[[names[c] for c in z_all]].to_numpy()
    pred = z @ fit.params.to_numpy()
    yy = rows[y].to_numpy()
    t = treated.to_numpy()
    n_t = t.sum()
    tau = float((yy - pred)[t].mean())
    y_t = float(yy[t].mean())
    zb = z[base.to_numpy()]
    a = np.zeros(len(rows))
    a[base.to_numpy()] = -(z[t].mean(axis=0) @ np.linalg.pinv(zb.T @ zb) @ zb.T)
    a[t] = 1 / n_t
    eps = np.where(t, yy - pred - tau, np.where(base, yy - pred, 0.0))
    psi_tau = a * eps
    psi_mean = np.where(t, (yy - y_t) / n_t, 0.0)
    cf = y_t - tau
    return tau / cf, (y_t * psi_tau - tau * psi_mean) / cf**2


def _sums(rows: pd.DataFrame, psi: np.ndarray, by: list[str]) -> pd.Series:
    return pd.Series(psi, index=rows.index).groupby([rows[c] for c in by]).sum()


CELL = ["phase", "site", "channel", "month"]


def _fieller(rows, lp, lq, psi_p, psi_q, p_by, q) -> tuple[float, float]:
    vp = float((_sums(rows, psi_p, p_by) ** 2).sum())
    vq = float((_sums(rows, psi_q, CELL) ** 2).sum())
    c = float((_sums(rows, psi_p, CELL) * _sums(rows, psi_q, CELL)).sum())
    a = lq * lq - q * q * vq
    b = lp * lq - q * q * c
    cc = lp * lp - q * q * vp
    root = math.sqrt(b * b - a * cc)
    return (b - root) / a, (b + root) / a


def test_overall_retention_equals_row_level_imputation_lifts(rows, results) -> None:
    lp, psi_p = _lift_influence(rows, rows["phase"] == "production", "cost")
    lq, psi_q = _lift_influence(rows, rows["phase"] == "pilot", "cost")
    (row,) = [r for r in results.retention if r.metric == "cost" and r.slice_type == "overall"]
    assert row.retention == pytest.approx(lp / lq, rel=1e-9)
    assert row.ci == pytest.approx(_fieller(rows, lp, lq, psi_p, psi_q, ["site"], T9), rel=1e-7)
    assert 0.8 < row.retention < 1.2  # the AI cuts cost by 10 in the pilot and in production
    # The verdict's rule 3 reads the same number.
    assert results.verdict("cost").retention == pytest.approx(lp / lq, rel=1e-9)


def test_a_sites_retention_is_its_own_imputation_lift_over_the_pilots(rows, results) -> None:
    live = (rows["phase"] == "production") & (rows["site"] == "S5")
    ls, psi_s = _lift_influence(rows, live, "cost")
    lq, psi_q = _lift_influence(rows, rows["phase"] == "pilot", "cost")
    (row,) = [r for r in results.retention if r.metric == "cost" and r.slice == "S5"]
    assert row.retention == pytest.approx(ls / lq, rel=1e-9)
    assert row.ci == pytest.approx(_fieller(rows, ls, lq, psi_s, psi_q, CELL, Z), rel=1e-7)
