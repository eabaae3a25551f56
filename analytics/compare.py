"""Unadjusted comparisons for every metric and slice, vectorised over cells.

Cells are pooled per group with Chan's formula (m2 = Σ m2_c + Σ n_c (mean_c − mean)²), then each
pair of phases is compared with Welch's t (Satterthwaite df) and a delta-method relative lift.
These comparisons describe; the adjusted model decides.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

from analytics.aggregate import pool_cells

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
    p_adjusted. `site`/`channel` are None where the slice does not split by them.
    """
    frames = []
    for slice_type, dims in SLICES.items():
        keys = ["metric", *dims]
        pooled = pool_cells(cells, keys + ["phase"])
        by_phase = {p: g.drop(columns="phase").set_index(keys) for p, g in pooled.groupby("phase")}
        for comparison, first, second in COMPARISONS:
            if first not in by_phase or second not in by_phase:
                continue
            both = (
                by_phase[first]
                .add_suffix("_a")
                .join(by_phase[second].add_suffix("_b"), how="inner")
            )
            if both.empty:
                continue
            table = welch_table(
                both["n_a"].to_numpy(float),
                both["mean_a"].to_numpy(float),
                both["m2_a"].to_numpy(float),
                both["n_b"].to_numpy(float),
                both["mean_b"].to_numpy(float),
                both["m2_b"].to_numpy(float),
                alpha,
            )
            index = both.index.to_frame(index=False)
            table.insert(0, "metric", index["metric"].to_numpy())
            table.insert(1, "comparison", comparison)
            table.insert(2, "slice_type", slice_type)
            table.insert(3, "site", index["site"].to_numpy() if "site" in dims else None)
            table.insert(4, "channel", index["channel"].to_numpy() if "channel" in dims else None)
            frames.append(table)
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames, ignore_index=True)
    families = out["metric"] + "\0" + out["comparison"] + "\0" + out["slice_type"]
    out["p_adjusted"] = holm_within(out["p_value"].to_numpy(float), pd.factorize(families)[0])
    out["n_a"] = out["n_a"].astype("int64")
    out["n_b"] = out["n_b"].astype("int64")
    return out
