"""Decision: the readiness questions answered by evidence and by the user, and the decision log."""

from datetime import date

import streamlit as st

from analytics.decisions import (
    DECISION_KINDS,
    DECISION_LABELS,
    changes_frame,
    compare_snapshot,
    list_decisions,
    record_decision,
    snapshot_filters,
)
from analytics.errors import ScalegateError
from ui.context import current
from ui.show import need_dataset, verdict_text

SIGNALS = {
    "good": ("green", ":material/check:", "The data supports it"),
    "concern": ("orange", ":material/warning:", "The data raises a concern"),
    "unknown": ("gray", ":material/person:", "Only you can answer"),
}

ctx = current()
need_dataset(ctx)
info = ctx.info
assert info is not None
st.title("Decision")
found = ctx.results()
past = list_decisions(ctx.store, info.id)
last_answers = past[0].answers if past else {}

st.subheader("Readiness")
answers: dict[str, str] = {}
for item in ctx.readiness(len(past)):
    with st.container(border=True, key=f"decision_q_{item.key}"):
        color, icon, words = SIGNALS[item.signal]
        st.markdown(f"**{item.question}**")
        st.badge(words, icon=icon, color=color)
        for line in item.evidence:
            st.markdown(f"- {line}")
        answers[item.key] = st.text_area(
            item.ask, value=str(last_answers.get(item.key, "")), key=f"decision_answer_{item.key}"
        )

st.subheader("Record a decision")
st.caption(
    "Verdicts now: " + "; ".join(f"{v.label}: {verdict_text(v.verdict)}" for v in found.verdicts)
)
with st.form("decision_form", border=True):
    kind = st.radio(
        "Decision",
        DECISION_KINDS,
        format_func=DECISION_LABELS.get,
        key="decision_kind",
        horizontal=True,
    )
    owner_col, date_col = st.columns(2)
    owner = owner_col.text_input("Owner", key="decision_owner")
    decided_on = date_col.date_input("Date", value=date.today(), key="decision_date")
    rationale = st.text_area("Rationale", key="decision_rationale")
    submitted = st.form_submit_button("Record the decision", type="primary")
if submitted:
    try:
        record = record_decision(
            ctx.store,
            info.id,
            decision=kind,
            owner=owner,
            rationale=rationale,
            results=found,
            answers=answers,
            decided_on=decided_on,
        )
    except ScalegateError as error:
        st.error(str(error))
    else:
        st.success(
            f"Recorded: {record.label}, owned by {record.owner}, with a snapshot of "
            f"{len(found.verdicts)} verdicts."
        )
        past = list_decisions(ctx.store, info.id)

st.subheader("Decision log")
if not past:
    st.info("No decision is recorded for this dataset yet.")
    st.stop()
st.dataframe(
    [
        {
            "#": d.id,
            "Date": f"{d.decided_at:%Y-%m-%d}",
            "Decision": d.label,
            "Owner": d.owner,
            "Rationale": d.rationale,
        }
        for d in past
    ],
    hide_index=True,
    key="decision_log",
)
chosen = st.selectbox(
    "Compare a decision's snapshot with today's numbers",
    past,
    format_func=lambda d: f"#{d.id} {d.decided_at:%Y-%m-%d} {d.label} ({d.owner})",
    key="decision_compare",
)
today = ctx.results(snapshot_filters(chosen.snapshot))
st.dataframe(
    changes_frame(compare_snapshot(chosen.snapshot, today)), hide_index=True, key="decision_changes"
)
st.caption(
    "Today's numbers are computed under the filters the snapshot was taken with, on the "
    "data and catalog as they are now."
)
