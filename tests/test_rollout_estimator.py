"""The staggered-rollout estimators against published numbers and row-level fits.

Provenance of the expected numbers:
- did2s (Gardner, Butts): `did2s(df_het, yname = "dep_var", first_stage = ~ 0 | state + year,
  second_stage = ~ i(treat, ref = FALSE), treatment = "treat", cluster_var = "state")` gives
  2.152 (se 0.0476), as printed in the did2s README; here from state × year × phase cells.
- R did (Callaway & Sant'Anna) on mpdta, `att_gt(yname = "lemp", tname = "year", idname =
  "countyreal", gname = "first.treat", est_method = "dr")`, control_group "nevertreated" and
  "notyettreated", and `aggte(type = "simple")`: tests/fixtures/published/mpdta_did_*.csv, as
  kept in the csdid port's test references.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from test_analysis import staggered_rows, store_rows

from analytics.core.catalog import Metric, Settings
from analytics.decide.analysis import analyse
from analytics.decide.verdict import Evidence, decide
from analytics.engine import group_time as cs
from analytics.engine.event_study import event_study
from analytics.engine.imputation import fit_first_stage, impute, weights_over
from analytics.engine.panel import prepare_panel
from analytics.engine.placebo import PlaceboTest
from analytics.engine.sensitivity import breakdown_shift, rule_class
from analytics.engine.staggered import imputation

PUBLISHED = Path(__file__).parent / "fixtures" / "published"


def _mpdta_panel():
    d = pd.read_csv(PUBLISHED / "mpdta.csv")
    live = (d["first.treat"] > 0) & (d["year"] >= d["first.treat"])
    cells = pd.DataFrame(
        {
            "phase": np.where(live, "production", "baseline"),
            "site": d["countyreal"].astype(str),
            "period": pd.to_datetime(d["year"].astype(str) + "-01-01"),
            "n": 1,
            "mean": d["lemp"],
            "m2": 0.0,
        }
    )
    return prepare_panel(cells)


def test_did2s_readme_example_from_state_year_phase_cells() -> None:
    cells = pd.read_csv(PUBLISHED / "df_het_cells.csv.gz")
    cells["period"] = pd.to_datetime(cells["year"].astype(str) + "-01-01")
    cells["site"] = cells["state"].astype(str)
    panel = prepare_panel(cells)
    est = imputation(panel, panel.treated("production"))
    assert est.estimate == pytest.approx(2.152, abs=5e-4)  # published: 2.152
    assert est.estimate == pytest.approx(2.1522146, abs=1e-6)
    assert est.se == pytest.approx(0.0476, abs=5e-5)  # published: 0.0476, no G/(G-1) factor
    assert est.method == "imputation_cluster_site" and est.clusters == 40
    assert est.coverage == pytest.approx(1.0)  # never-treated states: every treated cell judged
    psi = np.array([v for _, v in est.influence])
    assert float(np.sqrt((psi**2).sum())) == pytest.approx(est.se, rel=1e-12)


@pytest.mark.parametrize(
    ("comparison", "scenario", "att_2004", "simple"),
    [
        ("never", "mpdta_nev_dr", -0.0105032, -0.0399513),
        ("not_yet", "mpdta_nyt_dr", -0.0193724, -0.0397636),
    ],
)
def test_group_time_effects_equal_r_did_on_mpdta(comparison, scenario, att_2004, simple) -> None:
    panel = _mpdta_panel()
    effects = cs.group_time(panel, panel.treated("production"), comparison)
    first = {(e.g, e.t): e for e in effects}
    assert first[(1, 1)].att == pytest.approx(att_2004, abs=5e-8)  # g = t = 2004 (step 1)
    reference = pd.read_csv(PUBLISHED / "mpdta_did_attgt.csv")
    reference = reference[reference["scenario"] == scenario]
    assert len(reference) == len(effects) == 12
    for _, row in reference.iterrows():
        e = first[(int(row["group"]) - 2003, int(row["t"]) - 2003)]
        assert e.att == pytest.approx(row["att"], abs=1e-10)
        assert float(np.sqrt((e.psi**2).sum())) == pytest.approx(row["se"], rel=1e-6)
    assert cs.aggregate(effects)[0] == pytest.approx(simple, abs=5e-8)


def test_pre_test_equals_r_did_wald() -> None:
    panel = _mpdta_panel()
    w, restrictions, p = cs.pre_test(cs.group_time(panel, panel.treated("production"), "never"))
    assert restrictions == 5
    assert w == pytest.approx(7.79123662720035, rel=1e-8)  # published: W = 7.79
    assert p == pytest.approx(0.16812, abs=5e-6)  # published: p = 0.168


def _two_stage_rows(rows: pd.DataFrame, metric: str) -> tuple[float, float, float]:
    """Row-level two-stage fit with statsmodels: site + month levels by OLS on the baseline rows,
    the production rows' counterfactuals predicted, their mean gap; and did2s's cluster se and
    the row-level robust (HC0) se of that gap, from the rows' own weights."""
    frame = rows.assign(period=pd.to_datetime(rows["date"]).dt.to_period("M").astype(str))
    frame = frame[frame["phase"] != "pilot"].reset_index(drop=True)
    base = frame[frame["phase"] == "baseline"]
    first = smf.ols(f"{metric} ~ C(site) + C(period)", base).fit()
    treated = frame[frame["phase"] == "production"]
    gap = treated[metric] - first.predict(treated)
    tau = float(gap.mean())

    # Each row's weight in τ̂: 1/N_T for production rows, −z_iᵀ(Z₀ᵀZ₀)⁻¹ z̄_T for baseline rows.
    def dummies(part: pd.DataFrame) -> np.ndarray:
        columns = [np.ones(len(part))]
        for key in ("site", "period"):
            columns += [(part[key] == v).to_numpy(float) for v in sorted(base[key].unique())[1:]]
        return np.column_stack(columns)

    z0, z1 = dummies(base), dummies(treated)
    pull = np.linalg.solve(z0.T @ z0, z1.mean(axis=0))
    weight = pd.Series(0.0, index=frame.index)
    weight[treated.index] = 1 / len(treated)
    weight[base.index] = -(z0 @ pull)
    resid = pd.Series(0.0, index=frame.index)
    resid[base.index] = first.resid.to_numpy()
    resid[treated.index] = (gap - tau).to_numpy()
    score = weight * resid
    cluster = float(np.sqrt((score.groupby(frame["site"]).sum() ** 2).sum()))
    return tau, cluster, float(np.sqrt((score**2).sum()))


@pytest.mark.parametrize("metric", ["cost", "saved"])
def test_imputation_equals_a_row_level_two_stage_fit(metric: str) -> None:
    rows = staggered_rows()
    tau, cluster_se, hc_se = _two_stage_rows(rows, metric)
    cells = (
        rows.assign(period=pd.to_datetime(rows["date"]).dt.to_period("M").dt.to_timestamp())
        .groupby(["phase", "site", "channel", "period"])[metric]
        .agg(n="count", mean="mean", var="var")
        .reset_index()
    )
    cells["m2"] = cells["var"].fillna(0) * (cells["n"] - 1)
    panel = prepare_panel(cells)
    est = imputation(panel, panel.treated("production"))
    assert est.estimate == pytest.approx(tau, abs=1e-6)
    assert est.se == pytest.approx(cluster_se, rel=1e-6)
    first = fit_first_stage(panel)
    lin = impute(panel, first, weights_over(panel, first, panel.treated("production")))
    assert np.sqrt(lin.hc_var(panel)) == pytest.approx(hc_se, rel=1e-6)  # exact on cells


def test_a_site_that_opened_with_the_ai_changes_nothing() -> None:
    rows = staggered_rows()
    rng = np.random.default_rng(9)
    extra = rows[rows["site"] == "S1"].copy()
    extra = extra[extra["phase"] == "production"].assign(site="S10")
    extra["cost"] = extra["cost"] + rng.normal(0, 30, len(extra))  # nothing to compare it with

    def estimate(frame: pd.DataFrame):
        cells = (
            frame.assign(period=pd.to_datetime(frame["date"]).dt.to_period("M").dt.to_timestamp())
            .groupby(["phase", "site", "channel", "period"])["cost"]
            .agg(n="count", mean="mean")
            .reset_index()
            .assign(m2=0.0)
        )
        panel = prepare_panel(cells)
        return imputation(panel, panel.treated("production"))

    before, after = estimate(rows), estimate(pd.concat([rows, extra], ignore_index=True))
    assert after.estimate == pytest.approx(before.estimate, abs=1e-10)
    assert after.se == pytest.approx(before.se, abs=1e-10)
    assert (
        (after.clusters, after.treated_sites)
        == (before.clusters, before.treated_sites)
        == (
            10,
            8,
        )
    )
    assert after.coverage == pytest.approx(before.rows / (before.rows + len(extra)))


def _cells(table: dict[tuple[str, int], tuple[str, float]]) -> pd.DataFrame:
    rows = [
        {
            "phase": phase,
            "site": site,
            "period": pd.Timestamp(2024, 1 + t, 1),
            "n": 10,
            "mean": mean,
            "m2": 9.0,
        }  # fmt: skip
        for (site, t), (phase, mean) in table.items()
    ]
    return pd.DataFrame(rows)


def test_untreated_means_baseline_only_and_uncovered_cells_are_not_judged() -> None:
    """Noise-free: A pilots in period 1, goes live in 3; B goes live in 2; C never. Levels
    site + period exactly, effect +5 in production, +2 in the pilot. Period 4 has no site on
    the baseline (C is missing there), so its production cells cannot be judged."""
    site = {"A": 0.0, "B": 10.0, "C": 20.0}
    period = [0.0, 1.0, 3.0, 2.0, 7.0]
    phases = {
        "A": ["baseline", "pilot", "baseline", "production", "production"],
        "B": ["baseline", "baseline", "production", "production", "production"],
        "C": ["baseline"] * 4,
    }
    table = {}
    for s, seq in phases.items():
        for t, phase in enumerate(seq):
            bump = {"production": 5.0, "pilot": 2.0}.get(phase, 0.0)
            table[(s, t)] = (phase, site[s] + period[t] + bump)
    panel = prepare_panel(_cells(table))
    prod = imputation(panel, panel.treated("production"))
    assert prod.estimate == pytest.approx(5.0, abs=1e-12)  # counting the pilot as untreated: not 5
    assert prod.coverage == pytest.approx(3 / 5)  # A3, B2, B3 judged; A4, B4 not
    pilot = imputation(panel, panel.treated("pilot"))
    assert pilot.estimate == pytest.approx(2.0, abs=1e-12)


def test_event_study_recovers_a_ramp_up_exactly() -> None:
    """Noise-free ramp-up: effect 1 + h at h periods since go-live; C never goes live."""
    table = {}
    starts = {"A": 2, "B": 3, "C": None}
    for s, g in starts.items():
        for t in range(6):
            live = g is not None and t >= g
            effect = 1.0 + (t - g) if live else 0.0
            table[(s, t)] = ("production" if live else "baseline", 3.0 * ord(s) + t + effect)
    panel = prepare_panel(_cells(table))
    prod = imputation(panel, panel.treated("production"))
    study = event_study(panel, panel.treated("production"), prod)
    assert [(h.horizon, round(h.estimate, 10), h.sites) for h in study.horizons] == [
        (0, 1.0, 2),
        (1, 2.0, 2),
        (2, 3.0, 2),
        (3, 4.0, 1),
    ]
    assert study.pretrend.leads == 3  # B has three baseline periods before go-live


def test_placebo_p_value_rank_floor_and_inverted_interval() -> None:
    test = PlaceboTest(t_real=2.5, placebo_t=(3.0, 2.5, 1.0, 0.5), assignments=4)
    assert (test.rank, test.size, test.p_value, test.floor) == (3, 5, 0.6, 0.2)
    many = PlaceboTest(2.0, tuple(np.linspace(3, 0.1, 39)), assignments=39)
    # S = 40: p = (1 + #at least as extreme) / 40 ≤ 0.05 once |t| passes the second largest.
    grid = np.linspace(3, 0.1, 39)
    assert many.critical(0.05) == pytest.approx(grid[1])
    assert many.critical(0.10) == pytest.approx(grid[3])
    between = PlaceboTest((grid[1] + grid[0]) / 2, tuple(grid), assignments=39)
    assert between.p_value == pytest.approx(0.05)
    assert test.critical(0.05) == float("inf")  # the floor 0.2 never reaches 0.05
    assert many.sites_to_reach(0.01, treated=1) == 60  # 99 placebos for p = 0.01


def test_one_live_site_gets_the_placebo_path_with_its_rank() -> None:
    rows = staggered_rows()
    cells = (
        rows.assign(period=pd.to_datetime(rows["date"]).dt.to_period("M").dt.to_timestamp())
        .groupby(["phase", "site", "period"])["cost"]
        .agg(n="count", mean="mean", var="var")
        .reset_index()
    )
    cells["m2"] = cells["var"].fillna(0) * (cells["n"] - 1)
    panel = prepare_panel(cells)
    pilot = imputation(panel, panel.treated("pilot"))
    assert pilot.method == "imputation_placebo" and pilot.treated_sites == 1
    # S0 pilots in months 3-5: every other site is on the baseline then.
    assert pilot.placebo.assignments == 9 and pilot.placebo.size == 10
    lo, hi = pilot.ci(0.95)
    assert (lo, hi) == (float("-inf"), float("inf"))  # floor 0.1 > 0.05: no finite interval
    lo, hi = pilot.ci(0.80)
    crit = pilot.placebo.critical(0.20)
    assert hi - lo == pytest.approx(2 * crit * pilot.se)


def test_the_verdict_says_when_few_sites_cannot_decide() -> None:
    metric = Metric("cost", "Cost", direction="lower")
    test = PlaceboTest(t_real=-9.0, placebo_t=(2.0, 1.0, 0.5), assignments=3)
    evidence = Evidence(
        metric, "production", -0.2, -0.3, -0.1, 0.95, "imputation_placebo", 500, n_sites=2,
        dataset_sites=5, placebo=test, treated_sites=1,
    )  # fmt: skip
    decision = decide(evidence, Settings(min_production_sites=1))
    assert decision.verdict == "need_more_data"
    assert decision.reasons[0].startswith("Rank 1 of 4:")
    assert "16 more comparison site(s)" in decision.reasons[0]
    enough = PlaceboTest(t_real=-9.0, placebo_t=tuple(np.linspace(2, 0, 19)), assignments=19)
    assert decide(replace(evidence, placebo=enough), Settings(min_production_sites=1)).verdict == (
        "scale"
    )


@pytest.mark.parametrize(
    ("good", "shift", "to"),
    [
        ((0.20, 0.10, 0.30), 0.10, "need_more_data"),  # lo reaches 0 first
        ((0.08, 0.07, 0.09), 0.03, "need_more_data"),  # the estimate falls to δ = 5%
        ((0.01, -0.02, 0.04), 0.01, "need_more_data"),  # hi rises to δ
    ],
)
def test_breakdown_is_the_smallest_shift_that_flips_rules_2_and_4(good, shift, to) -> None:
    s, flips = breakdown_shift(*good, 0.05)
    assert s == pytest.approx(shift) and flips == to
    est, lo, hi = good
    before = rule_class(est, lo, hi, 0.05)
    assert rule_class(est - 0.999 * s, lo - 0.999 * s, hi - 0.999 * s, 0.05) == before
    a = rule_class(est - 1.001 * s, lo - 1.001 * s, hi - 1.001 * s, 0.05)
    b = rule_class(est + 1.001 * s, lo + 1.001 * s, hi + 1.001 * s, 0.05)
    assert to in (a, b)


def test_weighted_cells_equal_a_row_level_weighted_two_stage_fit() -> None:
    """Rows that are groups (a weight column, as real exports have): cells carry W = Σw, the
    weighted mean and Σw², Σw²(y−ȳ), Σw²(y−ȳ)². The estimate equals row-level WLS (statsmodels,
    weights w) with the counterfactual gaps averaged by w; the cluster and robust standard errors
    equal the row-level sums of the rows' own weights times residuals."""
    rows = staggered_rows(seed=11)
    rng = np.random.default_rng(4)
    rows = rows[rows["phase"] != "pilot"].reset_index(drop=True)
    rows["w"] = rng.integers(1, 20, len(rows)).astype(float)
    rows["period"] = pd.to_datetime(rows["date"]).dt.to_period("M").dt.to_timestamp()
    base, treated = rows[rows["phase"] == "baseline"], rows[rows["phase"] == "production"]
    first = smf.wls("cost ~ C(site) + C(period)", base, weights=base["w"]).fit()
    gap = treated["cost"] - first.predict(treated)
    tau = float((treated["w"] * gap).sum() / treated["w"].sum())

    def dummies(part: pd.DataFrame) -> np.ndarray:
        columns = [np.ones(len(part))]
        for key in ("site", "period"):
            columns += [(part[key] == v).to_numpy(float) for v in sorted(base[key].unique())[1:]]
        return np.column_stack(columns)

    z0, z1 = dummies(base), dummies(treated)
    w0, w1 = base["w"].to_numpy(), treated["w"].to_numpy()
    pull = np.linalg.solve((z0 * w0[:, None]).T @ z0, (w1 / w1.sum()) @ z1)
    score = pd.Series(0.0, index=rows.index)
    score[base.index] = -(z0 @ pull) * w0 * first.resid.to_numpy()
    score[treated.index] = w1 / w1.sum() * (gap - tau).to_numpy()

    def cell(g: pd.DataFrame) -> pd.Series:
        w, y = g["w"].to_numpy(), g["cost"].to_numpy()
        mean = float((w * y).sum() / w.sum())
        d = y - mean
        return pd.Series(
            {
                "n": len(g),
                "w": w.sum(),
                "mean": mean,
                "m2": float((d * d).sum()),
                "s2": float((w * w).sum()),
                "q1": float((w * w * d).sum()),
                "q2": float((w * w * d * d).sum()),
            }  # fmt: skip
        )

    cells = rows.groupby(["phase", "site", "channel", "period"]).apply(cell).reset_index()
    panel = prepare_panel(cells)
    first_stage = fit_first_stage(panel)
    lin = impute(panel, first_stage, weights_over(panel, first_stage, panel.treated("production")))
    assert lin.estimate == pytest.approx(tau, abs=1e-9)
    cluster = float(np.sqrt((score.groupby(rows["site"]).sum() ** 2).sum()))
    assert np.sqrt(lin.cluster_var(panel)) == pytest.approx(cluster, rel=1e-9)
    assert np.sqrt(lin.hc_var(panel)) == pytest.approx(float(np.sqrt((score**2).sum())), rel=1e-9)


def test_a_big_bang_go_live_has_nothing_to_judge_and_says_why() -> None:
    """Every site live from the same month: no live row has a site still on the baseline beside
    it, so no estimate is reported (the two-way model's site-trend fallback extrapolated)."""
    rows = staggered_rows()
    month = pd.to_datetime(rows["date"]).dt.month
    rows["phase"] = np.where(month >= 7, "production", "baseline")
    store, catalog = store_rows(rows)
    results = analyse(store, 1, catalog)
    cost = results.verdict("cost")
    assert cost.verdict == "need_more_data"
    assert "No live row has a comparison" in " ".join(cost.reasons)
    assert results.rollout("cost").coverage["share"] == 0.0


def test_the_pre_trend_leads_equal_a_statsmodels_fit_on_the_baseline_cells() -> None:
    """The leads test: WLS of the baseline cell means on site, period and lead indicators
    (weights n) in statsmodels, cluster-robust by site without small-sample factor; its Wald
    statistic over K on F(K, G − 1) is the event study's pre-trend test."""
    from scipy import stats as sps

    from analytics.engine.event_study import MAX_LEADS

    rows = staggered_rows()
    cells = (
        rows.assign(period=pd.to_datetime(rows["date"]).dt.to_period("M").dt.to_timestamp())
        .groupby(["phase", "site", "period"])["cost"]
        .agg(n="count", mean="mean", var="var")
        .reset_index()
    )
    cells["m2"] = cells["var"].fillna(0) * (cells["n"] - 1)
    panel = prepare_panel(cells)
    prod = imputation(panel, panel.treated("production"))
    test = event_study(panel, panel.treated("production"), prod).pretrend
    # Go-lives: S0 at its pilot (month 3), S1-S3 at month 7, S4-S7 at month 10; S8, S9 never.
    go_live = {"S0": 2, **dict.fromkeys(["S1", "S2", "S3"], 6)}
    go_live |= dict.fromkeys(["S4", "S5", "S6", "S7"], 9)
    base = cells[cells["phase"] == "baseline"].reset_index(drop=True)
    month = base["period"].dt.month - 1
    rel = month - base["site"].map(go_live)
    leads = min(MAX_LEADS, int(-rel.min()))
    assert test.leads == leads == 4
    for k in range(1, leads + 1):
        base[f"lead{k}"] = (rel == -k).astype(float)
    formula = "mean ~ C(site) + C(period) + " + " + ".join(f"lead{k}" for k in range(1, 5))
    fit = smf.wls(formula, base, weights=base["n"]).fit(
        cov_type="cluster",
        cov_kwds={"groups": base["site"].astype("category").cat.codes, "use_correction": False},
    )
    names = [f"lead{k}" for k in range(1, 5)]
    gamma = fit.params[names].to_numpy()
    wald = float(gamma @ np.linalg.solve(fit.cov_params().loc[names, names].to_numpy(), gamma))
    assert test.statistic == pytest.approx(wald / 4, rel=1e-6)
    assert test.p_value == pytest.approx(sps.f.sf(wald / 4, 4, 9), rel=1e-6)
