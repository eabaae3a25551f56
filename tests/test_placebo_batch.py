"""The placebo refits done all at once (engine/placebo_batch.py) against one dense fit per
assignment, on simulated staggered rollouts with waves and ramp-ups (tests/rollouts.py).

The reference knows nothing of the batched code: for each drawn assignment it builds dense site
and period dummies, fits the levels on that assignment's untreated cells with numpy's lstsq,
finds the covered cells as those whose dummy row lies in the untreated rows' span, takes τ̂'s
influence on each untreated cell from the pseudo-inverse of the weighted Gram matrix, and
studentises τ̂ by the robust standard error with cells as units. The permutation search's τ₀
shift is applied to the cell means themselves, not through the closed form the batch uses.
Every placebo statistic must agree to 1e-9. The site-links permutation test's orderings, also
drawn at once now, must be exactly the one-by-one draws.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from rollouts import Rollout, simulate

from analytics.engine import site_links
from analytics.engine.panel import Panel, prepare_panel
from analytics.engine.placebo import (
    ENUMERATE,
    MAX_ASSIGNMENTS,
    _distinct,
    go_live_windows,
    permutation_candidates,
    placebo_assignments,
    placebo_candidates,
    placebo_test,
    shared_plans,
    window_ids,
)
from analytics.engine.placebo_batch import stack_first_stages
from analytics.engine.staggered import imputation


def _ramp(h: int, g: int) -> float:
    return 3.0 * min(1.0, (h + 1) / 4)  # reaches its full size four periods after go-live


def _two_channels(cells: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Each simulated cell split into a web and a phone cell with their own levels and sizes."""
    rng = np.random.default_rng(seed)
    web = cells.assign(channel="web", n=cells["n"] // 4, mean=cells["mean"] + 1.5)
    phone = cells.assign(channel="phone", n=cells["n"] - cells["n"] // 4)
    phone["mean"] += rng.normal(0, 0.3, len(phone))
    return pd.concat([web, phone], ignore_index=True)


def _waves(seed: int = 3) -> Panel:
    """Three waves of two sites each, one site with a pilot before its wave, three never-live
    sites, unequal sizes; the effect ramps up."""
    design = Rollout(
        starts=(5, 5, 9, 9, 13, 13, None, None, None),
        periods=18,
        sizes=(40, 60, 30, 80, 50, 45, 70, 35, 55),
        effect=_ramp,
        shock_sd=0.7,
        ar=0.4,
        luck_sd=0.8,
        pilot=(0, 2, 4),
        pilot_effect=2.0,
    )
    return prepare_panel(_two_channels(simulate(design, np.random.default_rng(seed)), seed))


def _dummies(panel: Panel) -> np.ndarray:
    s, p = len(panel.sites), len(panel.periods)
    z = np.zeros((len(panel), s + p))
    z[np.arange(len(panel)), panel.site] = 1.0
    z[np.arange(len(panel)), s + panel.period] = 1.0
    return z


def _dense_t(panel: Panel, untreated: np.ndarray, treated: np.ndarray, y: np.ndarray) -> float:
    """τ̂ / its cell-robust se of the imputation estimate, from dense per-fit algebra."""
    z, w = _dummies(panel), panel.w
    zu, wu = z[untreated], w[untreated]
    root = np.sqrt(wu)[:, None]
    theta = np.linalg.lstsq(zu * root, y[untreated] * root[:, 0], rcond=None)[0]
    gram_inv = np.linalg.pinv((zu * wu[:, None]).T @ zu, rcond=1e-10, hermitian=True)
    span = z @ np.linalg.pinv(zu, rcond=1e-10) @ zu
    covered = np.abs(span - z).max(axis=1) < 1e-8
    on = treated & covered & ~untreated
    if not on.any():
        return math.nan
    v = np.where(on, w, 0.0) / w[on].sum()
    resid = y - z @ theta
    tau = float((v[on] * resid[on]).sum())
    lam = np.zeros(len(panel))
    lam[untreated] = -((v @ z) @ gram_inv @ (zu * wu[:, None]).T)
    lam[on] = v[on]
    eps = np.where(on, resid - tau, np.where(untreated, resid, 0.0))
    se = math.sqrt(float(((lam * eps) ** 2).sum()))
    return tau / se if se > 0 else math.nan


def _reference(panel: Panel, select: np.ndarray, seed: int = 0):
    """(search, |t| per placebo at τ₀ = τ̂ or clean, |t| at τ₀ = 0 or None), one dense fit each."""
    base = panel.baseline
    z = _dummies(panel)
    span = z @ np.linalg.pinv(z[base], rcond=1e-10) @ z[base]
    chosen = select & ~base & (np.abs(span - z).max(axis=1) < 1e-8)
    windows = go_live_windows(panel, chosen)
    ids = window_ids(windows)
    clean = placebo_candidates(panel, windows)
    pool = base | chosen
    perm = permutation_candidates(panel, windows, pool)
    real = frozenset((r, ids[r]) for r in windows)
    n_clean = len(_distinct(clean, ids, ENUMERATE))
    n_perm = len(_distinct(perm, ids, ENUMERATE) - {real})
    search = "permutation" if n_clean < min(n_perm, MAX_ASSIGNMENTS) else "clean"
    if search == "clean":
        drawn, _ = placebo_assignments(clean, seed, ids)
        pool = base
    else:
        drawn, _ = placebo_assignments(perm, seed, ids, real)
    key = panel.period * len(panel.channels) + panel.channel
    # τ̂ of the real cells: the shift the permutation search takes out.
    y0 = panel.mean
    zb, wb = z[base], panel.w[base]
    root = np.sqrt(wb)[:, None]
    theta = np.linalg.lstsq(zb * root, y0[base] * root[:, 0], rcond=None)[0]
    v = np.where(chosen, panel.w, 0.0) / panel.w[chosen].sum()
    tau_hat = float((v[chosen] * (y0 - z @ theta)[chosen]).sum())
    at_hat, at_zero = [], []
    for assignment in drawn:
        pseudo = np.zeros(len(panel), dtype=bool)
        for site, source in assignment:
            pseudo |= pool & (panel.site == site) & np.isin(key, windows[source])
        untreated = pool & ~pseudo
        if search == "clean":
            at_hat.append(abs(_dense_t(panel, untreated, pseudo, y0)))
        else:
            at_zero.append(abs(_dense_t(panel, untreated, pseudo, y0)))
            at_hat.append(abs(_dense_t(panel, untreated, pseudo, y0 - tau_hat * chosen)))
    keep = [i for i, t in enumerate(at_hat) if math.isfinite(t)]
    if search == "clean":
        return search, sorted((at_hat[i] for i in keep), reverse=True), None
    keep = [i for i in keep if math.isfinite(at_zero[i])]
    return (
        search,
        sorted((at_hat[i] for i in keep), reverse=True),
        sorted((at_zero[i] for i in keep), reverse=True),
    )


def _same(batched: tuple[float, ...], dense: list[float]) -> None:
    assert len(batched) == len(dense) > 0
    for a, b in zip(batched, dense, strict=True):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12)


def test_every_site_slices_placebos_equal_one_dense_fit_each() -> None:
    panel = _waves()
    prod = panel.treated("production")
    searches = set()
    for s in np.unique(panel.site[prod]):
        select = prod & (panel.site == s)
        test = placebo_test(panel, select)
        search, at_hat, at_zero = _reference(panel, select)
        searches.add(search)
        assert test.search == search
        _same(test.placebo_t, at_hat)
        if at_zero is not None:
            _same(test.null_t, at_zero)
    assert searches == {"clean", "permutation"}  # both searches are checked


def test_the_pilot_and_one_wave_placebos_equal_one_dense_fit_each() -> None:
    panel = _waves(seed=11)
    cases = {
        "clean": panel.treated("pilot"),  # the never-live sites are clean in its window
        "permutation": panel.treated("production") & np.isin(panel.site, [2, 3]),
    }
    for expected, select in cases.items():
        test = placebo_test(panel, select)
        search, at_hat, at_zero = _reference(panel, select)
        assert test.search == search == expected
        _same(test.placebo_t, at_hat)
        if at_zero is not None:
            _same(test.null_t, at_zero)


def test_shared_plans_give_the_same_tests_and_never_cross_designs() -> None:
    """Inside shared_plans() a second metric on the same cells reuses the first one's search
    and fits: its test equals the one made alone. A metric whose cells weigh differently (a
    missing value) gets its own plan, never the other's."""
    panel = _waves(seed=5)
    prod = panel.treated("production")
    select = prod & (panel.site == 4)
    rng = np.random.default_rng(9)
    other = _with(panel, mean=panel.mean + rng.normal(0, 2.0, len(panel)))
    lighter = _with(other, w=panel.w - (np.arange(len(panel)) == 3))
    alone = [placebo_test(p, select) for p in (panel, other, lighter)]
    with shared_plans():
        together = [placebo_test(p, select) for p in (panel, other, lighter)]
    assert together == alone
    assert alone[0].placebo_t != alone[1].placebo_t  # different outcomes, different tests


def _with(panel: Panel, **changes) -> Panel:
    fields = {f: getattr(panel, f) for f in Panel.__slots__ if f != "cache"}
    return Panel(**(fields | changes))


def test_the_few_sites_estimate_reads_the_batched_test() -> None:
    panel = _waves(seed=7)
    pilot = imputation(panel, panel.treated("pilot"))
    assert pilot.method == "imputation_placebo"
    _, at_hat, _ = _reference(panel, panel.treated("pilot"))
    _same(pilot.placebo.placebo_t, at_hat)


@pytest.mark.parametrize("n", [10, 13, 20])
def test_the_site_links_orderings_are_successive_seeded_permutations(n: int) -> None:
    """The permutation test's random orderings, drawn in one call, are exactly the orderings
    RESAMPLES successive rng.permutation(n) calls give from the same seed."""
    rng = np.random.default_rng(site_links.SEED)
    one_by_one = np.array([rng.permutation(n) for _ in range(site_links.RESAMPLES)])
    assert np.array_equal(site_links._seeded_orderings(n), one_by_one)


def test_stacked_first_stages_on_broken_designs_equal_dense_fits() -> None:
    """Sparse untreated sets (sites without any, designs in several linked pieces): which cells
    are covered, and their fitted levels, against a dense least-squares fit of each set."""
    panel = _waves(seed=13)
    rng = np.random.default_rng(2)
    untreated = rng.random((40, len(panel))) < np.linspace(0.01, 0.3, 40)[:, None]
    stages = stack_first_stages(panel, untreated)
    w_mean = np.where(untreated, panel.w * panel.mean, 0.0)
    fitted = stages.at_cells(stages.solve(stages.node_sums(w_mean)))
    z = _dummies(panel)
    pieces = 0
    for a, u in enumerate(untreated):
        span = z @ np.linalg.pinv(z[u], rcond=1e-10) @ z[u] if u.any() else np.zeros_like(z)
        covered = np.abs(span - z).max(axis=1) < 1e-8
        assert np.array_equal(stages.covered[a], covered)
        root = np.sqrt(panel.w[u])[:, None]
        theta = np.linalg.lstsq(z[u] * root, panel.mean[u] * root[:, 0], rcond=None)[0]
        dense = z @ theta
        assert fitted[a][covered] == pytest.approx(dense[covered], rel=1e-9, abs=1e-9)
        pieces += not covered.all()
    assert pieces > 10  # most sets leave cells uncovered
