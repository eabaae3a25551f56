"""The Data page's metric catalog editor and [settings] thresholds, saved to the database so the
analysis re-runs under them; and the catalog as a TOML file to download or upload."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import streamlit as st

from analytics.core.catalog import Catalog, apply_overrides, parse_toml, read_catalog, save_catalog
from analytics.core.errors import ScalegateError
from analytics.present.ui_state import (
    GRAINS,
    catalog_frame,
    catalog_from_frame,
    catalog_with_settings,
)
from analytics.store.database import DatasetInfo, Store
from ui.text import plain

EDITED = ", edited on the Data page"


def _save(store: Store, dataset_id: int, catalog: Catalog, what: str) -> None:
    source = catalog.source if catalog.source.endswith(EDITED) else catalog.source + EDITED
    with store.transaction() as cur:
        save_catalog(cur, dataset_id, replace(catalog, source=source))
    st.toast(f"{what} saved: the analysis re-runs under it.", icon=":material/check:")


def _catalog_columns(ids: list[str]) -> dict[str, Any]:
    """The catalog editor's columns, each with its plain-words help."""
    return {
        "id": st.column_config.TextColumn("Id"),
        "label": st.column_config.TextColumn("Label"),
        "confirmed": st.column_config.CheckboxColumn(
            "Confirmed", help="Ticked once a person has checked the kind and direction."
        ),
        "kind": st.column_config.SelectboxColumn(
            "Kind",
            options=["outcome", "process"],
            required=True,
            help="Outcomes get verdicts; process metrics explain them and can be guardrails.",
        ),
        "direction": st.column_config.SelectboxColumn(
            "Better when", options=["higher", "lower"], required=True
        ),
        "unit": st.column_config.TextColumn("Unit"),
        "min_effect": st.column_config.NumberColumn(
            "Worth scaling from",
            min_value=0.0,
            max_value=9.99,
            step=0.01,
            format="percent",
            help="The smallest relative change worth scaling for (0.05 = 5%).",
        ),
        "value_per_unit": st.column_config.NumberColumn(
            "Value per unit", help="Money per unit of the metric per case, for value at scale."
        ),
        "adds_to_total": st.column_config.CheckboxColumn(
            "Adds to total",
            help="A separate benefit: its value may be added to the others' in the total "
            "(leave it off where it overlaps another outcome, e.g. minutes saved inside cost).",
        ),
        "guardrail": st.column_config.NumberColumn(
            "Guardrail", help="A process metric's acceptable limit in production."
        ),
        "guards": st.column_config.MultiselectColumn(
            "Guards", options=ids, help="The outcomes this guardrail guards (empty: all)."
        ),
    }


def _metrics_editor(store: Store, info: DatasetInfo, catalog: Catalog) -> None:
    st.caption(f"This dataset's catalog: {plain(catalog.source)}.")
    guessed = sum(m.guessed for m in catalog.metrics)
    if guessed:
        st.warning(
            f"{guessed} metric(s) were guessed from their names (listed first): check their kind "
            "(an outcome is a business result that gets a verdict; a process metric is the AI's "
            "own performance) and which way is better, then tick Confirmed and save."
        )
        if st.button("The guesses are right: confirm them", key="data_catalog_confirm_guesses"):
            confirmed = replace(
                catalog, metrics=tuple(replace(m, guessed=False) for m in catalog.metrics)
            )
            _save(store, info.id, confirmed, "Catalog")
            st.rerun()
    ids = list(catalog.ids)
    edited = st.data_editor(
        catalog_frame(catalog),
        key=f"data_catalog_editor_{info.id}",
        hide_index=True,
        disabled=["id"],
        column_config=_catalog_columns(ids),
    )
    if st.button("Save the catalog", key="data_catalog_save", type="primary"):
        try:
            _save(store, info.id, catalog_from_frame(catalog, edited), "Catalog")
        except ScalegateError as error:
            st.error(plain(error))


def _settings_inputs(info: DatasetInfo, s: Any, columns: Sequence[Any]) -> dict[str, Any]:
    """The settings form's inputs, in three columns; their values by setting."""
    a, b, c = columns
    return {
        "alpha": a.number_input(
            "Significance level (alpha)",
            0.001,
            0.499,
            s.alpha,
            step=0.01,
            format="%.3f",
            key=f"data_settings_{info.id}_alpha",
        ),
        "min_production_rows": b.number_input(
            "Minimum production rows",
            1,
            value=s.min_production_rows,
            key=f"data_settings_{info.id}_min_rows",
        ),
        "min_production_sites": c.number_input(
            "Minimum production sites",
            1,
            value=s.min_production_sites,
            key=f"data_settings_{info.id}_min_sites",
        ),
        "retention_floor": a.number_input(
            "Retention floor",
            0.0,
            5.0,
            s.retention_floor,
            step=0.05,
            key=f"data_settings_{info.id}_retention_floor",
        ),
        "grain": b.selectbox(
            "Default time grain",
            GRAINS,
            index=GRAINS.index(s.grain),
            key=f"data_settings_{info.id}_grain",
        ),
        "annual_volume": c.number_input(
            "Annual volume (cases)",
            0.0,
            value=None if s.annual_volume is None else float(s.annual_volume),
            step=1000.0,
            placeholder="not given",
            key=f"data_settings_{info.id}_volume",
            help="Cases a year at full scale. No default: without it, no money is shown.",
        ),
        "run_cost_per_year": a.number_input(
            "Running cost a year",
            0.0,
            value=float(s.run_cost_per_year),
            step=1000.0,
            key=f"data_settings_{info.id}_run_cost",
        ),
    }


def _settings_form(store: Store, info: DatasetInfo, catalog: Catalog) -> None:
    s = catalog.settings
    with st.form(f"data_settings_{info.id}"):
        values = _settings_inputs(info, s, st.columns(3))
        if st.form_submit_button("Save the settings"):
            if values["annual_volume"] is None:
                values.pop("annual_volume")  # not given stays not given
            try:
                _save(store, info.id, catalog_with_settings(catalog, values), "Settings")
            except ScalegateError as error:
                st.error(plain(error))


def _toml_files(store: Store, info: DatasetInfo, catalog: Catalog) -> None:
    left, right = st.columns(2)
    left.download_button(
        "Download the catalog (TOML)",
        data=catalog.to_toml(),
        file_name=f"scalegate_catalog_{info.id}.toml",
        mime="application/toml",
        key="data_catalog_download",
        on_click="ignore",
        icon=":material/download:",
    )
    uploaded = right.file_uploader(
        "Upload a catalog (TOML)", type=["toml"], key=f"data_catalog_upload_{info.id}"
    )
    if uploaded is not None and right.button("Apply this catalog", key="data_catalog_apply"):
        try:
            updated, warnings = apply_overrides(catalog, parse_toml(uploaded.getvalue()))
            for warning in warnings:
                st.warning(plain(warning))
            named = replace(updated, source=f"{catalog.source}, then {uploaded.name}")
            _save(store, info.id, named, "Catalog file")
        except ScalegateError as error:
            st.error(plain(error))


def catalog_panel(store: Store, info: DatasetInfo) -> None:
    """Edit the stored catalog of one dataset (the sidebar's value inputs override the settings
    for the current view only; saving here changes the defaults)."""
    catalog = read_catalog(store.cursor(), info.id)
    st.caption(f"Catalog of {plain(info.name)}: {len(catalog.metrics)} metrics.")
    _metrics_editor(store, info, catalog)
    st.markdown("**Thresholds of the verdict rules**")
    _settings_form(store, info, catalog)
    _toml_files(store, info, catalog)
    st.caption(
        "Saving changes this dataset's defaults for everyone; the sidebar's value inputs change "
        "only the view you are looking at."
    )
