"""How representative was the pilot of production? (issue 14, item 2)

The pilot's conditions against production's: the share of weight (rows, or the weight column's
total) by site, channel and load (peak or normal period, engine/gap.py's ``peaks_for``), pilot
beside production. Then the pilot's effect re-weighted to production's mix: the pilot cells fall
into conditions k = (channel, load), and (site, channel, load) when the pilot ran at two or more
sites; each condition's pilot effect f_p(k) is the W-weighted mean of its imputation cell effects
(imputation.py), and the re-weighted effect is Σ_k π_k f_p(k), π_k production's share of weight
in k among the conditions the pilot covered. Production under conditions the pilot never saw is
not extrapolated to: its share is reported, and named ("the pilot never ran on phone").

The re-weighted effect is linear in the rows (the mix held fixed); its interval is the gap's
(site-period influence with leave-one-unit-out residuals, t on the effective number of
site-periods: unit_residuals.py). The lift is τ / (ȳ − τ), ȳ the pilot cells' mean re-weighted
the same way and held fixed, so the lift's interval is the effect's carried through that
increasing function.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analytics.engine.gap import peaks_for
from analytics.engine.imputation import Linear, fit_first_stage, impute, weights_over
from analytics.engine.panel import Panel
from analytics.engine.unit_residuals import leave_unit_out, site_periods, unit_interval


@dataclass(frozen=True, slots=True)
class MixRow:
    """One condition's share of pilot and production weight."""

    dimension: str  # site | channel | load
    level: str
    pilot_share: float
    production_share: float


@dataclass(frozen=True, slots=True)
class Representativeness:
    """The pilot against production's mix, and its effect re-weighted to that mix."""

    mix: tuple[MixRow, ...]
    pilot_effect: float  # the pilot's own effect (its own mix)
    pilot_lift: float
    reweighted_effect: float  # NaN when the pilot covered no production condition
    reweighted_ci: tuple[float, float]
    reweighted_lift: float
    reweighted_lift_ci: tuple[float, float]
    df: float
    covered_share: float  # share of production weight under conditions the pilot saw
    by: tuple[str, ...]  # the dimensions of the conditions re-weighted over
    silent: tuple[str, ...]  # what the pilot never saw, in words
    level: float


def _shares(panel: Panel, select: np.ndarray, codes: np.ndarray, n: int) -> np.ndarray:
    w = np.bincount(codes[select], weights=panel.w[select], minlength=n)
    return w / w.sum() if w.sum() > 0 else w


def _mix(panel: Panel, pilot: np.ndarray, prod: np.ndarray, peak: np.ndarray) -> list[MixRow]:
    rows = []
    load = peak[panel.period].astype(int)
    for dim, codes, names in (
        ("site", panel.site, panel.sites),
        ("channel", panel.channel, panel.channels),
        ("load", load, ("normal", "peak")),
    ):
        a, b = (_shares(panel, s, codes, len(names)) for s in (pilot, prod))
        rows += [
            MixRow(dim, str(name), float(a[i]), float(b[i]))
            for i, name in enumerate(names)
            if a[i] > 0 or b[i] > 0
        ]
    return rows


def _silent(mix: list[MixRow]) -> list[str]:
    """What production has and the pilot never saw, in words."""
    never = {d: [r.level for r in mix if r.dimension == d and r.pilot_share == 0] for d in
             ("site", "channel", "load")}  # fmt: skip
    out = []
    if "peak" in never["load"]:
        out.append("the pilot saw no peak period")
    if "normal" in never["load"]:
        out.append("the pilot ran only in peak periods")
    if never["channel"]:
        out.append("the pilot never ran on " + " or ".join(never["channel"]))
    if never["site"]:
        ran = [r.level for r in mix if r.dimension == "site" and r.pilot_share > 0]
        share = sum(r.production_share for r in mix if r.level in never["site"] and
                    r.dimension == "site")  # fmt: skip
        out.append(
            f"the pilot ran at {', '.join(ran)} only ({share:.0%} of production is elsewhere)"
        )
    return out


def _combine(parts: list[tuple[float, Linear]]) -> Linear:
    est = sum(c * lin.estimate for c, lin in parts)
    a = sum(c * lin.a for c, lin in parts)
    b = sum(c * lin.b for c, lin in parts)
    return Linear(float(est), np.asarray(a, float), np.asarray(b, float))


def _lift(effect: float, mean: float) -> float:
    return effect / (mean - effect) if mean != effect else math.nan


def represent(
    panel: Panel, calendar: Sequence[str] = (), *, level: float = 0.95
) -> Representativeness | None:
    """The pilot against production (module docstring); None without pilot or production cells."""
    first = fit_first_stage(panel)
    pilot = panel.treated("pilot") & first.covered
    prod = panel.treated("production")
    if not pilot.any() or not prod.any():
        return None
    peak = peaks_for(panel, calendar)
    mix = _mix(panel, panel.treated("pilot"), prod, peak)
    by = ("site", "channel", "load") if len(np.unique(panel.site[pilot])) > 1 else (
        "channel", "load")  # fmt: skip
    parts = {"site": panel.site, "channel": panel.channel, "load": peak[panel.period]}
    key = np.stack([np.asarray(parts[d], dtype=np.int64) for d in by], 1)
    label = np.full(len(panel), -1)
    pilot_keys = sorted({tuple(r) for r in key[pilot].tolist()})
    w_prod = {k: float(panel.w[prod & (key == k).all(1)].sum()) for k in pilot_keys}
    covered = sum(w_prod.values())
    total = float(panel.w[prod].sum())
    own = impute(panel, first, weights_over(panel, first, pilot))
    own_mean = float(np.average(panel.mean[pilot], weights=panel.w[pilot]))
    nan2 = (math.nan, math.nan)
    result = dict(effect=math.nan, ci=nan2, lift=math.nan, lift_ci=nan2, df=math.nan)
    if covered > 0:
        terms, mean = [], 0.0
        for i, k in enumerate(pilot_keys):
            cells = pilot & (key == k).all(1)
            label[cells] = i
            share = w_prod[k] / covered
            terms.append((share, impute(panel, first, weights_over(panel, first, cells))))
            mean += share * float(np.average(panel.mean[cells], weights=panel.w[cells]))
        lin = _combine(terms)
        resid = leave_unit_out(panel, first, label, site_periods(panel))
        _, ci, df = unit_interval(lin, panel, level, resid)
        result = dict(
            effect=lin.estimate, ci=ci, df=df, lift=_lift(lin.estimate, mean),
            lift_ci=(_lift(ci[0], mean), _lift(ci[1], mean)),
        )  # fmt: skip
    return Representativeness(
        mix=tuple(mix),
        pilot_effect=own.estimate,
        pilot_lift=_lift(own.estimate, own_mean),
        reweighted_effect=float(result["effect"]),
        reweighted_ci=tuple(float(x) for x in result["ci"]),
        reweighted_lift=float(result["lift"]),
        reweighted_lift_ci=tuple(float(x) for x in result["lift_ci"]),
        df=float(result["df"]),
        covered_share=covered / total if total > 0 else math.nan,
        by=by,
        silent=tuple(_silent(mix)),
        level=level,
    )
