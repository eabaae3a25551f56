"""Randomisation inference in space for effects carried by few sites (1–4 treated sites).

Placebo assignments give the real go-live windows to sites that are untreated (baseline only)
in those windows; the real treated cells are left out (they are never untreated), the same
estimator runs on each assignment, and every estimate is studentised by its own
heteroskedasticity-robust standard error (raw estimates would favour the noisiest sites).
p = (1 + #placebos at least as extreme) / (1 + #placebos); its floor is 1 / (1 + #placebos).
The interval inverts the test: τ₀ is kept while |τ̂ − τ₀| / se does not reach the critical
placebo statistic at that level, so the interval is τ̂ ± c·se (unbounded when the floor is above
the level).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from analytics.engine.imputation import FirstStage, fit_first_stage, impute, weights_over
from analytics.engine.panel import Panel

MAX_ASSIGNMENTS = 199  # placebo assignments drawn when more are possible (seeded)


@dataclass(frozen=True, slots=True)
class PlaceboTest:
    """The real studentised estimate ranked among its placebos (|t|, largest first)."""

    t_real: float
    placebo_t: tuple[float, ...]
    assignments: int  # distinct placebo assignments possible (drawn: len(placebo_t))

    @property
    def size(self) -> int:
        """S: the real estimate and its placebos."""
        return len(self.placebo_t) + 1

    @property
    def rank(self) -> int:
        """r: 1 + placebos at least as extreme as the real estimate."""
        return 1 + sum(t >= abs(self.t_real) for t in self.placebo_t)

    @property
    def p_value(self) -> float:
        return self.rank / self.size if math.isfinite(self.t_real) else float("nan")

    @property
    def floor(self) -> float:
        """The smallest p-value this design can give."""
        return 1.0 / (self.assignments + 1)

    def critical(self, alpha: float) -> float:
        """|t| beyond which the test rejects at level alpha (inf when it never can)."""
        k = math.floor(alpha * self.size - 1 + 1e-9)
        if k < 0 or not self.placebo_t:
            return math.inf
        return self.placebo_t[min(k, len(self.placebo_t) - 1)]

    def sites_to_reach(self, alpha: float, treated: int) -> int:
        """More comparison sites needed before the floor can reach alpha (one placebo each)."""
        need = math.ceil(1 / alpha - 1 - 1e-9)
        return max(0, need - self.assignments) * max(1, treated)


def go_live_windows(panel: Panel, cells: np.ndarray) -> dict[int, np.ndarray]:
    """Each real treated site's window: the (period, channel) keys of its selected cells."""
    key = panel.period * len(panel.channels) + panel.channel
    return {int(s): np.unique(key[cells & (panel.site == s)]) for s in np.unique(panel.site[cells])}


def placebo_candidates(panel: Panel, windows: dict[int, np.ndarray]) -> dict[int, list[int]]:
    """Sites with baseline cells and no non-baseline cell in each window's periods."""
    key = panel.period * len(panel.channels) + panel.channel
    live_periods = [set() for _ in panel.sites]
    for s, p in zip(panel.site[~panel.baseline], panel.period[~panel.baseline], strict=True):
        live_periods[s].add(int(p))
    out: dict[int, list[int]] = {}
    for real, window in windows.items():
        periods = set((window // len(panel.channels)).tolist())
        ok = []
        for s in range(len(panel.sites)):
            if s in windows or live_periods[s] & periods:
                continue
            if np.isin(key[panel.baseline & (panel.site == s)], window).any():
                ok.append(s)
        out[real] = ok
    return out


def placebo_assignments(cands: dict[int, list[int]], seed: int) -> tuple[list[tuple], int]:
    """Distinct assignments (sets of (placebo site, real site whose window it takes))."""
    reals = sorted(cands)
    seen: set[frozenset] = set()
    for combo in itertools.islice(itertools.product(*(cands[r] for r in reals)), 20000):
        if len(set(combo)) == len(combo):
            seen.add(frozenset(zip(combo, reals, strict=True)))
    found = sorted(tuple(sorted(a)) for a in seen)
    if len(found) <= MAX_ASSIGNMENTS:
        return found, len(found)
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(found), size=MAX_ASSIGNMENTS, replace=False)
    return [found[i] for i in sorted(pick)], len(found)


def studentised(panel: Panel, first: FirstStage, select: np.ndarray) -> float:
    """τ̂ / its heteroskedasticity-robust standard error (NaN when nothing is covered)."""
    v = weights_over(panel, first, select)
    if not v.any():
        return float("nan")
    est = impute(panel, first, v)
    se = math.sqrt(max(est.cell_var(panel), 0.0))
    return est.estimate / se if se > 0 else float("nan")


def placebo_test(
    panel: Panel,
    select: np.ndarray,
    statistic: Callable[[Panel, FirstStage, np.ndarray], float] = studentised,
    seed: int = 0,
) -> PlaceboTest:
    """Rank the real studentised estimate of the selected treated cells among placebos."""
    first = fit_first_stage(panel)
    chosen = select & first.covered & ~first.untreated
    t_real = statistic(panel, first, chosen)
    windows = go_live_windows(panel, chosen)
    drawn, total = placebo_assignments(placebo_candidates(panel, windows), seed)
    key = panel.period * len(panel.channels) + panel.channel
    stats: list[float] = []
    for assignment in drawn:
        pseudo = np.zeros(len(panel), dtype=bool)
        for placebo, real in assignment:
            pseudo |= panel.baseline & (panel.site == placebo) & np.isin(key, windows[real])
        placebo_first = fit_first_stage(panel, panel.baseline & ~pseudo)
        t = statistic(panel, placebo_first, pseudo)
        if math.isfinite(t):
            stats.append(abs(t))
        else:
            total -= 1
    return PlaceboTest(float(t_real), tuple(sorted(stats, reverse=True)), max(total, 0))
