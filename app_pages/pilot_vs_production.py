"""Pilot vs Production: how much of the pilot's lift production keeps, metric by metric."""

import streamlit as st

from analytics.present import charts
from analytics.present.charts import context_from
from analytics.present.ui_state import fmt_ci, fmt_pct, pilot_production_table
from ui.context import current
from ui.show import chart, interval_caption, need_dataset, rule_level
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
pilot = found.effect(metric_id, "pilot_vs_baseline")
production = found.effect(metric_id, "production_vs_baseline")
retention = next(
    (r for r in found.retention if r.metric == metric_id and r.slice_type == "overall"), None
)
left, middle, right = st.columns(3)
left.metric(
    "Pilot lift",
    fmt_pct(pilot.lift if pilot else None),
    help=f"Interval {fmt_ci(pilot.lift_ci if pilot else None)}",
)
middle.metric(
    "Production lift",
    fmt_pct(production.lift if production else None),
    help=f"Interval {fmt_ci(production.lift_ci if production else None)}",
)
right.metric(
    "Retention",
    fmt_pct(retention.retention if retention else None, signed=False),
    help="The share of the pilot's lift that production keeps; reported only where the pilot "
    "clearly promised something.",
)
st.caption(
    f"Changes in {plain(metric.label)} against the baseline, from the adjusted model; "
    f"{metric.direction} is better."
)
if retention is None:
    st.caption(
        "Retention is not reported: the pilot's own interval includes no effect, so "
        "there was no clear promise to keep."
    )
elif retention.note:
    st.caption(plain(retention.note))

chart(charts.pilot_vs_production_chart(found, metric_id, cctx), key="pilot_chart")
interval_caption(rule_level(found))

st.subheader("Over time")
chart(charts.trend_chart(ctx.series(), metric, cctx), key="pilot_trend_chart")
st.caption(
    "Each point is a period's mean; baseline, pilot and production keep their colours "
    "on every page."
)

st.subheader("Every metric")
st.dataframe(pilot_production_table(found, catalog), hide_index=True, key="pilot_table")
