"""The Data page's "add this week's file to…": one file appended to a stored dataset, read as
its first load was (analytics.ingest.append); a refusal is shown as its sentence."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from analytics.core.errors import ScalegateError
from analytics.ingest.append import append_files
from analytics.ingest.load import Source
from analytics.store.database import DatasetInfo, Store
from ui.datasets_panel import PENDING_MANAGE
from ui.text import plain

_DONE = "data_append_done"  # the last append's summary, kept across the rerun that follows


def append_panel(store: Store, datasets: Sequence[DatasetInfo]) -> None:
    """Pick a dataset and a file; append; say what was added."""
    if held := st.session_state.get(_DONE):
        st.success(plain(held))
    if not datasets:
        st.caption("Load a dataset first; later files can then be added to it.")
        return
    by_id = {d.id: d for d in datasets}
    pending = st.session_state.get(PENDING_MANAGE)  # a dataset just loaded (popped further down)
    if pending in by_id:
        st.session_state["data_append_target"] = pending
    target = st.selectbox(
        "Add this week's file to…", list(by_id), key="data_append_target",
        format_func=lambda i: by_id[i].name,
    )  # fmt: skip
    upload = st.file_uploader(
        "The new file (same columns as the dataset)",
        type=["csv", "gz", "tsv", "txt", "parquet", "xlsx"],
        key=f"data_append_file_{st.session_state.get('data_append_round', 0)}",
    )
    replace = st.checkbox("Replace the days the dataset already holds", key="data_append_replace")
    if upload is None or not st.button("Add to the dataset", key="data_append_button"):
        return
    try:
        result = append_files(
            store, target, [Source.from_bytes(upload.name, upload.getvalue())],
            replace_overlap=replace,
        )  # fmt: skip
    except ScalegateError as error:
        st.error(plain(error))
        return
    st.session_state[_DONE] = result.summary()
    st.session_state["data_append_round"] = st.session_state.get("data_append_round", 0) + 1
    st.session_state["f_pending_dataset"] = result.dataset_id
    st.rerun()
