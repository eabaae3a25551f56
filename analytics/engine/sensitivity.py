"""Sensitivity to parallel trends: the breakdown value of a verdict.

Subtracting Δ·(t − g_s + 1) from the live sites' outcomes after their go-live (a linear drift
since go-live that the comparison sites did not share) moves the imputation estimate by
−Δ·H̄, H̄ = Σ_c v_c (h_c + 1) the weighted mean of periods since go-live, and leaves the
counterfactual mean unchanged, so the lift and its interval move by −Δ·H̄ / counterfactual. The
breakdown value is the smallest |Δ| for which rules 2 and 4 (no meaningful effect; scale) give
another answer. Beside it, the pre-period slope difference: the drift per period of the live
sites against the others on the baseline cells, with its interval, so a reader can see whether
a drift that large is plausible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from analytics.engine.event_study import fe_fit
from analytics.engine.imputation import fit_first_stage, weights_over
from analytics.engine.panel import NEVER, Panel
from analytics.engine.quantiles import two_sided_t

NAN = float("nan")


@dataclass(frozen=True, slots=True)
class Breakdown:
    """|Δ| per period (metric units) that would flip the verdict, and the pre-period slope
    difference with its interval at `level`."""

    drift: float
    flips_to: str  # the verdict class rules 2 and 4 give past the breakdown
    slope: float
    slope_ci: tuple[float, float]
    level: float


def rule_class(est: float, lo: float, hi: float, delta: float) -> str:
    """Rules 2 and 4 alone, on a lift signed so that positive is good."""
    if hi < delta:
        return "do_not_scale"
    if lo > 0 and est >= delta:
        return "scale"
    return "need_more_data"


def breakdown_shift(est: float, lo: float, hi: float, delta: float) -> tuple[float, str]:
    """Smallest |s| such that rules 2 and 4 on (est − s, lo − s, hi − s) answer otherwise."""
    if not all(math.isfinite(x) for x in (est, lo, hi)):
        return NAN, ""
    now = rule_class(est, lo, hi, delta)
    best, to = math.inf, ""
    for s in (est - delta, lo, hi - delta):
        step = 1e-9 * max(1.0, abs(s))
        for shifted in (s - step, s + step):
            cls = rule_class(est - shifted, lo - shifted, hi - shifted, delta)
            if cls != now and abs(shifted) < best:
                best, to = abs(s), cls
    return (best if math.isfinite(best) else NAN), to


def mean_horizon(panel: Panel, select: np.ndarray) -> float:
    """H̄ = Σ v_c (h_c + 1) over the covered selected cells."""
    first = fit_first_stage(panel)
    v = weights_over(panel, first, select)
    return float((v * (panel.event_time + 1)).sum()) if v.any() else NAN


def slope_difference(
    panel: Panel, select: np.ndarray, clustered: bool, level: float = 0.95
) -> tuple[float, tuple[float, float]]:
    """Per-period trend of the live sites against the others, on the baseline cells."""
    first = fit_first_stage(panel)
    live = np.zeros(len(panel.sites), dtype=bool)
    live[np.unique(panel.site[select & first.covered & ~first.untreated])] = True
    base = panel.baseline
    extra = (panel.t[base] * live[panel.site[base]]).astype(float)[:, None]
    if not live.any() or not (panel.start[live] < NEVER).any():
        return NAN, (NAN, NAN)
    g, v_hc, v_cl, ident = fe_fit(panel, base, extra)
    if not ident:
        return NAN, (NAN, NAN)
    clusters = int(panel.sites_with_baseline().sum())
    var = float(v_cl[0, 0] if clustered else v_hc[0, 0])
    df = clusters - 1 if clustered else math.inf
    q = two_sided_t(1 - level, df) if df > 0 else NAN
    se = math.sqrt(max(var, 0.0))
    return float(g[0]), (float(g[0] - q * se), float(g[0] + q * se))


def breakdown(
    panel: Panel,
    select: np.ndarray,
    good: tuple[float, float, float],
    delta: float,
    counterfactual: float,
    clustered: bool,
) -> Breakdown:
    """The breakdown value of a verdict decided on the good-signed lift (est, lo, hi)."""
    shift, to = breakdown_shift(*good, delta)
    h_bar = mean_horizon(panel, select)
    drift = abs(shift * counterfactual / h_bar) if h_bar and math.isfinite(h_bar) else NAN
    slope, ci = slope_difference(panel, select, clustered)
    return Breakdown(drift, to, slope, ci, 0.95)
