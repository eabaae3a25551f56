"""Why production falls short of the pilot: the gap between the pilot effect and the production
effect taken apart along four factors, as re-weightings of the imputation estimator's cell
effects (imputation.py: ȳ_c − ẑ_cᵀθ̂, site + period levels fitted on baseline cells, weights W_c).

Every treated, covered cell gets four conditions: *time* (pilot phase or production phase),
*site* (a pilot site or another), *channel* (one the pilot covered or not) and *load* (a peak
period or not; see ``peak_periods``). A stratum's effect f(site, channel, load) is the W-weighted
mean cell effect of the production cells in it; the pilot's f_p(load) the same over pilot cells.

The value of a set A of factors moved to production's conditions is
  v(A) = Σ_x π_x Σ_l r_A(l | x) f(proj_A(x, l)) − [time ∉ A]·Δ_T,
x running over production strata with shares π_x (of covered production weight), proj_A keeping
x's site/channel where the factor is in A and the pilot's (pilot site, pilot channel) where not,
and the load x's own when load ∈ A, else drawn from the pilot's load mix q. Δ_T, the time step,
is Σ_l q_l f(pilot site, pilot channel, l) − pilot effect: the pilot site on the pilot's channels
in production against its pilot, at the pilot's loads; it is assumed to carry over to the strata
the pilot never ran (the pilot only ever measured time at its own site). Then v(∅) is the pilot
effect and v(all) the production effect over comparable strata.

A production stratum is *comparable with the pilot* when every projection it needs has
production cells; the others are left out of the decomposition and reported with their share
of production (not folded into a residual). Shapley shares average each factor's step over all
24 orders; the waterfall is the order time → sites → channels → load, with each factor's range
over the orders. Every number is linear in the rows (with the mix π and q held fixed), so each
carries the estimator's influence per cell (imputation.Linear); its interval sums it over
site-periods, ψ_u = Σ_{c∈u} W_c A_c ẽ_c, variance Σ_u ψ_u², where ẽ are the residuals each
site-period would have had if it were left out of the fit (unit_residuals.py: the CR3 or
jackknife correction; fitted residuals are too small where two or three sites fix a period's
level), and t on the effective number of site-periods (Σψ²)² / Σψ⁴ (a few site-periods can carry
a share). Not the site clusters of the verdict: the pilot and the pilot site's strata are one
site each, and a stratum's effect is centred within it, so a site's ψ_g would lose all their
sampling error (a wild bootstrap by site flips the signs of residuals that sum to zero in the
same way). Site-periods allow shocks shared by a site's channels and phases in a period, not
shocks lasting across periods. Coverage measured over 1000 simulated rollouts: METHODS.md 3a.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from analytics.core.peaks import is_peak
from analytics.engine.imputation import Linear, fit_first_stage, impute, weights_over
from analytics.engine.panel import Panel
from analytics.engine.unit_residuals import leave_unit_out, site_periods, unit_interval

FACTORS = ("time", "sites", "channels", "load")
LABELS = {
    "time": "time at the pilot site",
    "sites": "sites other than the pilot's",
    "channels": "channels the pilot did not cover",
    "load": "peak load",
}
Stratum = tuple[int, int, int]  # (other site, other channel, peak)


def peak_periods(panel: Panel, quantile: float = 0.75) -> np.ndarray:
    """Peak periods (bool per period) from baseline-period volume: each site's weight per period
    before its go-live, over its mean such volume, averaged over the sites with such rows; a
    period is peak when that index is in its busiest quarter. Periods without such rows are not
    peak (their load is unknown)."""
    before = panel.baseline & (panel.t < panel.start[panel.site])
    s, p = len(panel.sites), len(panel.periods)
    vol = np.zeros((s, p))
    np.add.at(vol, (panel.site[before], panel.period[before]), panel.w[before])
    seen = vol > 0
    mean = np.where(seen.any(1), vol.sum(1) / np.maximum(seen.sum(1), 1), np.nan)
    rel = np.where(seen, vol / mean[:, None], 0.0)
    count = seen.sum(0)
    index = np.where(count > 0, rel.sum(0) / np.maximum(count, 1), np.nan)
    known = np.isfinite(index)
    if known.sum() < 4:
        return np.zeros(p, dtype=bool)
    return known & (index >= np.quantile(index[known], quantile))


def peaks_for(panel: Panel, calendar: Sequence[str] = ()) -> np.ndarray:
    """Peak periods from the user's calendar (core/peaks.py) when one is given and the data
    has dates, else from baseline-period volume (``peak_periods``)."""
    if calendar and panel.has_dates:
        starts = [date.fromisoformat(p) for p in panel.periods]
        return np.asarray(is_peak(starts, calendar), dtype=bool)
    return peak_periods(panel)


@dataclass(frozen=True, slots=True)
class Share:
    """One factor's Shapley share (metric units) with its interval and range over orders."""

    factor: str
    value: float
    se: float
    ci: tuple[float, float]
    df: float  # effective number of site-periods behind the interval
    low: float  # smallest step over the 24 orders
    high: float  # largest step over the 24 orders


@dataclass(frozen=True, slots=True)
class GapDecomposition:
    """The pilot-to-production gap taken apart (metric units; improvement sign left to callers)."""

    pilot: float
    production: float  # over every covered production cell
    comparable: float  # over the production strata comparable with the pilot
    not_comparable_share: float  # share of covered production weight left out
    not_comparable: float  # their effect (NaN when none)
    shares: tuple[Share, ...]
    waterfall: tuple[tuple[str, float], ...]  # fixed order time, sites, channels, load
    level: float
    sentence: str

    @property
    def gap(self) -> float:
        return self.comparable - self.pilot


def _conditions(panel: Panel, first, peak: np.ndarray):
    """Per cell: pilot site?, pilot channel?, peak?; and the pilot/production selections."""
    pilot = panel.treated("pilot") & first.covered
    prod = panel.treated("production") & first.covered
    pilot_sites = np.isin(panel.site, np.unique(panel.site[pilot]))
    pilot_chans = np.isin(panel.channel, np.unique(panel.channel[pilot]))
    key = np.stack([~pilot_sites, ~pilot_chans, peak[panel.period]], 1).astype(int)
    return pilot, prod, key


def _strata(panel: Panel, first, select: np.ndarray, key: np.ndarray, label: np.ndarray) -> dict:
    """Linear effect and weight of each stratum present among the selected cells; each
    stratum's cells get their own number in ``label`` (for the intervals)."""
    out = {}
    for k in sorted({tuple(int(x) for x in row) for row in key[select]}):
        cells = select & (key == k).all(1)
        label[cells] = label.max() + 1
        out[k] = (impute(panel, first, weights_over(panel, first, cells)), panel.w[cells].sum())
    return out


def _value(
    a: frozenset, pi: dict[Stratum, float], q: dict[int, float]
) -> dict[tuple[str, object], float]:
    """v(A) as coefficients on production strata ("f", x) and pilot loads ("p", l)."""
    coef: dict[tuple[str, object], float] = {}
    for (s, c, ld), share in pi.items():
        loads = {ld: 1.0} if "load" in a else q
        for l2, r in loads.items():
            x = (s if "sites" in a else 0, c if "channels" in a else 0, l2)
            coef[("f", x)] = coef.get(("f", x), 0.0) + share * r
    if "time" not in a:  # − Δ_T = pilot − Σ_l q_l f(0, 0, l)
        for l2, r in q.items():
            coef[("f", (0, 0, l2))] = coef.get(("f", (0, 0, l2)), 0.0) - r
            coef[("p", l2)] = coef.get(("p", l2), 0.0) + r
    return coef


def _needed(x: Stratum, q: dict[int, float]) -> set[Stratum]:
    """The strata a production stratum's projections read."""
    pi = {x: 1.0}
    need = set()
    for r in range(len(FACTORS) + 1):
        for a in itertools.combinations(FACTORS, r):
            need |= {k[1] for k in _value(frozenset(a), pi, q) if k[0] == "f"}
    return need


def _combine(coef: dict, lin: dict) -> Linear:
    est, a, b = 0.0, 0.0, 0.0
    for k, c in coef.items():
        if c:
            est, a, b = est + c * lin[k].estimate, a + c * lin[k].a, b + c * lin[k].b
    return Linear(est, np.asarray(a, float), np.asarray(b, float))


def _shapley_coefs(pi: dict, q: dict) -> tuple[dict, dict, dict]:
    """Shapley coefficients per factor, and each order's steps (as coefficients)."""
    values = {
        frozenset(a): _value(frozenset(a), pi, q)
        for r in range(5)
        for a in itertools.combinations(FACTORS, r)
    }

    def step(before: frozenset, f: str) -> dict:
        after, prev = values[before | {f}], values[before]
        return {k: after.get(k, 0.0) - prev.get(k, 0.0) for k in set(after) | set(prev)}

    shap: dict[str, dict] = {f: {} for f in FACTORS}
    orders: dict[tuple, dict] = {}
    for order in itertools.permutations(FACTORS):
        done: frozenset = frozenset()
        orders[order] = {}
        for f in order:
            st = step(done, f)
            orders[order][f] = st
            for k, c in st.items():
                shap[f][k] = shap[f].get(k, 0.0) + c / 24
            done = done | {f}
    return shap, orders, values


def decompose(
    panel: Panel, peak: np.ndarray | None = None, *, level: float = 0.95, sign: float = 1.0
) -> GapDecomposition | None:
    """The gap taken apart (see the module docstring); ``peak`` (bool per period) is a calendar
    the user gave, else ``peak_periods``. ``sign`` is +1 when higher is better, −1 when lower
    is: it only phrases the sentence. None when the pilot or production has no judged cell or
    the pilot site has no production cell on the pilot's channels at the pilot's loads."""
    first = fit_first_stage(panel)
    peak = peak_periods(panel) if peak is None else np.asarray(peak, bool)
    pilot, prod, key = _conditions(panel, first, peak)
    if not pilot.any() or not prod.any():
        return None
    label = np.full(len(panel), -1)
    f = _strata(panel, first, prod, key, label)
    p = {k[2]: v for k, v in _strata(panel, first, pilot, key, label).items()}
    w_pilot = sum(w for _, w in p.values())
    q = {ld: w / w_pilot for ld, (_, w) in p.items()}
    if any((0, 0, ld) not in f for ld in q):
        return None
    ok = {x for x in f if _needed(x, q) <= set(f)}
    total = sum(w for _, w in f.values())
    w_ok = sum(f[x][1] for x in ok)
    pi = {x: f[x][1] / w_ok for x in ok}
    lin = {("f", x): f[x][0] for x in f} | {("p", ld): p[ld][0] for ld in p}
    shap, orders, values = _shapley_coefs(pi, q)
    resid = leave_unit_out(panel, first, np.where(first.covered, label, -1), site_periods(panel))
    shares, lins = [], {}
    for fac in FACTORS:
        lins[fac] = _combine(shap[fac], lin)
        se, ci, df = unit_interval(lins[fac], panel, level, resid)
        steps = [float(_combine(orders[o][fac], lin).estimate) for o in orders]
        ci = (float(ci[0]), float(ci[1]))
        shares.append(Share(fac, float(lins[fac].estimate), se, ci, df, min(steps), max(steps)))
    fixed = orders[FACTORS]
    rest = total - w_ok
    off = [x for x in f if x not in ok]
    return GapDecomposition(
        pilot=float(_combine(values[frozenset()], lin).estimate),
        production=float(impute(panel, first, weights_over(panel, first, prod)).estimate),
        comparable=float(_combine(values[frozenset(FACTORS)], lin).estimate),
        not_comparable_share=float(rest / total),
        not_comparable=float(sum(f[x][0].estimate * f[x][1] for x in off) / rest)
        if rest
        else math.nan,
        shares=tuple(shares),
        waterfall=tuple((fac, float(_combine(fixed[fac], lin).estimate)) for fac in FACTORS),
        level=level,
        sentence=_sentence(shares, lins, panel, level, sign, resid),
    )


def _sentence(
    shares: list[Share], lins: dict, panel: Panel, level: float, sign: float, resid: np.ndarray
) -> str:
    """Name the largest factor only when the interval of its difference from the next clears 0."""
    ranked = sorted(shares, key=lambda s: -abs(s.value))
    top, nxt = ranked[0], ranked[1]
    diff = lins[top.factor].combine(lins[nxt.factor], math.copysign(1, top.value),
                                    -math.copysign(1, nxt.value))  # fmt: skip
    _, (lo, _hi), _ = unit_interval(diff, panel, level, resid)
    if not (math.isfinite(lo) and lo > 0):
        return "The causes cannot be ranked on this data."
    total = sum(s.value for s in shares) * sign
    part = sign * top.value
    if part * total > 0 and abs(part) <= abs(total):
        word, done = ("loss", "lost") if total < 0 else ("gain", "gained")
        return (
            f"Most of the {word} comes from {LABELS[top.factor]}: {part:+.3g} of the "
            f"{abs(total):.3g} {done} (improvement, in the metric's units)."
        )
    return (
        f"The largest factor is {LABELS[top.factor]}: {part:+.3g}, against a net change of "
        f"{total:+.3g} (improvement, in the metric's units; the other factors pull the other way)."
    )
