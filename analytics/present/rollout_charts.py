"""The ramp-up chart: the production effect by periods since go-live, from a RolloutRow.

One point per horizon with its interval (the level of the estimator's row), on the headline's
scale: the change relative to what the same cells would have averaged without the AI, in %.
Every horizon from the first to the last has its place on the axis (a horizon with no judged
row shows as a gap, named in the subtitle); an interval the test cannot bound is
said in the subtitle instead of vanishing. The rows behind each point are in the tooltip, a zero
line, and a title that states what the horizons show (a ramp-up, a fade, or a steady effect).
The subtitle carries the breakdown value and the pre-trend test in words.
"""

from __future__ import annotations

import math
from dataclasses import replace

import altair as alt
import pandas as pd

from analytics.decide.results import Results, RolloutRow
from analytics.present.chart_base import (
    INK,
    PHASE_COLOURS,
    WIDTH,
    AnyChart,
    ChartContext,
    _finite,
    _framed,
    empty_chart,
    metric_axis_title,
    metric_from,
    num,
    pct,
)


def _shape(row: RolloutRow) -> str:
    """'grows', 'fades' or 'holds steady': the last judged horizon against the first."""
    points = [h for h in row.event_study if math.isfinite(_lift(h))]
    if len(points) < 2:
        return ""
    first, last = _lift(points[0]), _lift(points[-1])
    spread = max(abs(first), abs(last), 1e-12)
    change = (last - first) / spread
    if abs(change) < 0.2:
        return "holds steady"
    grows = (last > first) == (first >= 0)
    return "grows" if grows else "fades"


def _lift(h) -> float:
    """A horizon's relative change (older results without it: NaN)."""
    lift = getattr(h, "lift", None)
    return float(lift) if lift is not None else float("nan")


def event_study_title(results: Results, metric_id: str) -> str:
    """'The effect on Cost per case grows after go-live', or why there is no chart."""
    metric = metric_from(results, metric_id)
    row = results.rollout(metric_id)
    if row is None or not row.event_study:
        return f"No production period of {metric.label} can be judged since go-live yet"
    shape = _shape(row)
    if not shape:
        return f"The effect on {metric.label} in the first period after go-live"
    return f"The effect on {metric.label} {shape} in the periods after go-live"


def event_study_detail(row: RolloutRow, grain: str) -> str:
    """Pre-trend test and breakdown value in plain words, for the chart's subtitle."""
    parts = []
    pt = row.pretrend or {}
    p = pt.get("p_value")
    if pt.get("leads") and p is not None and math.isfinite(p):
        verdict = "failed: the comparison may be unfair" if p < 0.05 else "passed"
        parts.append(
            f"Pre-trend check on {pt['leads']} period(s) before go-live {verdict} (p = {p:.2g})."
        )
    elif pt and pt.get("leads"):
        why = str(pt.get("note") or "").rstrip(".")
        parts.append(
            f"Pre-trend check on {pt['leads']} period(s) before go-live: no p-value"
            + (f" ({why[0].lower() + why[1:]})." if why else ".")
        )
    elif pt:
        parts.append("No period before go-live to check pre-trends on.")
    unbounded = [h.horizon for h in row.event_study if not all(map(math.isfinite, h.ci))]
    if unbounded:
        parts.append(
            f"{len(unbounded)} of {len(row.event_study)} period(s) have no bounded interval at "
            "this level: too few comparison sites for the placebo test."
        )
    missing = _missing_horizons(row)
    if missing:
        parts.append(
            "No judged row at " + ", ".join(str(m) for m in missing) + " period(s) since go-live."
        )
    b = row.breakdown or {}
    drift = b.get("drift_per_period")
    if drift is not None and math.isfinite(drift):
        parts.append(
            f"The verdict holds unless the live sites drifted {num(drift)} a {grain} since go-live."
        )
    share = row.coverage.get("share")
    if share is not None and math.isfinite(share):
        parts.append(f"{share:.0%} of production rows can be judged.")
    return " ".join(parts)


def _missing_horizons(row: RolloutRow) -> list[int]:
    have = {h.horizon for h in row.event_study}
    return [k for k in range(min(have, default=0), max(have, default=-1)) if k not in have]


def _label(h) -> str:
    return f"{h.horizon}+" if h.tail else str(h.horizon)


def event_study_frame(row: RolloutRow) -> pd.DataFrame:
    """One row per horizon: label, change in % (the verdict's scale) with its interval, the
    effect in the metric's unit, rows, sites."""
    return pd.DataFrame(
        [
            {
                "horizon": h.horizon,
                "label": _label(h),
                "change": _finite(100 * _lift(h)),
                "low": _finite(100 * h.lift_ci[0]) if hasattr(h, "lift_ci") else None,
                "high": _finite(100 * h.lift_ci[1]) if hasattr(h, "lift_ci") else None,
                "estimate": _finite(h.estimate),
                "rows": h.rows,
                "sites": h.sites,
            }
            for h in row.event_study
        ]
    )


def horizon_labels(row: RolloutRow) -> list[str]:
    """Every horizon from the first judged to the last, gaps included (the x axis)."""
    labels = {h.horizon: _label(h) for h in row.event_study}
    if not labels:
        return []
    return [labels.get(k, str(k)) for k in range(min(labels), max(labels) + 1)]


def event_study_chart(results: Results, metric_id: str, ctx: ChartContext) -> AnyChart:
    """Effect by periods since go-live with intervals: the chart that shows a ramp-up or a fade."""
    row = results.rollout(metric_id)
    if row is None or not row.event_study:
        return empty_chart(ctx, f"No production period of {metric_id} can be judged since go-live.")
    metric = metric_from(results, metric_id)
    frame = event_study_frame(row)
    grain = str((results.meta.get("filters") or {}).get("grain") or "period")
    ctx = replace(
        ctx, ci_level=row.level, method=row.estimator.get("method", ""), n=int(frame["rows"].sum())
    )
    order = horizon_labels(row)
    x = alt.X(
        "label:O",
        title=f"{grain.capitalize()}s since go-live",
        sort=order,
        scale=alt.Scale(domain=order),
        axis=alt.Axis(labelAngle=0),
    )
    y_title = f"Change in {metric.label} vs without the AI (%)"
    points = (
        alt.Chart()
        .mark_point(filled=True, size=90, color=PHASE_COLOURS["production"])
        .encode(
            x=x,
            y=alt.Y("change:Q", title=y_title),
            tooltip=[
                alt.Tooltip("label:N", title=f"{grain.capitalize()}s since go-live"),
                alt.Tooltip("change:Q", title="Change (%)", format="+.1f"),
                alt.Tooltip("low:Q", title="from (%)", format="+.1f"),
                alt.Tooltip("high:Q", title="to (%)", format="+.1f"),
                alt.Tooltip(
                    "estimate:Q", title=f"Effect ({metric_axis_title(metric)})", format=",.4g"
                ),
                alt.Tooltip("rows:Q", title="Rows", format=","),
                alt.Tooltip("sites:Q", title="Sites"),
            ],
        )
    )
    bars = alt.Chart().mark_rule(color=INK, strokeWidth=2).encode(x=x, y="low:Q", y2="high:Q")
    zero = alt.Chart().mark_rule(color="#333333").encode(y=alt.datum(0))
    chart = alt.layer(zero, bars, points, data=frame).properties(width=WIDTH - 60, height=280)
    return _framed(
        chart, event_study_title(results, metric_id), ctx, event_study_detail(row, grain)
    )


def usual_model_text(results: Results, metric_id: str) -> str:
    """'What the usual model (two-way fixed effects) says: …', for beside a verdict."""
    row = results.rollout(metric_id)
    if row is None or row.usual.get("lift") is None or not math.isfinite(row.usual["lift"]):
        return ""
    lo, hi = row.usual.get("lift_ci") or (None, None)
    level = 1 - float(results.meta.get("settings", {}).get("alpha", 0.05))
    interval = (
        f" ({level:.0%} interval {pct(lo)} to {pct(hi)})"
        if lo is not None and hi is not None and math.isfinite(lo) and math.isfinite(hi)
        else ""
    )
    label = metric_from(results, metric_id).label
    return (
        f"What the usual model (two-way fixed effects) says: {label} changes by "
        f"{pct(row.usual['lift'])}{interval}; the verdict rests on the imputation estimate."
    )


def wave_lines(results: Results, metric_id: str) -> list[str]:
    """One sentence per go-live wave: its own effect, and whether the group-time check agrees."""
    row = results.rollout(metric_id)
    if row is None:
        return []
    lines = []
    for w in row.waves:
        lo, hi = w.ci
        check = (
            f"; the group-time check says {num(w.group_time)}"
            + (", more than 2 standard errors apart: read this wave with care" if w.differs else "")
            if math.isfinite(w.group_time)
            else ""
        )
        lines.append(
            f"Wave live from {w.go_live} ({', '.join(w.sites)}; {w.rows:,} rows judged): "
            f"{num(w.estimate)} ({row.level:.0%} interval {num(lo)} to {num(hi)}){check}."
        )
    return lines
