"""The placebo search for few live sites (engine/placebo.py) on staggered designs with only a
couple of never-treated sites, checked against a brute-force computation: statsmodels WLS on
dense site and period dummies for every assignment, the influence from a pseudo-inverse.

A new user's design: 4 staggered sites + 2 never-treated. No site is untreated over a whole
go-live window, so the clean search finds 0 assignments and every verdict was inconclusive;
the permutation of go-live windows over the 6 sites gives 6·5·4·3 − 1 = 359 (the real one
left out) for 4 distinct windows, and C(6,2)·C(4,2) − 1 = 89 for two waves of two."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import statsmodels.api as sm
from rollouts import Rollout, simulate

from analytics.core.catalog import Metric, Settings
from analytics.decide.verdict import Evidence, decide, few_sites_reason
from analytics.engine.panel import prepare_panel
from analytics.engine.placebo import (
    PlaceboTest,
    count_with_more,
    go_live_windows,
    placebo_assignments,
    placebo_candidates,
)
from analytics.engine.staggered import imputation


def _panel(starts, effect=0.0, seed=4):
    design = Rollout(starts, periods=18, effect=lambda h, g: effect, shock_sd=0.8, ar=0.3)
    return prepare_panel(simulate(design, np.random.default_rng(seed)))


def _brute_t(panel, untreated, treated, y):
    """|τ̂ / se| of the imputation estimate by dense WLS (statsmodels) and a pseudo-inverse."""
    s, p = len(panel.sites), len(panel.periods)
    z = np.zeros((len(panel), s + p))
    z[np.arange(len(panel)), panel.site] = 1
    z[np.arange(len(panel)), s + panel.period] = 1
    w = panel.w
    z = z[:, [c for c in range(s + p) if c != s]]  # the first period is the reference
    fit = sm.WLS(y[untreated], z[untreated], weights=w[untreated]).fit()
    fitted = z @ fit.params
    v = np.where(treated, w, 0.0) / w[treated].sum()
    tau = float((v * (y - fitted))[treated].sum())
    zu = z[untreated]
    gram_inv = np.linalg.pinv((zu * w[untreated, None]).T @ zu)
    a = np.zeros(len(panel))
    a[untreated] = -(v @ z) @ gram_inv @ (zu * w[untreated, None]).T
    a[treated] = v[treated]
    eps = np.where(treated, y - fitted - tau, y - fitted)
    se = math.sqrt(float(((a * eps)[untreated | treated] ** 2).sum()))
    return abs(tau) / se, tau


def test_four_staggered_and_two_never_treated_sites_get_a_placebo_test() -> None:
    panel = _panel((4, 7, 10, 13, None, None), effect=4.0)
    prod = panel.treated("production")
    # The clean search: only the two never-treated sites for four windows, no assignment.
    clean = placebo_candidates(panel, go_live_windows(panel, prod))
    assert clean == {0: [4, 5], 1: [4, 5], 2: [4, 5], 3: [4, 5]}
    assert placebo_assignments(clean, 0) == ([], 0)
    est = imputation(panel, prod)
    test = est.placebo
    assert test.search == "permutation"
    assert test.assignments == 6 * 5 * 4 * 3 - 1 and test.floor == pytest.approx(1 / 360)
    assert test.rank == 1 and test.p_value == pytest.approx(1 / 200)  # 199 drawn
    lo, hi = est.lift_ci(0.95)
    assert 0 < lo < hi
    decision = decide(
        Evidence(
            Metric("y", "Y", direction="higher"), "production", est.lift, lo, hi, 0.95,
            est.method, est.rows, n_sites=4, dataset_sites=6, placebo=test, treated_sites=4,
        ),
        Settings(),
    )  # fmt: skip
    assert decision.verdict == "scale"


def test_two_waves_placebos_equal_a_brute_force_permutation() -> None:
    panel = _panel((4, 4, 10, 10, None, None), effect=1.5, seed=7)
    prod = panel.treated("production")
    test = imputation(panel, prod).placebo
    assert test.search == "permutation"
    assert test.assignments == math.comb(6, 2) * math.comb(4, 2) - 1  # 89: all drawn
    base = panel.baseline
    pool = base | prod
    key = panel.period
    window = {0: set(key[prod & (panel.site == 0)]), 1: set(key[prod & (panel.site == 2)])}
    real_t, tau_hat = _brute_t(panel, base, prod, panel.mean)
    assert real_t == pytest.approx(abs(test.t_real), rel=1e-8)
    at_zero, at_hat = [], []
    for first in itertools.combinations(range(6), 2):
        for second in itertools.combinations([s for s in range(6) if s not in first], 2):
            if set(first) == {0, 1} and set(second) == {2, 3}:
                continue  # the real assignment
            pseudo = np.zeros(len(panel), dtype=bool)
            for sites, wid in ((first, 0), (second, 1)):
                pseudo |= pool & np.isin(panel.site, sites) & np.isin(key, list(window[wid]))
            at_zero.append(_brute_t(panel, pool & ~pseudo, pseudo, panel.mean)[0])
            shifted = panel.mean - tau_hat * prod
            at_hat.append(_brute_t(panel, pool & ~pseudo, pseudo, shifted)[0])
    assert sorted(test.null_t) == pytest.approx(sorted(at_zero), rel=1e-7)
    assert sorted(test.placebo_t) == pytest.approx(sorted(at_hat), rel=1e-7)
    rank = 1 + sum(t >= real_t for t in at_zero)
    assert test.rank == rank and test.p_value == pytest.approx(rank / 90)


def test_sites_to_add_are_counted_on_the_design_not_multiplied() -> None:
    # Two live sites with different windows, four clean comparison sites each: 4·3 = 12
    # assignments; one more never-treated site gives 5·4 = 20 ≥ 19, enough for p = 0.05.
    two = count_with_more({0: [2, 3, 4, 5], 1: [2, 3, 4, 5]}, {0: 0, 1: 1}, need=19)
    assert two == (20,)
    test = PlaceboTest(2.0, tuple(np.linspace(3, 0, 12)), assignments=12, with_more=two)
    assert test.sites_to_reach(0.05, treated=2) == 1  # the old count said (19 − 12)·2 = 14
    # The same window for both: sets of two of the four, C(4,2) = 6; C(5,2) = 10, C(6,2) = 15,
    # C(7,2) = 21 ≥ 19 with three more sites.
    same = count_with_more({0: [2, 3, 4, 5], 1: [2, 3, 4, 5]}, {0: 0, 1: 0}, need=19)
    assert same == (10, 15, 21)
    test = PlaceboTest(2.0, tuple(np.linspace(3, 0, 6)), assignments=6, with_more=same)
    assert test.sites_to_reach(0.05, treated=2) == 3
    e = Evidence(
        Metric("y", "Y"), "production", 0.3, 0.1, 0.5, 0.95, "imputation_placebo", 500,
        n_sites=2, dataset_sites=6, placebo=test, treated_sites=2,
    )  # fmt: skip
    assert "with 3 more comparison site(s) they could" in few_sites_reason(e)


def test_one_site_pilot_keeps_the_clean_search() -> None:
    starts = [None] * 8
    starts[2] = 5
    design = Rollout(tuple(starts), periods=10, phase="pilot", shock_sd=0.5)
    panel = prepare_panel(simulate(design, np.random.default_rng(1)))
    test = imputation(panel, panel.treated("pilot")).placebo
    assert (test.search, test.assignments, test.null_t) == ("clean", 7, None)
    assert test.with_more == tuple(range(8, 20))  # 7 + k: 12 more sites reach 19
    assert test.sites_to_reach(0.05, treated=1) == 12


def test_no_assignment_at_all_says_how_many_sites_would_give_one() -> None:
    # Three live sites with different windows and no comparison site: 0 assignments; with k
    # added never-treated sites k(k−1)(k−2) ordered choices: 3 → 6, 4 → 24 ≥ 19.
    counted = count_with_more({0: [], 1: [], 2: []}, {0: 0, 1: 1, 2: 2}, need=19)
    assert counted == (0, 0, 6, 24)
    test = PlaceboTest(float("nan"), (), assignments=0, with_more=counted)
    e = Evidence(
        Metric("y", "Y"), "production", 0.3, 0.1, 0.5, 0.95, "imputation_placebo", 500,
        n_sites=3, dataset_sites=3, placebo=test, treated_sites=3,
    )  # fmt: skip
    reason = few_sites_reason(e)
    assert reason.endswith(
        "With 4 more site(s) kept on the old way of working throughout, the test could reach 0.05."
    )


def test_sites_to_add_on_the_permutation_path_leave_out_the_real_assignment() -> None:
    panel = _panel((4, 4, 10, 10, None, None), effect=1.5, seed=7)
    test = imputation(panel, panel.treated("production")).placebo
    # 89 now; with k more never-treated sites C(6+k, 2)·C(4+k, 2) − 1: k = 1 gives 21·10 − 1.
    assert test.with_more == (209,)
