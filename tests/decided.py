"""A database with the rollout history of rollout_rows.py and a go decision taken on it: the
starting point of every watch and monitor test."""

from __future__ import annotations

from pathlib import Path

import rollout_rows as rr

from analytics.core.catalog import read_catalog
from analytics.decide.analysis import analyse
from analytics.decide.decisions import record_decision
from analytics.decide.results import Results
from analytics.ingest.load import Source, load_files
from analytics.store.database import Store


def decide_on_history(path: Path, owner: str = "CFO", rationale: str = "Cost holds.") -> Results:
    """Load the history into a new database at `path`, decide go on it, close it; return the
    analysis the decision was taken on."""
    store = Store(path)
    ds = load_files(
        store, [Source.from_bytes("history.csv", rr.history())], name="Rollout",
        catalog_text=rr.CATALOG,
    ).dataset_id  # fmt: skip
    found = analyse(store, ds, read_catalog(store.cursor(), ds))
    record_decision(store, ds, decision="go", owner=owner, rationale=rationale, results=found)
    store.close()
    return found
