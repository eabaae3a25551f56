"""What a load did, said where the person lands after it: a load from the Data page ends on Home
(the answer on the new content), which says once what the load did and links to the full
validation report, which the Data page keeps. Small on purpose: Home imports it."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui.pages import PAGES
from ui.text import plain

REPORT_KEY = "data_last_report"  # the last load's report, kept for the Data page
NOTICE_KEY = "home_load_notice"  # the dataset whose load Home reports, once


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
