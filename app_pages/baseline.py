"""Baseline: each outcome over time against the pre-AI baseline and its projection without AI."""

import inspect

import streamlit as st

from analytics.core import fmt
from analytics.core.fmt import term
from analytics.engine.trend import forecast_counterfactual
from analytics.present import charts
from analytics.present.charts import context_from
from analytics.present.ui_state import periods_before_ai, projection_note
from ui.context import current
from ui.show import chart, need_dataset, rule_level
from ui.text import plain

# The engine's own minimum of periods before the AI for a projection (its default argument).
MIN_PERIODS = int(inspect.signature(forecast_counterfactual).parameters["min_periods"].default)

ctx = current()
need_dataset(ctx)
catalog = ctx.catalog
assert catalog is not None
st.title("Baseline")
st.write(
    "What each outcome would have been without the AI, projected from the baseline periods, "
    "against what happened."
)

found = ctx.results()
cctx = context_from(found)
series = ctx.series(all_metrics=True)
projections = {c.metric: c for c in found.counterfactual}
grain = ctx.filters.grain
shown = [m for m in catalog.outcomes if not ctx.filters.metrics or m.id in ctx.filters.metrics]
if not shown:
    st.info("No outcome metric is shown: pick one under Metrics shown in the sidebar.")
for metric in shown:
    row = projections.get(metric.id)
    periods = periods_before_ai(series, metric.id)
    with st.container(border=True, key=f"baseline_{metric.id}"):
        chart(
            charts.baseline_chart(series, row, metric, cctx),
            key=f"baseline_chart_{metric.id}",
            method="local_linear_trend",
        )
        kind, text = projection_note(
            metric.label,
            row,
            periods,
            grain,
            MIN_PERIODS,
            dated=found.dataset["date_min"] is not None,
        )
        (st.warning if kind == "warning" else st.caption)(plain(text))
st.caption(
    f"Bands are {fmt.level(rule_level(found))} intervals of the projection without the AI.",
    help=term("counterfactual"),
)
