"""Production against the pilot on one rollout panel (decide/rollout.py `_difference`): the
clustered path when both run at enough sites for site-clustered errors, the
heteroskedasticity-robust one (with its note) when the pilot ran at one site; each reports the
rows and sites of production and the method by name."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from rollouts import Rollout, simulate
from scipy import stats

from analytics.decide.rollout import analyse_rollout
from analytics.engine.imputation import linear_estimate
from analytics.engine.staggered import METHOD_ASSUMPTIONS

MONTHS = pd.date_range("2022-01-01", periods=24, freq="MS")


def _pilot_at(cells: pd.DataFrame, sites: list[str], first: int, last: int) -> pd.DataFrame:
    """The cells of `sites` from period `first` to `last` relabelled as the pilot."""
    chosen = cells["site"].isin(sites) & cells["period"].between(MONTHS[first], MONTHS[last])
    return cells.assign(phase=np.where(chosen, "pilot", cells["phase"]))


def test_a_pilot_at_six_sites_is_compared_with_site_clustered_errors() -> None:
    design = Rollout(starts=(12,) * 6 + (16,) * 6 + (None,) * 8, effect=lambda h, g: 5.0)
    cells = _pilot_at(
        simulate(design, np.random.default_rng(5)), [f"S{k:02d}" for k in range(6)], 8, 11
    )
    roll = analyse_rollout(cells, 0.05)
    assert roll is not None and roll.pilot is not None
    assert roll.production.placebo is None and roll.pilot.placebo is None  # enough sites
    pvp = roll.production_vs_pilot
    assert pvp is not None
    assert (pvp.method, pvp.note) == ("imputation_cluster_site", "")
    assert pvp.df == roll.production.clusters - 1 and math.isfinite(pvp.df)
    assert (pvp.n_treated, pvp.n_sites) == (roll.production.rows, roll.production.treated_sites)
    assert pvp.n_treated == (6 * 12 + 6 * 8) * 40  # production cells × 40 rows each
    # The contrast's own variance is the site-clustered one of production's τ̂ minus the
    # pilot's (engine/imputation.py's Linear, itself checked against statsmodels elsewhere).
    panel = roll.panel
    tp, _, _, _ = linear_estimate(panel, panel.treated("production"))
    tq, _, _, _ = linear_estimate(panel, panel.treated("pilot"))
    diff = tp.combine(tq)
    assert pvp.estimate == pytest.approx(diff.estimate, rel=1e-12)
    assert pvp.se == pytest.approx(math.sqrt(diff.cluster_var(panel)), rel=1e-12)
    assert pvp.se != pytest.approx(math.sqrt(diff.hc_var(panel)), rel=1e-3)
    q = stats.t.ppf(0.975, pvp.df)
    assert (pvp.ci_low, pvp.ci_high) == pytest.approx(
        (pvp.estimate - q * pvp.se, pvp.estimate + q * pvp.se)
    )
    # What production would average with the pilot's effect instead of its own.
    assert pvp.counterfactual_mean == pytest.approx(pvp.treated_mean - pvp.estimate, rel=1e-12)
    assert pvp.lift == pytest.approx(pvp.estimate / pvp.counterfactual_mean, rel=1e-12)
    assert pvp.assumption == METHOD_ASSUMPTIONS["imputation_cluster_site"]


def test_a_pilot_at_one_site_is_compared_with_robust_errors_and_says_why() -> None:
    design = Rollout(
        starts=(12,) * 6 + (None,) * 8, effect=lambda h, g: 5.0, pilot=(0, 8, 11), pilot_effect=6.0
    )
    roll = analyse_rollout(simulate(design, np.random.default_rng(6)), 0.05)
    assert roll is not None
    pvp = roll.production_vs_pilot
    assert pvp is not None
    assert pvp.method == "imputation_hc_cells" and pvp.df == math.inf
    assert pvp.note == "The pilot runs at too few sites for clustered errors."
    assert pvp.assumption == METHOD_ASSUMPTIONS["imputation_hc_cells"]
    assert pvp.counterfactual_mean == pytest.approx(pvp.treated_mean - pvp.estimate, rel=1e-12)
    assert (pvp.n_treated, pvp.n_sites) == (roll.production.rows, 6)


def test_no_rollout_evidence_without_a_baseline_or_without_production() -> None:
    design = Rollout(starts=(12,) * 6 + (None,) * 8, effect=lambda h, g: 5.0)
    cells = simulate(design, np.random.default_rng(8))
    assert analyse_rollout(cells[cells["phase"] != "baseline"], 0.05) is None
    assert analyse_rollout(cells[cells["phase"] != "production"], 0.05) is None
    assert analyse_rollout(cells, 0.05) is not None
