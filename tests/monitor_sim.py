"""Simulated years after a decision, on cells: a staggered rollout with comparison sites, site
levels, a shared season, site-week shocks and row noise, and the monitor run after each weekly
append through the same engine functions `watch` uses (analytics.engine.monitor).

The design (weekly cells, 12 sites, a year of history before the decision, a year after it):
sites 0-3 go live in week 16, sites 4-7 in week 32, sites 8-9 half way through the year after
the decision, and sites 10-11 are held out. Cost per case (lower is better) around 50 with a
site level of sd 4, a season of ±3, a site-week shock of sd 1.2 and rows of sd 15; rows per
site-week about 60-300 (Poisson). The AI cuts cost by 15%; in the "drop" years it cuts only 10%
from `CHANGE_WEEK` weeks after the decision on (the improvement falls by min_effect = 0.05).
A process metric (accuracy, about 0.85 in production, guardrail 0.8) is watched beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analytics.engine import monitor

SITES, HISTORY, AFTER = 12, 52, 52
WAVES = {0: 16, 1: 16, 2: 16, 3: 16, 4: 32, 5: 32, 6: 32, 7: 32, 8: HISTORY + 26, 9: HISTORY + 26}
EFFECT, MIN_EFFECT, CHANGE_WEEK = 0.15, 0.05, 10
ALPHA = 0.05  # the year's budget: half to the outcome, a quarter each to sites and guardrail


@dataclass(frozen=True)
class Years:
    """R simulated years of cells: layout over all periods, cost and accuracy means and s²/n."""

    layout: monitor.Layout
    cost: np.ndarray
    cost_v: np.ndarray
    acc: np.ndarray
    acc_v: np.ndarray


def simulate(years: int, seed: int, drop: bool) -> Years:
    rng = np.random.default_rng(seed)
    periods = HISTORY + AFTER
    site = np.repeat(np.arange(SITES), periods)
    period = np.tile(np.arange(periods), SITES)
    live = np.array([WAVES.get(s, 10**6) for s in site])
    treated = period >= live
    size = rng.uniform(60, 300, SITES)
    rows = rng.poisson(size[site]).clip(5)
    level = 50 + rng.normal(0, 4, (SITES, 1, years))[site, 0]
    season = 3 * np.sin(2 * np.pi * period / 52)[:, None] + 0.02 * period[:, None]
    shock = rng.normal(0, 1.2, (len(site), years))
    effect = np.where(treated, EFFECT, 0.0)[:, None] * np.ones((1, years))
    if drop:
        later = treated & (period >= HISTORY + CHANGE_WEEK)
        effect[later] = EFFECT - MIN_EFFECT
    mu = (level + season + shock) * (1 - effect)
    n = rows[:, None].astype(float)
    cost = mu + rng.normal(0, 15, mu.shape) / np.sqrt(n)
    cost_v = 15**2 * rng.chisquare(n - 1) / (n - 1) / n
    p_acc = np.where(treated, 0.85, 0.55)[:, None] + rng.normal(0, 0.01, mu.shape)
    acc = rng.binomial(rows[:, None], p_acc) / n
    acc_v = acc * (1 - acc) / n
    layout = monitor.Layout(site, period, treated, ~treated, rows, SITES, periods)
    return Years(layout, cost, cost_v, acc, acc_v)


def _upto(layout: monitor.Layout, last: int) -> tuple[monitor.Layout, np.ndarray]:
    keep = layout.period <= last
    cut = monitor.Layout(
        layout.site[keep],
        layout.period[keep],
        layout.treated[keep],
        layout.untreated[keep],
        layout.rows[keep],
        layout.n_sites,
        last + 1,
    )
    return cut, keep


def look(years: Years, week: int) -> tuple[np.ndarray, np.ndarray]:
    """The monitor after `week` weekly appends: per year, any alarm, and the outcome's alarm."""
    layout, keep = _upto(years.layout, HISTORY + week - 1)
    y, v = years.cost[keep], years.cost_v[keep]
    f = monitor.fit(layout)
    ce = monitor.cell_effects(f, y, v)
    stream = monitor.period_stream(f, ce, v, sign=-1)
    window = np.arange(HISTORY)
    ref, ref_var = monitor.window_lift(f, ce, v, -1, window)
    post = slice(HISTORY, None)
    effect = monitor.effect_alarms(
        stream.lift[post],
        stream.var[post],
        stream.mean_cov,
        ref,
        ref_var,
        min_effect=MIN_EFFECT,
        alpha=ALPHA / 2,
        horizon=AFTER,
    )
    outcome = effect.decline.crossed | (effect.below.crossed if effect.below else False)
    lift, var = monitor.site_streams(f, ce, sign=-1)
    ref_site, ref_site_var = _site_reference(lift[:HISTORY], var[:HISTORY])
    sites = monitor.site_alarms(
        lift[post],
        var[post],
        ref_site,
        ref_site_var,
        min_effect=MIN_EFFECT,
        alpha=ALPHA / 4,
        horizon=AFTER,
    )
    production = monitor.Layout(
        layout.site, layout.period, layout.treated, layout.treated, layout.rows,
        layout.n_sites, layout.n_periods,
    )  # fmt: skip
    acc, acc_v = years.acc[keep], years.acc_v[keep]
    tau2 = monitor.cell_effects(monitor.fit(production), acc, acc_v).tau2
    mean, mvar = monitor.level_stream(production, acc, acc_v, tau2)
    guard = monitor.guardrail_alarm(
        mean[post], mvar[post], limit=0.8, higher=True, alpha=ALPHA / 4, horizon=AFTER
    )
    return outcome | sites.crossed.any(axis=0) | guard.crossed, outcome


def _site_reference(lift: np.ndarray, var: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each site's decision-time lift: the mean of its identified weeks, and its variance."""
    ok = np.isfinite(lift)
    count = ok.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ref = np.where(ok, lift, 0).sum(axis=0) / count
        ref_var = np.where(ok, var, 0).sum(axis=0) / count**2
    return ref, ref_var


def run(years: int, seed: int, drop: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per year: the first week (1-based, 0 = never) with any alarm, and with the outcome's."""
    sim = simulate(years, seed, drop)
    first_any = np.zeros(years, int)
    first_outcome = np.zeros(years, int)
    for week in range(1, AFTER + 1):
        any_alarm, outcome = look(sim, week)
        first_any[(first_any == 0) & any_alarm] = week
        first_outcome[(first_outcome == 0) & outcome] = week
    return first_any, first_outcome
