"""Baseline: each outcome over time against the pre-AI baseline and its projection without AI."""

import inspect

import streamlit as st

from analytics import charts
from analytics.charts import context_from
from analytics.stats import forecast_counterfactual
from analytics.ui_state import fmt_count, periods_before_ai
from ui.context import current
from ui.show import chart, interval_caption, need_dataset, rule_level

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
        chart(charts.baseline_chart(series, row, metric, cctx), key=f"baseline_chart_{metric.id}")
        if row is None:
            st.warning(
                f"Too few baseline periods for {metric.label}: {periods} {grain}(s) before the "
                f"AI started, where {MIN_PERIODS} are needed to project what would have happened "
                "without it. The chart shows only what was measured."
                + (" Try the week grain in the sidebar." if grain == "month" else "")
                if periods < MIN_PERIODS
                else f"{metric.label}: the baseline cannot be projected under these filters."
            )
        else:
            lo, hi = row.ci
            st.caption(
                f"Projected from {fmt_count(row.baseline_periods)} baseline {grain}s "
                f"({row.method}). Cumulative effect {row.cumulative_effect:,.4g} "
                f"(interval {lo:,.4g} to {hi:,.4g}). {row.note}"
            )
interval_caption(rule_level(found))
