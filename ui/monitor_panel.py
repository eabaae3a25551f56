"""The Monitor page's pieces and Home's alert banner: the watch since the latest decision,
cached by the dataset's fingerprint and the acknowledgements, and the acknowledgement form.

The watch runs as `python -m analytics watch` does (analytics.decide.watch); nothing here
computes a number.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from analytics.core.errors import ScalegateError
from analytics.decide.acks import acknowledge
from analytics.decide.decisions import list_decisions
from analytics.decide.watch import watch
from analytics.decide.watch_report import Alert, WatchReport
from ui.cached import TTL, _store
from ui.context import Context
from ui.pages import PAGES
from ui.text import plain


@st.cache_data(ttl=TTL, max_entries=8, show_spinner=False)
def _watch(db: str, dataset_id: int, sha256: str, decision_id: int, acks: int, day: str):
    return watch(_store(db), dataset_id, as_of=date.fromisoformat(day))


def _acks(ctx: Context, decision_id: int) -> int:
    row = (
        ctx.store.cursor()
        .execute("SELECT count(*) FROM alert_acks WHERE decision_id = $d", {"d": decision_id})
        .fetchall()
    )
    return int(row[0][0])


def report(ctx: Context) -> WatchReport | None:
    """The watch of the chosen dataset against its latest decision; None without a decision."""
    if ctx.info is None:
        return None
    past = list_decisions(ctx.store, ctx.info.id)
    if not past:
        return None
    key = (ctx.db, ctx.info.id, ctx.info.sha256, past[0].id, _acks(ctx, past[0].id))
    with st.spinner("Checking production against the decision…"):
        return _watch(*key, date.today().isoformat())


def alert_banner(ctx: Context) -> None:
    """Home: open alerts first, each one line, with the way to the Monitor page."""
    try:
        found = report(ctx)
    except ScalegateError:
        return
    if found is None or not found.open_alerts:
        return
    for alert in found.open_alerts:
        st.error(plain(alert.message), icon=":material/notifications_active:")
    st.page_link(
        PAGES["monitor"], label="See the Monitor and acknowledge", icon=":material/monitoring:"
    )


def alert_box(ctx: Context, found: WatchReport, alert: Alert, k: int) -> None:
    """One alert with its acknowledgement (or the form to record one)."""
    with st.container(border=True, key=f"monitor_alert_{k}"):
        (st.error if alert.open else st.info)(plain(alert.message))
        if not alert.causal:
            st.caption("Not a causal estimate: a level, a guardrail or the data itself.")
        if alert.acknowledged:
            ack = alert.acknowledged
            st.caption(
                f"Acknowledged by {plain(ack['who'])} on {ack['at'][:10]}: {plain(ack['action'])}"
            )
            return
        with st.form(f"monitor_ack_{k}", border=False):
            who, action = st.columns([1, 2])
            name = who.text_input("Acknowledged by", key=f"monitor_ack_who_{k}")
            done = action.text_input("What was done", key=f"monitor_ack_action_{k}")
            if st.form_submit_button("Acknowledge"):
                try:
                    acknowledge(ctx.store, found.decision["id"], alert.key, who=name, action=done)
                except ScalegateError as error:
                    st.error(plain(error))
                else:
                    st.rerun()
