"""Sites & Channels: where production keeps the pilot's promise, where it breaks, and the data
quality behind each site."""

import streamlit as st

from analytics.core.fmt import term
from analytics.present import charts
from analytics.present.charts import context_from
from analytics.present.gap_charts import waterfall_chart
from analytics.present.gap_text import gap_caption, mix_table, representativeness_sentence
from analytics.present.load_chart import load_curve_chart
from analytics.present.ui_state import (
    SET_ASIDE,
    SET_ASIDE_HELP,
    quality_table,
    rejected_summary,
    site_lists,
    worst_slices,
)
from analytics.present.why_text import why_lines
from ui.context import current
from ui.show import chart, need_dataset, site_interval_caption
from ui.text import plain

ctx = current()
need_dataset(ctx)
catalog, info = ctx.catalog, ctx.info
assert catalog is not None and info is not None
st.title("Sites & Channels")

outcomes = [m.id for m in catalog.outcomes]
if not outcomes:
    st.info("The catalog has no outcome metric: mark one as an outcome on the Data page.")
    st.stop()
left, right = st.columns([2, 1])
metric_id = left.selectbox(
    "Outcome", outcomes, key="sites_metric", format_func=lambda m: catalog.get(m).label
)
measure = right.radio(
    "Heatmap shows",
    ["lift", "retention"],
    key="sites_measure",
    horizontal=True,
    format_func={"lift": "Improvement", "retention": "Retention of the pilot's improvement"}.get,
)

found = ctx.results(counterfactual=False)  # no forecast on this page
cctx = context_from(found)
chart(charts.site_verdict_chart(found, metric_id, cctx), key="sites_verdict_chart", method="twfe")
site_interval_caption(found)
if gap_text := gap_caption(found, metric_id):
    st.caption(plain(gap_text))
    chart(waterfall_chart(found, metric_id, cctx), key="sites_waterfall")
if rep_text := representativeness_sentence(found, metric_id):
    st.caption(plain(rep_text))
    st.dataframe(mix_table(found, metric_id), hide_index=True, key="sites_mix")
chart(charts.site_heatmap(found, metric_id, cctx, measure=measure), key="sites_heatmap")
st.caption(
    "Cells are plain before/after comparisons of one site and channel, to spot where to look; "
    "the site verdicts above come from the adjusted model, each site against its own "
    "counterfactual."
)

ready, must_fix = site_lists(found, metric_id)
ok, bad = st.columns(2)
with ok.container(border=True):
    st.markdown(f"**Ready now ({len(ready)})**")
    st.write(
        ", ".join(map(plain, ready)) if ready else "No site is ready to scale on this metric yet."
    )
with bad.container(border=True):
    st.markdown(f"**Must fix first ({len(must_fix)})**")
    st.write(
        ", ".join(map(plain, must_fix)) if must_fix else "No site needs fixing on this metric."
    )

st.subheader("Worst slices", help=term("improvement"))
st.dataframe(worst_slices(found, catalog, metric_id), hide_index=True, key="sites_worst")

st.subheader("Data quality per site")
frame, sparse = ctx.quality(int(found.dataset["rows"]))
report = ctx.store.report(info.id)
quality = quality_table(frame, report)
st.dataframe(
    quality,
    hide_index=True,
    key="sites_quality",
    column_config={
        "Missing values": st.column_config.NumberColumn(format="%.1f%%"),
        "Days gap": st.column_config.NumberColumn(
            help="Days without a row inside the site's own date span."
        ),
        SET_ASIDE: st.column_config.NumberColumn(help=SET_ASIDE_HELP),
    },
)
st.caption(
    plain(rejected_summary(report, quality["Site"].tolist()))
    + (
        " Left out of the missing share, as recorded on few rows by design: "
        + ", ".join(plain(catalog.get(m).label) for m in sparse)
        + "."
        if sparse
        else ""
    )
    + " A site with many missing values or gaps needs its data feed fixed before its "
    "verdict can be trusted."
)
st.subheader("Load, data quality and adoption")
chart(load_curve_chart(found, metric_id, cctx), key="sites_load_curve")
for line in why_lines(found, metric_id):  # load, data quality and adoption (issue 14)
    st.caption(plain(line))
