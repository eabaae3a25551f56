"""Unadjusted comparisons for every metric and slice, vectorised over cells.

Cells are pooled per group with Chan's formula (m2 = Σ m2_c + Σ n_c (mean_c − mean)²), then each
pair of phases is compared with Welch's t (Satterthwaite df) and a delta-method relative lift.
These comparisons describe; the adjusted model decides.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

from analytics.core.types import PHASES
from analytics.engine.aggregate import group_labels, pool_by_label

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
) -> pd.DataFrame:
    """Welch's test for many pairs at once: diff = mean_a − mean_b, lift = diff / mean_b.

    Equal to scipy.stats.ttest_ind_from_stats(equal_var=False) pair by pair; NaN where a group
    has fewer than 2 rows or both variances are 0.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        var_a = np.where(n_a > 1, m2_a / (n_a - 1), np.nan)
        var_b = np.where(n_b > 1, m2_b / (n_b - 1), np.nan)
        va, vb = var_a / n_a, var_b / n_b
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


def holm_within(p: np.ndarray, family: np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values within each family (integer codes), all families at once.

    Equal to stats.holm applied family by family (NaN p-values are not tests and stay NaN);
    statsmodels' multipletests is not used here: it forces a full gc.collect() on every call
    (0.2 s each), and a report has over a hundred families.
    """
    out = np.full(p.shape, np.nan)
    tested = np.flatnonzero(np.isfinite(p))
    if not tested.size:
        return out
    order = tested[np.lexsort((p[tested], family[tested]))]  # by family, then p
    codes, values = family[order], p[order]
    starts = np.r_[0, np.flatnonzero(np.diff(codes)) + 1]
    sizes = np.diff(np.r_[starts, len(codes)])
    rank = np.arange(len(codes)) - np.repeat(starts, sizes)
    adjusted = (np.repeat(sizes, sizes) - rank) * values
    for start, size in zip(starts, sizes, strict=True):
        np.maximum.accumulate(adjusted[start : start + size], out=adjusted[start : start + size])
    out[order] = np.minimum(adjusted, 1.0)
    return out


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
    n = cells["n"].to_numpy(float)
    mean = cells["mean"].to_numpy(float)
    m2 = cells["m2"].to_numpy(float)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("a", "b", "metric", "site", "channel")}
    comparisons: list[str] = []
    slice_types: list[str] = []
    for slice_type, dims in SLICES.items():
        labels, keys = group_labels({k: cells[k] for k in ("metric", *dims)})
        groups = len(keys)
        pooled = np.stack(
            [
                a.reshape(groups, len(PHASES))
                for a in pool_by_label(
                    labels * len(PHASES) + phase, groups * len(PHASES), n, mean, m2
                )
            ]
        )  # (n, mean, m2) × group × phase
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
    table = welch_table(*a_stats, *b_stats, alpha=alpha)
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
