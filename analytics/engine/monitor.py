"""The monitor's statistics: per-period production effects after a decision, and a CUSUM whose
threshold is set by simulation so that a year of weekly looks raises a false alert rarely.

Everything works on site × period cells (n, mean, m2 pooled over channels) and on a batch of
outcomes at once: `y` and `v` are (cells × R) arrays, so the acceptance simulation runs 500
years through the same code as one `watch` (R = 1).

The per-period effect is the imputation estimate of one period: site and period levels
(y = α_site + γ_period + e) are fitted by least squares on the untreated (baseline) cells only;
each production cell's counterfactual is α̂_site + γ̂_period; the period's effect β_t is the
rows-weighted mean of (y − counterfactual) over its production cells. It is identified only in
periods that still hold untreated cells (comparison sites not yet live, or held out), and only
for sites with untreated periods of their own.

Its variance takes each cell mean's error as a site shock τ² (shared by every row of the
site-period) plus the rows' own s²/n: τ² is estimated by moments from the residuals of the
baseline fit. Because every β_t reuses the fitted site levels, the β_t are correlated; the
CUSUM's threshold is simulated for that correlation (see `threshold`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

NAN = float("nan")
SIM_PATHS = 40_000
SIM_SEED = 20_261_129


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the cells of one metric are: site and period codes, phase flags, rows."""

    site: np.ndarray  # int codes, 0..S-1
    period: np.ndarray  # int codes, 0..P-1, in time order
    treated: np.ndarray  # bool: production cell
    untreated: np.ndarray  # bool: cell of the fit (baseline cells; production for levels)
    rows: np.ndarray  # rows behind each cell mean (the weights of the averages)
    n_sites: int
    n_periods: int


@dataclass(frozen=True, slots=True)
class Fit:
    """The least-squares fit of site and period levels on the untreated cells, as operators
    that do not depend on the cell means (so a batch of outcomes shares them)."""

    layout: Layout
    untreated: np.ndarray  # (U,) cell indices of the fit
    pinv: np.ndarray  # (K, U): levels = pinv @ y[untreated]
    dof: np.ndarray  # (U,) diagonal of I − H: E[r_u²] = dof_u (τ² + v_u)
    cells: np.ndarray  # (T,) identified production cells
    predict: np.ndarray  # (T, U): each identified cell's counterfactual from y[untreated]
    periods: np.ndarray  # (P,) bool: periods with an identified cell


def _design(layout: Layout, rows: np.ndarray) -> np.ndarray:
    x = np.zeros((len(rows), layout.n_sites + layout.n_periods))
    x[np.arange(len(rows)), layout.site[rows]] = 1.0
    x[np.arange(len(rows)), layout.n_sites + layout.period[rows]] = 1.0
    return x


def fit(layout: Layout) -> Fit:
    """Fit the levels on the untreated cells and find the production cells they identify."""
    u = np.flatnonzero(layout.untreated)
    t = np.flatnonzero(layout.treated)
    k = layout.n_sites + layout.n_periods
    if len(u) == 0:
        return Fit(layout, u, np.zeros((k, 0)), np.zeros(0), t[:0], np.zeros((0, 0)), _no(layout))
    xu = _design(layout, u)
    pinv = np.linalg.pinv(xu)
    dof = 1.0 - np.einsum("ij,ji->i", xu, pinv)
    seen_site = np.zeros(layout.n_sites, bool)
    seen_site[layout.site[u]] = True
    seen_period = np.zeros(layout.n_periods, bool)
    seen_period[layout.period[u]] = True
    t = t[seen_site[layout.site[t]] & seen_period[layout.period[t]]]
    periods = np.zeros(layout.n_periods, bool)
    periods[layout.period[t]] = True
    return Fit(layout, u, pinv, dof, t, _design(layout, t) @ pinv, periods)


def _no(layout: Layout) -> np.ndarray:
    return np.zeros(layout.n_periods, bool)


@dataclass(frozen=True, slots=True)
class CellEffects:
    """Each identified production cell's effect y − counterfactual, and its variance."""

    effect: np.ndarray  # (T, R)
    counterfactual: np.ndarray  # (T, R)
    var: np.ndarray  # (T, R)
    tau2: np.ndarray  # (R,)


def cell_effects(f: Fit, y: np.ndarray, v: np.ndarray) -> CellEffects:
    """Effects of the identified production cells, with τ² estimated from the fit's residuals.

    The counterfactual's own variance (predict² · (τ² + v)) is computed on the batch's mean
    variances, exact for one outcome (R = 1) and shared across a simulated batch.
    """
    yu = y[f.untreated]
    levels = f.pinv @ yu
    x_u = _design(f.layout, f.untreated)
    resid = yu - x_u @ levels
    total = f.dof.sum()
    if total > 0:
        tau2 = np.maximum((np.sum(resid**2, axis=0) - f.dof @ v[f.untreated]) / total, 0.0)
    else:
        tau2 = np.zeros(y.shape[1])
    lay = f.layout
    cf = levels[lay.site[f.cells]] + levels[lay.n_sites + lay.period[f.cells]]
    own = tau2[None, :] + v[f.cells]
    mean_u = np.mean(tau2) + v[f.untreated].mean(axis=1)
    predicted = (f.predict**2) @ mean_u
    return CellEffects(y[f.cells] - cf, cf, own + predicted[:, None], tau2)


@dataclass(frozen=True, slots=True)
class Stream:
    """A sequence of per-period improvement lifts (P × R) with variances; NaN where none."""

    lift: np.ndarray
    var: np.ndarray
    mean_cov: float  # mean covariance of two different periods' lifts (shared levels)


def period_stream(f: Fit, ce: CellEffects, v: np.ndarray, sign: int) -> Stream:
    """Per-period lifts: rows-weighted effects of the period's production cells over their
    counterfactual, signed so that positive is better; variances from the full operator."""
    lay = f.layout
    agg = np.zeros((lay.n_periods, len(f.cells)))
    w = lay.rows[f.cells].astype(float)
    agg[lay.period[f.cells], np.arange(len(f.cells))] = w
    totals = agg.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        agg = np.where(totals > 0, agg / totals, 0.0)
    beta, cf = agg @ ce.effect, agg @ ce.counterfactual
    # β_t = Σ w y_c − Σ w predict_c · y_U: its variance over all cells' errors.
    op_u = agg @ f.predict  # (P, U)
    cell_var = ce.tau2[None, :] + v
    var_beta = (agg**2) @ cell_var[f.cells] + (op_u**2) @ cell_var[f.untreated]
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = sign * beta / cf
        var = var_beta / cf**2
    lift[~f.periods] = NAN
    var[~f.periods] = NAN
    ids = np.flatnonzero(f.periods)
    mean_cov = 0.0
    if len(ids) > 1:
        e = op_u[ids] / cf[ids, :1]
        cov = (e * cell_var[f.untreated, :1].T) @ e.T
        mean_cov = float((cov.sum() - np.trace(cov)) / (len(ids) * (len(ids) - 1)))
    return Stream(lift, var, mean_cov)


def window_lift(
    f: Fit, ce: CellEffects, v: np.ndarray, sign: int, periods: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The lift of every identified production cell of `periods` together, rows-weighted, and
    its variance (the decision-time effect, in the simulation)."""
    pick = np.isin(f.layout.period[f.cells], periods)
    if not pick.any():
        nan = np.full(ce.effect.shape[1], NAN)
        return nan, nan
    w = f.layout.rows[f.cells[pick]].astype(float)
    w = w / w.sum()
    beta, cf = w @ ce.effect[pick], w @ ce.counterfactual[pick]
    cell_var = ce.tau2[None, :] + v
    op_u = w @ f.predict[pick]
    var_beta = (w**2) @ cell_var[f.cells[pick]] + (op_u**2) @ cell_var[f.untreated]
    with np.errstate(divide="ignore", invalid="ignore"):
        return sign * beta / cf, var_beta / cf**2


def site_streams(f: Fit, ce: CellEffects, sign: int) -> tuple[np.ndarray, np.ndarray]:
    """Per site and period, the cell's improvement lift and its variance: (P, S, R) arrays."""
    lay = f.layout
    shape = (lay.n_periods, lay.n_sites, ce.effect.shape[1])
    lift, var = np.full(shape, NAN), np.full(shape, NAN)
    p, s = lay.period[f.cells], lay.site[f.cells]
    with np.errstate(divide="ignore", invalid="ignore"):
        lift[p, s] = sign * ce.effect / ce.counterfactual
        var[p, s] = ce.var / ce.counterfactual**2
    return lift, var


def level_stream(
    layout: Layout, y: np.ndarray, v: np.ndarray, tau2: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per period, the rows-weighted mean of the production cells and its variance (site shocks
    τ² plus the rows' s²/n): what is watched when no comparison is left, and for guardrails."""
    cells = np.flatnonzero(layout.treated)
    agg = np.zeros((layout.n_periods, len(cells)))
    agg[layout.period[cells], np.arange(len(cells))] = layout.rows[cells].astype(float)
    totals = agg.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        agg = np.where(totals > 0, agg / totals, 0.0)
    mean = agg @ y[cells]
    var = (agg**2) @ (tau2[None, :] + v[cells])
    empty = totals[:, 0] == 0
    mean[empty], var[empty] = NAN, NAN
    return mean, var


def cusum(z: np.ndarray, k: float) -> np.ndarray:
    """One-sided CUSUM S_t = max(0, S_{t-1} + z_t − k) down the first axis (NaN looks skipped)."""
    out = np.zeros(z.shape, dtype=float)
    s = np.zeros(z.shape[1:])
    for t in range(z.shape[0]):
        step = z[t]
        s = np.where(np.isnan(step), s, np.maximum(0.0, s + np.nan_to_num(step) - k))
        out[t] = s
    return out


def _grid(x: float, step: float, lo: float, hi: float) -> float:
    return float(min(max(round(x / step) * step, lo), hi))


def threshold(rho: float, k: float, alpha: float, horizon: int) -> float:
    """The CUSUM threshold h such that, for `horizon` standard normal looks with common
    correlation rho (the shared error of the fitted levels and of the reference), the chance
    that S_t ever exceeds h is alpha. Simulated once per rounded (rho, k, alpha, horizon)."""
    rho = _grid(rho if np.isfinite(rho) else 0.0, 0.05, 0.0, 0.9)
    return _threshold(rho, _grid(k, 0.125, 0.125, 3.0), float(f"{alpha:.3g}"), int(horizon))


@lru_cache(maxsize=256)
def _threshold(rho: float, k: float, alpha: float, horizon: int) -> float:
    rng = np.random.default_rng(SIM_SEED)
    common = rng.standard_normal(SIM_PATHS)
    s = np.zeros(SIM_PATHS)
    peak = np.zeros(SIM_PATHS)
    a, b = np.sqrt(rho), np.sqrt(1.0 - rho)
    for _ in range(horizon):
        s = np.maximum(0.0, s + a * common + b * rng.standard_normal(SIM_PATHS) - k)
        np.maximum(peak, s, out=peak)
    return float(np.quantile(peak, 1.0 - alpha))


def design_k(shift_in_se: float) -> float:
    """The CUSUM's reference value: half the shift it is built to catch, in standard errors."""
    if not np.isfinite(shift_in_se) or shift_in_se <= 0:
        return 0.5
    return float(min(max(shift_in_se / 2.0, 0.125), 3.0))


@dataclass(frozen=True, slots=True)
class Alarm:
    """A CUSUM over one stream: the statistic per look, its threshold and design, and for each
    column whether and when (index of the look, −1 if never) it first crossed."""

    statistic: np.ndarray
    h: float
    k: float
    rho: float
    crossed: np.ndarray
    first: np.ndarray


def run_alarm(z: np.ndarray, *, k: float, rho: float, alpha: float, horizon: int) -> Alarm:
    """CUSUM of z (looks first; positive = worse) against its simulated threshold."""
    h = threshold(rho, k, alpha, horizon)
    stat = cusum(z, k)
    over = stat > h
    crossed = over.any(axis=0)
    first = np.where(crossed, over.argmax(axis=0), -1) if len(z) else np.full(z.shape[1:], -1)
    return Alarm(stat, h, k, rho, crossed, first)


# -- the alarms the watch raises, shared by `watch` and the acceptance simulation ---------------


@dataclass(frozen=True, slots=True)
class EffectAlarms:
    """An outcome's two effect alarms over the looks since the decision: a decline of
    min_effect from the decision-time lift, and the lift falling below min_effect."""

    z: np.ndarray  # (T, R) studentised shortfall from the reference
    decline: Alarm
    below: Alarm | None


def _pooled(x: np.ndarray) -> float:
    finite = x[np.isfinite(x)]
    return float(np.mean(finite)) if finite.size else NAN


def effect_alarms(
    lift: np.ndarray,
    var: np.ndarray,
    mean_cov: float,
    reference: np.ndarray,
    reference_var: np.ndarray,
    *,
    min_effect: float,
    alpha: float,
    horizon: int,
    with_threshold: bool = True,
) -> EffectAlarms:
    """Alarms on post-decision lifts (T × R, improvement-signed) against the decision-time
    reference (R,), each at alpha/2 over `horizon` looks."""
    # The reference and each period share the fitted site levels: their covariance (about
    # mean_cov, that of two periods) leaves the difference, and what stays shared is ρ's part.
    mc = max(mean_cov, 0.0) if np.isfinite(mean_cov) else 0.0
    diff_var = np.maximum(var + reference_var[None, :] - 2 * mc, var / 4)
    z = (reference[None, :] - lift) / np.sqrt(diff_var)
    k = design_k(min_effect / np.sqrt(_pooled(diff_var)))
    rho = max(_pooled(reference_var) - mc, 0.0) / _pooled(diff_var)
    decline = run_alarm(z, k=k, rho=rho, alpha=alpha / 2, horizon=horizon)
    below = None
    if with_threshold:
        zb = (min_effect - lift) / np.sqrt(var)
        # Decided below the threshold (or unknown then): nothing to fall from.
        zb[:, ~(reference >= min_effect)] = NAN
        k_b = design_k(min_effect / np.sqrt(_pooled(var)))
        rho_b = mc / _pooled(var)
        below = run_alarm(zb, k=k_b, rho=rho_b, alpha=alpha / 2, horizon=horizon)
    return EffectAlarms(z, decline, below)


def site_alarms(
    lift: np.ndarray,
    var: np.ndarray,
    reference: np.ndarray,
    reference_var: np.ndarray,
    *,
    min_effect: float,
    alpha: float,
    horizon: int,
) -> Alarm:
    """One CUSUM per site (lifts T × S × R against references S × R), each at alpha / S."""
    t, s, r = lift.shape
    z = (reference[None] - lift) / np.sqrt(var + reference_var[None])
    k = design_k(min_effect / np.sqrt(_pooled(var) + _pooled(reference_var)))
    rho = _pooled(reference_var) / (_pooled(reference_var) + _pooled(var))
    alarm = run_alarm(z.reshape(t, s * r), k=k, rho=rho, alpha=alpha / max(s, 1), horizon=horizon)
    return Alarm(
        alarm.statistic.reshape(t, s, r),
        alarm.h,
        alarm.k,
        alarm.rho,
        alarm.crossed.reshape(s, r),
        alarm.first.reshape(s, r),
    )


def guardrail_alarm(
    mean: np.ndarray, var: np.ndarray, *, limit: float, higher: bool, alpha: float, horizon: int
) -> Alarm:
    """A CUSUM on how far the production mean lies on the wrong side of the limit, in
    standard errors (T × R), built to catch a breach of one standard error per look."""
    gap = (limit - mean) if higher else (mean - limit)
    return run_alarm(gap / np.sqrt(var), k=0.5, rho=0.0, alpha=alpha, horizon=horizon)
