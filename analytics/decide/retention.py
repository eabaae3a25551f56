"""Lift retention from the estimator behind the verdicts: production lift / pilot lift, both
imputation estimates on the same baseline fit (engine/staggered.py), with Fieller's interval.

The variances and the covariance of the two lifts come from their influence on the same rows:
site-clustered (Σ_g ψ_g ψ'_g, t on G − 1) when both effects are carried by at least FEW_SITES
sites, else the row-level heteroskedasticity-robust form (normal quantile) — the pilot usually
runs at one site, where clustering means nothing. Retention is reported only where the pilot's
own lift interval on that basis excludes 0 (otherwise there was no promise to keep).
"""

from __future__ import annotations

import math

import numpy as np

from analytics.engine import stats
from analytics.engine.imputation import Linear
from analytics.engine.panel import Panel
from analytics.engine.staggered import FEW_SITES, RolloutEstimate, linear_estimate

NAN = float("nan")


def _cov(panel: Panel, x: Linear, y: Linear, clustered: bool) -> float:
    """Covariance of two linear estimates on the same panel (their influence, one basis)."""
    if clustered:
        return float((x.psi(panel) * y.psi(panel)).sum())
    return float(
        (x.a * y.a * panel.q2 + (x.a * y.b + x.b * y.a) * panel.q1 + x.b * y.b * panel.s2).sum()
    )


def retention(
    panel: Panel,
    production: np.ndarray,
    pilot: RolloutEstimate | None,
    treated_sites: int,
    clusters: int,
    alpha: float,
) -> stats.Ratio | None:
    """Production lift over the selected production cells / the pilot's lift, Fieller CI at
    1 − alpha; None when the pilot's lift interval includes 0 or nothing is estimable."""
    if pilot is None or not pilot.identified:
        return None
    _, lp, _, vp = linear_estimate(panel, production & ~panel.baseline)
    _, lq, _, _ = linear_estimate(panel, panel.treated("pilot"))
    if not (vp.any() and math.isfinite(lp.estimate) and math.isfinite(lq.estimate)):
        return None
    clustered = min(treated_sites, pilot.treated_sites) >= FEW_SITES and clusters >= 2
    df = float(clusters - 1) if clustered else math.inf
    var_q = _cov(panel, lq, lq, clustered)
    q = stats.two_sided_t(alpha, df)
    half = q * math.sqrt(max(var_q, 0.0))
    if not (abs(lq.estimate) > half):
        return None
    return stats.fieller_ratio(
        lp.estimate, lq.estimate, _cov(panel, lp, lp, clustered), var_q,
        _cov(panel, lp, lq, clustered), df, alpha,
    )  # fmt: skip
