"""Time: the production trend, and the forecast of the pre-AI series over production.

Both pool the cells per period index first (the period means are the units).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps
from statsmodels.regression.linear_model import WLS
from statsmodels.tools.tools import add_constant

from analytics.engine.cells import _BASELINE, _PRODUCTION, PreparedCells, prepare_cells
from analytics.engine.effects import Counterfactual, Trend, _join
from analytics.engine.quantiles import NAN, _p_two_sided, _tq


@dataclass(frozen=True, slots=True, eq=False)
class _PeriodMeans:
    """Cells pooled per period index, in order of t: t, earliest period, weight total (rows
    when unweighted), weighted mean."""

    t: np.ndarray
    period: np.ndarray
    n: np.ndarray
    mean: np.ndarray


def _period_pool(prep: PreparedCells, mask: np.ndarray) -> _PeriodMeans:
    """Pool the cells under mask per period index (cells of a period in their original order)."""
    frame = prep.frame
    assert frame is not None
    t = frame.t[mask]
    order = np.argsort(t, kind="stable")
    t = t[order]
    n = frame.w[mask][order]
    mean = frame.mean[mask][order]
    codes = frame.period[mask][order]
    if not len(t):
        return _PeriodMeans(t, np.asarray(prep.periods)[codes], n, mean)
    starts = np.flatnonzero(np.r_[True, t[1:] != t[:-1]])
    rows = np.add.reduceat(n, starts)
    first = np.minimum.reduceat(codes, starts)
    return _PeriodMeans(
        t[starts].astype(float),
        np.asarray(prep.periods)[first],
        rows,
        np.add.reduceat(n * mean, starts) / rows,
    )


def production_trend(cells: pd.DataFrame | PreparedCells, alpha: float = 0.05) -> Trend:
    """Slope per period of the production period means (WLS with weights W on the period index).

    The period means are the units, so the interval reflects how much they scatter around the
    line (t on P-2 df). ``cells`` may be a :class:`PreparedCells` (see :func:`prepare_cells`).
    """
    prep = prepare_cells(cells)
    df = prep.frame
    if df is None:
        return Trend(NAN, NAN, NAN, NAN, 0, _join(prep.notes))
    if not prep.has_dates:
        return Trend(NAN, NAN, NAN, NAN, 0, "The data has no dates, so there is no trend.")
    prod = df.phase == _PRODUCTION
    if not prod.any():
        return Trend(NAN, NAN, NAN, NAN, 0, "There are no production rows.")
    per = _period_pool(prep, prod)
    k = len(per.t)
    if k < 3:
        return Trend(NAN, NAN, NAN, NAN, k, "A trend needs production in at least 3 periods.")
    X = add_constant(per.t - per.t.min())
    res = WLS(per.mean, X, weights=per.n).fit()
    slope, se, dfree = float(res.params[1]), float(res.bse[1]), float(res.df_resid)
    if not (se > 0):
        return Trend(slope, NAN, NAN, NAN, k, "The period means lie exactly on a line.")
    q = _tq(alpha, dfree)
    return Trend(slope, slope - q * se, slope + q * se, _p_two_sided(slope / se, dfree), k)


def _forecast_cov(res: object, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and joint covariance of the next `horizon` observations of a fitted state space
    model (the forecast errors of a trend model are correlated across horizons)."""
    model = res.model  # type: ignore[attr-defined]
    model.update(res.params)  # type: ignore[attr-defined]
    z = np.atleast_2d(model["design"])[0]
    tr = np.atleast_2d(model["transition"])
    sel = np.atleast_2d(model["selection"])
    q = np.atleast_2d(model["state_cov"])
    h = float(np.atleast_2d(model["obs_cov"])[0, 0])
    state = np.asarray(res.predicted_state)[:, -1]  # type: ignore[attr-defined]
    p = np.asarray(res.predicted_state_cov)[:, :, -1]  # type: ignore[attr-defined]
    rqr = sel @ q @ sel.T
    means = np.empty(horizon)
    spread = np.empty((horizon, len(state)))  # Var(alpha_{T+j}) z'
    ahead = np.empty((horizon, len(state)))  # z T^m
    row = z.astype(float)
    for i in range(horizon):
        means[i] = float(z @ state)
        spread[i] = p @ z
        ahead[i] = row
        state = tr @ state
        p = tr @ p @ tr.T + rqr
        row = row @ tr
    # Cov(y_{T+i}, y_{T+j}) = z T^(i-j) Var(alpha_{T+j}) z' for i >= j, plus H on the diagonal.
    cross = ahead @ spread.T  # cross[m, j] = z T^m Var(alpha_{T+j}) z'
    lower_i, lower_j = np.tril_indices(horizon)
    y_cov = np.zeros((horizon, horizon))
    y_cov[lower_i, lower_j] = cross[lower_i - lower_j, lower_j]
    y_cov = y_cov + np.tril(y_cov, -1).T
    y_cov[np.diag_indices(horizon)] += h
    return means, y_cov


def forecast_counterfactual(
    cells: pd.DataFrame | PreparedCells, alpha: float = 0.05, min_periods: int = 6
) -> Counterfactual:
    """What the metric would have done without the AI, forecast from the periods before it.

    A local linear trend (statsmodels UnobservedComponents) is fitted on the pooled period means
    of the periods before the first pilot or production row and forecast over the production
    periods. cumulative_effect = Σ (observed production mean - forecast); its interval uses the
    joint forecast covariance (normal quantiles). ``cells`` may be a :class:`PreparedCells`
    (see :func:`prepare_cells`).
    """
    method = "local_linear_trend"
    prep = prepare_cells(cells)
    df, notes = prep.frame, prep.notes

    def empty(note: str, k: int = 0) -> Counterfactual:
        return Counterfactual(method, k, NAN, NAN, NAN, (), _join([*notes, note]))

    if df is None:
        return empty("")
    if not prep.has_dates:
        return empty("The data has no dates, so no counterfactual can be forecast.")
    prod = df.phase == _PRODUCTION
    if not prod.any():
        return empty("There are no production rows to compare with a forecast.")
    start = df.t[df.phase != _BASELINE].min()
    base = _period_pool(prep, df.t < start)
    k = len(base.t)
    if k < min_periods:
        return empty(
            f"Too few periods before the AI started: {k}, where at least {min_periods} are needed "
            "to forecast what would have happened without it.",
            k,
        )
    obs = _period_pool(prep, prod)
    tb = int(base.t.max())
    try:
        means, cov = _trend_forecast(base, int(obs.t.max()) - tb)
    except Exception as exc:  # noqa: BLE001 - a failed optimiser must not break a report
        return empty(f"The forecast model could not be fitted ({type(exc).__name__}).", k)
    z = float(sps.norm.ppf(1 - alpha / 2))
    steps = obs.t.astype(int) - tb - 1
    total = float((obs.mean - means[steps]).sum())
    total_se = math.sqrt(max(float(cov[np.ix_(steps, steps)].sum()), 0.0))
    return Counterfactual(
        method,
        k,
        total,
        total - z * total_se,
        total + z * total_se,
        _points(base, obs, means[steps], np.clip(np.diag(cov)[steps], 0, None), z),
        _join(notes),
    )


def _trend_forecast(base: _PeriodMeans, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and joint covariance of the next `horizon` periods from a local linear trend fitted
    on the baseline period means (missing periods left as gaps)."""
    t0, tb = int(base.t.min()), int(base.t.max())
    endog = np.full(tb - t0 + 1, np.nan)
    endog[(base.t.astype(int) - t0)] = base.mean
    # Imported here: statsmodels' time-series modules cost 0.2 s and only this forecast uses them.
    from statsmodels.tsa.statespace.structural import UnobservedComponents

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = UnobservedComponents(endog, level="local linear trend")
        res = model.fit(disp=False, cov_type="none")  # the forecast needs no cov_params
        return _forecast_cov(res, horizon)


def _points(
    base: _PeriodMeans, obs: _PeriodMeans, pred: np.ndarray, var: np.ndarray, z: float
) -> tuple[tuple[str, float, float, float, float], ...]:
    """(period, observed, predicted, lo, hi): baseline periods (no forecast), then production."""
    points: list[tuple[str, float, float, float, float]] = [
        (pd.Timestamp(p).date().isoformat(), float(m), NAN, NAN, NAN)
        for p, m in zip(base.period, base.mean, strict=True)
    ]
    for p, m, f, v in zip(obs.period, obs.mean, pred, var, strict=True):
        sd = math.sqrt(v)
        points.append(
            (
                pd.Timestamp(p).date().isoformat(),
                float(m),
                float(f),
                float(f - z * sd),
                float(f + z * sd),
            )
        )
    return tuple(points)
