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

import hashlib
import itertools
import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import numpy as np

from analytics.engine.imputation import fit_first_stage, linear_estimate
from analytics.engine.panel import Panel
from analytics.engine.placebo_batch import (
    Influence,
    Stages,
    estimates,
    influence,
    stack_first_stages,
)

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
    n = len(panel.sites)
    out: dict[int, list[int]] = {}
    for real, window in windows.items():
        periods = np.unique(window // len(panel.channels))
        live = ~panel.baseline & np.isin(panel.period, periods)
        live_in = np.bincount(panel.site[live], minlength=n) > 0
        based = np.bincount(panel.site[panel.baseline & np.isin(key, window)], minlength=n) > 0
        out[real] = [s for s in range(n) if s not in windows and not live_in[s] and based[s]]
    return out


def permutation_candidates(
    panel: Panel, windows: dict[int, np.ndarray], pool: np.ndarray
) -> dict[int, list[int]]:
    """Every site with baseline rows and cells of the pool in the window (real sites included)."""
    key = panel.period * len(panel.channels) + panel.channel
    n = len(panel.sites)
    based = panel.sites_with_baseline()
    out = {}
    for real, window in windows.items():
        inside = np.bincount(panel.site[pool & np.isin(key, window)], minlength=n) > 0
        out[real] = [s for s in range(n) if based[s] and inside[s]]
    return out


def _distinct(cands: dict[int, list[int]], ids: dict[int, int], limit: int) -> set[frozenset]:
    """Distinct assignments (placebo site, window id), at most ``limit`` of the product."""
    reals = sorted(cands)
    if len(reals) == 1:  # one live site: each candidate is one assignment
        (real,) = reals
        return {frozenset({(p, ids[real])}) for p in cands[real][:limit]}
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


def _pseudo(panel: Panel, drawn: list[tuple], windows: dict, pool: np.ndarray) -> np.ndarray:
    """(A, C): each drawn assignment's placebo cells (its sites' pool cells in the windows)."""
    key = panel.period * len(panel.channels) + panel.channel
    in_window = {r: pool & np.isin(key, w) for r, w in windows.items()}
    out = np.zeros((len(drawn), len(panel)), dtype=bool)
    for i, assignment in enumerate(drawn):
        for placebo, real in assignment:
            out[i] |= in_window[real] & (panel.site == placebo)
    return out


def _assignment_of(windows: dict[int, np.ndarray], ids: dict[int, int]) -> frozenset:
    return frozenset((r, ids[r]) for r in windows)


@dataclass(eq=False)
class _Plan:
    """What a placebo test needs that the outcome does not change: the search, the drawn
    assignments' first stages and influence (placebo_batch.py), for the permutation search the
    estimate and scores of the real treated cells' indicator (the τ₀ shift), and the counts of
    assignments with more sites (memo by the number needed)."""

    search: str
    cands: dict[int, list[int]]
    ids: dict[int, int]
    total: int
    drawn: int
    pool: np.ndarray  # the cells any assignment fits on or treats
    panel: Panel  # the panel's pool cells
    stages: Stages | None = None
    infl: Influence | None = None
    dummy: tuple[np.ndarray, np.ndarray] | None = None
    _more: dict[int, tuple] = field(default_factory=dict)

    def more(self, need: int) -> tuple:
        if need not in self._more:
            self._more[need] = count_with_more(self.cands, self.ids, need)
        return self._more[need]


def _search(panel: Panel, chosen: np.ndarray, seed: int) -> _Plan:
    """The search (module docstring) and its drawn assignments, fitted all at once."""
    windows = go_live_windows(panel, chosen)
    ids = window_ids(windows)
    clean = placebo_candidates(panel, windows)
    n_clean = len(_distinct(clean, ids, ENUMERATE))
    pool = panel.baseline | chosen
    perm = permutation_candidates(panel, windows, pool)
    real = _assignment_of(windows, ids)
    n_perm = len(_distinct(perm, ids, ENUMERATE) - {real})
    if n_clean < min(n_perm, MAX_ASSIGNMENTS):
        search, cands = "permutation", perm
        drawn, total = placebo_assignments(perm, seed, ids, real)
    else:
        search, cands, pool = "clean", clean, panel.baseline
        drawn, total = placebo_assignments(clean, seed, ids)
    # Cells outside the pool are neither untreated nor placebo-treated in any assignment.
    plan = _Plan(search, cands, ids, total, len(drawn), pool, panel.subset(pool))
    if drawn:
        sub = plan.panel
        pseudo = _pseudo(sub, drawn, windows, np.ones(len(sub), dtype=bool))
        plan.stages = stack_first_stages(sub, ~pseudo)
        plan.infl = influence(sub, plan.stages, pseudo)
        if search == "permutation":
            indicator = chosen[pool].astype(float)
            plan.dummy = estimates(sub, plan.stages, plan.infl, indicator)
    return plan


_SHARED_PLANS: ContextVar[dict[bytes, tuple] | None] = ContextVar(
    "scalegate_shared_placebo_plans", default=None
)


@contextmanager
def shared_plans() -> Iterator[None]:
    """Within this block, placebo tests on the same design share their search and fits.

    A design is everything a plan reads: the cells' sites, periods, channels, phases and
    weights, the treated cells tested and the seed; the metrics of one dataset usually have
    the same, so an analysis of ten metrics searches and fits each site's placebos once. Keyed
    by a hash of those arrays and checked for equality, so the numbers are exactly those
    without sharing; the store lives only as long as the block."""
    token = _SHARED_PLANS.set({})
    try:
        yield
    finally:
        _SHARED_PLANS.reset(token)


def _plan(panel: Panel, chosen: np.ndarray, seed: int) -> _Plan:
    shared = _SHARED_PLANS.get()
    if shared is None:
        return _search(panel, chosen, seed)
    arrays = (panel.site, panel.period, panel.channel, panel.phase, panel.w, chosen)
    sizes = (len(panel.sites), len(panel.periods), len(panel.channels), seed)
    digest = hashlib.blake2b(repr(sizes).encode(), digest_size=16)
    for a in arrays:
        digest.update(np.ascontiguousarray(a).tobytes())
    key = digest.digest()
    hit = shared.get(key)
    if hit is not None and hit[1] == sizes:
        if all(np.array_equal(x, y) for x, y in zip(hit[0], arrays, strict=True)):
            return hit[2]
    plan = _search(panel, chosen, seed)
    shared[key] = (arrays, sizes, plan)
    return plan


def placebo_test(panel: Panel, select: np.ndarray, seed: int = 0) -> PlaceboTest:
    """Rank the real studentised estimate of the selected treated cells among placebos."""
    first = fit_first_stage(panel)
    chosen = select & first.covered & ~first.untreated
    # The real estimate: the one the verdict reads (made once per panel and selection).
    real, _, _, v = linear_estimate(panel, select & ~panel.baseline)
    se = math.sqrt(max(real.cell_var(panel), 0.0))
    t_real = real.estimate / se if v.any() and se > 0 else float("nan")
    plan = _plan(panel, chosen, seed)
    if plan.search == "permutation":
        return _permutation_test(panel, chosen, t_real, real.estimate, plan)
    stats: list[float] = []
    if plan.stages is not None and plan.infl is not None:
        sub = plan.panel
        tau, b = estimates(sub, plan.stages, plan.infl, panel.mean[plan.pool])
        se = np.sqrt(((sub.w * b) ** 2).sum(axis=1))
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(plan.infl.any & (se > 0), tau / se, np.nan)
        stats = np.abs(t[np.isfinite(t)]).tolist()
    dropped = plan.drawn - len(stats)  # placebos with no statistic count as none added
    total = plan.total - dropped
    need = MAX_ASSIGNMENTS
    more = tuple(c - dropped for c in plan.more(need + dropped)) if total < need else ()
    return PlaceboTest(
        float(t_real), tuple(sorted(stats, reverse=True)), max(total, 0), with_more=more
    )


def _permutation_test(
    panel: Panel, chosen: np.ndarray, t_real: float, tau_hat: float, plan: _Plan
) -> PlaceboTest:
    """The permutation search (module docstring): |t| at τ₀ = 0 ranks, |t| at τ₀ = τ̂ sets c."""
    at_zero: list[float] = []
    at_hat: list[float] = []
    if plan.stages is not None and plan.infl is not None and plan.dummy is not None:
        sub = plan.panel
        tau_y, b_y = estimates(sub, plan.stages, plan.infl, panel.mean[plan.pool])
        tau_d, b_d = plan.dummy
        t = [_shifted_t(sub, plan.infl.any, tau_y, b_y, tau_d, b_d, x) for x in (0.0, tau_hat)]
        ok = np.isfinite(t[0]) & np.isfinite(t[1])
        at_zero, at_hat = t[0][ok].tolist(), t[1][ok].tolist()
    dropped = 1 + plan.drawn - len(at_zero)  # the real assignment is among those counted
    total = plan.total - (plan.drawn - len(at_zero))
    more = (
        tuple(c - dropped for c in plan.more(MAX_ASSIGNMENTS + dropped))
        if total < MAX_ASSIGNMENTS
        else ()
    )
    return PlaceboTest(
        float(t_real), tuple(sorted(at_hat, reverse=True)), max(total, 0),
        null_t=tuple(sorted(at_zero, reverse=True)), search="permutation", with_more=more,
    )  # fmt: skip


def _shifted_t(panel, has, tau_y, b_y, tau_d, b_d, tau0: float) -> np.ndarray:
    """|t| of every permutation placebo with the real treated cells shifted by τ₀."""
    se = np.sqrt(((panel.w * (b_y - tau0 * b_d)) ** 2).sum(axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(has & (se > 0), np.abs(tau_y - tau0 * tau_d) / se, np.nan)
