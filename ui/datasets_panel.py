"""The Data page's list of stored datasets, with rename and delete (replace is a load option)."""

from __future__ import annotations

import streamlit as st

from analytics.core.errors import ScalegateError
from analytics.store.database import DatasetInfo, Store
from ui.text import plain

PENDING_MANAGE = "data_manage_pending"  # a dataset just loaded: manage it next


def datasets_table(datasets: tuple[DatasetInfo, ...]) -> list[dict[str, object]]:
    return [
        {
            "Id": d.id,
            "Name": d.name,
            "Rows": d.rows,
            "Set aside": d.rejected,
            "Loaded": f"{d.loaded_at:%Y-%m-%d %H:%M}",
            "Source": d.source,
            "Content": d.sha256[:12],
        }
        for d in datasets
    ]


def datasets_panel(store: Store, datasets: tuple[DatasetInfo, ...]) -> DatasetInfo | None:
    """List the datasets; rename or delete one. Returns the one picked for the catalog editor."""
    if not datasets:
        st.info("No dataset is stored yet: load one above.")
        return None
    st.dataframe(
        datasets_table(datasets),
        hide_index=True,
        key="data_datasets_table",
        column_config={
            "Rows": st.column_config.NumberColumn(format="localized"),
            "Set aside": st.column_config.NumberColumn(format="localized"),
        },
    )
    by_id = {d.id: d for d in datasets}
    pending = st.session_state.pop(PENDING_MANAGE, None)
    if pending in by_id:
        st.session_state["data_manage_dataset"] = pending
    chosen = by_id[
        st.selectbox(
            "Dataset to manage",
            list(by_id),
            key="data_manage_dataset",
            format_func=lambda i: f"{by_id[i].name} (id {i})",
        )
    ]
    rename, delete = st.columns([3, 2], vertical_alignment="bottom")
    new_name = rename.text_input("New name", value=chosen.name, key=f"data_rename_{chosen.id}")
    if rename.button("Rename", key="data_rename_button"):
        try:
            store.rename(chosen.id, new_name)
        except ScalegateError as error:
            st.error(plain(error))
        else:
            st.rerun()
    sure = delete.checkbox(
        "I want to delete it, with its catalog and decisions", key=f"data_delete_sure_{chosen.id}"
    )
    if delete.button("Delete", key="data_delete_button", disabled=not sure, type="secondary"):
        store.delete(chosen.id)
        st.toast(f"Deleted {plain(chosen.name)}.", icon=":material/delete:")
        st.rerun()
    return chosen
