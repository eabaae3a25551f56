"""Baseline: each outcome over time against the pre-AI baseline and its projection without AI."""

import streamlit as st

from analytics import charts
from analytics.charts import context_from
from analytics.ui_state import baseline_periods, fmt_count
from ui.context import current
from ui.show import chart, interval_caption, need_dataset

MIN_PERIODS = 3  # below this a projection is guesswork: said in words, not drawn as fact

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
    periods = baseline_periods(series, metric.id)
    with st.container(border=True, key=f"baseline_{metric.id}"):
        chart(charts.baseline_chart(series, row, metric, cctx), key=f"baseline_chart_{metric.id}")
        if row is None:
            st.warning(
                f"{metric.label}: only {periods} baseline {grain}(s) under these filters, too "
                "few to project what would have happened without the AI. The chart shows what "
                "was measured; widen the dates or sites for a projection."
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
interval_caption(cctx.ci_level)
