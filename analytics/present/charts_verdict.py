"""Charts of the verdicts: the scorecard of every outcome, pilot against production for one."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import altair as alt
import pandas as pd

from analytics.core.catalog import Catalog, Metric
from analytics.decide.results import MetricVerdict, Results
from analytics.decide.verdict import VERDICT_LABELS
from analytics.present.chart_base import (
    INK,
    LIFT_AXIS_FORMAT,
    PHASE_COLOURS,
    PHASE_LABELS,
    WIDTH,
    AnyChart,
    ChartContext,
    _alpha,
    _finite,
    _framed,
    _level,
    _phase_colour,
    _plural,
    _unique_labels,
    _verdict_colour,
    _verdict_shape,
    _zero_rule,
    empty_chart,
    metric_from,
    pct,
)


def scorecard_title(results: Results) -> str:
    """'2 of 5 outcomes justify scaling (the pilot alone said 4)'."""
    m = len(results.verdicts)
    k = sum(v.verdict == "scale" for v in results.verdicts)
    p = sum(v.pilot_verdict == "scale" for v in results.verdicts)
    verb = _plural(k, "justifies", "justify")
    had_pilot = any(math.isfinite(v.pilot_estimate) for v in results.verdicts)
    pilot = f"the pilot alone said {p}" if had_pilot else "the data has no pilot to compare with"
    return f"{k} of {m} {_plural(m, 'outcome', 'outcomes')} {verb} scaling ({pilot})"


def _pilot_note(v: MetricVerdict) -> str:
    """What the pilot alone said beside the verdict; nothing to agree with where it has no
    estimate (a file without pilot rows)."""
    if not math.isfinite(v.pilot_estimate):
        return " (no pilot estimate)"
    if v.pilot_verdict == v.verdict:
        return " (the pilot agreed)"
    return f" (pilot alone: {VERDICT_LABELS[v.pilot_verdict]})"


def scorecard_frame(results: Results, catalog: Catalog | None = None) -> pd.DataFrame:
    """One row per outcome: adjusted lifts signed so that positive is good, and the verdicts."""
    rows = []
    verdicts = results.verdicts
    labels = _unique_labels([v.label for v in verdicts], [v.metric for v in verdicts])
    for v, label in zip(verdicts, labels, strict=True):
        metric = metric_from(results, v.metric, catalog)
        s = metric.sign
        lo, hi = (
            sorted((s * v.ci[0], s * v.ci[1])) if all(map(math.isfinite, v.ci)) else (None, None)
        )
        p_lo, p_hi = sorted((s * v.pilot_ci[0], s * v.pilot_ci[1]))
        rows.append(
            {
                "metric": v.metric,
                "label": label,
                "verdict": VERDICT_LABELS[v.verdict],
                "pilot_verdict": VERDICT_LABELS[v.pilot_verdict],
                "status": VERDICT_LABELS[v.verdict] + _pilot_note(v),
                "lift": _finite(s * v.estimate),
                "change": _finite(v.estimate),
                "lift_low": _finite(lo),
                "lift_high": _finite(hi),
                "pilot_lift": _finite(s * v.pilot_estimate),
                "pilot_low": _finite(p_lo),
                "pilot_high": _finite(p_hi),
                "min_effect": metric.min_effect,
                "direction": f"{metric.direction} is better",
            }
        )
    return pd.DataFrame(rows)


def scorecard_chart(results: Results, catalog: Catalog, ctx: ChartContext) -> AnyChart:
    """Each outcome's adjusted production lift with its interval, the pilot's, the threshold."""
    frame = scorecard_frame(results, catalog)
    if frame.empty:
        return empty_chart(ctx, "No outcome metric has been judged yet.")
    level = results.verdicts[0].ci_level
    ctx = replace(ctx, ci_level=level)
    order = frame["label"].tolist()
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelFontSize=13))
    x_title = "Improvement vs baseline, adjusted (positive = better)"
    x = alt.X("lift:Q", title=x_title, axis=alt.Axis(format=LIFT_AXIS_FORMAT))
    tooltip = [
        alt.Tooltip("label:N", title="Outcome"),
        alt.Tooltip("verdict:N", title="Verdict"),
        alt.Tooltip("lift:Q", title="Production improvement", format="+.1%"),
        alt.Tooltip("lift_low:Q", title="from", format="+.1%"),
        alt.Tooltip("lift_high:Q", title="to", format="+.1%"),
        alt.Tooltip("change:Q", title="Change in the metric", format="+.1%"),
        alt.Tooltip("pilot_lift:Q", title="Pilot improvement", format="+.1%"),
        alt.Tooltip("pilot_verdict:N", title="Pilot alone said"),
        alt.Tooltip("min_effect:Q", title="Worth scaling from", format=".0%"),
    ]
    colour = alt.Color("verdict:N", scale=_verdict_colour(), title="Verdict")
    shape = alt.Shape("verdict:N", scale=_verdict_shape(), title="Verdict")
    base = alt.Chart().encode(y=y)
    interval = base.mark_rule(strokeWidth=3).encode(
        x=alt.X("lift_low:Q", title=x_title), x2="lift_high:Q", color=colour
    )
    threshold = base.mark_tick(color=INK, thickness=2, size=22).encode(
        x=alt.X("min_effect:Q", title=x_title)
    )
    pilot = base.mark_point(
        shape="diamond",
        filled=False,
        size=150,
        strokeWidth=2,
        color=PHASE_COLOURS["pilot"],
        yOffset=-12,
    ).encode(x=alt.X("pilot_lift:Q", title=x_title))
    production = base.mark_point(filled=True, size=170, opacity=1).encode(
        x=x, color=colour, shape=shape, tooltip=tooltip
    )
    status = base.mark_text(align="left", dx=14, fontSize=12, color=INK).encode(
        x=alt.value(WIDTH - 200), text="status:N"
    )
    chart = alt.layer(
        _zero_rule(), interval, threshold, pilot, production, status, data=frame
    ).properties(width=WIDTH - 200, height=alt.Step(46))
    detail = (
        f"Filled marks: production, adjusted, with its {_level(level)} interval; "
        "open diamonds: the pilot; black ticks: the smallest improvement worth scaling."
    )
    return _framed(chart, scorecard_title(results), ctx, detail)


def pilot_vs_production_title(results: Results, metric_id: str) -> str:
    """'Production keeps 38% of the pilot's improvement on Accuracy', or what stands instead."""
    metric = metric_from(results, metric_id)
    retention = next(
        (r for r in results.retention if r.metric == metric_id and r.slice_type == "overall"), None
    )
    pilot = results.effect(metric_id, "pilot_vs_baseline")
    production = results.effect(metric_id, "production_vs_baseline")
    if retention is not None and math.isfinite(retention.retention):
        r = retention.retention
        if r < 0:
            return f"Production reverses the pilot's improvement on {metric.label} ({r:.0%} kept)"
        return f"Production keeps {r:.0%} of the pilot's improvement on {metric.label}"
    if production is None:
        return f"No production effect on {metric.label} can be estimated yet"
    better = pct(metric.sign * production.lift)
    if pilot is None:
        return f"Production improves {metric.label} by {better} (no pilot to compare)"
    return f"The pilot showed no clear improvement on {metric.label} to keep; production: {better}"


@dataclass(frozen=True, slots=True)
class PhaseEffect:
    """A phase's adjusted effect as every view shows it: the improvement (positive = better)
    with its interval, the raw change beside it, and the interval's level.

    For an outcome these are the verdict's own numbers (Bonferroni level), so the metric has
    one interval on every page and in the pack; for a process metric, the model's at 1 - alpha.
    """

    phase: str
    improvement: float
    low: float
    high: float
    change: float
    level: float
    n: int
    method: str


def phase_effects(results: Results, metric_id: str) -> list[PhaseEffect]:
    """Pilot and production effects of one metric, as `PhaseEffect`s (those that exist)."""
    sign = metric_from(results, metric_id).sign
    verdict = results.verdict(metric_id)
    out = []
    for phase, comparison in (
        ("pilot", "pilot_vs_baseline"),
        ("production", "production_vs_baseline"),
    ):
        e = results.effect(metric_id, comparison)
        if e is None:
            continue
        change, ci, level = e.lift, e.lift_ci, 1 - _alpha(results)
        if verdict is not None:
            change = verdict.pilot_estimate if phase == "pilot" else verdict.estimate
            ci = verdict.pilot_ci if phase == "pilot" else verdict.ci
            level = verdict.ci_level
        lo, hi = sorted((sign * ci[0], sign * ci[1]))
        out.append(PhaseEffect(phase, sign * change, lo, hi, change, level, e.n_a, e.method))
    return out


def _phase_layers(metric: Metric) -> tuple[alt.Chart, ...]:
    """Zero, the threshold, the two bars, their intervals and their labels (data: the layer's)."""
    y_title = f"Improvement in {metric.label} vs baseline (positive = better)"
    x = alt.X("phase:N", title=None, sort=["Pilot", "Production"], axis=alt.Axis(labelAngle=0))
    y = alt.Y("lift:Q", title=y_title, axis=alt.Axis(format=LIFT_AXIS_FORMAT))
    bars = (
        alt.Chart()
        .mark_bar(size=90)
        .encode(
            x=x,
            y=y,
            color=alt.Color("phase:N", scale=_phase_colour(("pilot", "production")), legend=None),
            tooltip=[
                alt.Tooltip("phase:N", title="Phase"),
                alt.Tooltip("lift:Q", title="Improvement", format="+.1%"),
                alt.Tooltip("low:Q", title="from", format="+.1%"),
                alt.Tooltip("high:Q", title="to", format="+.1%"),
                alt.Tooltip("change:Q", title=f"Change in {metric.label}", format="+.1%"),
                alt.Tooltip("n:Q", title="Rows", format=","),
            ],
        )
    )
    ci = (
        alt.Chart()
        .mark_rule(color=INK, strokeWidth=2)
        .encode(x=x, y=alt.Y("low:Q", title=y_title), y2="high:Q")
    )
    labels = (
        alt.Chart()
        .mark_text(dx=52, align="left", fontSize=14, fontWeight="bold")
        .encode(x=x, y="lift:Q", text="text:N")
    )
    threshold = (
        alt.Chart().mark_rule(color=INK, strokeDash=[6, 4]).encode(y=alt.datum(metric.min_effect))
    )
    zero = alt.Chart().mark_rule(color="#333333").encode(y=alt.datum(0))
    return zero, threshold, bars, ci, labels


def _phase_detail(results: Results, metric_id: str, metric: Metric) -> str:
    """The line under the chart: the threshold, the retention, the two verdicts."""
    verdict = results.verdict(metric_id)
    detail = (
        f"Dashed line: the smallest improvement worth scaling ({pct(metric.min_effect, digits=0)}); "
        f"{metric.direction} {metric.label} is better."
    )
    retention = next(
        (r for r in results.retention if r.metric == metric_id and r.slice_type == "overall"), None
    )
    if retention is not None and all(map(math.isfinite, retention.ci)):
        detail += f" Retention {retention.retention:.0%} ({retention.ci[0]:.0%} to {retention.ci[1]:.0%})."
    if verdict is not None:
        detail += (
            f" Verdict: {VERDICT_LABELS[verdict.verdict]}; the pilot alone said "
            f"{VERDICT_LABELS[verdict.pilot_verdict]}."
        )
    return detail


def pilot_vs_production_chart(results: Results, metric_id: str, ctx: ChartContext) -> AnyChart:
    """The adjusted pilot improvement beside production's, with the verdicts' intervals."""
    effects = phase_effects(results, metric_id)
    if not effects:
        return empty_chart(ctx, f"There is no adjusted effect for {metric_id}.")
    metric = metric_from(results, metric_id)
    frame = pd.DataFrame(
        [
            {
                "phase": PHASE_LABELS[p.phase],
                "lift": _finite(p.improvement),
                "low": _finite(p.low),
                "high": _finite(p.high),
                "change": _finite(p.change),
                "text": pct(p.improvement),
                "n": p.n,
                "method": p.method,
            }
            for p in effects
        ]
    )
    baseline = results.effect(metric_id, "production_vs_baseline") or results.effect(
        metric_id, "pilot_vs_baseline"
    )
    ctx = replace(
        ctx,
        ci_level=effects[-1].level,
        method=", ".join(dict.fromkeys(p.method for p in effects)),
        n=(baseline.n_b if baseline else 0) + sum(p.n for p in effects),
    )
    chart = alt.layer(*_phase_layers(metric), data=frame).properties(width=WIDTH - 160, height=300)
    detail = _phase_detail(results, metric_id, metric)
    return _framed(chart, pilot_vs_production_title(results, metric_id), ctx, detail)
