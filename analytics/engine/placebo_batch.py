"""Every placebo assignment of a test at once: the first stages and studentised estimates of
placebo.py as stacked arrays (one row per assignment) instead of one fit per assignment.

Each assignment leaves a different set of untreated cells, so each has its own normal
equations, but all are (S+P)×(S+P) systems on the same cells: the Gram of assignment a is
[[diag(M_a 1), M_a], [M_aᵀ, diag(M_aᵀ 1)]], M_a[s, p] the untreated weight of site s in
period p. They are built with bincounts, inverted in one stacked LAPACK call (numpy.linalg.inv
over the stack; every later solve is a product), and everything after — fitted values, residuals, τ̂, its influence and its
cell-robust standard error — is array arithmetic over (assignment, cell). A node a fit leaves
out (no untreated cell, or the first period of its linked component: the free level) gets an
identity row and a zero right-hand side, so its level is 0 as in imputation.fit_first_stage
and every system keeps the same size.

The outcome-free part (which cells are untreated and covered, the systems, the weights v and
the influence multipliers λ/W) is ``Stages`` and ``Influence``; the outcome enters only in
``estimates``. The numbers equal fit_first_stage and impute run per assignment up to rounding
(tests/test_placebo_batch.py checks a dense per-fit reference to 1e-9).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analytics.engine.panel import Panel


@dataclass(frozen=True, slots=True, eq=False)
class Stages:
    """First stages of A assignments on one panel (A × cells masks, A systems)."""

    untreated: np.ndarray  # (A, C) bool: cells each fit uses
    covered: np.ndarray  # (A, C) bool: site and period linked by untreated cells
    inverse: np.ndarray  # (A, k, k): inverses of the normal equations, left-out nodes as
    # identity rows (inverted once: every solve of a test and its metrics is then a product)
    kept: np.ndarray  # (A, k) bool: nodes whose level is fitted
    nodes: tuple[np.ndarray, np.ndarray]  # (A, C) flat index of each cell's site, period node
    n_sites: int

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """Solutions x_a of gram_a x = rhs_a, (A, k) → (A, k), 0 on left-out nodes."""
        return (self.inverse @ (rhs * self.kept)[..., None])[..., 0]

    def node_sums(self, values: np.ndarray) -> np.ndarray:
        """(A, k): per assignment, the sums of ``values`` (A, C) over each site's cells and
        each period's cells."""
        return _node_sums(self.nodes, values, self.kept.shape)

    def at_cells(self, x: np.ndarray) -> np.ndarray:
        """(A, C): x (A, k) at each cell's site plus at its period."""
        return x.ravel()[self.nodes[0]] + x.ravel()[self.nodes[1]]


def _node_sums(nodes: tuple, values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    a, k = shape
    flat = values.ravel()
    out = np.bincount(nodes[0].ravel(), weights=flat, minlength=a * k)
    out += np.bincount(nodes[1].ravel(), weights=flat, minlength=a * k)
    return out.reshape(a, k)


def _components(m: np.ndarray) -> np.ndarray:
    """(A, S+P) component label of every site and period node in each assignment's graph
    whose edges are the (site, period) pairs with untreated weight (labels unique across
    assignments); ``m``: (A, S, P) untreated weights. Sites reach each other through shared
    periods; the reach is squared until it stops growing, a site's label is the first site it
    reaches, a period's that of a site it is linked to (its own when it has none)."""
    a, s, p = m.shape
    linked = (m > 0).astype(float)
    reach = (linked @ linked.transpose(0, 2, 1) > 0) | np.eye(s, dtype=bool)
    while True:
        step = reach.astype(float)
        wider = (step @ step) > 0
        if np.array_equal(wider, reach):
            break
        reach = wider
    site_label = np.argmax(reach, axis=2)
    linked_site = np.take_along_axis(site_label, np.argmax(linked > 0, axis=1), axis=1)
    period_label = np.where(linked.any(axis=1), linked_site, s + np.arange(p))
    return np.concatenate([site_label, period_label], axis=1) + (np.arange(a) * (s + p))[:, None]


def stack_first_stages(panel: Panel, untreated: np.ndarray) -> Stages:
    """The first stage of each row of ``untreated`` (A × cells), as imputation.fit_first_stage
    fits one: site and period levels by WLS on that row's untreated cells."""
    a = untreated.shape[0]
    s, p = len(panel.sites), len(panel.periods)
    k = s + p
    w = np.where(untreated, panel.w, 0.0)
    base = (np.arange(a) * k)[:, None]
    nodes = (base + panel.site, base + s + panel.period)
    m = np.bincount(
        ((np.arange(a) * s)[:, None] + panel.site).ravel() * p + np.tile(panel.period, a),
        weights=w.ravel(),
        minlength=a * s * p,
    ).reshape(a, s, p)
    gram = np.zeros((a, k, k))
    gram[:, :s, s:] = m
    gram[:, s:, :s] = m.transpose(0, 2, 1)
    diag = _node_sums(nodes, w, (a, k))
    comp = _components(m)
    kept = diag > 0
    # One level per linked component is free: leave out its first period (as fit_first_stage).
    period_nodes = np.flatnonzero(kept[:, s:].ravel())
    flat = (period_nodes // p) * k + s + period_nodes % p
    _, first = np.unique(comp.ravel()[flat], return_index=True)
    kept.ravel()[flat[first]] = False
    gram *= kept[:, :, None] & kept[:, None, :]
    gram.reshape(a, k * k)[:, :: k + 1] = np.where(kept, diag, 1.0)
    covered = comp.ravel()[nodes[0]] == comp.ravel()[nodes[1]]
    return Stages(untreated, covered, np.linalg.inv(gram), kept, nodes, s)


@dataclass(frozen=True, slots=True, eq=False)
class Influence:
    """Per assignment, the weights v of its treated cells and each cell's multiplier λ/W in
    τ̂'s influence (imputation.impute): outcome-free."""

    v: np.ndarray  # (A, C)
    on: np.ndarray  # (A, C) bool: v > 0
    per_unit: np.ndarray  # (A, C): λ_c / W_c
    any: np.ndarray  # (A,) bool: the assignment has a covered treated cell


def influence(panel: Panel, stages: Stages, select: np.ndarray) -> Influence:
    """imputation.weights_over and the λ of imputation.impute for each row of ``select``."""
    on = select & stages.covered & ~stages.untreated
    v = np.where(on, panel.w, 0.0)
    total = v.sum(axis=1)
    has = total > 0
    v = v / np.where(has, total, 1.0)[:, None]
    on = v > 0
    b_vec = stages.solve(stages.node_sums(v))
    lam = np.where(stages.untreated, -stages.at_cells(b_vec) * panel.w, 0.0)
    lam = np.where(on, v, lam)
    return Influence(v, on, lam / panel.w, has)


def estimates(
    panel: Panel, stages: Stages, infl: Influence, mean: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """τ̂ (A,) and B (A, C) of every assignment for cell means ``mean``, as imputation.impute
    gives them (Linear.estimate and Linear.b): τ̂'s cell-robust variance is Σ_c (W_c B_c)²."""
    w_mean = np.where(stages.untreated, panel.w * mean, 0.0)
    theta = stages.solve(stages.node_sums(w_mean))
    fitted = stages.at_cells(theta)
    resid = mean - np.where(stages.covered, fitted, np.nan)
    tau = np.where(infl.on, infl.v * resid, 0.0).sum(axis=1)
    eps = np.where(stages.untreated, resid, 0.0)
    eps = np.where(infl.on, resid - tau[:, None], eps)
    return tau, infl.per_unit * eps
