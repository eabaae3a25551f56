"""Golden-number tests for analytics/stats.py against independent row-level computations.

Every dataset is simulated row by row (seeded numpy), reduced to cells with a pandas groupby
(n, mean, m2 = sum of squared deviations), and the cell-based results are compared with scipy and
row-level statsmodels fits on the raw rows, to 1e-6 relative.
"""

from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from analytics.engine import sums
from analytics.engine.adjusted import fit_adjusted
from analytics.engine.cells import prepare_cells
from analytics.engine.compare import welch_table
from analytics.engine.design import _unique_rows
from analytics.engine.effects import AdjustedFit
from analytics.engine.fieller import fieller_ratio
from analytics.engine.holm import holm
from analytics.engine.power import mde, rows_needed
from analytics.engine.quantiles import _p_two_sided, _tq
from analytics.engine.slices import fit_slice_effects
from analytics.engine.trend import _forecast_cov, forecast_counterfactual, production_trend

RTOL = 1e-6


# --------------------------------------------------------------------------------------------
# Simulation helpers
# --------------------------------------------------------------------------------------------


def simulate(
    seed: int,
    n_sites: int = 7,
    n_periods: int = 18,
    channels: tuple[str, ...] = ("web", "phone"),
    pilot: tuple[int, int, int] | None = (0, 6, 9),
    go_live: dict[int, int] | None = None,
    base: float = 10.0,
    trend: float = 0.0,
    pilot_effect: float = 1.0,
    prod_effect: float = 0.6,
    noise: float = 2.0,
    rows_per_cell: float = 12.0,
    binary: bool = False,
    missing: float = 0.0,
    drop_cells: float = 0.1,
) -> pd.DataFrame:
    """Row-level telemetry for one metric. `pilot` = (site, first period, last period); `go_live`
    maps a site to its first production period (absent: never live). Unbalanced: the row count
    per cell varies by site and at random, and some cells are missing."""
    rng = np.random.default_rng(seed)
    go_live = {0: 10, 1: 10, 2: 12, 3: 12, 4: 14} if go_live is None else go_live
    months = pd.date_range("2023-01-01", periods=n_periods, freq="MS")
    site_level = rng.normal(0, 1.0, n_sites)
    site_rate = rng.uniform(0.5, 1.5, n_sites)
    season = trend * np.arange(n_periods) + 0.8 * np.sin(np.arange(n_periods) / 2.0)
    frames = []
    for s in range(n_sites):
        for t, month in enumerate(months):
            if s in go_live and t >= go_live[s]:
                phase, effect = "production", prod_effect
            elif pilot is not None and s == pilot[0] and pilot[1] <= t <= pilot[2]:
                phase, effect = "pilot", pilot_effect
            else:
                phase, effect = "baseline", 0.0
            for ch_i, ch in enumerate(channels):
                if rng.random() < drop_cells and phase == "baseline":
                    continue
                k = max(1, rng.poisson(rows_per_cell * site_rate[s]))
                mu = base + site_level[s] + season[t] + 0.3 * ch_i + effect
                if binary:
                    values = (rng.random(k) < np.clip(mu, 0.01, 0.99)).astype(float)
                else:
                    values = mu + noise * rng.standard_normal(k)
                if missing:
                    values[rng.random(k) < missing] = np.nan
                frames.append(
                    pd.DataFrame(
                        {
                            "phase": phase,
                            "site": f"S{s}",
                            "channel": ch,
                            "period": month,
                            "value": values,
                        }
                    )
                )
    return pd.concat(frames, ignore_index=True)


def pooled(cells: pd.DataFrame) -> dict[str, float]:
    """One group's sums through the engine's one pooling (sums.pool), with var and se."""
    arrays = sums.arrays(cells) if len(cells) else tuple(np.zeros(0) for _ in sums.SUMS)
    out = sums.pool(np.zeros(len(cells), np.intp), 1, *arrays)
    g = {k: float(v[0]) for k, v in zip(sums.SUMS, out, strict=True)}
    g["var"] = g["m2"] / (g["n"] - 1) if g["n"] >= 2 else math.nan
    g["se"] = math.sqrt(g["var"] / g["n"]) if g["n"] >= 2 else math.nan
    return g


def welch(a: dict[str, float], b: dict[str, float], alpha: float = 0.05) -> SimpleNamespace:
    """The production Welch comparison (compare.welch_table) of two pooled groups."""
    cols = [np.array([g[k]]) for g in (a, b) for k in ("n", "mean", "m2")]
    weights = {f"{k}_{s}": np.array([g[k]]) for s, g in (("a", a), ("b", b)) for k in ("w", "q2")}
    return SimpleNamespace(**welch_table(*cols, alpha, **weights).iloc[0].to_dict())


def group(n: int, mean: float, m2: float) -> dict[str, float]:
    """Sums of an unweighted group (w = n, q2 = m2)."""
    return {"n": n, "mean": mean, "m2": m2, "w": n, "q2": m2}


def to_cells(rows: pd.DataFrame, keys: tuple[str, ...] = ("phase", "site", "channel", "period")):
    """Cells the way the aggregation step makes them (rows with a missing value left out)."""
    rows = rows.dropna(subset=["value"]).copy()
    keys = list(keys)
    grouped = rows.groupby(keys, dropna=False)["value"]
    rows["dev2"] = (rows["value"] - grouped.transform("mean")) ** 2
    g = rows.groupby(keys, dropna=False)
    cells = pd.DataFrame(
        {"n": g["value"].count(), "mean": g["value"].mean(), "m2": g["dev2"].sum()}
    )
    return cells.reset_index()


def prepare_rows(rows: pd.DataFrame) -> pd.DataFrame:
    rows = rows.dropna(subset=["value"]).copy()
    rows["pilot"] = (rows["phase"] == "pilot").astype(float)
    rows["production"] = (rows["phase"] == "production").astype(float)
    rows["period_s"] = rows["period"].dt.strftime("%Y-%m")
    rows["site_code"] = pd.factorize(rows["site"])[0]
    rows = rows.reset_index(drop=True)
    return rows


def row_fits(rows: pd.DataFrame, formula: str):
    model = smf.ols(formula, data=rows)
    cl = model.fit(cov_type="cluster", cov_kwds={"groups": rows["site_code"].to_numpy()})
    hc1 = model.fit(cov_type="HC1")
    return model, cl, hc1


def close(a: float, b: float, rtol: float = RTOL) -> bool:
    return math.isclose(a, b, rel_tol=rtol, abs_tol=0.0)


def row_lift(model, fit, col: str, treated: np.ndarray, cov: np.ndarray):
    """Adjusted lift and its delta-method se computed from the row-level fit."""
    names = list(model.exog_names)
    j = names.index(col)
    beta = fit.params.to_numpy()
    a = model.exog[treated].mean(axis=0)
    a[j] = 0.0
    cf = a @ beta
    g = -beta[j] * a / cf**2
    g[j] += 1 / cf
    return beta[j] / cf, math.sqrt(g @ cov @ g), cf, g


# --------------------------------------------------------------------------------------------
# Pooling and Welch
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("center", "spread"), [(0.999, 0.0005), (1e5, 40.0), (3.0, 1.0)], ids=["uptime", "1e5", "plain"]
)
def test_pool_matches_rows_for_values_whose_mean_dwarfs_their_spread(center, spread):
    rng = np.random.default_rng(1)
    values = center + spread * rng.standard_normal(20_000)
    groups = rng.integers(0, 97, values.size)
    rows = pd.DataFrame({"phase": "baseline", "site": groups, "value": values})
    cells = to_cells(rows, ("phase", "site"))
    g = pooled(cells)
    assert g["n"] == values.size
    assert close(g["mean"], float(np.mean(values)), 1e-12)
    assert close(g["var"], float(np.var(values, ddof=1)), 1e-9)
    assert close(g["se"], float(np.std(values, ddof=1) / math.sqrt(values.size)), 1e-9)


def test_pool_degenerate():
    assert pooled(pd.DataFrame(columns=["n", "mean", "m2"]))["n"] == 0
    g = pooled(pd.DataFrame({"n": [1], "mean": [4.0], "m2": [0.0]}))
    assert g["n"] == 1 and g["mean"] == 4.0 and math.isnan(g["var"]) and math.isnan(g["se"])


@pytest.mark.parametrize("kind", ["normal", "binary", "1e5"])
def test_welch_matches_scipy_on_rows(kind):
    rng = np.random.default_rng(2)
    if kind == "binary":
        a = (rng.random(700) < 0.62).astype(float)
        b = (rng.random(1500) < 0.55).astype(float)
    elif kind == "1e5":
        a = 1e5 + 30 + 50 * rng.standard_normal(900)
        b = 1e5 + 80 * rng.standard_normal(400)
    else:
        a = 5.3 + 2 * rng.standard_normal(120)
        b = 5.0 + 3 * rng.standard_normal(300)
    ga = pooled(
        to_cells(
            pd.DataFrame({"phase": "pilot", "k": rng.integers(0, 9, a.size), "value": a}),
            ("phase", "k"),
        )
    )
    gb = pooled(
        to_cells(
            pd.DataFrame({"phase": "baseline", "k": rng.integers(0, 9, b.size), "value": b}),
            ("phase", "k"),
        )
    )
    c = welch(ga, gb)
    ref = sps.ttest_ind(a, b, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert close(c.diff, a.mean() - b.mean(), 1e-9)
    assert close(c.p_value, float(ref.pvalue))
    assert close(c.df, float(ref.df))
    assert close(c.diff_ci_low, float(ci.low))
    assert close(c.diff_ci_high, float(ci.high))
    sd_a, sd_b = math.sqrt(ga["var"]), math.sqrt(gb["var"])
    fs = sps.ttest_ind_from_stats(ga["mean"], sd_a, ga["n"], gb["mean"], sd_b, gb["n"], False)
    assert close(c.p_value, float(fs.pvalue))
    # Delta-method lift, by hand.
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = math.sqrt(va / b.mean() ** 2 + a.mean() ** 2 * vb / b.mean() ** 4)
    q = sps.t.ppf(0.975, ref.df)
    assert close(c.lift, a.mean() / b.mean() - 1, 1e-9)
    assert close(c.lift_ci_low, c.lift - q * se)
    assert close(c.lift_ci_high, c.lift + q * se)


def test_welch_degenerate_inputs_give_nan():
    one, many = group(1, 3.0, 0.0), group(10, 2.0, 9.0)
    c = welch(one, many)
    assert math.isnan(c.p_value) and math.isnan(c.diff_ci_low)
    flat = welch(group(5, 1.0, 0.0), group(5, 1.0, 0.0))
    assert math.isnan(flat.p_value)
    zero = welch(many, group(10, 0.0, 4.0))
    assert math.isnan(zero.lift) and math.isfinite(zero.p_value)


# --------------------------------------------------------------------------------------------
# Holm, Fieller, power
# --------------------------------------------------------------------------------------------


def test_holm_matches_statsmodels_and_tolerates_nan():
    p = [0.01, np.nan, 0.04, 0.03, 0.2, 0.001, np.nan, 0.04]
    out = holm(p)
    ok = [x for x in p if not math.isnan(x)]
    ref = multipletests(ok, method="holm")[1]
    got = [x for x in out if not math.isnan(x)]
    np.testing.assert_allclose(got, ref, rtol=1e-12)
    assert math.isnan(out[1]) and math.isnan(out[6])
    assert holm([]) == []


def test_fieller_hand_worked_example():
    # num = 2, den = 4, var_num = 0.04, var_den = 0.16, cov = 0, q = 2 (normal, alpha = 4.55%).
    # (2 - 4R)² = 4 (0.04 + 0.16 R²)  ->  15.36 R² - 16 R + 3.84 = 0
    # R = (8 ± sqrt(64 - 15.36·3.84)) / 15.36 = (8 ± 2.24) / 15.36 = 0.375 or 2/3.
    alpha = float(2 * sps.norm.sf(2.0))
    r = fieller_ratio(2.0, 4.0, 0.04, 0.16, 0.0, math.inf, alpha)
    assert r.estimate == 0.5
    assert close(r.ci_low, 0.375, 1e-12)
    assert close(r.ci_high, 2 / 3, 1e-12)
    assert r.note == ""
    # With a covariance and t quantiles: the bounds are where the t statistic equals q.
    r = fieller_ratio(1.0, 2.0, 0.01, 0.04, 0.005, 10, 0.05)
    q = sps.t.ppf(0.975, 10)
    for bound in (r.ci_low, r.ci_high):
        t = (1.0 - bound * 2.0) / math.sqrt(0.01 - 2 * bound * 0.005 + bound**2 * 0.04)
        assert close(abs(t), q, 1e-10)
    assert r.ci_low < 0.5 < r.ci_high


def test_fieller_unbounded_when_denominator_not_clearly_nonzero():
    r = fieller_ratio(1.0, 0.1, 0.01, 1.0, 0.0, 30, 0.05)
    assert r.ci_low == -math.inf and r.ci_high == math.inf and r.note
    bad = fieller_ratio(1.0, float("nan"), 0.01, 1.0, 0.0, 30, 0.05)
    assert math.isnan(bad.estimate) and bad.note


def test_mde_and_rows_needed():
    assert close(mde(1.0, math.inf), sps.norm.ppf(0.975) + sps.norm.ppf(0.8), 1e-12)
    assert close(mde(2.0, 12, 0.1, 0.9), 2 * (sps.t.ppf(0.95, 12) + sps.t.ppf(0.9, 12)), 1e-12)
    assert math.isnan(mde(float("nan"), 10))
    assert rows_needed(100, 2.0, 1.0) == 300
    assert rows_needed(100, 1.5, 1.0) == 125
    assert rows_needed(100, 1.0, 2.0) == 0
    assert rows_needed(7, 1.1, 1.0) == math.ceil(7 * 1.21 - 7)
    assert rows_needed(100, 1.0, 0.0) == -1


# --------------------------------------------------------------------------------------------
# Adjusted model against row-level statsmodels
# --------------------------------------------------------------------------------------------

TWFE = "value ~ pilot + production + C(site) + C(period_s)"


def check_adjusted_against_rows(rows: pd.DataFrame, rtol: float = RTOL) -> AdjustedFit:
    """Pilot (1 site: HC1) and production (5 sites: cluster) against row-level statsmodels."""
    fit = fit_adjusted(to_cells(rows))
    r = prepare_rows(rows)
    model, cl, hc1 = row_fits(r, TWFE)
    n_sites = r["site"].nunique()
    prod, pilot = fit.production, fit.pilot
    assert prod is not None and pilot is not None
    assert prod.method == "twfe_cluster_site" and pilot.method == "twfe_hc1_cells"
    assert fit.method == "twfe_cluster_site"
    assert "shocks shared across a site's periods are not accounted for" in pilot.assumption
    assert fit.n_rows == len(r) and fit.n_clusters == n_sites
    # Point estimates: WLS on cells == row-level OLS.
    assert close(prod.estimate, cl.params["production"], rtol)
    assert close(pilot.estimate, cl.params["pilot"], rtol)
    # Cluster-robust by site (row-count small-sample factor), t on G-1 df.
    assert close(prod.se, cl.bse["production"], rtol)
    assert prod.df == n_sites - 1
    q = sps.t.ppf(0.975, n_sites - 1)
    assert close(prod.ci_low, cl.params["production"] - q * cl.bse["production"], rtol)
    t = cl.params["production"] / cl.bse["production"]
    assert close(prod.p_value, 2 * sps.t.sf(abs(t), n_sites - 1), rtol)
    # HC1 on cells == row-level HC1, t on N-K df.
    assert close(pilot.se, hc1.bse["pilot"], rtol)
    assert pilot.df == hc1.df_resid
    t = hc1.params["pilot"] / hc1.bse["pilot"]
    assert close(pilot.p_value, 2 * sps.t.sf(abs(t), hc1.df_resid), rtol)
    # Adjusted lift with its delta-method se from the row-level covariance.
    treated = (r["phase"] == "production").to_numpy()
    lift, lift_se, cf, g_prod = row_lift(model, cl, "production", treated, cl.cov_params().values)
    assert close(prod.lift, lift, rtol) and close(prod.lift_se, lift_se, rtol)
    assert close(prod.counterfactual_mean, cf, rtol)
    assert close(prod.treated_mean, r.loc[treated, "value"].mean(), 1e-9)
    assert close(prod.counterfactual_mean, prod.treated_mean - prod.estimate, 1e-9)
    assert prod.n_treated == treated.sum()
    treated_p = (r["phase"] == "pilot").to_numpy()
    v_hc1 = hc1.cov_params().values
    lift_p, lift_p_se, _, g_pilot = row_lift(model, hc1, "pilot", treated_p, v_hc1)
    assert close(pilot.lift, lift_p, rtol) and close(pilot.lift_se, lift_p_se, rtol)
    # production_vs_pilot: the fewer-cluster method of the two (HC1).
    pvp = fit.production_vs_pilot
    assert pvp is not None and pvp.method == "twfe_hc1_cells"
    names = list(model.exog_names)
    c = np.zeros(len(names))
    c[names.index("production")], c[names.index("pilot")] = 1.0, -1.0
    assert close(pvp.estimate, c @ hc1.params.values, rtol)
    assert close(pvp.se, math.sqrt(c @ v_hc1 @ c), rtol)
    # Retention: Fieller on the two lifts with their covariance (HC1), when the pilot promised.
    if pilot.lift_ci_low > 0 or pilot.lift_ci_high < 0:
        _, _, _, g_prod_hc1 = row_lift(model, hc1, "production", treated, v_hc1)
        ref = fieller_ratio(
            lift / 1.0,
            lift_p,
            g_prod_hc1 @ v_hc1 @ g_prod_hc1,
            g_pilot @ v_hc1 @ g_pilot,
            g_prod_hc1 @ v_hc1 @ g_pilot,
            hc1.df_resid,
        )
        assert fit.retention is not None
        assert close(fit.retention.estimate, lift / lift_p, rtol)
        assert close(fit.retention.ci_low, ref.ci_low, rtol)
        assert close(fit.retention.ci_high, ref.ci_high, rtol)
    else:
        assert fit.retention is None
    return fit


def test_adjusted_unbalanced_panel_matches_row_level_fits():
    fit = check_adjusted_against_rows(simulate(3, pilot_effect=2.5, noise=1.5))
    assert fit.retention is not None  # the pilot's lift interval excludes 0 here
    assert fit.concurrent_periods > 0


def test_adjusted_binary_metric():
    rows = simulate(4, base=0.55, pilot_effect=0.15, prod_effect=0.05, binary=True)
    rows["value"] = rows["value"].astype(float)
    check_adjusted_against_rows(rows)
    # Welch on a 0/1 metric against scipy on the rows.
    a = rows.loc[rows.phase == "production", "value"].to_numpy()
    b = rows.loc[rows.phase == "baseline", "value"].to_numpy()
    cells = to_cells(rows)
    c = welch(pooled(cells[cells.phase == "production"]), pooled(cells[cells.phase == "baseline"]))
    assert close(c.p_value, float(sps.ttest_ind(a, b, equal_var=False).pvalue))


def test_adjusted_metric_missing_in_some_rows():
    rows = simulate(5, missing=0.2)
    assert rows["value"].isna().sum() > 100
    check_adjusted_against_rows(rows)


@pytest.mark.parametrize(
    ("center", "scale"), [(0.999, 0.00025), (1e5, 20.0)], ids=["uptime", "1e5"]
)
def test_adjusted_values_whose_mean_dwarfs_their_spread(center, scale):
    # The simulated structure (sites, season, effects; spread 2) mapped to an uptime of
    # 0.999 ± 0.0005 or amounts near 1e5 ± 40.
    rows = simulate(6, base=0.0, pilot_effect=2.5)
    rows["value"] = center + scale * rows["value"]
    assert rows["value"].std() < 1e-3 * abs(rows["value"].mean())
    check_adjusted_against_rows(rows)


def test_staggered_rollout_with_seasonal_trend_naive_biased_adjusted_recovers():
    true = 1.0
    rows = simulate(7, trend=0.5, prod_effect=true, pilot=None, noise=1.0, rows_per_cell=20)
    cells = to_cells(rows)
    naive = welch(
        pooled(cells[cells.phase == "production"]), pooled(cells[cells.phase == "baseline"])
    )
    fit = fit_adjusted(cells)
    prod = fit.production
    assert prod is not None and prod.method == "twfe_cluster_site"
    assert fit.pilot is None and fit.production_vs_pilot is None and fit.retention is None
    # The naive before/after calls the seasonal rise a win: biased, and confidently so.
    assert naive.diff > true + 2.0
    assert naive.diff_ci_low > true
    # The adjusted estimate recovers the true effect.
    assert prod.ci_low < true < prod.ci_high
    assert abs(prod.estimate - true) < 0.1 * abs(naive.diff - true)
    r = prepare_rows(rows)
    _, cl, _ = row_fits(r, "value ~ production + C(site) + C(period_s)")
    assert close(prod.estimate, cl.params["production"]) and close(prod.se, cl.bse["production"])


def test_big_bang_go_live_falls_back_to_site_trend_never_a_singular_coefficient():
    go_live = dict.fromkeys(range(6), 12)
    rows = simulate(8, n_sites=6, go_live=go_live, pilot=(0, 8, 11), trend=0.2, prod_effect=1.5)
    r = prepare_rows(rows)
    # The two-way design is singular: production is a combination of the period dummies.
    twfe = smf.ols(TWFE, data=r)
    assert np.linalg.matrix_rank(twfe.exog) < twfe.exog.shape[1]
    cells = to_cells(rows)
    fit = fit_adjusted(cells)
    assert fit.concurrent_periods == 0
    prod, pilot = fit.production, fit.pilot
    assert prod is not None and prod.method == "site_trend_cluster_site"
    assert "pre-launch trend would have continued" in prod.assumption
    assert fit.method == "site_trend_cluster_site"
    # The pilot still has concurrent baseline sites: two-way FE, HC1 (one site).
    assert pilot is not None and pilot.method == "twfe_hc1_cells"
    # Production against the row-level site + trend model (t = month index).
    r["t"] = (r["period"].dt.year - 2023) * 12 + r["period"].dt.month - 1
    model, cl, hc1 = row_fits(r, "value ~ pilot + production + C(site) + t")
    assert close(prod.estimate, cl.params["production"]) and close(prod.se, cl.bse["production"])
    assert prod.df == 5
    _, _, hc1_tw = row_fits(r, TWFE.replace("production + ", ""))
    assert close(pilot.estimate, hc1_tw.params["pilot"]) and close(pilot.se, hc1_tw.bse["pilot"])
    # production_vs_pilot comes from the production model, with HC1 (the pilot's single site).
    pvp = fit.production_vs_pilot
    assert pvp is not None and pvp.method == "site_trend_hc1_cells"
    v = hc1.cov_params()
    assert close(pvp.estimate, hc1.params["production"] - hc1.params["pilot"])
    var = v.loc["production", "production"] + v.loc["pilot", "pilot"]
    var -= 2 * v.loc["production", "pilot"]
    assert close(pvp.se, math.sqrt(var))
    # Every number reported is finite: nothing came from a singular design.
    for e in (prod, pilot, pvp):
        assert all(math.isfinite(x) for x in (e.estimate, e.se, e.ci_low, e.ci_high, e.p_value))


def test_production_unidentified_even_with_trend_returns_none():
    rows = pd.DataFrame(
        {
            "phase": ["baseline"] * 3 + ["production"] * 3,
            "site": "A",
            "channel": "all",
            "period": [pd.Timestamp("2024-01-01")] * 3 + [pd.Timestamp("2024-02-01")] * 3,
            "value": [1.0, 2.0, 1.5, 3.0, 2.5, 3.5],
        }
    )
    fit = fit_adjusted(to_cells(rows))
    assert fit.production is None and fit.pilot is None
    assert "cannot be separated from time" in fit.note
    assert fit.method == "none"


def test_no_dates_uses_site_effects_only():
    rows = simulate(9)
    rows["period"] = pd.NaT
    cells = to_cells(rows)
    assert cells["period"].isna().all()
    fit = fit_adjusted(cells)
    r = rows.dropna(subset=["value"]).copy()
    r["pilot"] = (r.phase == "pilot").astype(float)
    r["production"] = (r.phase == "production").astype(float)
    r["site_code"] = pd.factorize(r["site"])[0]
    _, cl, hc1 = row_fits(r.reset_index(drop=True), "value ~ pilot + production + C(site)")
    assert fit.production.method == "site_fe_cluster_site"
    assert close(fit.production.estimate, cl.params["production"])
    assert close(fit.production.se, cl.bse["production"])
    assert fit.pilot.method == "site_fe_hc1_cells"
    assert close(fit.pilot.se, hc1.bse["pilot"])
    assert fit.concurrent_periods == 0


def test_ci_alpha_widens_intervals_only():
    cells = to_cells(simulate(10))
    a = fit_adjusted(cells)
    b = fit_adjusted(cells, ci_alpha=0.05 / 4)
    assert b.production.p_value == a.production.p_value
    assert b.production.ci_low < a.production.ci_low
    assert b.production.lift_ci_high > a.production.lift_ci_high
    q = sps.t.ppf(1 - 0.05 / 8, b.production.df)
    assert close(b.production.ci_high, b.production.estimate + q * b.production.se, 1e-12)


def test_few_clusters_threshold_switches_production_to_hc1():
    cells = to_cells(simulate(11))
    fit = fit_adjusted(cells, few_clusters=6)  # production is at 5 sites
    assert fit.production.method == "twfe_hc1_cells"
    assert fit.production.n_sites == 5


def test_single_site_forces_hc1_and_weekly_periods_index_like_months():
    rows = simulate(21)
    one = fit_adjusted(to_cells(rows[rows.site == "S0"]))
    # One site: period effects absorb everything, the site trend identifies the effects, and a
    # single cluster leaves HC1 as the only covariance.
    assert one.production.method == "site_trend_hc1_cells"
    assert one.pilot.method == "site_trend_hc1_cells"
    assert "pre-launch trend" in one.note
    cells = to_cells(rows)
    month = (cells.period.dt.year - 2023) * 12 + cells.period.dt.month - 1
    weekly = cells.assign(period=pd.Timestamp("2024-01-01") + pd.to_timedelta(7 * month, unit="D"))
    a, b = fit_adjusted(cells), fit_adjusted(weekly)
    assert close(a.production.estimate, b.production.estimate, 1e-12)
    assert close(production_trend(cells).slope, production_trend(weekly).slope, 1e-12)


def test_adjusted_degenerate_inputs_never_raise():
    empty = fit_adjusted(pd.DataFrame())
    assert empty.production is None and empty.note
    no_cols = fit_adjusted(pd.DataFrame({"x": [1]}))
    assert no_cols.note
    rows = simulate(12)
    base_only = fit_adjusted(to_cells(rows[rows.phase == "baseline"]))
    assert base_only.production is None and "no pilot or production" in base_only.note
    no_base = fit_adjusted(to_cells(rows[rows.phase != "baseline"]))
    assert no_base.production is None and "no baseline" in no_base.note
    one_row = to_cells(rows).head(1)
    assert fit_adjusted(one_row).production is None


# --------------------------------------------------------------------------------------------
# Slice effects
# --------------------------------------------------------------------------------------------


def test_site_effects_match_row_level_interaction_model():
    rows = simulate(13, pilot_effect=2.5, noise=1.5)
    cells = to_cells(rows)
    slices = fit_slice_effects(cells, "site")
    r = prepare_rows(rows)
    prod_sites = sorted(r.loc[r.production == 1, "site"].unique())
    terms = []
    for s in prod_sites:
        r[f"prod_{s}"] = ((r.production == 1) & (r.site == s)).astype(float)
        terms.append(f"prod_{s}")
    model, _, hc1 = row_fits(r, f"value ~ pilot + {' + '.join(terms)} + C(site) + C(period_s)")
    assert [s.name for s in slices] == prod_sites
    v = hc1.cov_params().values
    p_rows = []
    for s in slices:
        col = f"prod_{s.name}"
        e = s.effect
        assert s.slice_type == "site" and e.method == "twfe_hc1_cells"
        assert close(e.estimate, hc1.params[col]) and close(e.se, hc1.bse[col])
        assert e.df == hc1.df_resid
        p = 2 * sps.t.sf(abs(hc1.params[col] / hc1.bse[col]), hc1.df_resid)
        assert close(e.p_value, p)
        p_rows.append(p)
        mask = (r[col] == 1).to_numpy()
        lift, lift_se, _, g = row_lift(model, hc1, col, mask, v)
        assert close(e.lift, lift) and close(e.lift_se, lift_se)
        assert close(e.treated_mean, r.loc[mask, "value"].mean(), 1e-9)
        # Retention of this site: its lift over the pilot's lift (same fit).
        lp, _, _, gp = row_lift(model, hc1, "pilot", (r.pilot == 1).to_numpy(), v)
        ref = fieller_ratio(lift, lp, g @ v @ g, gp @ v @ gp, g @ v @ gp, hc1.df_resid)
        assert s.retention is not None
        assert close(s.retention.estimate, lift / lp)
        assert close(s.retention.ci_low, ref.ci_low) and close(s.retention.ci_high, ref.ci_high)
    np.testing.assert_allclose(
        [s.p_holm for s in slices], multipletests(p_rows, method="holm")[1], rtol=RTOL
    )


def test_channel_effects_match_row_level_interaction_model():
    rows = simulate(14, channels=("web", "phone", "store"))
    slices = fit_slice_effects(to_cells(rows), "channel")
    r = prepare_rows(rows)
    for ch in ("web", "phone", "store"):
        r[f"prod_{ch}"] = ((r.production == 1) & (r.channel == ch)).astype(float)
    formula = (
        "value ~ pilot + prod_web + prod_phone + prod_store + C(site) + C(channel) + C(period_s)"
    )
    _, _, hc1 = row_fits(r, formula)
    assert sorted(s.name for s in slices) == ["phone", "store", "web"]
    for s in slices:
        col = f"prod_{s.name}"
        assert s.slice_type == "channel"
        assert close(s.effect.estimate, hc1.params[col]) and close(s.effect.se, hc1.bse[col])


def test_site_seen_only_in_production_is_reported_unidentified():
    go_live = {0: 10, 1: 10, 2: 12, 3: 0}  # S3 has no row before going live
    rows = simulate(15, n_sites=5, go_live=go_live)
    slices = {s.name: s for s in fit_slice_effects(to_cells(rows), "site")}
    assert set(slices) == {"S0", "S1", "S2", "S3"}
    s3 = slices["S3"]
    assert math.isnan(s3.effect.estimate) and math.isnan(s3.p_holm) and s3.effect.note
    assert s3.retention is None
    assert all(math.isfinite(slices[s].effect.estimate) for s in ("S0", "S1", "S2"))
    # The overall fit stays identified (S3 is absorbed by its site effect).
    assert fit_adjusted(to_cells(rows)).production is not None


def test_slice_effects_degenerate():
    assert fit_slice_effects(pd.DataFrame(), "site") == []
    rows = simulate(16)
    assert fit_slice_effects(to_cells(rows[rows.phase != "production"]), "site") == []


# --------------------------------------------------------------------------------------------
# Trend and counterfactual
# --------------------------------------------------------------------------------------------


def test_production_trend_matches_weighted_polyfit():
    rows = simulate(17, trend=0.3)
    cells = to_cells(rows)
    tr = production_trend(cells)
    prod = rows[rows.phase == "production"].dropna(subset=["value"])
    per = prod.groupby("period")["value"].agg(["mean", "count"]).reset_index()
    t = (per["period"].dt.year - 2023) * 12 + per["period"].dt.month - 1
    coef, cov = np.polyfit(t, per["mean"], 1, w=np.sqrt(per["count"]), cov=True)
    assert tr.periods == len(per)
    assert close(tr.slope, coef[0], 1e-9)
    q = sps.t.ppf(0.975, len(per) - 2)
    assert close(tr.ci_high, coef[0] + q * math.sqrt(cov[0, 0]), 1e-6)
    no_dates = cells.assign(period=pd.NaT)
    assert math.isnan(production_trend(no_dates).slope)


def simulate_series(seed: int, n_base: int, n_post: int, shift: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    months = pd.date_range("2021-01-01", periods=n_base + n_post, freq="MS")
    frames = []
    for i, m in enumerate(months):
        post = i >= n_base
        level = 50 + 0.2 * i + 0.3 * rng.standard_normal() + (shift if post else 0.0)
        values = level + 2.0 * rng.standard_normal(200)
        phase = "production" if post else "baseline"
        frames.append(
            pd.DataFrame(
                {"phase": phase, "site": "A", "channel": "all", "period": m, "value": values}
            )
        )
    return pd.concat(frames, ignore_index=True)


def test_counterfactual_recovers_known_level_shift():
    n_post, shift = 6, 3.0
    cells = to_cells(simulate_series(18, 30, n_post, shift))
    cf = forecast_counterfactual(cells)
    assert cf.method == "local_linear_trend" and cf.baseline_periods == 30
    true = n_post * shift
    assert cf.ci_low < true < cf.ci_high
    assert cf.ci_low > 0
    assert abs(cf.cumulative_effect - true) < 0.25 * true
    assert len(cf.points) == 30 + n_post
    post = cf.points[-n_post:]
    assert all(lo < pred < hi for _, _, pred, lo, hi in post)
    assert math.isclose(sum(o - p for _, o, p, _, _ in post), cf.cumulative_effect)
    assert post[0][0] == "2023-07-01"


def test_counterfactual_joint_covariance_matches_statsmodels_forecast_variance():
    rng = np.random.default_rng(19)
    y = 10 + np.cumsum(0.1 + 0.5 * rng.standard_normal(40))
    res = sm.tsa.UnobservedComponents(y, level="local linear trend").fit(disp=False)
    means, cov = _forecast_cov(res, 5)
    f = res.get_forecast(5)
    np.testing.assert_allclose(means, f.predicted_mean, rtol=1e-9)
    np.testing.assert_allclose(np.diag(cov), f.var_pred_mean, rtol=1e-9)


def test_counterfactual_joint_covariance_matches_simulated_paths():
    """The off-diagonal terms too: statsmodels' own simulations from the end of the sample."""
    rng = np.random.default_rng(19)
    y = 10 + np.cumsum(0.1 + 0.5 * rng.standard_normal(40))
    res = sm.tsa.UnobservedComponents(y, level="local linear trend").fit(disp=False)
    means, cov = _forecast_cov(res, 6)
    np.random.seed(3)  # statsmodels' simulate draws from numpy's global state
    paths = np.asarray(res.simulate(6, repetitions=40_000, anchor="end")).reshape(6, -1)
    np.testing.assert_allclose(paths.mean(axis=1), means, atol=0.02)
    np.testing.assert_allclose(np.cov(paths), cov, rtol=0.04)
    assert cov[5, 0] > 0 and cov[0, 5] == cov[5, 0]


def test_counterfactual_too_few_periods_says_so():
    cells = to_cells(simulate_series(20, 4, 3, 1.0))
    cf = forecast_counterfactual(cells)
    assert cf.baseline_periods == 4 and math.isnan(cf.cumulative_effect)
    assert "Too few periods" in cf.note and cf.points == ()
    no_dates = forecast_counterfactual(cells.assign(period=pd.NaT))
    assert math.isnan(no_dates.cumulative_effect) and no_dates.note


# --------------------------------------------------------------------------------------------
# Prepared cells: one preparation per metric, same numbers as from the DataFrame
# --------------------------------------------------------------------------------------------


def same(a, b, rtol: float = 1e-12) -> bool:
    """Recursive equality of results: floats to rtol (NaN equals NaN), everything else exact."""
    if dataclasses.is_dataclass(a):
        return type(a) is type(b) and all(
            same(getattr(a, f.name), getattr(b, f.name), rtol) for f in dataclasses.fields(a)
        )
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y, rtol) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b or close(a, b, rtol)
    return type(a) is type(b) and a == b


def all_results(cells):
    return (
        fit_adjusted(cells),
        fit_adjusted(cells, ci_alpha=0.01, few_clusters=6),
        fit_slice_effects(cells, "site"),
        fit_slice_effects(cells, "channel"),
        production_trend(cells),
        forecast_counterfactual(cells, min_periods=4),
    )


def prepared_cases() -> dict[str, pd.DataFrame]:
    rows = simulate(30, channels=("web", "phone", "store"))
    cells = to_cells(rows)
    messy = cells.copy()
    messy["phase"] = messy["phase"].astype(object)
    messy.loc[::9, "phase"] = messy.loc[::9, "phase"].str.upper() + " "
    messy.loc[::11, "phase"] = "unknown"
    messy.loc[::7, "period"] = pd.NaT
    messy["channel"] = messy["channel"].astype(object)
    messy.loc[::5, "channel"] = None
    return {
        "twfe": cells,
        "big_bang": to_cells(simulate(31, go_live=dict.fromkeys(range(7), 12))),
        "no_dates": cells.assign(period=pd.NaT),
        "one_site": cells[cells.site == "S0"],
        "shuffled": cells.sample(frac=1.0, random_state=3),
        "messy": messy,
        "weekly": cells.assign(
            period=pd.Timestamp("2024-01-01")
            + pd.to_timedelta(7 * (cells.period.dt.year * 12 + cells.period.dt.month), unit="D")
        ),
    }


@pytest.mark.parametrize("case", list(prepared_cases()))
def test_prepared_cells_cache_fits_without_accumulating_into_them(case):
    cells = prepared_cases()[case]
    prepared = prepare_cells(cells)
    assert prepare_cells(prepared) is prepared
    first = all_results(prepared)
    # Cached fits are reused, not accumulated into: a second pass gives the same results.
    assert same(all_results(prepared), first)


def _without_notes(results):
    return tuple(dataclasses.replace(r, note="") if hasattr(r, "note") else r for r in results)


def test_answers_depend_on_the_cells_not_on_their_order_or_the_phases_spelling():
    """Against inputs built independently: the same cells in another order, and cells whose
    badly spelled phases are read as the clean spelling (unknown phases and undated cells as
    if those cells had been removed by hand)."""
    cells = prepared_cases()["twfe"]
    clean = all_results(cells)
    shuffled = all_results(cells.sample(frac=1.0, random_state=3))
    assert same(shuffled[:5], clean[:5], rtol=1e-9)
    # The forecast's optimiser meets the same optimum to its own tolerance, not to the last bit
    # (about 1e-3 of a point on a series of ±20: the cells' order changes its float sums).
    a, b = shuffled[5], clean[5]
    assert (a.method, a.baseline_periods) == (b.method, b.baseline_periods)
    assert a.cumulative_effect == pytest.approx(b.cumulative_effect, rel=1e-3)
    assert [p[0] for p in a.points] == [p[0] for p in b.points]
    numbers = [[p[1:] for p in r.points] for r in (a, b)]
    assert np.allclose(*np.array(numbers, dtype=float), rtol=0, atol=1e-2, equal_nan=True)
    messy = cells.copy()
    messy["phase"] = messy["phase"].astype(object)
    messy.loc[::9, "phase"] = " " + messy.loc[::9, "phase"].str.upper() + " "
    messy.loc[::11, "phase"] = "unknown"
    messy.loc[::7, "period"] = pd.NaT
    by_hand = cells[(cells.index % 11 != 0) & (cells.index % 7 != 0)]
    assert len(by_hand) < len(cells)
    assert same(_without_notes(all_results(messy)), _without_notes(all_results(by_hand)), 1e-9)


def test_prepared_cells_are_a_read_only_snapshot():
    cells = prepared_cases()["messy"]
    prepared = prepare_cells(cells)
    notes = list(prepared.notes)
    assert any("without a known phase" in n for n in notes)
    assert any("without a date" in n for n in notes)
    fit_adjusted(prepared)
    fit_slice_effects(prepared, "site")
    assert prepared.notes == notes
    with pytest.raises(ValueError):
        prepared.frame.mean[0] = 0.0
    before = fit_adjusted(prepared)
    cells.loc[cells.index[0], "mean"] = 1e9  # the snapshot does not see later edits
    assert same(fit_adjusted(prepared), before)


def test_cell_labels_are_the_text_of_each_value():
    base = to_cells(simulate(32, n_sites=3, go_live={0: 10, 1: 10}, channels=("web",)))
    k = len(base)
    # Values that compare equal but print differently stay apart; missing values are "(none)".
    mixed = np.array([1, 1.0, "1", None, np.nan, True], dtype=object)
    cells = base.assign(site=mixed[np.arange(k) % 6])
    prepared = prepare_cells(cells)
    assert prepared.sites == ("(none)", "1", "1.0", "True")
    assert prepared.channels == ("web",)
    ints = prepare_cells(base.assign(site=np.arange(k) % 3 + 10, channel=None))
    assert ints.sites == ("10", "11", "12") and ints.channels == ("(none)",)
    no_cols = prepare_cells(base.drop(columns=["site", "channel"]))
    assert no_cols.sites == ("all",) and no_cols.channels == ("all",)
    # Phase: trimmed and lower-cased text, in string and object columns alike.
    for dtype in ("str", object):
        phase = base["phase"].map(
            {"baseline": " Baseline", "pilot": "PILOT ", "production": "production"}
        )
        phase = phase.astype(dtype)
        phase.iloc[0] = None
        p = prepare_cells(base.assign(phase=phase))
        assert len(p.frame) == k - 1
        assert p.notes[0].startswith("1 cell(s) without a known phase")


def test_unique_rows_match_pandas_duplicated():
    rng = np.random.default_rng(33)
    for _ in range(200):
        m, k = int(rng.integers(1, 200)), int(rng.integers(1, 40))
        X = (rng.random((m, k)) < rng.random()).astype(float)
        if rng.random() < 0.5:
            X[:, -1] = rng.integers(0, 6, m)
        if rng.random() < 0.2:
            X[rng.random(m) < 0.3, 0] = np.nan  # NaN rows: pandas decides
        if rng.random() < 0.2:
            X[rng.random(m) < 0.3] *= -1.0  # -0.0 and 0.0 are the same value
        expected = X[~pd.DataFrame(X).duplicated().to_numpy()]
        np.testing.assert_array_equal(_unique_rows(X), expected)


def test_unique_rows_of_wide_one_hot_designs_need_no_fallback(monkeypatch):
    # Site x week designs: intercept, treatments, one-hot site and period blocks, a trend.
    rng = np.random.default_rng(35)
    m, sites, periods = 3000, 12, 120
    X = np.zeros((m, 3 + sites + periods + 1))
    X[:, 0] = 1.0
    X[:, 1:3] = rng.random((m, 2)) < 0.2
    X[np.arange(m), 3 + rng.integers(0, sites, m)] = 1.0
    period = rng.integers(0, periods, m)
    X[np.arange(m), 3 + sites + period] = 1.0
    X[:, -1] = period
    expected = X[~pd.DataFrame(X).duplicated().to_numpy()]
    assert len(expected) < m

    def no_pandas(*args, **kwargs):
        raise AssertionError("hash collision: fell back to pandas")

    monkeypatch.setattr(pd.DataFrame, "duplicated", no_pandas)
    np.testing.assert_array_equal(_unique_rows(X), expected)


def test_critical_values_equal_scipy_distributions():
    for df in (1.0, 2.5, 7.0, 113.0, 1e6, math.inf):
        for alpha in (0.05, 0.0125, 0.2):
            expected = (
                sps.norm.ppf(1 - alpha / 2) if math.isinf(df) else sps.t.ppf(1 - alpha / 2, df)
            )
            assert _tq(alpha, df) == float(expected)
        for t in (0.0, 0.3, 2.0, 40.0):
            expected = 2 * (sps.norm.sf(t) if math.isinf(df) else sps.t.sf(t, df))
            assert _p_two_sided(-t, df) == float(expected)
    assert math.isnan(_tq(0.05, 0.0)) and math.isnan(_p_two_sided(math.nan, 3.0))


def test_cells_sharing_a_key_pool_to_the_same_fit():
    rows = simulate(34, pilot_effect=2.0)
    rows["half"] = np.random.default_rng(34).integers(0, 2, len(rows))
    split = to_cells(rows, ("phase", "site", "channel", "period", "half")).drop(columns="half")
    whole = to_cells(rows)
    assert split.duplicated(["phase", "site", "channel", "period"]).any()
    a, b = fit_adjusted(split), fit_adjusted(whole)
    assert (a.n_cells, b.n_cells) == (len(split), len(whole))
    assert same(dataclasses.replace(a, n_cells=0), dataclasses.replace(b, n_cells=0), 1e-9)
    for by in ("site", "channel"):
        assert same(fit_slice_effects(split, by), fit_slice_effects(whole, by), 1e-9)
    assert same(production_trend(split), production_trend(whole), 1e-9)


def test_model_modules_do_not_import_ui_or_database():
    import ast
    import pathlib

    engine = pathlib.Path(fit_adjusted.__code__.co_filename).parent
    modules = ("adjusted", "cells", "contrasts", "design", "effects", "fieller", "holm")
    names = set()
    for module in (*modules, "power", "quantiles", "slices", "trend", "wls"):
        tree = ast.parse((engine / f"{module}.py").read_text())
        names |= {
            a.name.split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, ast.Import)
            for a in n.names
        }
        names |= {
            n.module.split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and n.module
        }
    assert "numpy" in names
    assert not names & {"streamlit", "duckdb"}
