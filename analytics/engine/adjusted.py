"""The adjusted model for one metric: ``value ~ pilot + production + C(site) + C(period)``.

Fitted on cells (engine/wls.py), with identification checks: each effect comes from the two-way
fixed-effects model when the design identifies it, else from the site-trend model, else it is
None with a note.
"""

from __future__ import annotations

import math

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
    notes = list(prep.notes)
    df = prep.frame
    if df is None:
        return AdjustedFit("none", "", None, None, None, None, 0, 0, 0, 0, _join(notes))
    n_rows, n_cells = int(df.n.sum()), len(df)
    n_clusters = len(prep.sites)
    concurrent = _concurrent_periods(prep, df)

    def bare(note: str) -> AdjustedFit:
        return AdjustedFit(
            "none", "", None, None, None, None, n_rows, n_cells, n_clusters, concurrent,
            _join([*notes, note]),
        )  # fmt: skip

    phase = df.phase
    if not (phase == _BASELINE).any():
        return bare("There are no baseline rows, so there is nothing to compare against.")
    present = [p for p in ("pilot", "production") if (phase == PHASES.index(p)).any()]
    if not present:
        return bare("There are no pilot or production rows yet.")
    treat: TreatSpec = {p: (p, None, None) for p in present}
    info = {p: _treated(df, phase == PHASES.index(p)) for p in present}

    def get_fit(mode: Mode) -> _Fit:
        return _fit(prep, treat, mode, channel_fe=False)

    source: dict[str, _Fit | None] = {}
    for p in present:
        source[p] = next((f for m in _modes(prep) if (f := get_fit(m)).identified.get(p)), None)

    def cov_for(sites: int, fit: _Fit) -> str:
        usable = fit.v_cluster is not None and sites >= few_clusters
        return "cluster_site" if usable else "hc1_cells"

    def not_identified(p: str) -> str:
        if p == "production" and prep.has_dates and concurrent == 0:
            return (
                "The production effect cannot be separated from time: no period holds both "
                "production and baseline rows, and a site-level trend does not identify it either."
            )
        return (
            f"The {p} effect cannot be separated from the site and period effects with these "
            "rows, so no estimate is reported."
        )

    effects: dict[str, Effect | None] = {"pilot": None, "production": None}
    for p in present:
        fit = source[p]
        if fit is None:
            notes.append(not_identified(p))
            continue
        if fit.mode == "site_trend":
            notes.append(
                f"The {p} effect cannot be separated from the period effects (no period holds "
                f"rows that tell it apart from time), so it is measured against each site's "
                "pre-launch trend instead."
            )
        j = fit.column(p)
        c = np.zeros(len(fit.beta))
        c[j] = 1.0
        d = _counterfactual_row(fit, p)
        mean, rows, sites = info[p]
        effects[p] = _effect(fit, p, c, d, cov_for(sites, fit), ci_alpha, mean, rows, sites)

    pvp: Effect | None = None
    retention: Ratio | None = None
    prod_fit = source.get("production")
    if effects["production"] is not None and "pilot" in present and prod_fit is not None:
        if prod_fit.identified.get("pilot"):
            jp, jq = prod_fit.column("production"), prod_fit.column("pilot")
            c = np.zeros(len(prod_fit.beta))
            c[jp], c[jq] = 1.0, -1.0
            d_prod = _counterfactual_row(prod_fit, "production")
            d = d_prod.copy()
            d[jq] += 1.0
            cq = np.zeros(len(prod_fit.beta))
            cq[jq] = 1.0
            d_pilot = _counterfactual_row(prod_fit, "pilot")
            p_sites, q_sites = info["production"][2], info["pilot"][2]
            cov = (
                "cluster_site"
                if cov_for(p_sites, prod_fit) == cov_for(q_sites, prod_fit) == "cluster_site"
                else "hc1_cells"
            )
            mean, rows, sites = info["production"]
            pvp_note = ""
            if source.get("pilot") is not prod_fit:
                pvp_note = (
                    "The pilot estimate shown comes from another model; this comparison and the "
                    "retention use the pilot effect of the production model."
                )
            pvp = _effect(
                prod_fit, "production_vs_pilot", c, d, cov, ci_alpha, mean, rows,
                min(p_sites, q_sites), pvp_note,
            )  # fmt: skip
            pilot_here = _effect(
                prod_fit, "pilot", cq, d_pilot, cov_for(q_sites, prod_fit), ci_alpha,
                *info["pilot"],
            )  # fmt: skip
            lo, hi = pilot_here.lift_ci_low, pilot_here.lift_ci_high
            if math.isfinite(lo) and math.isfinite(hi) and (lo > 0 or hi < 0):
                cp = np.zeros(len(prod_fit.beta))
                cp[jp] = 1.0
                retention = _retention(prod_fit, (cp, d_prod), (cq, d_pilot), cov, ci_alpha)
            else:
                notes.append(
                    "Retention is not reported: the pilot's own lift interval includes 0, so "
                    "there was no clear promise to keep."
                )
        else:
            notes.append(
                "Production and pilot cannot be compared within one model with these rows."
            )

    main = effects["production"] or effects["pilot"]
    method = main.method if main else "none"
    return AdjustedFit(
        method=method,
        assumption=ASSUMPTIONS.get(method, ""),
        pilot=effects["pilot"],
        production=effects["production"],
        production_vs_pilot=pvp,
        retention=retention,
        n_rows=n_rows,
        n_cells=n_cells,
        n_clusters=n_clusters,
        concurrent_periods=concurrent,
        note=_join(notes),
    )
