"""The shared sidebar: dataset, dates, sites, channels, metrics, grain, and value-at-scale inputs.

Widget values live in session state under `f_*` keys, so they survive page changes, and the view
is written to the URL on every run (navigation clears the query string), so the address bar
always holds a link that reopens this exact view. The URL is read once, on a session's first run.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import streamlit as st

from analytics.core.catalog import Catalog, read_catalog
from analytics.engine.aggregate import Filters
from analytics.present.ui_state import (
    GRAINS,
    QUERY_KEYS,
    Options,
    View,
    fit_view,
    view_from_query,
    view_to_query,
)
from analytics.store.database import DatasetInfo, Store
from ui import cached
from ui.context import Context, publish

_SEEDED = "f_seeded"  # the URL has been read for this session
_FOR = "f_for"  # (dataset id, sha256, catalog defaults) the widgets were set up for


def _url_view() -> View:
    return view_from_query({k: st.query_params.get_all(k) for k in QUERY_KEYS})


def _write_url(view: View) -> None:
    wanted = view_to_query(view)
    now = {k: st.query_params.get_all(k) for k in st.query_params}
    normalised = {k: v if isinstance(v, list) else [v] for k, v in wanted.items()}
    if now != normalised:
        st.query_params.from_dict(wanted)


def _setup_widgets(view: View, options: Options, catalog: Catalog) -> None:
    """Put a (fitted) view into the widgets' session state before they are drawn."""
    ss = st.session_state
    v = fit_view(view, options)
    if options.date_min and options.date_max:
        ss["f_dates"] = (v.date_from or options.date_min, v.date_to or options.date_max)
    ss["f_sites"] = list(v.sites)
    ss["f_channels"] = list(v.channels)
    ss["f_metrics"] = list(v.metrics)
    settings = catalog.settings
    ss["f_grain"] = v.grain or settings.grain
    volume = v.annual_volume if v.annual_volume is not None else settings.annual_volume
    ss["f_volume"] = None if volume is None else float(volume)
    ss["f_cost"] = float(v.run_cost if v.run_cost is not None else settings.run_cost_per_year)


def _keep_valid(options: Options) -> None:
    """Drop stale choices (a renamed site, a metric no longer there) before widgets see them."""
    ss = st.session_state
    for key, offered in (
        ("f_sites", options.sites),
        ("f_channels", options.channels),
        ("f_metrics", options.metrics),
    ):
        ss[key] = [x for x in ss.get(key, []) if x in offered]
    dates = ss.get("f_dates")
    if options.date_min and options.date_max and (not dates or len(dates) == 0):
        ss["f_dates"] = (options.date_min, options.date_max)


def _dates(options: Options) -> tuple[Any, Any]:
    if not (options.date_min and options.date_max):
        return None, None
    chosen = st.date_input(
        "Dates",
        key="f_dates",
        min_value=options.date_min,
        max_value=options.date_max,
        format="YYYY-MM-DD",
        # A typed date commits on blur; a rerun then would race the click that blurred it and
        # take that page link's click (#17). Held until the next rerun: Apply, or that click.
        on_change="ignore",
        help="Only rows between these dates are analysed.",
    )
    st.button("Apply dates", key="f_dates_apply", help="Or click a page: it opens on these dates.")
    chosen = tuple(chosen) if isinstance(chosen, list | tuple) else (chosen,)
    start = chosen[0] if chosen else None
    end = chosen[1] if len(chosen) > 1 else None  # half-picked range: keep the end open
    return start, end


def _metric_label(catalog: Catalog):
    labels = {m.id: m.label for m in catalog.metrics}
    return lambda metric_id: labels.get(metric_id, metric_id)


def _chosen_dataset(by_id: dict[int, DatasetInfo], first: int) -> View | None:
    """Put the dataset to show in the selectbox's state (the address on a session's first run,
    a dataset a load just made, else the one shown); return the address's view on that run."""
    ss = st.session_state
    url_view = None
    if not ss.get(_SEEDED):
        url_view = _url_view()
        ss[_SEEDED] = True
        if url_view.dataset_id in by_id:
            ss["f_dataset"] = url_view.dataset_id
    pending = ss.pop("f_pending_dataset", None)  # a load just made or replaced this one
    if pending in by_id:
        ss["f_dataset"] = pending
    if ss.get("f_dataset") not in by_id:
        ss["f_dataset"] = first
    return url_view


def _value_inputs() -> tuple[float | None, float]:
    st.subheader("Value at scale")
    volume = st.number_input(
        "Annual volume (cases a year)",
        min_value=0.0,
        step=1000.0,
        key="f_volume",
        placeholder="not given",
        help="Cases a year at full scale. There is no default: without it, value at scale "
        "says what it needs instead of an amount.",
    )
    cost = st.number_input(
        "Running cost a year",
        min_value=0.0,
        step=1000.0,
        key="f_cost",
        help="What the AI costs to run at full scale; netted once, from the counted total.",
    )
    return volume, cost


def _filters(options: Options, catalog: Catalog) -> dict[str, Any]:
    """The filter widgets; their values by View field."""
    date_from, date_to = _dates(options)
    sites = st.multiselect("Sites", options.sites, key="f_sites", placeholder="All sites")
    channels = st.multiselect(
        "Channels", options.channels, key="f_channels", placeholder="All channels"
    )
    metrics = st.multiselect(
        "Metrics shown",
        options.metrics,
        key="f_metrics",
        placeholder="All metrics",
        format_func=_metric_label(catalog),
        help="Hiding a metric never changes another metric's verdict.",
    )
    grain = st.radio("Time grain", GRAINS, key="f_grain", horizontal=True)
    return {
        "date_from": date_from,
        "date_to": date_to,
        "sites": tuple(sites),
        "channels": tuple(channels),
        "metrics": tuple(metrics),
        "grain": grain,
    }


def _empty(db: str, store: Store) -> Context:
    st.sidebar.info("No dataset yet: load the sample or a file on the Data page.")
    ctx = Context(db, store, (), None, None, View(), Filters())
    _write_url(View())
    publish(ctx)
    return ctx


def render() -> Context:
    """Draw the sidebar filters and publish this run's Context."""
    db, store = cached.db_path(), cached.store()
    datasets = tuple(store.datasets())
    if not datasets:
        return _empty(db, store)
    by_id = {d.id: d for d in datasets}
    url_view = _chosen_dataset(by_id, datasets[0].id)
    with st.sidebar:
        st.subheader("View")
        dataset_id = st.selectbox(
            "Dataset", list(by_id), key="f_dataset", format_func=lambda i: by_id[i].name
        )
        info: DatasetInfo = by_id[dataset_id]
        catalog = read_catalog(store.cursor(), dataset_id)
        options = replace(cached.options(db, dataset_id, info.sha256), dataset_ids=tuple(by_id))
        s = catalog.settings
        setup_for = (dataset_id, info.sha256, s.grain, s.annual_volume, s.run_cost_per_year)
        if st.session_state.get(_FOR) != setup_for:
            _setup_widgets(url_view or View(), options, catalog)
            st.session_state[_FOR] = setup_for
        else:
            _keep_valid(options)
        chosen = _filters(options, catalog)
        volume, cost = _value_inputs()
        st.caption("The address bar holds this view: copy it to share.")
    grain = chosen.pop("grain")
    view = fit_view(
        View(
            dataset_id=dataset_id,
            **chosen,
            grain=grain if grain != s.grain else None,
            annual_volume=volume if volume != s.annual_volume else None,
            run_cost=cost if cost != s.run_cost_per_year else None,
        ),
        options,
    )
    effective = replace(
        catalog,
        settings=replace(s, grain=grain, annual_volume=volume, run_cost_per_year=cost),
    )
    ctx = Context(db, store, datasets, info, effective, view, view.filters(grain))
    _write_url(view)
    publish(ctx)
    return ctx
