"""Unadjusted comparisons for every metric and slice, vectorised over cells.

Cells are merged per group exactly (engine/sums.py), then each pair of phases is compared with
Welch's t (Satterthwaite df on row counts) and a delta-method relative lift. Weighted rows are
analytic weights: a group's mean is weighted and its standard error is the row-level
``WLS(y, 1, weights=w)`` HC1 one, n/(n−1) Q2/W² (s²/n for unweighted rows; docs/METHODS.md says
why). These comparisons describe; the adjusted model decides.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

from analytics.core.types import PHASES
from analytics.engine import sums
from analytics.engine.aggregate import group_labels
from analytics.engine.holm import holm_within

COMPARISONS: tuple[tuple[str, str, str], ...] = (
    ("pilot_vs_baseline", "pilot", "baseline"),
    ("production_vs_baseline", "production", "baseline"),
    ("production_vs_pilot", "production", "pilot"),
)
SLICES: dict[str, tuple[str, ...]] = {
    "overall": (),
    "site": ("site",),
    "channel": ("channel",),
    "site_channel": ("site", "channel"),
}


def welch_table(
    n_a: np.ndarray,
    mean_a: np.ndarray,
    m2_a: np.ndarray,
    n_b: np.ndarray,
    mean_b: np.ndarray,
    m2_b: np.ndarray,
    alpha: float = 0.05,
    w_a: np.ndarray | None = None,
    q2_a: np.ndarray | None = None,
    w_b: np.ndarray | None = None,
    q2_b: np.ndarray | None = None,
) -> pd.DataFrame:
    """Welch's test for many pairs at once: diff = mean_a − mean_b, lift = diff / mean_b.

    Equal to scipy.stats.ttest_ind_from_stats(equal_var=False) pair by pair for unweighted
    groups; with weight totals w and sums q2 = Σ w² (y − ȳ)², each group's squared standard error
    is sums.mean_variance. NaN where a group has fewer than 2 rows or both variances are 0.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        if w_a is None or q2_a is None or w_b is None or q2_b is None:
            va = np.where(n_a > 1, m2_a / (n_a - 1), np.nan) / n_a
            vb = np.where(n_b > 1, m2_b / (n_b - 1), np.nan) / n_b
        else:
            va, vb = sums.mean_variance(n_a, w_a, q2_a), sums.mean_variance(n_b, w_b, q2_b)
        se = np.sqrt(va + vb)
        df = (va + vb) ** 2 / (va**2 / (n_a - 1) + vb**2 / (n_b - 1))
        diff = mean_a - mean_b
        se = np.where(se > 0, se, np.nan)
        t = diff / se
        p = 2 * sps.t.sf(np.abs(t), df)
        q = sps.t.ppf(1 - alpha / 2, df)
        lift = diff / mean_b
        # Delta method for mean_a / mean_b − 1 with independent groups.
        lift_se = np.sqrt(va / mean_b**2 + mean_a**2 * vb / mean_b**4)
        return pd.DataFrame(
            {
                "n_a": n_a,
                "n_b": n_b,
                "mean_a": mean_a,
                "mean_b": mean_b,
                "diff": diff,
                "diff_ci_low": diff - q * se,
                "diff_ci_high": diff + q * se,
                "lift": np.where(mean_b != 0, lift, np.nan),
                "lift_ci_low": np.where(mean_b != 0, lift - q * lift_se, np.nan),
                "lift_ci_high": np.where(mean_b != 0, lift + q * lift_se, np.nan),
                "p_value": p,
                "df": df,
            }
        )


def compare_all(cells: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Every metric × slice × comparison, with Holm-adjusted p across the slices of a kind.

    Columns: metric, comparison, slice_type, site, channel, then welch_table's columns and
    p_adjusted. `site`/`channel` are None where the slice does not split by them. Rows come per
    slice type, then per comparison, sorted by metric and slice.
    """
    if cells.empty:
        return pd.DataFrame()
    phase = pd.Categorical(cells["phase"], categories=PHASES).codes.astype(np.int64)
    known = phase >= 0
    cells, phase = cells[known], phase[known]
    sums_arrays = sums.arrays(cells)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("a", "b", "metric", "site", "channel")}
    comparisons: list[str] = []
    slice_types: list[str] = []
    for slice_type, dims in SLICES.items():
        labels, keys = group_labels({k: cells[k] for k in ("metric", *dims)})
        groups = len(keys)
        pooled = np.stack(
            [
                a.reshape(groups, len(PHASES))
                for a in sums.pool(labels * len(PHASES) + phase, groups * len(PHASES), *sums_arrays)
            ]
        )  # (n, w, mean, m2, s2, q1, q2) × group × phase
        none = np.full(groups, None, dtype=object)
        for comparison, first, second in COMPARISONS:
            i, j = PHASES.index(first), PHASES.index(second)
            both = np.flatnonzero((pooled[0][:, i] > 0) & (pooled[0][:, j] > 0))
            parts["a"].append(pooled[:, both, i])
            parts["b"].append(pooled[:, both, j])
            for dim in ("metric", "site", "channel"):
                values = keys[dim].to_numpy(object) if dim in keys else none
                parts[dim].append(values[both])
            comparisons += [comparison] * both.size
            slice_types += [slice_type] * both.size
    if not comparisons:
        return pd.DataFrame()
    a_stats, b_stats = np.concatenate(parts["a"], axis=1), np.concatenate(parts["b"], axis=1)
    n_a, w_a, mean_a, m2_a, _, _, q2_a = a_stats
    n_b, w_b, mean_b, m2_b, _, _, q2_b = b_stats
    table = welch_table(
        n_a, mean_a, m2_a, n_b, mean_b, m2_b, alpha, w_a=w_a, q2_a=q2_a, w_b=w_b, q2_b=q2_b
    )
    table.insert(0, "metric", np.concatenate(parts["metric"]))
    table.insert(1, "comparison", comparisons)
    table.insert(2, "slice_type", slice_types)
    # Object columns: None where a slice does not split by the dimension.
    table.insert(3, "site", pd.Series(np.concatenate(parts["site"]), dtype=object))
    table.insert(4, "channel", pd.Series(np.concatenate(parts["channel"]), dtype=object))
    families = table["metric"] + "\0" + table["comparison"] + "\0" + table["slice_type"]
    table["p_adjusted"] = holm_within(table["p_value"].to_numpy(float), pd.factorize(families)[0])
    table["n_a"] = table["n_a"].astype("int64")
    table["n_b"] = table["n_b"].astype("int64")
    return table
