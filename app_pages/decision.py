"""Decision: the readiness questions answered by evidence and by the user, and the decision log."""

from datetime import date

import streamlit as st

from analytics.core.errors import ScalegateError
from analytics.decide.decisions import (
    DECISION_KINDS,
    DECISION_LABELS,
    list_decisions,
    record_decision,
)
from analytics.present.gap_text import why_sentence
from ui.context import current
from ui.decision_panel import download_panel, log_panel, readiness_panel
from ui.show import need_dataset, verdict_text
from ui.text import plain

ctx = current()
need_dataset(ctx)
info = ctx.info
assert info is not None
st.title("Decision")
found = ctx.results()
past = list_decisions(ctx.store, info.id)

st.subheader("Readiness")
st.caption(
    "Six questions a scale decision must answer. The data answers what it can; the rest is "
    "yours to write, and is kept with the decision."
)
answers = readiness_panel(ctx.readiness(len(past)), past[0].answers if past else {})

st.subheader("Record a decision")
st.caption(
    "Verdicts now: "
    + "; ".join(f"{plain(v.label)}: {verdict_text(v.verdict)}" for v in found.verdicts)
)
for v in found.verdicts:
    if why := why_sentence(found, v.metric):
        st.caption(f"{plain(v.label)}. {plain(why)}")
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
    decided_on = date_col.date_input(
        "Date", value=date.today(), key="decision_date", format="YYYY-MM-DD"
    )
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
        st.error(plain(error))
    else:
        st.success(
            f"Recorded: {plain(record.label)}, owned by {plain(record.owner)}, with a snapshot of "
            f"{len(found.verdicts)} verdicts."
        )
        past = list_decisions(ctx.store, info.id)

st.subheader("Decision log")
log_panel(ctx, past)
download_panel(ctx.store)
