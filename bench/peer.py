"""The peer: the same report done the usual notebook way, end to end from CSV to verdicts.

pandas.read_csv the whole file; a groupby for the phase means; scipy's Welch test for every cell
of the report (metric × slice × comparison, on the raw rows of the two groups) with Holm across
the slices of a kind; a row-level statsmodels OLS `y ~ pilot + production + C(site) + C(month)`,
cluster-robust by site, for every metric's adjusted estimate; then the verdict of each outcome
metric from its adjusted lift (Bonferroni interval across the outcomes).

It is written the way a competent analyst would write it, and it is kept lighter than ours on
purpose, so that the ratio is not flattered: Holm in numpy (statsmodels' multipletests forces a
full gc.collect on every call), no per-site or per-channel models, no retention, no trend or
counterfactual, and the verdict rules without fix-first.

Run it alone with `python -m bench.peer FILE` (prints the verdicts and the time and peak memory).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from scipy import stats

# What the analyst knows about this file (the sample generator's headers).
DIMENSIONS = ("date", "phase", "plant", "channel")
IDENTIFIERS = ("case_id",)
OUTCOMES = {  # outcome metric -> +1 when higher is better, -1 when lower is
    "Cost per case (EUR)": -1,
    "Minutes saved": +1,
    "Error rate": -1,
    "Revenue per case (EUR)": +1,
    "Support tickets": -1,
}
COMPARISONS = (
    ("pilot_vs_baseline", "pilot", "baseline"),
    ("production_vs_baseline", "production", "baseline"),
    ("production_vs_pilot", "production", "pilot"),
)
SLICES = {"overall": (), "site": ("plant",), "channel": ("channel",)}
SLICES["site_channel"] = ("plant", "channel")
ALPHA = 0.05
MIN_EFFECT = 0.05
MIN_PRODUCTION_ROWS = 30
MIN_PRODUCTION_SITES = 2


def holm(p: np.ndarray) -> np.ndarray:
    order = np.argsort(p)
    ranked = np.maximum.accumulate(p[order] * (len(p) - np.arange(len(p))))
    out = np.empty_like(p)
    out[order] = np.minimum(ranked, 1.0)
    return out


def welch_cells(df: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """Welch's t for every metric × slice × comparison, on the raw rows."""
    rows: list[dict[str, Any]] = []
    for slice_type, keys in SLICES.items():
        by = [*keys, "phase"]
        groups = dict(tuple(df.groupby(by if len(by) > 1 else "phase", sort=True)))
        slices = sorted({k[:-1] if isinstance(k, tuple) else () for k in groups})
        for metric in metrics:
            for name in slices:
                for comparison, first, second in COMPARISONS:
                    ga = groups.get((*name, first) if keys else first)
                    gb = groups.get((*name, second) if keys else second)
                    if ga is None or gb is None:
                        continue
                    a = ga[metric].dropna().to_numpy()
                    b = gb[metric].dropna().to_numpy()
                    if len(a) < 2 or len(b) < 2:
                        continue
                    res = stats.ttest_ind(a, b, equal_var=False)
                    lo, hi = res.confidence_interval(1 - ALPHA)
                    mean_b = b.mean()
                    diff = a.mean() - mean_b
                    rows.append(
                        {
                            "metric": metric,
                            "comparison": comparison,
                            "slice_type": slice_type,
                            "slice": name,
                            "n_a": len(a),
                            "n_b": len(b),
                            "diff": diff,
                            "diff_ci": (lo, hi),
                            "lift": diff / mean_b if mean_b else np.nan,
                            "p_value": res.pvalue,
                        }
                    )
    table = pd.DataFrame(rows)
    table["p_adjusted"] = np.nan
    for _, idx in table.groupby(["metric", "comparison", "slice_type"]).groups.items():
        p = table.loc[idx, "p_value"].to_numpy(float)
        ok = np.isfinite(p)
        adjusted = np.full(p.shape, np.nan)
        adjusted[ok] = holm(p[ok])
        table.loc[idx, "p_adjusted"] = adjusted
    return table


def adjusted(df: pd.DataFrame, metric: str, alpha: float) -> dict[str, Any]:
    """Row-level OLS with site and month dummies, cluster-robust by site (t on G−1 df)."""
    data = df[[metric, "phase", "plant", "month"]].dropna(subset=[metric])
    data = data.rename(columns={metric: "y"})
    data["pilot"] = (data["phase"] == "pilot").astype(float)
    data["production"] = (data["phase"] == "production").astype(float)
    groups = pd.factorize(data["plant"])[0]
    fit = smf.ols("y ~ pilot + production + C(plant) + C(month)", data=data).fit(
        cov_type="cluster", cov_kwds={"groups": groups}, use_t=True
    )
    beta = float(fit.params["production"])
    lo, hi = fit.conf_int(alpha=alpha).loc["production"]
    production = data[data["production"] == 1]
    denominator = float(production["y"].mean()) - beta  # production without the AI
    return {
        "metric": metric,
        "beta": beta,
        "beta_ci": (float(lo), float(hi)),
        "pilot_beta": float(fit.params["pilot"]),
        "lift": beta / denominator,
        "lift_ci": (float(lo) / denominator, float(hi) / denominator),
        "n_production": len(production),
        "production_sites": int(production["plant"].nunique()),
    }


def verdict(fit: dict[str, Any], sign: int) -> str:
    if fit["n_production"] < MIN_PRODUCTION_ROWS or fit["production_sites"] < MIN_PRODUCTION_SITES:
        return "need_more_data"
    lift = sign * fit["lift"]
    lo, hi = sorted(sign * x for x in fit["lift_ci"])
    if hi < MIN_EFFECT:
        return "do_not_scale"
    if lo > 0 and lift >= MIN_EFFECT:
        return "scale"
    return "need_more_data"


def report(path: str | Path) -> dict[str, Any]:
    """CSV to verdicts, the notebook way."""
    df = pd.read_csv(path, parse_dates=["date"])
    df["month"] = df["date"].dt.year * 100 + df["date"].dt.month
    metrics = [c for c in df.columns if c not in (*DIMENSIONS, *IDENTIFIERS, "month")]
    means = df.groupby("phase")[metrics].mean()
    welch = welch_cells(df, metrics)
    bonferroni = ALPHA / len(OUTCOMES)
    fits = {}
    for metric in metrics:
        level = bonferroni if metric in OUTCOMES else ALPHA
        fits[metric] = adjusted(df, metric, level)
    verdicts = {m: verdict(fits[m], sign) for m, sign in OUTCOMES.items()}
    return {"means": means, "welch": welch, "fits": fits, "verdicts": verdicts}


def main(argv: list[str] | None = None) -> int:
    from bench.common import current_rss_bytes, peak_rss_bytes, report_result

    args = sys.argv[1:] if argv is None else argv
    base = current_rss_bytes()
    start = time.perf_counter()
    result = report(args[0])
    seconds = time.perf_counter() - start
    for metric, v in result["verdicts"].items():
        fit = result["fits"][metric]
        print(f"{metric:<28} {v:<16} lift {fit['lift']:+.3f} {fit['lift_ci']}")
    report_result(
        {
            "seconds": seconds,
            "peak_rss": peak_rss_bytes(),
            "import_rss": base,
            "welch_tests": len(result["welch"]),
            "verdicts": result["verdicts"],
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
