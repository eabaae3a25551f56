"""Callaway & Sant'Anna's group-time effects ATT(g, t) on cells, as a check beside the
imputation estimator's wave effects (the same data under a different estimand).

A wave g is the sites that go live in the same period. ATT(g, t) compares the change of the
wave's mean from its base period to t with the same change at the comparison sites: not yet
live at t (and never live) by default, or never live only. The base period is the last one
before the wave goes live for t ≥ g, and t − 1 before that (R did's "varying" base). Site
means are weighted by their rows; without covariates this is R did's doubly robust ATT(g, t).
Each ATT(g, t) carries its influence per site, so aggregations and the pre-test use the joint
covariance Σ_s ψ_s ψ_sᵀ (R did's analytical covariance).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats as sps

from analytics.engine.panel import NEVER, Panel

Comparison = Literal["not_yet", "never"]


@dataclass(frozen=True, slots=True, eq=False)
class GroupTime:
    """One ATT(g, t): wave go-live step g, period step t, its estimate, treated rows, ψ per
    site."""

    g: int
    t: int
    att: float
    rows: float
    psi: np.ndarray

    @property
    def post(self) -> bool:
        return self.t >= self.g


def _site_period_means(panel: Panel, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict]:
    steps = np.unique(panel.t[keep])
    col = {int(s): i for i, s in enumerate(steps)}
    shape = (len(panel.sites), len(steps))
    w = np.zeros(shape)
    wy = np.zeros(shape)
    cols = np.searchsorted(steps, panel.t[keep])
    np.add.at(w, (panel.site[keep], cols), panel.w[keep])
    np.add.at(wy, (panel.site[keep], cols), panel.w[keep] * panel.mean[keep])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(w > 0, wy / w, np.nan), w, col


def _change(y: np.ndarray, w: np.ndarray, sites: np.ndarray, t: int, b: int):
    """Row-weighted mean change from b to t of the sites that have both, and ψ per site."""
    both = sites & np.isfinite(y[:, t]) & np.isfinite(y[:, b])
    weight = np.where(both, w[:, t], 0.0)
    total = weight.sum()
    if total <= 0:
        return np.nan, np.zeros(len(sites)), 0.0
    delta = np.where(both, y[:, t] - y[:, b], 0.0)
    mean = float((weight * delta).sum() / total)
    return mean, weight * (delta - mean) / total, total


def group_time(
    panel: Panel, select: np.ndarray, comparison: Comparison = "not_yet"
) -> list[GroupTime]:
    """Every identified ATT(g, t) of the waves whose selected cells are live (see the module
    docstring); the other treated phase's cells are left out."""
    keep = panel.baseline | select
    y, w, col = _site_period_means(panel, keep)
    start = panel.start
    live = np.zeros(len(panel.sites), dtype=bool)
    live[np.unique(panel.site[select & ~panel.baseline])] = True
    out = []
    for g in sorted({int(start[s]) for s in np.flatnonzero(live)}):
        wave = live & (start == g)
        for t in sorted(col):
            b = g - 1 if t >= g else t - 1
            if b not in col or t == b:
                continue
            if comparison == "never":
                comp = start >= NEVER
            else:
                comp = (start > max(t, b)) & (start != g)
            treated_change, psi_t, rows = _change(y, w, wave, col[t], col[b])
            comp_change, psi_c, _ = _change(y, w, comp, col[t], col[b])
            if not (np.isfinite(treated_change) and np.isfinite(comp_change)):
                continue
            out.append(GroupTime(g, t, treated_change - comp_change, rows, psi_t - psi_c))
    return out


def aggregate(effects: list[GroupTime], wave: int | None = None) -> tuple[float, np.ndarray]:
    """Row-weighted average of the post-go-live ATT(g, t) (of one wave, or of all: R did's
    "simple" aggregation) and its ψ per site."""
    chosen = [e for e in effects if e.post and (wave is None or e.g == wave)]
    if not chosen:
        return float("nan"), np.zeros(0)
    weights = np.array([e.rows for e in chosen])
    weights = weights / weights.sum()
    est = float(sum(wt * e.att for wt, e in zip(weights, chosen, strict=True)))
    psi = sum(wt * e.psi for wt, e in zip(weights, chosen, strict=True))
    return est, np.asarray(psi)


def pre_test(effects: list[GroupTime]) -> tuple[float, int, float]:
    """Wald test that every pre-go-live ATT(g, t) is 0: (W, restrictions, p on χ²)."""
    pre = [e for e in effects if not e.post]
    if not pre:
        return float("nan"), 0, float("nan")
    att = np.array([e.att for e in pre])
    psi = np.column_stack([e.psi for e in pre])
    cov = psi.T @ psi
    stat = float(att @ np.linalg.solve(cov, att))
    return stat, len(pre), float(sps.chi2.sf(stat, len(pre)))
