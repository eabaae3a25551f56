"""Importing a decision log into a database that holds the same data under other names: every
decision is added once (the count says how many), a second import adds none, because a
decision is the same whatever the dataset is called locally."""

from __future__ import annotations

from pathlib import Path

from test_decision_export import CATALOG, HELPDESK, SAMPLE, logged  # noqa: F401 - a fixture

from analytics.decide.decision_export import export_file, import_file
from analytics.decide.decisions import list_decisions
from analytics.ingest.load import Source, load_files
from analytics.store.database import Store


def test_a_log_imports_once_into_data_stored_under_other_names(
    logged: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    log = tmp_path / "log.jsonl"
    store = Store(logged)
    export_file(store, log)
    store.close()
    fresh = Store(tmp_path / "fresh.duckdb")
    load_files(fresh, [Source.from_path(HELPDESK)], name="Support desk")
    load_files(fresh, [Source.from_path(SAMPLE)], catalog_text=CATALOG, name="Plants")
    first = import_file(fresh, log)
    assert (first.imported, first.already_there) == (3, 0)
    assert sorted(d.id for d in list_decisions(fresh)) == [1, 2, 3]
    again = import_file(fresh, log)
    assert (again.imported, again.already_there) == (0, 3)
    assert len(list_decisions(fresh)) == 3
