"""Lift retention from the estimator behind the verdicts: production lift / pilot lift, both
imputation estimates on the same baseline fit (engine/staggered.py), with Fieller's interval.

Each lift's variance is on its own verdict's basis: site-clustered (Σ_g ψ_g²) for an effect
carried by at least FEW_SITES sites, else the robust variance with cells as units (Σ_c (W_c
B_c)², which keeps each site's shock of that period: what the placebo path studentises with).
A pilot at one site thus never lends production its narrow row-level interval (measured on the
sample: production's lift ±24% at 99% would have read as retention 37% to 44%). Their
covariance is on the cell basis (the shared baseline cells), capped by Cauchy-Schwarz; the
quantile is t on G − 1 when production is clustered, else normal. Retention is reported only
where the pilot's own lift interval on its basis excludes 0 (no promise, nothing to keep).
"""

from __future__ import annotations

import math

import numpy as np

from analytics.engine.effects import Ratio
from analytics.engine.fieller import fieller_ratio
from analytics.engine.imputation import Linear
from analytics.engine.panel import Panel
from analytics.engine.quantiles import two_sided_t
from analytics.engine.staggered import FEW_SITES, RolloutEstimate, linear_estimate

NAN = float("nan")


def _var(panel: Panel, x: Linear, clustered: bool) -> float:
    """A linear estimate's variance: site-clustered, or robust with cells as units."""
    return x.cluster_var(panel) if clustered else x.cell_var(panel)


def _cov(panel: Panel, x: Linear, y: Linear, cap: float) -> float:
    """Covariance of two linear estimates on the cell basis, |cov| ≤ cap."""
    cov = float(((panel.w * x.b) * (panel.w * y.b)).sum())
    return max(-cap, min(cap, cov))


def retention(
    panel: Panel,
    production: np.ndarray,
    pilot: RolloutEstimate | None,
    treated_sites: int,
    clusters: int,
    alpha: float,
    *,
    own: tuple[Panel, np.ndarray] | None = None,
) -> Ratio | None:
    """Production lift over the selected production cells / the pilot's lift, Fieller CI at
    1 − alpha; None when the pilot's lift interval includes 0 or nothing is estimable. With
    `own` (a slice's own panel, a channel's cells alone, and where they sit in `panel`), the
    production lift is estimated on it, against its own levels, as the slice's effect is
    (rollout._slices)."""
    if pilot is None or not pilot.identified:
        return None
    lp, vp = _production_lift(panel, production & ~panel.baseline, own)
    _, lq, _, _ = linear_estimate(panel, panel.treated("pilot"))
    if not (vp.any() and math.isfinite(lp.estimate) and math.isfinite(lq.estimate)):
        return None
    prod_clustered = treated_sites >= FEW_SITES and clusters >= 2
    pilot_clustered = pilot.treated_sites >= FEW_SITES and clusters >= 2
    df = float(clusters - 1) if prod_clustered else math.inf
    var_p, var_q = _var(panel, lp, prod_clustered), _var(panel, lq, pilot_clustered)
    q = two_sided_t(alpha, df)
    if not (abs(lq.estimate) > q * math.sqrt(max(var_q, 0.0))):
        return None
    cov = _cov(panel, lp, lq, math.sqrt(max(var_p, 0.0) * max(var_q, 0.0)))
    return fieller_ratio(lp.estimate, lq.estimate, var_p, var_q, cov, df, alpha)


def _production_lift(
    panel: Panel, production: np.ndarray, own: tuple[Panel, np.ndarray] | None
) -> tuple[Linear, np.ndarray]:
    """The production lift and its weights v, as arrays over the panel's cells (estimated on
    the `own` panel when given: zero influence from every other cell)."""
    if own is None:
        _, lift, _, v = linear_estimate(panel, production)
        return lift, v
    sub, mask = own
    _, lift, _, v = linear_estimate(sub, production[mask])
    a, b, v_all = np.zeros(len(panel)), np.zeros(len(panel)), np.zeros(len(panel))
    a[mask], b[mask], v_all[mask] = lift.a, lift.b, v
    return Linear(lift.estimate, a, b), v_all
