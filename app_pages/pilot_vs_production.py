"""Pilot vs Production: how much of the pilot's lift production keeps, metric by metric."""

import streamlit as st

from analytics.core import fmt
from analytics.core.fmt import term
from analytics.present import charts, rollout_charts
from analytics.present.charts import context_from
from analytics.present.ui_state import NO_PILOT, has_pilot, pilot_production_table
from ui.context import current
from ui.show import chart, interval_caption, level_caption, need_dataset
from ui.text import plain

ctx = current()
need_dataset(ctx)
catalog = ctx.catalog
assert catalog is not None
st.title("Pilot vs Production")

shown = [m.id for m in catalog.metrics if not ctx.filters.metrics or m.id in ctx.filters.metrics]
outcomes_first = sorted(shown, key=lambda m: catalog.get(m).kind != "outcome")
metric_id = st.selectbox(
    "Metric",
    outcomes_first,
    key="pilot_metric",
    format_func=lambda m: f"{catalog.get(m).label} ({catalog.get(m).kind})",
)
metric = catalog.get(metric_id)

found = ctx.results(counterfactual=False)  # no forecast on this page
cctx = context_from(found)
phases = {p.phase: p for p in charts.phase_effects(found, metric_id)}
retention = next(
    (r for r in found.retention if r.metric == metric_id and r.slice_type == "overall"), None
)
left, middle, right = st.columns(3)
for column, phase, label in ((left, "pilot", "Pilot"), (middle, "production", "Production")):
    p = phases.get(phase)
    column.metric(
        f"{label} improvement", fmt.pct(p.improvement if p else None), help=term("adjusted")
    )
    column.caption(
        f"Change {fmt.pct(p.change)}; interval {fmt.pct_interval((p.low, p.high))} "
        f"({fmt.level(p.level)})"
        if p
        else "No estimate."
    )
right.metric(
    "Retention",
    fmt.pct(retention.retention if retention else None, signed=False, digits=0),
    help=term("retention"),
)
st.caption(
    f"Improvements in {plain(metric.label)} against the baseline (positive = better; "
    f"{metric.direction} {plain(metric.label)} is better), from the adjusted model."
)
if retention is None and not has_pilot(found):
    st.caption(f"Retention is not reported: {NO_PILOT}, so no promise to keep.")
elif retention is None:
    st.caption(
        "Retention is not reported: the pilot's own interval includes no effect, so "
        "there was no clear promise to keep."
    )
elif retention.note:
    st.caption(plain(retention.note))

chart(
    charts.pilot_vs_production_chart(found, metric_id, cctx), key="pilot_chart", method=cctx.method
)
interval_caption(found)
rollout = found.rollout(metric_id)
honest = (rollout.pilot_alone or {}).get("placebo") if rollout else None
if honest:
    where = ", ".join(plain(s) for s in rollout.pilot_alone.get("sites") or [])
    st.caption(
        f"The pilot bar is what the pilot team's own report would say (HC1 interval). What the "
        f"pilot at {where} can honestly show: rank {honest['rank']} of {honest['size']} against "
        f"the same go-live at sites still on the baseline (p = {honest['p_value']:.2g})."
    )

if rollout is not None and rollout.event_study:
    st.subheader("Since go-live")
    chart(rollout_charts.event_study_chart(found, metric_id, cctx), key="pilot_ramp_chart")
    level_caption(rollout.level, "each period since go-live")

st.subheader("Over time")
chart(charts.trend_chart(ctx.series(), metric, cctx), key="pilot_trend_chart")
st.caption(
    "Each point is a period's mean; baseline, pilot and production keep their colours "
    "on every page."
)

st.subheader("Every metric")
st.dataframe(pilot_production_table(found, catalog), hide_index=True, key="pilot_table")
