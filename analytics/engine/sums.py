"""The sufficient statistics of a cell of weighted rows, and their one exact merge.

A cell (rows i with analytic weights w_i > 0 and values y_i; unweighted data is w = 1) carries

  n   rows                      w   W = Σ w_i                    mean  ȳ = Σ w_i y_i / W
  m2  Σ w_i (y_i − ȳ)²          s2  S2 = Σ w_i²
  q1  Q1 = Σ w_i² (y_i − ȳ)     q2  Q2 = Σ w_i² (y_i − ȳ)²

which is all the row-level WLS (weights = w) needs on cell-constant regressors: the point
estimate (WLS on ȳ with weights W), the HC1 meat of a cell at residual r, Σ w_i² (y_i − ȳ + r)²
= Q2 + 2 r Q1 + S2 r², and the cluster score x W r. For w = 1: W = S2 = n, Q1 = 0, Q2 = m2.

Merging cells c into one at mean μ = Σ W_c ȳ_c / W, each cell's deviations shift by
d_c = ȳ_c − μ (y − μ = (y − ȳ_c) + d_c), so, exactly:

  m2 = Σ (m2_c + W_c d_c²)        (Chan's formula with weights: Σ w (y − ȳ_c) = 0)
  S2 = Σ S2_c
  Q1 = Σ (Q1_c + S2_c d_c)
  Q2 = Σ (Q2_c + 2 d_c Q1_c + S2_c d_c²)

Only deviations are ever squared, never raw values, so the sums stay exact to the digits that
matter for an uptime of 0.999 ± 0.0005 or amounts near 10⁵. This module is the one pooling of
the code base: aggregation, the unadjusted comparisons and the models all merge through it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SUMS: tuple[str, ...] = ("n", "w", "mean", "m2", "s2", "q1", "q2")


def complete(cells: pd.DataFrame) -> pd.DataFrame:
    """Cells with every column of SUMS: cells without weight sums (n, mean, m2 only, as cells
    of unweighted data were written before the weights) are the case w = 1."""
    missing = [c for c in ("w", "s2", "q1", "q2") if c not in cells.columns]
    if not missing:
        return cells
    n = pd.to_numeric(cells["n"], errors="coerce").astype(float)
    m2 = cells["m2"] if "m2" in cells.columns else pd.Series(0.0, index=cells.index)
    defaults = {"w": n, "s2": n, "q1": pd.Series(0.0, index=cells.index), "q2": m2}
    return cells.assign(**{c: defaults[c] for c in missing})


def arrays(cells: pd.DataFrame) -> tuple[np.ndarray, ...]:
    """The SUMS columns of (completed) cells as float arrays, in the order of SUMS."""
    cells = complete(cells)
    return tuple(pd.to_numeric(cells[c], errors="coerce").to_numpy(float) for c in SUMS)


def pool(
    labels: np.ndarray,
    groups: int,
    n: np.ndarray,
    w: np.ndarray,
    mean: np.ndarray,
    m2: np.ndarray,
    s2: np.ndarray,
    q1: np.ndarray,
    q2: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """n, w, mean, m2, s2, q1, q2 of the union of the cells of each group (the merge above).

    Cells with no rows (n = 0 or W = 0) are ignored; groups without rows have n = W = 0 and a
    NaN mean.
    """
    labels = np.asarray(labels, dtype=np.intp)
    has = (np.asarray(n, float) > 0) & (np.asarray(w, float) > 0)
    n, w = np.where(has, n, 0.0), np.where(has, w, 0.0)
    mean = np.where(has, mean, 0.0)
    m2, s2, q1, q2 = (np.where(has, np.nan_to_num(a, nan=0.0), 0.0) for a in (m2, s2, q1, q2))

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(labels, weights=values, minlength=groups)

    big_w = total(w)
    with np.errstate(divide="ignore", invalid="ignore"):
        group_mean = total(w * mean) / big_w
        d = np.where(has, mean - group_mean[labels], 0.0)
    return (
        total(n),
        big_w,
        group_mean,
        total(m2 + w * d**2),
        total(s2),
        total(q1 + s2 * d),
        total(q2 + 2 * d * q1 + s2 * d**2),
    )


def mean_variance(n: np.ndarray, w: np.ndarray, q2: np.ndarray) -> np.ndarray:
    """Squared standard error of a group's weighted mean with analytic weights:
    n / (n − 1) · Σ w_i² (y_i − ȳ)² / W², the HC1 (linearised) variance of the row-level
    ``WLS(y, 1, weights=w)`` intercept; s² / n for unweighted rows. NaN below 2 rows."""
    n = np.asarray(n, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 1, np.clip(q2, 0.0, None) / (n - 1) * n / np.asarray(w) ** 2, np.nan)
