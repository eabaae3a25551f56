"""The estimator behind every verdict, behind one small interface.

An estimator takes a prepared panel (panel.py) and a selection of treated cells (the production
cells, the pilot cells, one site's or one channel's) and returns one frozen RolloutEstimate:
estimate and relative lift, their standard errors, intervals at any level, the method's name,
the coverage (share of treated rows that can be judged), and each site's influence score ψ_g
(the estimate's variance is Σ_g ψ_g² on the clustered path; another estimate's ψ gives the
covariance of the two).

Inference (DESIGN.md, the rollouts issue): from ``FEW_SITES`` treated sites on, the cluster
variance Σψ_g² with t on G − 1 (G: sites with baseline rows); with 1–4 treated sites the
randomisation test of placebo.py on studentised estimates, whose interval inverts the test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from analytics.engine.imputation import linear_estimate
from analytics.engine.panel import Panel
from analytics.engine.placebo import PlaceboTest, placebo_test
from analytics.engine.quantiles import _p_two_sided, two_sided_t

FEW_SITES = 5
NAN = float("nan")
METHOD_ASSUMPTIONS = {
    "imputation_cluster_site": (
        "Without the AI each live site would have followed the same ups and downs as the sites "
        "still on the old way of working (site and period levels fitted on baseline rows only); "
        "uncertainty allows for shocks shared across a site's periods."
    ),
    "imputation_hc_cells": (
        "Without the AI each live site would have followed the same ups and downs as the sites "
        "still on the old way of working; with too few sites for clustered errors, the "
        "uncertainty treats each site-period as independent (heteroskedasticity-robust)."
    ),
    "imputation_placebo": (
        "Without the AI each live site would have followed the same ups and downs as the sites "
        "still on the old way of working; with so few live sites, the uncertainty comes from "
        "giving the same go-live dates to sites that were not live (a placebo test)."
    ),
}


@dataclass(frozen=True, slots=True)
class RolloutEstimate:
    """One effect of a staggered rollout, as every verdict, chart and export reads it."""

    method: str
    estimate: float
    se: float  # cluster ψ on the clustered path, heteroskedasticity-robust on the placebo path
    df: float
    lift: float
    lift_se: float
    treated_mean: float
    counterfactual_mean: float
    coverage: float  # share of the selected treated rows that have a comparison
    rows: int  # treated rows covered
    rows_selected: int  # treated rows selected
    treated_sites: int
    clusters: int
    influence: tuple[tuple[str, float], ...] = ()  # (site, ψ_g) of the estimate
    lift_influence: tuple[tuple[str, float], ...] = ()
    placebo: PlaceboTest | None = None
    note: str = ""
    sizes: tuple[int, ...] = field(default=())  # rows per treated site
    live_sites: tuple[str, ...] = ()  # the treated sites with judged rows

    def _critical(self, alpha: float) -> float:
        if self.placebo is not None:
            return self.placebo.critical(alpha)
        return two_sided_t(alpha, self.df) if self.df > 0 else NAN

    def ci(self, level: float = 0.95) -> tuple[float, float]:
        q = self._critical(1 - level)
        return _interval(self.estimate, self.se, q)

    def lift_ci(self, level: float = 0.95) -> tuple[float, float]:
        q = self._critical(1 - level)
        return _interval(self.lift, self.lift_se, q)

    @property
    def p_value(self) -> float:
        if self.placebo is not None:
            return self.placebo.p_value
        if not (self.se > 0) or not (self.df > 0):
            return NAN
        return _p_two_sided(self.estimate / self.se, self.df)

    @property
    def identified(self) -> bool:
        return self.rows > 0 and math.isfinite(self.estimate)

    @property
    def uneven_sites(self) -> bool:
        """Treated sites whose sizes differ more than tenfold (clustered errors then over-reject)."""
        return len(self.sizes) >= 2 and max(self.sizes) > 10 * max(min(self.sizes), 1)


def _interval(est: float, se: float, q: float) -> tuple[float, float]:
    if math.isinf(q):
        return (-math.inf, math.inf)
    if not (math.isfinite(est) and math.isfinite(se) and math.isfinite(q)):
        return (NAN, NAN)
    return (est - q * se, est + q * se)


class Estimator(Protocol):
    """An estimator: a panel and a selection of treated cells in, one RolloutEstimate out."""

    def __call__(self, panel: Panel, select: np.ndarray) -> RolloutEstimate: ...


def _by_site(panel: Panel, psi: np.ndarray) -> tuple[tuple[str, float], ...]:
    return tuple((panel.sites[g], float(x)) for g, x in enumerate(psi) if x != 0)


def imputation(
    panel: Panel, select: np.ndarray, few_sites: int = FEW_SITES, *, test: bool = True
) -> RolloutEstimate:
    """The imputation estimate of the selected treated cells (see imputation.py). With
    ``test=False`` the few-sites path skips the placebo test (its interval is then unbounded):
    for estimates no verdict reads."""
    chosen = select & ~panel.baseline
    rows_selected = int(round(panel.n[chosen].sum()))
    clusters = int(panel.sites_with_baseline().sum())
    tau, lift, cf, v = linear_estimate(panel, chosen)
    on = v > 0
    rows = int(round(panel.n[on].sum()))
    coverage = rows / rows_selected if rows_selected else NAN
    sizes = np.bincount(panel.site[on], weights=panel.n[on], minlength=len(panel.sites))
    treated = int((sizes > 0).sum())
    if not on.any():
        note = (
            "No live row has a comparison: no site on the old way of working in the same period "
            "(or the live sites have no baseline rows of their own)."
        )
        return RolloutEstimate(
            "imputation_cluster_site", NAN, NAN, NAN, NAN, NAN, NAN, NAN, 0.0 if rows_selected
            else NAN, 0, rows_selected, 0, clusters, note=note,
        )  # fmt: skip
    psi, lift_psi = tau.psi(panel), lift.psi(panel)
    common = {
        "estimate": tau.estimate,
        "lift": lift.estimate,
        "treated_mean": float((v[on] * panel.mean[on]).sum()),
        "counterfactual_mean": cf,
        "coverage": coverage,
        "rows": rows,
        "rows_selected": rows_selected,
        "treated_sites": treated,
        "clusters": clusters,
        "influence": _by_site(panel, psi),
        "lift_influence": _by_site(panel, lift_psi),
        "sizes": tuple(int(round(s)) for s in sizes[sizes > 0]),
        "live_sites": tuple(panel.sites[g] for g in np.flatnonzero(sizes > 0)),
    }
    if treated >= few_sites:
        return RolloutEstimate(
            "imputation_cluster_site",
            se=math.sqrt(float((psi**2).sum())),
            df=float(clusters - 1) if clusters >= 2 else NAN,
            lift_se=math.sqrt(float((lift_psi**2).sum())),
            **common,
        )
    placebo = placebo_test(panel, chosen) if test else PlaceboTest(NAN, (), 0)
    return RolloutEstimate(
        "imputation_placebo",
        se=math.sqrt(max(tau.cell_var(panel), 0.0)),
        df=math.inf,
        lift_se=math.sqrt(max(lift.cell_var(panel), 0.0)),
        placebo=placebo,
        **common,
    )


ESTIMATORS: dict[str, Estimator] = {"imputation": imputation}
