"""Randomisation inference in space for effects carried by few sites (1–4 treated sites).

Two searches for placebo assignments, both fixed by the design alone (never by the outcomes):

- **clean** (the default): the real go-live windows go to sites that are untreated (baseline
  only) in those windows; the real treated cells are left out (they are never untreated). Every
  placebo estimate is then free of the real effect, whatever its shape.
- **permutation** (when the clean search finds fewer assignments than this one and fewer than
  ``MAX_ASSIGNMENTS``: staggered sites with only a couple of never-treated sites, where no site
  is untreated over a whole window): the go-live windows are permuted over every site with
  baseline rows, the real treated sites included (Fisher's test of a constant shift τ₀). A
  placebo's cells are the site's baseline and real treated cells in the window; under τ₀ the
  real treated cells count τ₀ less. Both the estimate and its cell scores are linear in the
  outcomes, so each placebo's studentised statistic is a closed form in τ₀: ``null_t`` ranks the
  real estimate at τ₀ = 0 (the p-value), ``placebo_t`` holds the statistics at τ₀ = τ̂ (the
  real effect taken out), whose quantile sets the interval.

Every estimate is studentised by its own heteroskedasticity-robust standard error (raw
estimates would favour the noisiest sites). p = (1 + #placebos at least as extreme) / (1 +
#placebos); its floor is 1 / (1 + #assignments). Assignments that give the same placebo cells
(two real sites with the same window swapped) count once. The interval inverts the test: τ̂ ±
c·se, c the critical placebo statistic at that level (unbounded when the floor is above it).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from analytics.engine.imputation import FirstStage, fit_first_stage, impute, weights_over
from analytics.engine.panel import Panel

MAX_ASSIGNMENTS = 199  # placebo assignments drawn when more are possible (seeded)
ENUMERATE = 20000  # assignments enumerated before the search samples instead
MORE_SITES = 12  # how many added comparison sites the count of "sites to add" looks at
Search = tuple[dict[int, list[int]], dict[int, int]]  # candidates and window ids per real site


@dataclass(frozen=True, slots=True)
class PlaceboTest:
    """The real studentised estimate ranked among its placebos (|t|, largest first)."""

    t_real: float
    placebo_t: tuple[float, ...]
    assignments: int  # distinct placebo assignments possible (drawn: len(placebo_t))
    null_t: tuple[float, ...] | None = None  # |t| at τ₀ = 0 when it differs (permutation)
    search: str = "clean"  # "clean" or "permutation" (see the module docstring)
    with_more: tuple[int, ...] = ()  # assignments with 1, 2, ... more never-treated sites

    @property
    def _ranked(self) -> tuple[float, ...]:
        return self.placebo_t if self.null_t is None else self.null_t

    @property
    def size(self) -> int:
        """S: the real estimate and its placebos."""
        return len(self._ranked) + 1

    @property
    def rank(self) -> int:
        """r: 1 + placebos at least as extreme as the real estimate."""
        return 1 + sum(t >= abs(self.t_real) for t in self._ranked)

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
        """More never-treated comparison sites needed before the floor can reach alpha: counted
        on this design's own assignments when the search recorded them (one added site adds an
        assignment per way of placing it), else one placebo per site and live site."""
        need = math.ceil(1 / alpha - 1 - 1e-9)
        if self.assignments >= need:
            return 0
        for k, count in enumerate(self.with_more, start=1):
            if count >= need:
                return k
        if self.with_more:
            return len(self.with_more) + 1  # beyond what was counted: at least this many
        return max(0, need - self.assignments) * max(1, treated)


def go_live_windows(panel: Panel, cells: np.ndarray) -> dict[int, np.ndarray]:
    """Each real treated site's window: the (period, channel) keys of its selected cells."""
    key = panel.period * len(panel.channels) + panel.channel
    return {int(s): np.unique(key[cells & (panel.site == s)]) for s in np.unique(panel.site[cells])}


def window_ids(windows: dict[int, np.ndarray]) -> dict[int, int]:
    """One id per distinct window: real sites with the same window are interchangeable."""
    ids: dict[bytes, int] = {}
    return {r: ids.setdefault(w.tobytes(), len(ids)) for r, w in windows.items()}


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


def permutation_candidates(
    panel: Panel, windows: dict[int, np.ndarray], pool: np.ndarray
) -> dict[int, list[int]]:
    """Every site with baseline rows and cells of the pool in the window (real sites included)."""
    key = panel.period * len(panel.channels) + panel.channel
    based = panel.sites_with_baseline()
    return {
        real: [s for s in range(len(panel.sites)) if based[s]
               and np.isin(key[pool & (panel.site == s)], window).any()]
        for real, window in windows.items()
    }  # fmt: skip


def _distinct(cands: dict[int, list[int]], ids: dict[int, int], limit: int) -> set[frozenset]:
    """Distinct assignments (placebo site, window id), at most ``limit`` of the product."""
    reals = sorted(cands)
    seen: set[frozenset] = set()
    for combo in itertools.islice(itertools.product(*(cands[r] for r in reals)), limit):
        if len(set(combo)) == len(combo):
            seen.add(frozenset((p, ids[r]) for p, r in zip(combo, reals, strict=True)))
    return seen


def placebo_assignments(
    cands: dict[int, list[int]],
    seed: int,
    ids: dict[int, int] | None = None,
    exclude: frozenset | None = None,
) -> tuple[list[tuple], int]:
    """Distinct assignments (sets of (placebo site, real site whose window it takes)); real
    sites with the same window (``ids``) are interchangeable, and ``exclude`` (the real
    assignment, in the permutation search) is left out."""  # fmt: skip
    ids = ids or {r: r for r in cands}
    first = {i: r for r, i in sorted(ids.items(), reverse=True)}  # a real site per window id
    seen = _distinct(cands, ids, ENUMERATE)
    seen.discard(exclude)
    found = sorted(tuple(sorted((p, first[i]) for p, i in a)) for a in seen)
    # Two real sites with the same window: the placebo sites take it, whichever real site is
    # named; each placebo then takes the window of a distinct real site of that id.
    found = [_respread(a, ids) for a in found]
    if len(found) <= MAX_ASSIGNMENTS:
        return found, len(found)
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(found), size=MAX_ASSIGNMENTS, replace=False)
    return [found[i] for i in sorted(pick)], len(found)


def _respread(assignment: tuple, ids: dict[int, int]) -> tuple:
    """Name a distinct real site for each placebo of a shared window (the windows are equal)."""
    by_id: dict[int, list[int]] = {}
    for r, i in sorted(ids.items()):
        by_id.setdefault(i, []).append(r)
    used: dict[int, int] = {}
    out = []
    for p, r in assignment:
        i = ids[r]
        out.append((p, by_id[i][used.get(i, 0)]))
        used[i] = used.get(i, 0) + 1
    return tuple(sorted(out))


def count_with_more(cands: dict[int, list[int]], ids: dict[int, int], need: int) -> tuple:
    """Distinct assignments with k = 1, 2, ... added never-treated sites (candidates for every
    window), up to MORE_SITES or until ``need`` is reached."""
    out: list[int] = []
    extra_base = 1 + max((s for c in cands.values() for s in c), default=0) + 10**6
    for k in range(1, MORE_SITES + 1):
        added = list(range(extra_base, extra_base + k))
        more = {r: c + added for r, c in cands.items()}
        count = len(_distinct(more, ids, ENUMERATE))
        out.append(count)
        if count >= need:
            break
    return tuple(out)


def studentised(panel: Panel, first: FirstStage, select: np.ndarray) -> float:
    """τ̂ / its heteroskedasticity-robust standard error (NaN when nothing is covered)."""
    v = weights_over(panel, first, select)
    if not v.any():
        return float("nan")
    est = impute(panel, first, v)
    se = math.sqrt(max(est.cell_var(panel), 0.0))
    return est.estimate / se if se > 0 else float("nan")


def _pseudo(panel: Panel, assignment: tuple, windows: dict, pool: np.ndarray) -> np.ndarray:
    key = panel.period * len(panel.channels) + panel.channel
    out = np.zeros(len(panel), dtype=bool)
    for placebo, real in assignment:
        out |= pool & (panel.site == placebo) & np.isin(key, windows[real])
    return out


def _shifted_t(panel: Panel, dummy: Panel, pool: np.ndarray, pseudo: np.ndarray, taus):
    """|t| of one permutation placebo with the real treated cells shifted by each τ₀."""
    untreated = pool & ~pseudo
    fy, fd = fit_first_stage(panel, untreated), fit_first_stage(dummy, untreated)
    v = weights_over(panel, fy, pseudo)
    if not v.any():
        return [float("nan")] * len(taus)
    ly, ld = impute(panel, fy, v), impute(dummy, fd, v)
    out = []
    for tau in taus:
        wb = panel.w * (ly.b - tau * ld.b)
        se = math.sqrt(float((wb**2).sum()))
        out.append(abs(ly.estimate - tau * ld.estimate) / se if se > 0 else float("nan"))
    return out


def _assignment_of(windows: dict[int, np.ndarray], ids: dict[int, int]) -> frozenset:
    return frozenset((r, ids[r]) for r in windows)


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
    ids = window_ids(windows)
    clean = placebo_candidates(panel, windows)
    n_clean = len(_distinct(clean, ids, ENUMERATE))
    pool = panel.baseline | chosen
    perm = permutation_candidates(panel, windows, pool)
    real = _assignment_of(windows, ids)
    n_perm = len(_distinct(perm, ids, ENUMERATE) - {real})
    need = MAX_ASSIGNMENTS
    if n_clean < min(n_perm, MAX_ASSIGNMENTS) and statistic is studentised:
        return _permutation_test(panel, first, chosen, t_real, windows, ids, perm, pool, seed)
    drawn, total = placebo_assignments(clean, seed, ids)
    stats: list[float] = []
    for assignment in drawn:
        pseudo = _pseudo(panel, assignment, windows, panel.baseline)
        placebo_first = fit_first_stage(panel, panel.baseline & ~pseudo)
        t = statistic(panel, placebo_first, pseudo)
        if math.isfinite(t):
            stats.append(abs(t))
        else:
            total -= 1
    dropped = len(drawn) - len(stats)  # placebos with no statistic count as none added
    more = (
        tuple(c - dropped for c in count_with_more(clean, ids, need + dropped))
        if total < need
        else ()
    )
    return PlaceboTest(
        float(t_real), tuple(sorted(stats, reverse=True)), max(total, 0), with_more=more
    )


def _permutation_test(panel, first, chosen, t_real, windows, ids, perm, pool, seed) -> PlaceboTest:
    """The permutation search (module docstring): |t| at τ₀ = 0 ranks, |t| at τ₀ = τ̂ sets c."""
    v = weights_over(panel, first, chosen)
    tau_hat = impute(panel, first, v).estimate
    dummy = replace(panel, mean=chosen.astype(float), cache={})
    drawn, total = placebo_assignments(perm, seed, ids, _assignment_of(windows, ids))
    at_zero, at_hat = [], []
    for assignment in drawn:
        pseudo = _pseudo(panel, assignment, windows, pool)
        t0, t1 = _shifted_t(panel, dummy, pool, pseudo, (0.0, tau_hat))
        if math.isfinite(t0) and math.isfinite(t1):
            at_zero.append(t0)
            at_hat.append(t1)
        else:
            total -= 1
    dropped = 1 + len(drawn) - len(at_zero)  # the real assignment is among those counted
    more = (
        tuple(c - dropped for c in count_with_more(perm, ids, MAX_ASSIGNMENTS + dropped))
        if total < MAX_ASSIGNMENTS
        else ()
    )
    return PlaceboTest(
        float(t_real), tuple(sorted(at_hat, reverse=True)), max(total, 0),
        null_t=tuple(sorted(at_zero, reverse=True)), search="permutation", with_more=more,
    )  # fmt: skip
