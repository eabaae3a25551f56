"""The adjusted model for one metric: ``value ~ pilot + production + C(site) + C(period)``.

Fitted on cells (engine/wls.py), with identification checks: each effect comes from the two-way
fixed-effects model when the design identifies it, else from the site-trend model, else it is
None with a note.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analytics.engine.cells import _BASELINE, PHASES, PreparedCells, prepare_cells
from analytics.engine.contrasts import (
    ASSUMPTIONS,
    _concurrent_periods,
    _counterfactual_row,
    _effect,
    _modes,
    _retention,
    _treated,
)
from analytics.engine.design import Mode, TreatSpec
from analytics.engine.effects import AdjustedFit, Effect, Ratio, _join
from analytics.engine.wls import _Fit, _fit


@dataclass
class _Model:
    """What every step of fit_adjusted reads: the prepared cells, the phases present, their
    treated means, the fit each effect comes from, and the notes gathered so far (in order)."""

    prep: PreparedCells
    few_clusters: int
    ci_alpha: float
    concurrent: int
    present: list[str]
    info: dict[str, tuple[float, int, int]]
    source: dict[str, _Fit | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def cov_for(self, sites: int, fit: _Fit) -> str:
        usable = fit.v_cluster is not None and sites >= self.few_clusters
        return "cluster_site" if usable else "hc1_cells"


def fit_adjusted(
    cells: pd.DataFrame | PreparedCells,
    alpha: float = 0.05,
    few_clusters: int = 5,
    ci_alpha: float | None = None,
) -> AdjustedFit:
    """``value ~ pilot + production + C(site) + C(period)`` on cells, with identification checks.

    Each effect is taken from the two-way fixed-effects model when the design identifies it, else
    from ``value ~ pilot + production + C(site) + t`` (t the period index), else it is None with a
    note. Effects carried by at least ``few_clusters`` sites use site-clustered errors (t on G-1
    df), the others HC1 on cells (t on N-K df). ``production_vs_pilot`` and ``retention`` come
    from the model that gives the production effect, with the covariance of the fewer-cluster
    method of the two. CIs are at level 1 - ci_alpha (default alpha); p-values do not depend on it.
    ``cells`` may be a :class:`PreparedCells` (see :func:`prepare_cells`).
    """
    ci_alpha = alpha if ci_alpha is None else ci_alpha
    prep = prepare_cells(cells)
    df = prep.frame
    if df is None:
        return AdjustedFit("none", "", None, None, None, None, 0, 0, 0, 0, _join(prep.notes))
    sizes = (int(df.n.sum()), len(df), len(prep.sites), _concurrent_periods(prep, df))
    refusal = _nothing_to_compare(df.phase)
    if refusal:
        return AdjustedFit(
            "none", "", None, None, None, None, *sizes, _join([*prep.notes, refusal])
        )
    present = [p for p in ("pilot", "production") if (df.phase == PHASES.index(p)).any()]
    info = {p: _treated(df, df.phase == PHASES.index(p)) for p in present}
    model = _Model(prep, few_clusters, ci_alpha, sizes[3], present, info, notes=list(prep.notes))
    model.source = _sources(model)
    effects = {p: _phase_effect(model, p) for p in ("pilot", "production")}
    pvp, retention = _production_vs_pilot(model, effects["production"])
    main = effects["production"] or effects["pilot"]
    method = main.method if main else "none"
    return AdjustedFit(
        method=method,
        assumption=ASSUMPTIONS.get(method, ""),
        pilot=effects["pilot"],
        production=effects["production"],
        production_vs_pilot=pvp,
        retention=retention,
        n_rows=sizes[0],
        n_cells=sizes[1],
        n_clusters=sizes[2],
        concurrent_periods=sizes[3],
        note=_join(model.notes),
    )


def _nothing_to_compare(phase: np.ndarray) -> str:
    """Why no model can be fitted (no baseline, or neither pilot nor production), or ''."""
    if not (phase == _BASELINE).any():
        return "There are no baseline rows, so there is nothing to compare against."
    if not any((phase == PHASES.index(p)).any() for p in ("pilot", "production")):
        return "There are no pilot or production rows yet."
    return ""


def _sources(model: _Model) -> dict[str, _Fit | None]:
    """The fit each phase's effect comes from: the first model (two-way, then site trend) whose
    design identifies it, or None."""
    treat: TreatSpec = {p: (p, None, None) for p in model.present}

    def get_fit(mode: Mode) -> _Fit:
        return _fit(model.prep, treat, mode, channel_fe=False)

    source: dict[str, _Fit | None] = {}
    for p in model.present:
        modes = _modes(model.prep)
        source[p] = next((f for m in modes if (f := get_fit(m)).identified.get(p)), None)
    return source


def _not_identified(model: _Model, p: str) -> str:
    if p == "production" and model.prep.has_dates and model.concurrent == 0:
        return (
            "The production effect cannot be separated from time: no period holds both "
            "production and baseline rows, and a site-level trend does not identify it either."
        )
    return (
        f"The {p} effect cannot be separated from the site and period effects with these "
        "rows, so no estimate is reported."
    )


def _phase_effect(model: _Model, p: str) -> Effect | None:
    """The pilot's or production's effect from its source fit; None (with a note) when absent or
    not identified."""
    if p not in model.present:
        return None
    fit = model.source[p]
    if fit is None:
        model.notes.append(_not_identified(model, p))
        return None
    if fit.mode == "site_trend":
        model.notes.append(
            f"The {p} effect cannot be separated from the period effects (no period holds "
            f"rows that tell it apart from time), so it is measured against each site's "
            "pre-launch trend instead."
        )
    c = np.zeros(len(fit.beta))
    c[fit.column(p)] = 1.0
    d = _counterfactual_row(fit, p)
    mean, rows, sites = model.info[p]
    return _effect(fit, p, c, d, model.cov_for(sites, fit), model.ci_alpha, mean, rows, sites)


def _production_vs_pilot(
    model: _Model, production: Effect | None
) -> tuple[Effect | None, Ratio | None]:
    """Production minus pilot and the lift retention, both from the production effect's fit."""
    prod_fit = model.source.get("production")
    if production is None or "pilot" not in model.present or prod_fit is None:
        return None, None
    if not prod_fit.identified.get("pilot"):
        model.notes.append(
            "Production and pilot cannot be compared within one model with these rows."
        )
        return None, None
    jp, jq = prod_fit.column("production"), prod_fit.column("pilot")
    c = np.zeros(len(prod_fit.beta))
    c[jp], c[jq] = 1.0, -1.0
    d_prod = _counterfactual_row(prod_fit, "production")
    d = d_prod.copy()
    d[jq] += 1.0
    cq = np.zeros(len(prod_fit.beta))
    cq[jq] = 1.0
    d_pilot = _counterfactual_row(prod_fit, "pilot")
    p_sites, q_sites = model.info["production"][2], model.info["pilot"][2]
    both = model.cov_for(p_sites, prod_fit) == model.cov_for(q_sites, prod_fit) == "cluster_site"
    cov = "cluster_site" if both else "hc1_cells"
    mean, rows, _ = model.info["production"]
    pvp_note = ""
    if model.source.get("pilot") is not prod_fit:
        pvp_note = (
            "The pilot estimate shown comes from another model; this comparison and the "
            "retention use the pilot effect of the production model."
        )
    pvp = _effect(
        prod_fit, "production_vs_pilot", c, d, cov, model.ci_alpha, mean, rows,
        min(p_sites, q_sites), pvp_note,
    )  # fmt: skip
    pilot_here = _effect(
        prod_fit, "pilot", cq, d_pilot, model.cov_for(q_sites, prod_fit), model.ci_alpha,
        *model.info["pilot"],
    )  # fmt: skip
    lo, hi = pilot_here.lift_ci_low, pilot_here.lift_ci_high
    if not (math.isfinite(lo) and math.isfinite(hi) and (lo > 0 or hi < 0)):
        model.notes.append(
            "Retention is not reported: the pilot's own lift interval includes 0, so "
            "there was no clear promise to keep."
        )
        return pvp, None
    cp = np.zeros(len(prod_fit.beta))
    cp[jp] = 1.0
    return pvp, _retention(prod_fit, (cp, d_prod), (cq, d_pilot), cov, model.ci_alpha)
