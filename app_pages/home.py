"""Home: the answer first, one row per outcome metric, then the state of the data."""

import streamlit as st

from analytics.cli.commands import load_sample_if_empty
from analytics.core.fmt import term
from analytics.decide.verdict import VERDICT_LABELS
from analytics.present.ui_state import answers, status_items, verdict_counts
from ui.context import current
from ui.load_notice import loaded_notice
from ui.monitor_panel import alert_banner
from ui.pages import PAGES
from ui.show import catalog_caption, interval_caption, value_block, verdict_badge
from ui.text import plain

ctx = current()
st.title("Does the pilot's evidence justify scaling?")

if not ctx.ready:
    st.info(
        "There is no data yet. Load the bundled sample (an AI rollout across 12 plants) to see "
        "how Scalegate answers, or upload your own pilot and production data."
    )
    if st.button("Load the sample", key="home_load_sample", type="primary"):
        with st.spinner("Loading the sample…"):
            load_sample_if_empty(ctx.store)
        st.rerun()
    st.page_link(PAGES["data"], label="Upload your own file", icon=":material/upload:")
    st.stop()

alert_banner(ctx)  # open alerts since the decision come first
loaded_notice(ctx.info.id if ctx.info else None)  # just loaded: what the load did, once
assert ctx.catalog is not None
guessed = sum(m.guessed for m in ctx.catalog.metrics)
if guessed:
    st.warning(
        f"{guessed} metrics were guessed: check them"
        if guessed > 1
        else "1 metric was guessed: check it",
        icon=":material/help:",
    )
    st.caption(
        "Whether a metric is a business outcome or the AI's own performance, and which way is "
        "better, were guessed from its name. Confirm them in the catalog on the Data page."
    )
    st.page_link(PAGES["data"], label="Check the guessed metrics", icon=":material/checklist:")

found = ctx.results(counterfactual=False, why=False)  # no forecast, no why: the answer sooner
counts = verdict_counts(found)
st.write(
    "Across "
    + f"{len(found.verdicts)} outcome metrics: "
    + ", ".join(f"{n} {VERDICT_LABELS[k].lower()}" for k, n in counts.items() if n)
    + "."
)

assert ctx.catalog is not None
interval_caption(found)
for answer in answers(found, ctx.catalog):
    with st.container(border=True, key=f"home_answer_{answer.metric}"):
        name, pilot, production, keeps = st.columns([3, 2, 2, 2], vertical_alignment="center")
        with name:
            st.markdown(f"**{plain(answer.label)}**")
            verdict_badge(answer.verdict)
        pilot.metric("Pilot promised", answer.promised, help=term("improvement"))
        pilot.caption(f"Pilot alone: {answer.pilot_label}")
        production.metric("Production delivers", answer.delivered, help=term("adjusted"))
        production.caption(
            f"Interval {answer.delivered_ci}; change {answer.change}", help=term("interval")
        )
        keeps.metric("Retention", answer.retention, help=term("retention"))
        st.caption(plain(answer.plain))
        for reason in answer.reasons:  # whole: the decisive fact first
            st.markdown(f"- {plain(reason)}")
st.caption(
    "Improvements are signed so that positive is better: a cost that falls 14% shows as +14%, "
    "its change as -14%.",
    help=term("change"),
)
st.subheader("Value at scale")
value_block(found)
catalog_caption(found)

if found.notes:
    st.caption("Some metrics could not be estimated everywhere: see Scorecard for the notes.")
st.page_link(
    PAGES["scorecard"],
    label="See the scorecard and download the board pack",
    icon=":material/fact_check:",
)

st.subheader("Data status")
assert ctx.info is not None
st.caption(
    f"Dataset {plain(ctx.info.name)}, one of {len(ctx.datasets)} stored; "
    f"{ctx.info.rejected:,} rows were set aside at load. The numbers below follow the filters."
)
items = status_items(found.dataset)
for row in (items[:4], items[4:]):
    for column, (label, value) in zip(st.columns(4), row, strict=True):
        column.metric(label, value)
