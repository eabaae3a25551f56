"""The rollout evidence of one metric, gathered once for its verdict, pages and exports.

The production effect behind the verdict is the imputation estimate (engine/staggered.py); the
pilot's own estimate and placebo rank; each site's and channel's production effect with the
few-sites test, for rule 3 and per-site verdicts; lift retention (production lift / pilot lift)
from the same estimates (retention.py); the event study with its pre-trend test; the waves. Rule-3 flags are corrected once across the outcome family (Holm over every site and
channel test of every outcome metric).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from analytics.decide.retention import retention
from analytics.engine.effects import Effect, Ratio
from analytics.engine.event_study import EventStudy, event_study
from analytics.engine.holm import holm
from analytics.engine.imputation import Linear, fit_first_stage, mean_of, ratio
from analytics.engine.panel import Panel, prepare_panel
from analytics.engine.quantiles import _p_two_sided, two_sided_t
from analytics.engine.staggered import (
    METHOD_ASSUMPTIONS,
    RolloutEstimate,
    imputation,
    linear_estimate,
)
from analytics.engine.waves import Wave, waves

NAN = float("nan")


@dataclass(frozen=True, slots=True)
class SliceTest:
    """One site's or channel's production effect, its p-value corrected across the family."""

    slice_type: str
    name: str
    estimate: RolloutEstimate
    p_family: float = NAN
    retention: Ratio | None = None  # the slice's production lift / the pilot's lift


@dataclass(frozen=True, slots=True, eq=False)
class MetricRollout:
    """Everything the staggered-rollout estimators say about one metric."""

    panel: Panel
    production: RolloutEstimate
    pilot: RolloutEstimate | None
    production_vs_pilot: Effect | None
    sites: tuple[SliceTest, ...] = ()
    channels: tuple[SliceTest, ...] = ()
    event_study: EventStudy | None = None
    waves: tuple[Wave, ...] = ()
    production_sites: int = 0  # production sites with baseline rows (rule 1)
    retention: Ratio | None = None  # production lift / pilot lift (retention.py)

    @property
    def production_mask(self) -> np.ndarray:
        return self.panel.treated("production")


def as_effect(est: RolloutEstimate, name: str, alpha: float, note: str = "") -> Effect:
    """A RolloutEstimate in the shape the effect rows and value at scale read."""
    lo, hi = est.ci(1 - alpha)
    llo, lhi = est.lift_ci(1 - alpha)
    return Effect(
        name=name, estimate=est.estimate, se=est.se, df=est.df, ci_low=lo, ci_high=hi,
        p_value=est.p_value, lift=est.lift, lift_se=est.lift_se, lift_ci_low=llo,
        lift_ci_high=lhi, counterfactual_mean=est.counterfactual_mean,
        treated_mean=est.treated_mean, n_treated=est.rows, n_sites=est.treated_sites,
        method=est.method, assumption=METHOD_ASSUMPTIONS.get(est.method, ""),
        note=" ".join(x for x in (est.note, note) if x),
    )  # fmt: skip


def _difference(panel: Panel, prod: RolloutEstimate, pilot: RolloutEstimate, alpha: float):
    """Production minus pilot on one panel (the same baseline fit): lift over what production
    would average with the pilot's effect instead of its own."""
    tp, _, _, vp = linear_estimate(panel, panel.treated("production"))
    tq, _, _, _ = linear_estimate(panel, panel.treated("pilot"))
    diff = tp.combine(tq)
    base = mean_of(panel, vp).combine(diff)  # ȳ_prod − τ_prod + τ_pilot
    lift = ratio(diff, base)
    clustered = prod.placebo is None and pilot.placebo is None
    var = (lambda x: x.cluster_var(panel)) if clustered else (lambda x: x.hc_var(panel))
    df = float(prod.clusters - 1) if clustered else math.inf
    return _effect(diff, lift, var, df, alpha, base.estimate, prod, clustered)


def _effect(diff: Linear, lift: Linear, var, df: float, alpha: float, base: float, prod, clustered):
    q = two_sided_t(alpha, df)
    se, lse = math.sqrt(max(var(diff), 0.0)), math.sqrt(max(var(lift), 0.0))
    method = "imputation_cluster_site" if clustered else "imputation_hc_cells"
    p = _p_two_sided(diff.estimate / se, df) if se > 0 else NAN
    return Effect(
        "production_vs_pilot", diff.estimate, se, df, diff.estimate - q * se,
        diff.estimate + q * se, p, lift.estimate, lse, lift.estimate - q * lse,
        lift.estimate + q * lse, base, prod.treated_mean, prod.rows, prod.treated_sites, method,
        METHOD_ASSUMPTIONS[method],
        "" if clustered else "The pilot runs at too few sites for clustered errors.",
    )  # fmt: skip


def _slices(
    panel: Panel, by: str, pilot: RolloutEstimate | None, alpha: float
) -> tuple[SliceTest, ...]:
    """Each site's or channel's production effect against its own counterfactual. A site's is
    on the whole panel (the site's own level is in the first stage); a channel's on its own
    cells alone, so its counterfactual has the channel's own site and period levels: a channel
    that costs more than the others (email against phone) is not "worse" for that."""
    prod = panel.treated("production")
    codes, levels = (panel.site, panel.sites) if by == "site" else (panel.channel, panel.channels)
    out = []
    for k in np.unique(codes[prod]):
        mine = codes == k
        if by == "site":
            est, own = imputation(panel, prod & mine), None
        else:
            sub = panel.subset(mine)
            est, own = imputation(sub, sub.treated("production")), (sub, mine)
        kept = retention(panel, prod & mine, pilot, est.treated_sites, est.clusters, alpha, own=own)
        out.append(SliceTest(by, levels[int(k)], est, retention=kept))
    return tuple(out)


def analyse_rollout(
    cells: pd.DataFrame, alpha: float, *, with_slices: bool = True, panel: Panel | None = None
) -> MetricRollout | None:
    """The rollout evidence of one metric's cells (None without usable cells or production);
    ``panel``: those cells' panel when it is already prepared."""
    panel = prepare_panel(cells) if panel is None else panel
    if panel is None or not panel.treated("production").any() or not panel.baseline.any():
        return None
    prod_mask = panel.treated("production")
    # Event time, waves and the breakdown count from production's go-live (the pilot site's
    # first production period, not its pilot month).
    panel = panel.with_starts(prod_mask)
    prod = imputation(panel, prod_mask)
    pilot = None
    if panel.treated("pilot").any():  # its placebo rank is read for outcomes only
        pilot = imputation(panel, panel.treated("pilot"), test=with_slices)
    pvp = None
    if pilot is not None and prod.identified and pilot.identified:
        pvp = _difference(panel, prod, pilot, alpha)
    with_base = panel.sites_with_baseline()
    production_sites = int(with_base[np.unique(panel.site[prod_mask])].sum())
    kept = retention(panel, prod_mask, pilot, prod.treated_sites, prod.clusters, alpha)
    roll = MetricRollout(panel, prod, pilot, pvp, production_sites=production_sites,
                         retention=kept)  # fmt: skip
    if not with_slices or not prod.identified:
        return roll
    study = event_study(panel, prod_mask, prod) if panel.has_dates else None
    return replace(
        roll,
        sites=_slices(panel, "site", pilot, alpha),
        channels=_slices(panel, "channel", pilot, alpha) if len(panel.channels) > 1 else (),
        event_study=study,
        waves=waves(panel, prod_mask, prod) if panel.has_dates else (),
    )


def correct_family(rollouts: dict[str, MetricRollout]) -> dict[str, MetricRollout]:
    """Holm over every site and channel test of every outcome metric at once."""
    tests = [(m, i, kind) for m, r in rollouts.items() for kind in ("sites", "channels")
             for i in range(len(getattr(r, kind)))]  # fmt: skip
    p = [getattr(rollouts[m], kind)[i].estimate.p_value for m, i, kind in tests]
    adjusted = holm(p)
    out = dict(rollouts)
    for (m, i, kind), ph in zip(tests, adjusted, strict=True):
        current = list(getattr(out[m], kind))
        current[i] = replace(current[i], p_family=float(ph))
        out[m] = replace(out[m], **{kind: tuple(current)})
    return out


def significantly_worse(p_family: float, improvement: float, alpha: float) -> bool:
    """Rule 3's "significantly worse", the one definition (verdict, pages and pack): a Holm
    p-value of the slice family below alpha and an effect that goes the wrong way."""
    return math.isfinite(p_family) and p_family < alpha and improvement < 0


def worse_slices(roll: MetricRollout, sign: int, alpha: float) -> tuple[SliceTest, ...]:
    """Sites and channels significantly worse than their own counterfactual (family Holm)."""
    return tuple(
        s
        for s in roll.sites + roll.channels
        if significantly_worse(s.p_family, sign * s.estimate.estimate, alpha)
    )


GROWTH_Z = 1.2815515655446004  # one-sided 10%: the improvement's rise over judged horizons


def _growth(study: EventStudy, sign: int) -> tuple[float, float, float]:
    """(first, last, z): the good-signed lift at the first and last judged horizon, and the
    z of their weighted least-squares slope over horizons (weights 1/se², se from each
    horizon's interval; the horizons' correlation through the shared fit is ignored)."""
    pts = [(h.horizon, sign * h.lift, (h.lift_ci[1] - h.lift_ci[0]) / (2 * 1.959963984540054))
           for h in study.horizons if math.isfinite(h.lift) and all(map(math.isfinite, h.lift_ci))
           and h.lift_ci[1] > h.lift_ci[0]]  # fmt: skip
    if len(pts) < 3:
        return NAN, NAN, NAN
    x, y, se = (np.array(v, dtype=float) for v in zip(*pts, strict=True))
    w = 1 / se**2
    xc = x - (w * x).sum() / w.sum()
    slope = float((w * xc * y).sum() / (w * xc * xc).sum())
    return float(y[0]), float(y[-1]), slope / math.sqrt(1 / float((w * xc * xc).sum()))


def still_growing(roll: MetricRollout, sign: int) -> str:
    """Why "no meaningful effect" cannot be concluded, or "": the judged production rows stop
    at an earlier horizon than production reaches (the later months have no comparison site),
    and the improvement still rises over the judged horizons (slope z above GROWTH_Z)."""
    study, prod = roll.event_study, roll.production
    if study is None or not (prod.coverage < 1) or len(study.horizons) < 3:
        return ""
    first = fit_first_stage(roll.panel)
    mask = roll.production_mask
    judged = mask & first.covered & ~first.untreated
    et = roll.panel.event_time
    if not (mask & ~judged).any() or et[mask & ~judged].max() <= et[judged].max():
        return ""
    start, end, z = _growth(study, sign)
    if not (z > GROWTH_Z):
        return ""
    return (
        f"Inconclusive: only the first {len(study.horizons)} period(s) after go-live can be "
        f"judged ({prod.coverage:.0%} of production rows), and the improvement is still rising "
        f"there ({start:+.1%} in the first, {end:+.1%} in the last); the later periods have no "
        "site still on the old way of working to compare with, so a small effect cannot be "
        "concluded."
    )


def warnings_for(roll: MetricRollout) -> tuple[str, ...]:
    """What a reader must know beside the verdict: coverage, pre-trends, uneven sites."""
    out = []
    prod = roll.production
    if math.isfinite(prod.coverage) and prod.coverage < 1:
        out.append(
            f"Only {prod.coverage:.0%} of production rows can be judged: the rest fall in "
            "periods with no site still on the old way of working, or at sites with no "
            "baseline rows; the estimate speaks for the judged rows only."
        )
    study = roll.event_study
    if study is not None:
        pt = study.pretrend
        if pt.leads == 0:
            out.append("No period before go-live is available to check that the live sites "
                       "were not already drifting apart from the others.")  # fmt: skip
        elif pt.failed:
            out.append(
                f"Before go-live the live sites already drifted apart from the others (joint "
                f"test of {pt.leads} lead(s), p = {pt.p_value:.3g}): the comparison may be "
                "unfair."
            )
    if prod.placebo is None and prod.uneven_sites:
        out.append(
            "The live sites differ in size more than tenfold; site-clustered intervals are "
            "then too narrow (simulated: 14% false alarms at 5 live sites)."
        )
    return tuple(out)
