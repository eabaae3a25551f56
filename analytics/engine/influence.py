"""Per-site influence of an adjusted effect: the mapping site -> psi whose squares sum to the
effect's site-clustered variance.

Stacking these mappings for several metrics gives their joint cluster-robust covariance
(Cov(b1, b2) = sum over sites of psi1 * psi2), which is what a total of several outcomes needs:
benefits measured on the same sites move together, and adding separate intervals ignores it.

Today the psi come from the adjusted two-way model of `fit_adjusted` (the same cached fit,
so the numbers are those of the verdicts): psi_g = sqrt(c) * [ (X'WX)^-1 sum_{cells of g}
x_i n_i r_i ]_j, with c the small-sample factor G/(G-1) * (N-1)/(N-K) on rows. Another estimator
need only expose the same mapping.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analytics.engine.cells import PHASES, PreparedCells, _Frame, prepare_cells
from analytics.engine.contrasts import _modes
from analytics.engine.design import TreatSpec, _design_for
from analytics.engine.wls import _Fit, _fit

Scores = dict[str, float]


def site_scores(cells: pd.DataFrame | PreparedCells, effect: str = "production") -> Scores:
    """site -> psi for the `effect` ("production" or "pilot") coefficient of the adjusted model,
    so that sum(psi**2) is its site-clustered variance; {} when the model cannot give one."""
    prep = prepare_cells(cells)
    frame = prep.frame
    if frame is None or not (frame.phase == PHASES.index("baseline")).any():
        return {}
    present = [p for p in ("pilot", "production") if (frame.phase == PHASES.index(p)).any()]
    if effect not in present:
        return {}
    treat: TreatSpec = {p: (p, None, None) for p in present}
    for mode in _modes(prep):  # the order fit_adjusted tries them in
        fit = _fit(prep, treat, mode, channel_fe=False)
        if fit.identified.get(effect):
            design = _design_for(prep, treat, mode, channel_fe=False)
            return _scores(fit, design.frame, prep.sites, effect)
    return {}


def _scores(fit: _Fit, frame: _Frame, names: tuple[str, ...], effect: str) -> Scores:
    n_clusters, n_rows, k = fit.n_clusters, fit.n_rows, fit.X.shape[1]
    if n_clusters < 2 or n_rows - k <= 0 or not np.isfinite(fit.beta).all():
        return {}
    X, n = fit.X, fit.w  # the cells' weight totals (row counts when unweighted)
    bread = np.linalg.pinv((X * n[:, None]).T @ X)
    r = frame.mean - X @ fit.beta
    per_site = np.zeros((int(frame.site.max()) + 1, k))
    np.add.at(per_site, frame.site, X * (n * r)[:, None])
    factor = n_clusters / (n_clusters - 1) * (n_rows - 1) / (n_rows - k)
    psi = math.sqrt(factor) * (per_site @ bread.T)[:, fit.column(effect)]
    present = np.bincount(frame.site, minlength=len(per_site)) > 0
    return {names[g]: float(psi[g]) for g in np.flatnonzero(present)}


def stacked_variance(scores: dict[str, Scores], weights: dict[str, float]) -> float:
    """Var(sum_m w_m * b_m) from each metric's site scores: sum over sites of (sum_m w_m psi)^2."""
    sites = {s for m in weights for s in scores.get(m, {})}
    total = 0.0
    for site in sites:
        total += sum(w * scores.get(m, {}).get(site, 0.0) for m, w in weights.items()) ** 2
    return total
