"""What a load did, said where the person lands after it: a load from the Data page ends on Home
(the answer on the new content), which says once what the load did and links to the full
validation report, which the Data page keeps. Small on purpose: every page imports it.

A load's end reaches the session through `landed`, a list held in the session state since
before the load began: the load appends to it (a list's append, not a Streamlit call, so it
happens even in a run that a click on another page has already replaced), and every run applies
what it holds before the sidebar reads the view (`apply_landed`, from app.py). A session then
knows of every load it stored, whichever page the person went to meanwhile."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui.datasets_panel import PENDING_MANAGE
from ui.pages import PAGES
from ui.text import plain

REPORT_KEY = "data_last_report"  # the last load's report, kept for the Data page
NOTICE_KEY = "home_load_notice"  # the dataset whose load Home reports, once
LANDED_KEY = "data_landed"  # loads stored and not yet applied to the session
LOADS_KEY = "data_loads"  # loads done in this session (the upload box's key moves on)
DETECTED_KEY = "data_detected"  # (files key, mapping, phase map) -> Detection


def landed() -> list[dict[str, Any]]:
    """The session's list of loads stored and not yet applied (made before a load starts)."""
    held: list[dict[str, Any]] = st.session_state.setdefault(LANDED_KEY, [])
    return held


def apply_landed() -> None:
    """Apply the loads stored since the last run: the report kept, the new dataset in view and
    in the Data page's panels, Home's notice, the upload box emptied."""
    held = st.session_state.get(LANDED_KEY)
    while held:
        done = held.pop(0)
        st.session_state[REPORT_KEY] = done["report"]
        st.session_state[NOTICE_KEY] = None if done["report"]["already"] else done["id"]
        st.session_state["f_pending_dataset"] = done["id"]
        st.session_state[PENDING_MANAGE] = done["id"]
        st.session_state[LOADS_KEY] = st.session_state.get(LOADS_KEY, 0) + 1
        for key in ("data_mapping", "data_phase_map", DETECTED_KEY):
            st.session_state.pop(key, None)


def loaded_sentence(held: dict[str, Any]) -> str:
    """ "Loaded as dataset NAME." (with the replacement's words when it replaced one)."""
    where = ", in the place of its old content" if held.get("replaced") else ""
    return f"Loaded as dataset {plain(held['name'])}{where}."


def loaded_notice(dataset_id: int | None) -> None:
    """On Home, the first time it shows `dataset_id` after this session loaded it: the load in
    one line, its warnings, and the way to the full report."""
    held = st.session_state.get(REPORT_KEY)
    if not held or dataset_id is None or st.session_state.get(NOTICE_KEY) != dataset_id:
        return
    st.session_state.pop(NOTICE_KEY, None)
    report = held["report"]
    st.success(
        f"{loaded_sentence(held)} Rows read {report['rows_read']:,}, loaded "
        f"{report['rows_loaded']:,}, set aside {report['rows_rejected']:,}.",
        icon=":material/check_circle:",
    )
    for warning in report.get("warnings", []):
        st.warning(plain(warning))
    st.page_link(PAGES["data"], label="The full validation report", icon=":material/fact_check:")
