"""Weighted least squares on cell means, with HC1 and site-clustered covariances from cells.

WLS on the cell means with weights W reproduces the row-level ``WLS(weights=w)`` point estimate
exactly (every regressor is constant within a cell). Cluster-robust by site: the score of a cell
is x_c W_c r_c summed per site, scaled by G/(G-1) (N-1)/(N-K) with N rows; HC1: meat =
Σ_c x_c x_c' (Q2_c + 2 r_c Q1_c + S2_c r_c²), scaled by N/(N-K).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analytics.engine.cells import PreparedCells
from analytics.engine.design import Mode, TreatSpec, _Design, _design_for, _treat_key
from analytics.engine.quantiles import NAN


@dataclass
class _Fit:
    """Internal: a full-rank cell fit and its two covariance matrices (w: the cells' weights,
    their weight totals W; n_rows: rows)."""

    mode: str
    names: list[str]
    X: np.ndarray
    w: np.ndarray
    beta: np.ndarray
    v_hc1: np.ndarray
    v_cluster: np.ndarray | None
    df_hc1: float
    df_cluster: float
    identified: dict[str, bool]
    n_rows: int
    n_cells: int
    n_clusters: int

    def column(self, name: str) -> int:
        return self.names.index(name)


def _wls(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least squares as ``statsmodels.WLS(y, X, weights=w).fit()`` computes it (the
    pseudo-inverse of the whitened design): coefficients and normalized_cov_params."""
    sw = np.sqrt(w)
    wexog = sw[:, None] * X
    u, s, vt = np.linalg.svd(wexog, False)
    cutoff = 1e-15 * np.maximum.reduce(s)
    s_inv = np.where(s > cutoff, 1.0 / np.where(s > cutoff, s, 1.0), 0.0)
    pinv = np.dot(np.transpose(vt), np.multiply(s_inv[:, np.newaxis], np.transpose(u)))
    return np.dot(pinv, y * sw), np.dot(pinv, np.transpose(pinv))


def _fit(prep: PreparedCells, treat: TreatSpec, mode: Mode, channel_fe: bool) -> _Fit:
    """WLS on cell means with weights n, plus HC1 and site-cluster covariances from cells."""
    key = ("fit", *_treat_key(treat, mode, channel_fe))
    hit = prep._cache.get(key)
    if hit is None:
        hit = prep._cache[key] = _fit_design(_design_for(prep, treat, mode, channel_fe), mode)
    return hit  # type: ignore[return-value]


def _fit_design(design: _Design, mode: Mode) -> _Fit:
    df, x_all, names = design.frame, design.X, design.names
    basis = sorted(design.basis)
    X = x_all[:, basis]
    bnames = [names[j] for j in basis]
    identified = {names[j]: ok for j, ok in design.ident.items()}

    n = df.n.astype(float)
    w = df.w
    y = df.mean
    n_rows, k = int(n.sum()), X.shape[1]
    n_cells = design.n_cells
    sites = df.site
    n_clusters = int(np.count_nonzero(np.bincount(sites)))
    nan_v = np.full((k, k), np.nan)
    if not design.full_rank or bnames[0] != "Intercept":
        # Defensive: never report coefficients from a singular design.
        return _Fit(mode, bnames, X, w, np.full(k, np.nan), nan_v, None, NAN, NAN,
                    dict.fromkeys(identified, False), n_rows, n_cells, n_clusters)  # fmt: skip
    ref = float(np.average(y, weights=w))
    yc = y - ref
    beta_c, bread = _wls(X, yc, w)
    r = yc - X @ beta_c
    beta = beta_c.copy()
    beta[0] += ref
    df_resid = n_rows - k
    if df_resid > 0:
        # Σ w_i² e_i² over each cell's rows, e_i = (y_i − ȳ_c) + r_c.
        meat = (X * (df.q2 + 2 * r * df.q1 + df.s2 * r**2)[:, None]).T @ X
        v_hc1 = n_rows / df_resid * bread @ meat @ bread
    else:
        v_hc1 = nan_v
    v_cluster = None
    if n_clusters >= 2 and df_resid > 0:
        members = np.zeros((int(sites.max()) + 1, len(sites)))
        members[sites, np.arange(len(sites))] = 1.0
        scores = members @ (X * (w * r)[:, None])  # per site: the sum of its cells' scores
        meat = scores.T @ scores
        factor = n_clusters / (n_clusters - 1) * (n_rows - 1) / df_resid
        v_cluster = factor * bread @ meat @ bread
    return _Fit(
        mode,
        bnames,
        X,
        w,
        beta,
        (v_hc1 + v_hc1.T) / 2,
        None if v_cluster is None else (v_cluster + v_cluster.T) / 2,
        float(df_resid) if df_resid > 0 else NAN,
        float(n_clusters - 1) if n_clusters >= 2 else NAN,
        identified,
        n_rows,
        n_cells,
        n_clusters,
    )
