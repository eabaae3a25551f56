"""The Streamlit boundary: the one store factory and the cached analytics calls.

Cached functions take plain hashable values only (database path, dataset id and sha256, the
catalog and filters as JSON), never widgets or DataFrames, so a cache entry is exactly one
dataset content × catalog × filters. The analytics they wrap know nothing of Streamlit.
"""

from __future__ import annotations

import json
import os

import pandas as pd
import streamlit as st

from analytics.cli.commands import load_sample_if_empty
from analytics.core.catalog import read_catalog
from analytics.decide import readiness as readiness_mod
from analytics.decide.analysis import analyse, answer_first, read_stored, time_series
from analytics.decide.decisions import list_decisions
from analytics.decide.readiness import ReadinessItem
from analytics.decide.results import Results
from analytics.decide.watch import since_decision
from analytics.engine.aggregate import data_quality_by_site, summarise_dataset
from analytics.present.ui_state import Options, catalog_from_json, filters_from_json
from analytics.store.database import DEFAULT_DB, Store, open_store
from ui import handover

TTL = "1h"
# Frozen results (Results, Options, readiness items) are shared, not copied: st.cache_data
# would unpickle a whole Results on every page run (a tenth of a second on a large dataset);
# st.cache_resource hands out the one immutable object. Frames stay in st.cache_data, which
# gives each caller its own copy to change.
SHARED = st.cache_resource


def db_path() -> str:
    """The database this process serves (SCALEGATE_DB, else data/scalegate.duckdb)."""
    return os.environ.get("SCALEGATE_DB", str(DEFAULT_DB))


@st.cache_resource(show_spinner="Opening the database…")
def _store(path: str) -> Store:
    store = open_store(path)
    # First start with an empty database: show the bundled sample, not an empty page.
    load_sample_if_empty(store)
    return store


def store() -> Store:
    return _store(db_path())


@SHARED(ttl=TTL, max_entries=32, show_spinner=False)
def options(db: str, dataset_id: int, sha256: str) -> Options:
    """What the dataset offers the sidebar: its sites, channels, metrics and date span."""
    s = _store(db)
    summary = summarise_dataset(s.cursor(), dataset_id)
    catalog = read_catalog(s.cursor(), dataset_id)
    return Options(
        dataset_ids=(dataset_id,),
        sites=summary.sites,
        channels=summary.channels,
        metrics=catalog.ids,
        date_min=summary.date_min,
        date_max=summary.date_max,
    )


@SHARED(ttl=TTL, max_entries=32, show_spinner=False)
def results(
    db: str,
    dataset_id: int,
    sha256: str,
    name: str,
    catalog_json: str,
    filters_json: str,
    counterfactual: bool = True,
    why: bool = True,
) -> Results:
    """The analysis of one dataset content under one catalog and filters. Without the
    counterfactual forecasts (`counterfactual=False`) it takes half the time; without them
    and without the why sections (`why=False`) it is Home's answer, whose completion is left
    for the pages that show the why sections. Either may have been made already, by Home or
    during the load (ui/handover.py)."""
    catalog, filters = catalog_from_json(catalog_json), filters_from_json(filters_json)
    if not counterfactual:
        made = (db, dataset_id, sha256, name, catalog_json, filters_json)
        found = handover.take(made, why=why)
        if found is not None:
            return found
        if not why:
            stored = read_stored(_store(db), dataset_id, catalog, filters)
            answer, complete = answer_first(stored, catalog, filters, with_counterfactual=False)
            ahead = handover.Ahead(sha256, catalog_json, filters_json, answer, complete)
            handover.keep(db, dataset_id, ahead)
            return answer
    return analyse(_store(db), dataset_id, catalog, filters, with_counterfactual=counterfactual)


@st.cache_data(ttl=TTL, max_entries=32, show_spinner=False)
def series(
    db: str, dataset_id: int, sha256: str, catalog_json: str, filters_json: str
) -> pd.DataFrame:
    """Mean per metric, phase and period, for the time charts."""
    return time_series(
        _store(db), dataset_id, catalog_from_json(catalog_json), filters_from_json(filters_json)
    )


@st.cache_data(ttl=TTL, max_entries=32, show_spinner=False)
def quality(
    db: str, dataset_id: int, sha256: str, metric_ids: tuple[str, ...], filters_json: str
) -> pd.DataFrame:
    """Missing values and date gaps per site."""
    filters = filters_from_json(filters_json)
    return data_quality_by_site(_store(db).cursor(), dataset_id, list(metric_ids), filters)


@SHARED(ttl=TTL, max_entries=16, show_spinner=False)
def readiness(
    db: str,
    dataset_id: int,
    sha256: str,
    name: str,
    catalog_json: str,
    filters_json: str,
    decisions_seen: int,
) -> tuple[ReadinessItem, ...]:
    """The readiness questions with their evidence (decisions_seen: recorded decisions, so a
    new decision refreshes the owner's evidence)."""
    s = _store(db)
    catalog, filters = catalog_from_json(catalog_json), filters_from_json(filters_json)
    found = results(db, dataset_id, sha256, name, catalog_json, filters_json)
    past = list_decisions(s, dataset_id)
    return readiness_mod.readiness(s, dataset_id, catalog, filters, found, past)


@st.cache_data(ttl=TTL, max_entries=4, show_spinner=False)
def pack(
    db: str,
    dataset_id: int,
    sha256: str,
    name: str,
    catalog_json: str,
    filters_json: str,
    decision_json: str,
    readiness_json: str,
) -> tuple[bytes, bytes]:
    """The board pack (pptx, pdf) for one analysis and the latest decision."""
    from analytics.present import pack as pack_mod  # Altair and the pack: only when asked

    found = results(db, dataset_id, sha256, name, catalog_json, filters_json)
    readiness = json.loads(readiness_json)
    decision = json.loads(decision_json)
    return pack_mod.pack_bytes(
        found,
        catalog_from_json(catalog_json),
        decision=decision,
        readiness=[tuple(pair) for pair in readiness] if readiness else None,
        since=since_decision(_store(db), dataset_id) if decision else None,
    )


def to_json(doc: object) -> str:
    return json.dumps(doc, sort_keys=True, default=str)
