"""The imputation estimator on cells (Borusyak, Jaravel & Spiess 2024; Gardner's did2s gives the
same point estimate).

1. Site and period levels are fitted by weighted least squares (weights W, the cells' weight
   totals) on the untreated cells only: the baseline cells. Pilot cells are not untreated when
   production is estimated, nor production cells when the pilot is.
2. Each treated cell's counterfactual ẑ_cᵀθ̂ is imputed, where it can be: only where the cell's
   site and period are linked through untreated cells (a not-yet- or never-treated comparison in
   the same period, and baseline rows of its own site). The share of treated rows so covered is
   reported; nothing is extrapolated beyond it.
3. The effect is the average of the cell effects ȳ_c − ẑ_cᵀθ̂ weighted by v_c (W_c over the
   covered treated cells of the estimand).

The estimate is linear in the rows: τ̂ = Σ_i a_i y_i. Its influence is kept per cell as the pair
(A_c, B_c) such that row i of the cell contributes w_i (A_c (y_i − ȳ_c) + B_c); then the site
score is ψ_g = Σ_{c∈g} W_c B_c and the cluster variance Σ_g ψ_g² (no G/(G−1) factor: this is
did2s's standard error); the row-level heteroskedasticity-robust variance is
Σ_c A_c² Σw²(y−ȳ)² + 2 A_c B_c Σw²(y−ȳ) + B_c² Σw², exact on cells, and the robust variance
with cells as units Σ_c (W_c B_c)² (what the placebo test studentises with). Residuals are y − ẑθ̂ for
untreated rows and y − ẑθ̂ − τ̂ for treated rows (net of the effect being estimated).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from analytics.engine.panel import Panel


@dataclass(frozen=True, slots=True, eq=False)
class FirstStage:
    """Site + period levels fitted on the untreated cells of a panel."""

    untreated: np.ndarray  # bool per cell: used in the fit
    fitted: np.ndarray  # ẑ_cᵀθ̂ per cell (NaN where not covered)
    covered: np.ndarray  # bool per cell: its site and period are linked by untreated cells
    system: tuple  # (kept nodes, Cholesky factor of Z₀ᵀWZ₀ on them, nodes): sites, then periods
    n_sites: int

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """A solution of (Z₀ᵀWZ₀) x = rhs (unique on estimable combinations)."""
        idx, factor, k = self.system
        out = np.zeros(k)
        out[idx] = cho_solve(factor, rhs[idx], check_finite=False)
        return out

    def resid(self, panel: Panel) -> np.ndarray:
        return panel.mean - self.fitted


def _links(panel: Panel, untreated: np.ndarray) -> np.ndarray:
    """Component label of every site node (0..S-1) and period node (S..S+P-1) in the graph whose
    edges are the untreated cells (label propagation: each node takes the smallest label it is
    linked to, until nothing changes)."""
    s = len(panel.sites)
    a, b = panel.site[untreated], s + panel.period[untreated]
    label = np.arange(s + len(panel.periods))
    while True:
        low = np.minimum(label[a], label[b])
        new = label.copy()
        np.minimum.at(new, a, low)
        np.minimum.at(new, b, low)
        new = new[new]  # follow labels one step (pointer jumping)
        if np.array_equal(new, label):
            return label
        label = new


def fit_first_stage(panel: Panel, untreated: np.ndarray | None = None) -> FirstStage:
    """WLS of the cell means on site and period levels over the untreated cells (default: the
    baseline cells), weights W; one solution of the normal equations, whose fitted values are unique on every
    covered cell. The baseline fit is made once per panel."""
    if untreated is None:
        if "first_stage" not in panel.cache:
            panel.cache["first_stage"] = fit_first_stage(panel, panel.baseline)
        return panel.cache["first_stage"]
    s, p = len(panel.sites), len(panel.periods)
    w = panel.w[untreated]
    si, pi = panel.site[untreated], s + panel.period[untreated]
    k = s + p
    gram = np.zeros((k, k))
    np.add.at(gram, (si, si), w)
    np.add.at(gram, (pi, pi), w)
    np.add.at(gram, (si, pi), w)
    np.add.at(gram, (pi, si), w)
    rhs = np.bincount(si, weights=w * panel.mean[untreated], minlength=k)
    rhs += np.bincount(pi, weights=w * panel.mean[untreated], minlength=k)
    comp = _links(panel, untreated)
    # One level per linked component is free: fix it by dropping that component's first period
    # (and every node without untreated cells); the rest of the system is positive definite.
    keep = np.diag(gram) > 0
    period_nodes = np.flatnonzero(keep[s:]) + s
    _, first_period = np.unique(comp[period_nodes], return_index=True)
    keep[period_nodes[first_period]] = False
    idx = np.flatnonzero(keep)
    factor = cho_factor(gram[np.ix_(idx, idx)], check_finite=False)
    theta = np.zeros(k)
    theta[idx] = cho_solve(factor, rhs[idx], check_finite=False)
    covered = comp[panel.site] == comp[s + panel.period]
    fitted = np.where(covered, theta[panel.site] + theta[s + panel.period], np.nan)
    return FirstStage(untreated, fitted, covered, (idx, factor, k), s)


@dataclass(frozen=True, slots=True, eq=False)
class Linear:
    """A linear estimate and its influence: rows of cell c contribute w_i (A_c d_i + B_c), d_i
    the row's deviation from its cell mean."""

    estimate: float
    a: np.ndarray
    b: np.ndarray

    def psi(self, panel: Panel) -> np.ndarray:
        """ψ_g per site: the site's share of the estimate's deviation."""
        return np.bincount(panel.site, weights=panel.w * self.b, minlength=len(panel.sites))

    def cluster_var(self, panel: Panel) -> float:
        return float((self.psi(panel) ** 2).sum())

    def cell_var(self, panel: Panel) -> float:
        """Heteroskedasticity-robust variance with the cells as units: Σ_c (W_c B_c)². Each
        cell's residual carries its site's shock of that period, so a site with large shocks
        gets a large standard error however many rows it has (what studentising needs)."""
        return float(((panel.w * self.b) ** 2).sum())

    def hc_var(self, panel: Panel) -> float:
        a, b = self.a, self.b
        return float((a * a * panel.q2 + 2 * a * b * panel.q1 + b * b * panel.s2).sum())

    def combine(self, other: Linear, x: float = 1.0, y: float = -1.0) -> Linear:
        """x·self + y·other (for contrasts of two estimates on the same panel)."""
        return Linear(
            x * self.estimate + y * other.estimate,
            x * self.a + y * other.a,
            x * self.b + y * other.b,
        )


def impute(panel: Panel, first: FirstStage, v: np.ndarray) -> Linear:
    """τ̂ = Σ_c v_c (ȳ_c − ẑ_cᵀθ̂) over treated covered cells, v ≥ 0 summing to 1 there."""
    on = v > 0
    resid = first.resid(panel)
    tau = float((v[on] * resid[on]).sum())
    # How τ̂ moves with each untreated cell's mean: −(Σ_T v_c z_c)ᵀ (Z₀ᵀWZ₀)⁺ z_u W_u.
    s = first.n_sites
    k = first.system[2]
    zt = np.bincount(panel.site[on], weights=v[on], minlength=k)
    zt += np.bincount(s + panel.period[on], weights=v[on], minlength=k)
    b_vec = first.solve(zt)
    lam = np.zeros(len(panel))
    u = first.untreated
    lam[u] = -(b_vec[panel.site[u]] + b_vec[s + panel.period[u]]) * panel.w[u]
    lam[on] = v[on]
    eps = np.where(u, resid, 0.0)
    eps[on] = resid[on] - tau
    per_unit = lam / panel.w
    return Linear(tau, per_unit, per_unit * eps)


def lift_of(panel: Panel, first: FirstStage, v: np.ndarray, tau: Linear) -> tuple[Linear, float]:
    """The relative lift τ̂ / (ȳ_T − τ̂) (the effect over what the treated cells would have
    averaged without the AI) with its delta-method influence, and that counterfactual mean."""
    counterfactual = mean_of(panel, v).combine(tau)
    return ratio(tau, counterfactual), counterfactual.estimate


def weights_over(panel: Panel, first: FirstStage, select: np.ndarray) -> np.ndarray:
    """v over the covered cells of a selection of treated cells, proportional to W."""
    on = select & first.covered & ~first.untreated
    v = np.where(on, panel.w, 0.0)
    total = v.sum()
    return v / total if total > 0 else v


def linear_estimate(panel: Panel, select: np.ndarray) -> tuple[Linear, Linear, float, np.ndarray]:
    """τ̂ and the lift (as Linear), the counterfactual mean and the weights v, on the baseline
    first stage. Made once per panel and selection (the verdict, its retention and the
    production-vs-pilot contrast read the same ones); callers do not change them."""
    select = np.asarray(select, dtype=bool)
    key = ("linear_estimate", len(select), np.packbits(select).tobytes())
    hit = panel.cache.get(key)
    if hit is None:
        first = fit_first_stage(panel)
        v = weights_over(panel, first, select)
        tau = impute(panel, first, v)
        lift, cf = lift_of(panel, first, v, tau)
        hit = panel.cache[key] = (tau, lift, cf, v)
    return hit


def mean_of(panel: Panel, v: np.ndarray) -> Linear:
    """ȳ_T = Σ v_c ȳ_c over the cells of an estimand, as a Linear."""
    on = v > 0
    y_t = float((v[on] * panel.mean[on]).sum())
    per_unit = np.where(on, v / panel.w, 0.0)
    return Linear(y_t, per_unit, per_unit * np.where(on, panel.mean - y_t, 0.0))


def ratio(num: Linear, den: Linear) -> Linear:
    """num / den with its delta-method influence."""
    d = den.estimate
    if d == 0 or not np.isfinite(d):
        nan = np.full(len(num.a), np.nan)
        return Linear(float("nan"), nan, nan)
    r = num.estimate / d
    return Linear(r, (num.a - r * den.a) / d, (num.b - r * den.b) / d)
