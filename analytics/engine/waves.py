"""Wave by wave: each go-live wave's own effect, so each scaling phase has its own evidence.

A wave is the live sites that share a go-live period. Its effect is the imputation estimator's
cohort aggregation (the covered cells of the wave's sites, weighted by rows). Beside it,
Callaway & Sant'Anna's group-time effects aggregated over the same wave with row weights
(group_time.py): the same data under a different estimand, a check rather than a second
verdict; the two are flagged when they differ by more than 2 standard errors of their
difference (from the joint ψ per site).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from analytics.engine import group_time as cs
from analytics.engine.imputation import fit_first_stage, impute, weights_over
from analytics.engine.panel import Panel
from analytics.engine.staggered import RolloutEstimate

NAN = float("nan")


@dataclass(frozen=True, slots=True)
class Wave:
    """One go-live wave: its imputation effect and its group-time check (metric units)."""

    go_live: str
    sites: tuple[str, ...]
    rows: int
    estimate: float
    ci: tuple[float, float]
    group_time: float
    group_time_ci: tuple[float, float]
    differs: bool


def _interval(est: float, se: float, q: float) -> tuple[float, float]:
    if math.isinf(q):
        return (-math.inf, math.inf)
    return (est - q * se, est + q * se)


def waves(
    panel: Panel,
    select: np.ndarray,
    main: RolloutEstimate,
    level: float = 0.95,
    comparison: cs.Comparison = "not_yet",
) -> tuple[Wave, ...]:
    """The effect of every wave with covered cells, and its group-time check."""
    first = fit_first_stage(panel)
    chosen = select & first.covered & ~first.untreated
    if not chosen.any():
        return ()
    crit = main._critical(1 - level)
    gt = cs.group_time(panel, select & ~panel.baseline, comparison)
    out = []
    for g in np.unique(panel.start[panel.site[chosen]]):
        members = np.flatnonzero(panel.start == g)
        cells = chosen & np.isin(panel.site, members)
        v = weights_over(panel, first, cells)
        lin = impute(panel, first, v)
        psi = lin.psi(panel)
        hc = main.placebo is not None
        se = math.sqrt(max(lin.cell_var(panel), 0.0)) if hc else math.sqrt(float((psi**2).sum()))
        cs_est, cs_psi = cs.aggregate(gt, wave=int(g))
        cs_se = math.sqrt(float((cs_psi**2).sum())) if len(cs_psi) else NAN
        diff_se = math.sqrt(float(((psi - cs_psi) ** 2).sum())) if len(cs_psi) else NAN
        differs = bool(
            math.isfinite(cs_est) and diff_se > 0 and abs(lin.estimate - cs_est) > 2 * diff_se
        )
        label = panel.periods[int(panel.period[panel.t == g][0])] if (panel.t == g).any() else ""
        live = np.unique(panel.site[cells])
        out.append(
            Wave(
                label,
                tuple(panel.sites[s] for s in live),
                int(round(panel.n[v > 0].sum())),
                lin.estimate,
                _interval(lin.estimate, se, crit),
                cs_est,
                _interval(cs_est, cs_se, crit) if math.isfinite(cs_est) else (NAN, NAN),
                differs,
            )  # fmt: skip
        )
    return tuple(out)
