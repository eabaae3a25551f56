"""Effects, lifts and retention read from a fitted cell model (linear forms of its coefficients).

An effect is cᵀβ with lift cᵀβ / dᵀβ (d: the counterfactual's linear form), its interval by the
delta method on the chosen covariance; the method id is ``{mode}_{covariance}`` (results.json),
and ASSUMPTIONS holds the sentence each method rests on.
"""

from __future__ import annotations

import math

import numpy as np

from analytics.engine.cells import _BASELINE, _PRODUCTION, PreparedCells, _Frame
from analytics.engine.design import Mode
from analytics.engine.effects import Effect, Ratio, _join
from analytics.engine.fieller import fieller_ratio
from analytics.engine.quantiles import NAN, _p_two_sided, _tq
from analytics.engine.wls import _Fit

ASSUMPTIONS: dict[str, str] = {
    "twfe_cluster_site": (
        "Without the AI every site would have followed the same ups and downs over time as the "
        "sites still on the old way of working (shared period effects); uncertainty allows for "
        "shocks shared across a site's periods."
    ),
    "twfe_hc1_cells": (
        "Without the AI every site would have followed the same ups and downs over time as the "
        "sites still on the old way of working (shared period effects); too few sites carry this "
        "effect for site-clustered errors, so shocks shared across a site's periods are not "
        "accounted for."
    ),
    "site_trend_cluster_site": (
        "The pre-launch trend would have continued and nothing else changed at go-live; "
        "uncertainty allows for shocks shared across a site's periods."
    ),
    "site_trend_hc1_cells": (
        "The pre-launch trend would have continued and nothing else changed at go-live; shocks "
        "shared across a site's periods are not accounted for."
    ),
    "site_fe_cluster_site": (
        "The data has no dates, so nothing that changed over time is controlled for: sites differ "
        "by a constant and nothing else changed between phases; uncertainty allows for shocks "
        "shared within a site."
    ),
    "site_fe_hc1_cells": (
        "The data has no dates, so nothing that changed over time is controlled for: sites differ "
        "by a constant and nothing else changed between phases; shocks shared within a site are "
        "not accounted for."
    ),
}


def _counterfactual_row(fit: _Fit, col: str) -> np.ndarray:
    """W-weighted average design row of the treated cells with the treatment dummy set to 0."""
    j = fit.column(col)
    mask = fit.X[:, j] == 1.0
    w = fit.w[mask]
    a = (w @ fit.X[mask]) / w.sum()
    a[j] = 0.0
    return a


def _effect(
    fit: _Fit,
    name: str,
    c: np.ndarray,
    d: np.ndarray,
    cov: str,
    ci_alpha: float,
    treated_mean: float,
    n_treated: int,
    n_sites: int,
    note: str = "",
) -> Effect:
    """Effect cᵀβ with lift cᵀβ / dᵀβ (d: the counterfactual's linear form), delta-method CIs."""
    method = f"{fit.mode}_{cov}"
    assumption = ASSUMPTIONS[method]
    v = fit.v_cluster if cov == "cluster_site" else fit.v_hc1
    df = fit.df_cluster if cov == "cluster_site" else fit.df_hc1
    est = float(c @ fit.beta)
    notes = [note]
    if v is None or not np.isfinite(v).all() or not math.isfinite(df):
        notes.append("Too few rows or sites are left to estimate the uncertainty.")
        v = np.full((len(c), len(c)), np.nan)
    se = math.sqrt(max(float(c @ v @ c), 0.0)) if np.isfinite(v).all() else NAN
    q = _tq(ci_alpha, df)
    if se > 0:
        p = _p_two_sided(est / se, df)
        lo, hi = est - q * se, est + q * se
    else:
        if se == 0:
            notes.append("No variation is left to measure the uncertainty.")
        p = lo = hi = NAN
    cf = float(d @ fit.beta)
    lift, lift_se, lift_lo, lift_hi = _lift(est, cf, c, d, v, q)
    if not (cf != 0 and math.isfinite(cf)):
        notes.append("The counterfactual mean is 0, so a relative lift is undefined.")
    return Effect(
        name=name,
        estimate=est,
        se=se,
        df=df,
        ci_low=lo,
        ci_high=hi,
        p_value=p,
        lift=lift,
        lift_se=lift_se,
        lift_ci_low=lift_lo,
        lift_ci_high=lift_hi,
        counterfactual_mean=cf,
        treated_mean=treated_mean,
        n_treated=n_treated,
        n_sites=n_sites,
        method=method,
        assumption=assumption,
        note=_join(notes),
    )


def _lift(
    est: float, cf: float, c: np.ndarray, d: np.ndarray, v: np.ndarray, q: float
) -> tuple[float, float, float, float]:
    """Lift est / cf, its delta-method se (gradient c / cf − est d / cf²) and interval; NaN
    where undefined (a counterfactual mean of 0, no covariance, no spread)."""
    lift = lift_se = lift_lo = lift_hi = NAN
    if cf != 0 and math.isfinite(cf):
        lift = est / cf
        g = c / cf - est * d / cf**2
        if np.isfinite(v).all():
            lift_se = math.sqrt(max(float(g @ v @ g), 0.0))
            if lift_se > 0:
                lift_lo, lift_hi = lift - q * lift_se, lift + q * lift_se
    return lift, lift_se, lift_lo, lift_hi


def _empty_effect(
    name: str, method: str, treated_mean: float, n_treated: int, n_sites: int, note: str
) -> Effect:
    return Effect(
        name, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN,
        treated_mean, n_treated, n_sites, method, ASSUMPTIONS.get(method, ""), note,
    )  # fmt: skip


def _lift_gradient(fit: _Fit, c: np.ndarray, d: np.ndarray) -> tuple[float, np.ndarray]:
    est, cf = float(c @ fit.beta), float(d @ fit.beta)
    return est / cf, c / cf - est * d / cf**2


def _retention(
    fit: _Fit,
    prod: tuple[np.ndarray, np.ndarray],
    pilot: tuple[np.ndarray, np.ndarray],
    cov: str,
    ci_alpha: float,
) -> Ratio:
    """Production lift / pilot lift, both from `fit`, Fieller CI with gradients through the
    covariance matrix."""
    v = fit.v_cluster if cov == "cluster_site" else fit.v_hc1
    df = fit.df_cluster if cov == "cluster_site" else fit.df_hc1
    if v is None:
        return Ratio(NAN, NAN, NAN, "Too few sites to estimate the uncertainty of the retention.")
    l_p, g_p = _lift_gradient(fit, *prod)
    l_q, g_q = _lift_gradient(fit, *pilot)
    return fieller_ratio(
        l_p, l_q, float(g_p @ v @ g_p), float(g_q @ v @ g_q), float(g_p @ v @ g_q), df, ci_alpha
    )


def _treated(frame: _Frame, mask: np.ndarray) -> tuple[float, int, int]:
    """Pooled (weighted) mean, rows and number of sites of the cells under mask."""
    n = frame.n[mask].astype(float)
    if not len(n):
        return NAN, 0, 0
    w = frame.w[mask]
    mean = float(w @ frame.mean[mask]) / float(w.sum())  # as sums.pool
    return mean, int(round(n.sum())), int(np.count_nonzero(np.bincount(frame.site[mask])))


def _concurrent_periods(prep: PreparedCells, frame: _Frame) -> int:
    """Periods that hold both production and baseline cells."""
    if not prep.has_dates:
        return 0
    size = len(prep.period_names)
    prod = np.bincount(frame.period[frame.phase == _PRODUCTION], minlength=size) > 0
    base = np.bincount(frame.period[frame.phase == _BASELINE], minlength=size) > 0
    return int((prod & base).sum())


def _modes(prep: PreparedCells) -> list[Mode]:
    return ["twfe", "site_trend"] if prep.has_dates else ["site_fe"]
