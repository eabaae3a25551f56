"""Scorecard: every outcome's verdict with its reasons, the pilot's verdict beside it, exports."""

import streamlit as st

from analytics.core.fmt import term
from analytics.present import charts, rollout_charts
from analytics.present.charts import context_from
from analytics.present.ui_state import NO_PILOT, has_pilot
from ui import exports
from ui.context import current
from ui.show import (
    catalog_caption,
    chart,
    interval_caption,
    level_caption,
    need_dataset,
    notes,
    value_block,
    verdict_badge,
)
from ui.text import plain

ctx = current()
need_dataset(ctx)
assert ctx.catalog is not None
st.title("Scorecard")

found = ctx.results()
piloted = has_pilot(found)
cctx = context_from(found)
figure = charts.scorecard_chart(found, ctx.catalog, cctx)
chart(figure, key="scorecard_chart", method=cctx.method)
interval_caption(found)
catalog_caption(found)

st.subheader("Why each verdict", help=term("verdict"))
for v in found.verdicts:
    with st.container(border=True, key=f"scorecard_reason_{v.metric}"):
        production, pilot = st.columns([3, 2])
        with production:
            st.markdown(f"**{plain(v.label)}**")
            verdict_badge(v.verdict)
            for reason in v.reasons:
                st.markdown(f"- {plain(reason)}")
            if v.worse_summary:
                st.caption(plain(v.worse_summary))
            for warning in v.warnings:  # coverage, pre-trends, uneven sites, breakdown value
                st.caption(plain(warning))
            if usual := rollout_charts.usual_model_text(found, v.metric):
                st.caption(plain(usual))
        with pilot:
            if not piloted:
                st.caption(f"Pilot alone: {NO_PILOT}.")
                continue
            verdict_badge(v.pilot_verdict, prefix="Pilot alone: ")
            for reason in v.pilot_reasons:  # whole, never cut
                st.caption(plain(reason))
notes(found)

st.subheader("Since go-live")
judged = [r.metric for r in found.rollouts if r.event_study]
if judged:
    labels = {v.metric: v.label for v in found.verdicts}
    ramp_id = st.selectbox(
        "Outcome", judged, key="scorecard_ramp_metric", format_func=lambda m: labels.get(m, m)
    )
    ramp = rollout_charts.event_study_chart(found, ramp_id, cctx)
    chart(ramp, key="scorecard_ramp_chart")
    level_caption(found.rollout(ramp_id).level, "each period since go-live")
    for line in rollout_charts.wave_lines(found, ramp_id):  # each scaling phase's own evidence
        st.caption(plain(line))
else:
    st.info("No production period can be judged against sites still on the baseline yet.")

st.subheader("Value at scale", help=term("value"))
value = None
if found.value_total is not None and found.value_total.priced:
    value = charts.value_chart(found, ctx.catalog, cctx)
    chart(value, key="scorecard_value_chart")
value_block(found)

st.subheader("Downloads")
exports.chart_downloads(figure, "scorecard", key="scorecard_dl_chart")
if value is not None:
    exports.chart_downloads(value, "value_at_scale", key="scorecard_dl_value")
exports.table_downloads(found, key="scorecard_dl_tables")
exports.pack_downloads(ctx, found, key="scorecard_dl_pack")
