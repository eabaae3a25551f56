"""The Decision page's readiness questions and decision log."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

from analytics.decide.decision_export import export_bytes
from analytics.decide.decisions import (
    DecisionRecord,
    changes_frame,
    compare_snapshot,
    snapshot_filters,
)
from analytics.decide.readiness import ReadinessItem
from analytics.store.database import Store
from ui.context import Context
from ui.show import downloads
from ui.text import plain

SIGNALS = {
    "good": ("green", ":material/check:", "The data supports it"),
    "concern": ("orange", ":material/warning:", "The data raises a concern"),
    "unknown": ("gray", ":material/person:", "Only you can answer"),
}


def readiness_panel(items: Sequence[ReadinessItem], last: Mapping[str, Any]) -> dict[str, str]:
    """Each question with the data's evidence and a box for the user's answer (prefilled with
    the last decision's). Returns the answers as typed."""
    answers: dict[str, str] = {}
    for item in items:
        with st.container(border=True, key=f"decision_q_{item.key}"):
            color, icon, words = SIGNALS[item.signal]
            st.markdown(f"**{item.question}**")
            st.badge(words, icon=icon, color=color)  # type: ignore[arg-type]
            for line in item.evidence:
                st.markdown(f"- {plain(line)}")
            answers[item.key] = st.text_area(
                item.ask,
                value=str(last.get(item.key, "")),
                key=f"decision_answer_{item.key}",
                height=68,
            )
    return answers


def log_panel(ctx: Context, past: Sequence[DecisionRecord]) -> None:
    """Past decisions, and one decision's frozen verdicts beside today's numbers."""
    if not past:
        st.info("No decision is recorded for this dataset yet.")
        return
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
        changes_frame(compare_snapshot(chosen.snapshot, today)),
        hide_index=True,
        key="decision_changes",
    )
    st.caption(
        "Today's numbers are computed under the filters the snapshot was taken with, on the "
        "data and catalog as they are now."
    )


def download_panel(store: Store) -> None:
    """The whole decision log with each decision's snapshot, as `decisions export` writes it."""
    downloads(
        [
            (
                "Decision log (JSON Lines)",
                lambda: export_bytes(store, "jsonl"),
                "scalegate-decisions.jsonl",
                "application/jsonl",
            ),
            (
                "Decision log (CSV)",
                lambda: export_bytes(store, "csv"),
                "scalegate-decisions.csv",
                "text/csv",
            ),
        ],
        key="decision_export",
    )
    st.caption(
        "Every decision of every dataset, each with its snapshot: a copy of the audit trail "
        "that `python -m analytics decisions import` reads back into a database."
    )
