"""Data: load files as a dataset, manage the stored datasets, and edit the metric catalog."""

import streamlit as st

from ui.append_panel import append_panel
from ui.catalog_panel import catalog_panel
from ui.context import current
from ui.datasets_panel import datasets_panel
from ui.load_panel import load_panel

ctx = current()
st.title("Data")

st.subheader("Load files")
st.caption(
    "CSV (also .csv.gz), Parquet or Excel; wide (one column per metric) or long (metric, value). "
    "Several files together form one dataset and must share their columns."
)
st.caption(
    f"Uploads take up to {st.get_option('server.maxUploadSize')} MB a file. For bigger files, "
    "run Scalegate on your own machine (`make run`) and give their path or pattern here, read "
    "in place, or load them from the command line: `python -m analytics load FILE...`."
)
load_panel(ctx.store, ctx.datasets)

st.subheader("Add new data")
append_panel(ctx.store, ctx.datasets)

st.subheader("Datasets")
chosen = datasets_panel(ctx.store, ctx.datasets)

if chosen is not None:
    st.subheader("Metric catalog")
    catalog_panel(ctx.store, chosen)
