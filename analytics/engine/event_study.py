"""The effect by periods since go-live, and the pre-trend check on the baseline cells.

Event time starts at each site's first period of the estimated phase (production's go-live,
so the pilot site's production counts from its first production period, not its pilot); the
caller passes a panel whose go-lives are set so (Panel.with_starts). The effect at horizon h is the imputation estimate over the covered treated cells h
periods after go-live (the far tail binned into one horizon); its interval uses the same
inference as the headline estimate (cluster ψ with t on G − 1, or the placebo critical value
times the robust standard error when 1–4 sites are live), in the metric's unit and as the
relative change against what the same cells would have averaged without the AI (the lift, one
scale with the verdict's headline), with its delta-method interval on the same basis.

Pre-trends (Borusyak, Jaravel & Spiess's test): the baseline cells are fitted with site and
period levels plus K lead indicators (1–4 periods before go-live, fewer where the data has fewer);
the leads are tested jointly, W/K on F(K, G − 1) with the cluster covariance, or by ranking the
robust Wald statistic among placebo assignments when fewer than 5 sites are live (go-live
dates permuted over every site with baseline rows: the leads read baseline cells only, which
carry no effect under either search).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from analytics.engine.imputation import fit_first_stage, impute, lift_of, weights_over
from analytics.engine.panel import NEVER, Panel
from analytics.engine.placebo import (
    go_live_windows,
    permutation_candidates,
    placebo_assignments,
    window_ids,
)
from analytics.engine.staggered import RolloutEstimate

TAIL = 12  # horizons from here on are binned into one
MAX_LEADS = 4
NAN = float("nan")


@dataclass(frozen=True, slots=True)
class Horizon:
    """The effect h periods after go-live (``tail``: h and beyond), in the metric's unit."""

    horizon: int
    tail: bool
    estimate: float
    ci: tuple[float, float]
    rows: int
    sites: int
    lift: float = NAN
    lift_ci: tuple[float, float] = (NAN, NAN)


@dataclass(frozen=True, slots=True)
class PreTrend:
    """The joint test that the live sites did not drift apart before go-live."""

    leads: int
    statistic: float
    p_value: float
    method: str  # "wald_cluster_f", "placebo_wald" or "none"
    note: str = ""

    @property
    def failed(self) -> bool:
        return math.isfinite(self.p_value) and self.p_value < 0.05


@dataclass(frozen=True, slots=True)
class EventStudy:
    horizons: tuple[Horizon, ...]
    pretrend: PreTrend
    level: float


def event_study(
    panel: Panel, select: np.ndarray, main: RolloutEstimate, level: float = 0.95
) -> EventStudy:
    """Effects per horizon since go-live for the selected treated cells, and the pre-trend test."""
    first = fit_first_stage(panel)
    chosen = select & first.covered & ~first.untreated
    h = np.minimum(panel.event_time, TAIL)
    crit = main._critical(1 - level) if main.identified else NAN
    horizons = []
    for b in np.unique(h[chosen]):
        v = weights_over(panel, first, chosen & (h == b))
        lin = impute(panel, first, v)
        lift, _ = lift_of(panel, first, v, lin)
        on = v > 0
        horizons.append(
            Horizon(
                int(b),
                bool(b == TAIL),
                lin.estimate,
                _band(panel, lin, crit, main),
                int(round(panel.n[on].sum())),
                int(len(np.unique(panel.site[on]))),
                lift.estimate,
                _band(panel, lift, crit, main),
            )  # fmt: skip
        )
    return EventStudy(tuple(horizons), pretrend(panel, chosen, main), level)


def _band(panel: Panel, lin, crit: float, main: RolloutEstimate) -> tuple[float, float]:
    """lin ± crit·se, se on the headline's basis (cluster ψ, or cells on the placebo path)."""
    if math.isinf(crit):
        return (-math.inf, math.inf)
    var = lin.cluster_var(panel) if main.placebo is None else lin.cell_var(panel)
    se = math.sqrt(max(var, 0.0))
    return (lin.estimate - crit * se, lin.estimate + crit * se)


def fe_fit(
    panel: Panel, cells: np.ndarray, extra: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """WLS of the cell means under `cells` on site and period levels plus `extra` columns:
    (coefficients of the extra columns, robust covariance, cluster covariance, identified)."""
    s, p = len(panel.sites), len(panel.periods)
    m, k = int(cells.sum()), extra.shape[1]
    X = np.zeros((m, s + p + k))
    rows = np.arange(m)
    X[rows, panel.site[cells]] = 1.0
    X[rows, s + panel.period[cells]] = 1.0
    X[:, s + p :] = extra
    w, y = panel.w[cells], panel.mean[cells]
    gram = (X * w[:, None]).T @ X
    ginv = np.linalg.pinv(gram, hermitian=True)
    beta = ginv @ (X.T @ (w * y))
    r = y - X @ beta
    idx = np.arange(s + p, s + p + k)
    ident = bool(np.abs((ginv @ gram)[np.ix_(idx, idx)] - np.eye(k)).max() < 1e-6)
    within = panel.q2[cells] + 2 * r * panel.q1[cells] + r * r * panel.s2[cells]
    v_hc = ginv @ ((X * within[:, None]).T @ X) @ ginv
    scores = np.zeros((s, X.shape[1]))
    np.add.at(scores, panel.site[cells], X * (w * r)[:, None])
    v_cl = ginv @ (scores.T @ scores) @ ginv
    sub = np.ix_(idx, idx)
    return beta[idx], v_hc[sub], v_cl[sub], ident


def _lead_wald(panel: Panel, start: np.ndarray, leads: int) -> tuple[float, float, int]:
    """(robust Wald, cluster Wald, clusters) of K lead indicators on the baseline cells."""
    base = panel.baseline
    st = start[panel.site[base]]
    et = np.where(st >= NEVER, 0, panel.t[base] - st)
    extra = np.column_stack([et == -k for k in range(1, leads + 1)]).astype(float)
    g, v_hc, v_cl, ident = fe_fit(panel, base, extra)
    if not ident:
        return NAN, NAN, 0

    def wald(v: np.ndarray) -> float:
        try:
            return float(g @ np.linalg.solve(v, g))
        except np.linalg.LinAlgError:
            return NAN

    return wald(v_hc), wald(v_cl), int(panel.sites_with_baseline().sum())


def pretrend(panel: Panel, chosen: np.ndarray, main: RolloutEstimate) -> PreTrend:
    """Joint test of up to four leads before go-live (see the module docstring)."""
    live = np.unique(panel.site[chosen])
    if not len(live):
        return PreTrend(0, NAN, NAN, "none", "No live row has a comparison.")
    start = np.full(len(panel.sites), NEVER, dtype=np.int64)
    start[live] = panel.start[live]
    base = panel.baseline & np.isin(panel.site, live)
    pre = panel.t[base] - start[panel.site[base]]
    available = int(-pre.min()) if len(pre) and pre.min() < 0 else 0
    leads = min(MAX_LEADS, available)
    if leads == 0:
        return PreTrend(
            0, NAN, NAN, "none", "The live sites have no baseline period before go-live."
        )
    w_hc, w_cl, clusters = _lead_wald(panel, start, leads)
    if main.placebo is None:
        if not (math.isfinite(w_cl) and clusters >= 2):
            return PreTrend(leads, NAN, NAN, "none", "The leads cannot be told apart from time.")
        f = w_cl / leads
        return PreTrend(leads, f, float(sps.f.sf(f, leads, clusters - 1)), "wald_cluster_f")
    windows = go_live_windows(panel, chosen)
    ids = window_ids(windows)
    cands = permutation_candidates(panel, windows, panel.baseline)
    real = frozenset((r, ids[r]) for r in windows)
    drawn, _ = placebo_assignments(cands, 0, ids, real)
    stats = []
    for assignment in drawn:
        placebo_start = np.full(len(panel.sites), NEVER, dtype=np.int64)
        for site, source in assignment:
            placebo_start[site] = panel.start[source]
        stat = _lead_wald(panel, placebo_start, leads)[0]
        if math.isfinite(stat):
            stats.append(stat)
    if not math.isfinite(w_hc) or not stats:
        return PreTrend(leads, w_hc, NAN, "placebo_wald", "Too few placebo sites for this test.")
    p = (1 + sum(s >= w_hc for s in stats)) / (1 + len(stats))
    return PreTrend(leads, w_hc, p, "placebo_wald")
