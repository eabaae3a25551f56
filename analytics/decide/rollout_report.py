"""From a metric's rollout evidence to what the verdicts and results.json read: the Evidence of
the production and per-site verdicts, and the RolloutRow (estimator, usual model, coverage,
influence, event study, waves, placebo, pilot alone, breakdown)."""

from __future__ import annotations

import math
from typing import Any

from analytics.core.catalog import Metric
from analytics.decide.results import HorizonRow, RolloutRow, WaveRow
from analytics.decide.rollout import MetricRollout, SliceTest
from analytics.engine.effects import Effect
from analytics.engine.placebo import PlaceboTest
from analytics.engine.sensitivity import Breakdown, breakdown
from analytics.engine.staggered import RolloutEstimate

NAN = float("nan")


def good_interval(metric: Metric, lift: float, lo: float, hi: float) -> tuple[float, float, float]:
    """A lift and its interval signed so that positive is better."""
    s = metric.sign
    a, b = sorted((s * lo, s * hi))
    return s * lift, a, b


def verdict_breakdown(metric: Metric, roll: MetricRollout, level: float) -> Breakdown | None:
    """The drift since go-live that would flip rules 2 and 4 for the production verdict."""
    prod = roll.production
    if not prod.identified or not roll.panel.has_dates:
        return None
    key = ("breakdown", metric.sign, metric.min_effect, level)
    if key not in roll.panel.cache:  # the verdict's reasons and results.json read the same one
        lo, hi = prod.lift_ci(level)
        good = good_interval(metric, prod.lift, lo, hi)
        roll.panel.cache[key] = breakdown(
            roll.panel, roll.production_mask, good, metric.min_effect, prod.counterfactual_mean,
            clustered=prod.placebo is None,
        )  # fmt: skip
    return roll.panel.cache[key]


def placebo_dict(test: PlaceboTest | None) -> dict[str, Any] | None:
    if test is None:
        return None
    return {
        "rank": test.rank,
        "size": test.size,
        "assignments": test.assignments,
        "p_value": test.p_value,
        "floor": test.floor,
        "statistic": test.t_real,
    }


def _estimate_dict(est: RolloutEstimate, level: float) -> dict[str, Any]:
    return {
        "method": est.method,
        "estimate": est.estimate,
        "ci": list(est.ci(level)),
        "lift": est.lift,
        "lift_ci": list(est.lift_ci(level)),
        "se": est.se,
        "df": est.df,
        "p_value": est.p_value,
        "treated_sites": est.treated_sites,
        "clusters": est.clusters,
    }


def _effect_dict(effect: Effect | None, label: str) -> dict[str, Any]:
    if effect is None:
        return {"label": label, "method": None, "estimate": None, "ci": [None, None]}
    return {
        "label": label,
        "method": effect.method,
        "estimate": effect.estimate,
        "ci": [effect.ci_low, effect.ci_high],
        "lift": effect.lift,
        "lift_ci": [effect.lift_ci_low, effect.lift_ci_high],
    }


def rollout_row(
    metric: Metric,
    roll: MetricRollout,
    usual: Effect | None,
    pilot_alone: Effect | None,
    level: float,
    broke: Breakdown | None,
) -> RolloutRow:
    prod = roll.production
    study = roll.event_study
    pretrend = None
    if study is not None:
        pt = study.pretrend
        pretrend = {"leads": pt.leads, "statistic": pt.statistic, "p_value": pt.p_value,
                    "method": pt.method, "note": pt.note}  # fmt: skip
    pilot = roll.pilot
    alone = None
    if pilot_alone is not None or pilot is not None:
        alone = _effect_dict(pilot_alone, "What the pilot team's own report would say")
        alone["placebo"] = placebo_dict(pilot.placebo) if pilot is not None else None
        alone["sites"] = list(pilot.live_sites) if pilot is not None else []
    return RolloutRow(
        metric=metric.id,
        level=level,
        estimator=_estimate_dict(prod, level),
        usual=_effect_dict(usual, "What the usual model (two-way fixed effects) says"),
        coverage={"share": prod.coverage, "rows": prod.rows, "rows_production": prod.rows_selected},
        influence=dict(prod.influence),
        lift_influence=dict(prod.lift_influence),
        placebo=placebo_dict(prod.placebo),
        event_study=tuple(
            HorizonRow(h.horizon, h.tail, h.estimate, h.ci, h.rows, h.sites, h.lift, h.lift_ci)
            for h in (study.horizons if study else ())
        ),
        pretrend=pretrend,
        waves=tuple(
            WaveRow(
                w.go_live,
                w.sites,
                w.rows,
                w.estimate,
                w.ci,
                w.group_time,
                w.group_time_ci,
                w.differs,
            )  # fmt: skip
            for w in roll.waves
        ),
        pilot_alone=alone,
        breakdown=None
        if broke is None
        else {
            "drift_per_period": broke.drift,
            "flips_to": broke.flips_to,
            "pre_slope": broke.slope,
            "pre_slope_ci": list(broke.slope_ci),
            "pre_slope_level": broke.level,
        },
    )


def site_interval(s: SliceTest, alpha: float) -> tuple[float, float, float]:
    lo, hi = s.estimate.lift_ci(1 - alpha)
    return s.estimate.lift, lo, hi


def breakdown_sentence(metric: Metric, broke: Breakdown | None, grain: str) -> str:
    """'This verdict holds unless the live sites were already drifting by …' in plain words."""
    if broke is None or not math.isfinite(broke.drift):
        return ""
    unit = f" {metric.unit}" if getattr(metric, "unit", "") else ""
    lo, hi = broke.slope_ci
    pre = (
        f" Before go-live the live sites drifted by {broke.slope:+.3g}{unit} a {grain} against "
        f"the others (95% interval {lo:+.3g} to {hi:+.3g})."
        if math.isfinite(broke.slope)
        else ""
    )
    return (
        f"This verdict holds unless the live sites were drifting apart from the others by "
        f"{broke.drift:.3g}{unit} a {grain} since go-live.{pre}"
    )
