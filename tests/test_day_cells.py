"""The day cells stored at load: the same cells a GROUP BY over the cleaned rows gives, kept
in step with replace, delete and older database files."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from analytics.cli.report import effective_catalog
from analytics.core.errors import ScalegateError
from analytics.decide.analysis import analyse
from analytics.engine.aggregate import Filters, summarise_days
from analytics.ingest.load import Source, load_files
from analytics.store import day_cells
from analytics.store.database import Store
from analytics.store.migrations import SCHEMA_VERSION

# Set-aside rows (an unknown phase, no phase), non-finite values, a missing value, a row
# without a date and two rows on one day: the slow path of the load.
DIRTY = """date,phase,site,channel,cost,accuracy
2024-01-01,baseline,A,web,10,0.8
2024-01-01,baseline,A,web,12,0.9
2024-01-02,baseline,B,phone,inf,0.7
2024-01-03,testing,A,web,50,0.1
2024-01-04,,A,web,60,0.2
2024-02-01,pilot,A,web,9,NaN
2024-02-01,pilot,A,web,8,0.95
2024-03-01,production,B,phone,11,
,production,B,phone,7,0.5
"""


def _group_by_rows(cur: duckdb.DuckDBPyConnection, dataset_id: int) -> pd.DataFrame:
    """The day cells computed afresh from the stored rows (what the load must have stored)."""
    return cur.execute(
        f"SELECT phase, site, channel, date, count(*) AS rows, count(cost) AS n0, "  # noqa: S608
        "avg(cost) AS mean0, coalesce(var_samp(cost), 0) * (count(cost) - 1) AS m20, "
        "count(accuracy) AS n1, avg(accuracy) AS mean1, "
        "coalesce(var_samp(accuracy), 0) * (count(accuracy) - 1) AS m21 "
        f"FROM obs_{int(dataset_id)} GROUP BY ALL"
    ).df()


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    keys = ["phase", "site", "channel", "date"]
    frame = frame.assign(date=frame["date"].astype("datetime64[us]"))
    return frame.sort_values(keys, na_position="last").reset_index(drop=True)


def test_stored_cells_equal_a_group_by_of_the_cleaned_rows(store: Store) -> None:
    result = load_files(store, [Source.from_bytes("dirty.csv", DIRTY.encode())])
    assert result.report.rows_loaded == 7 and result.report.rows_rejected == 2
    cur = store.cursor()
    stored = summarise_days(cur, result.dataset_id, ["cost", "accuracy"])
    fresh = _group_by_rows(cur, result.dataset_id)
    pd.testing.assert_frame_equal(
        _sorted(stored)[list(fresh.columns)], _sorted(fresh), check_dtype=False
    )
    # Unweighted rows are the case w = 1: W = S2 = n, Q1 = 0, Q2 = m2, volume = rows.
    for k in (0, 1):
        assert (stored[f"w{k}"] == stored[f"n{k}"]).all()
        assert (stored[f"s2{k}"] == stored[f"n{k}"]).all()
        assert (stored[f"q1{k}"] == 0).all()
        assert (stored[f"q2{k}"] == stored[f"m2{k}"]).all()
    assert (stored["volume"] == stored["rows"]).all()
    # Worked by hand: the 1 January cell holds 10 and 12; inf and NaN were stored as missing.
    jan1 = stored[stored["date"] == pd.Timestamp("2024-01-01")].iloc[0]
    assert (jan1["rows"], jan1["n0"], jan1["mean0"], jan1["m20"]) == (2, 2, 11.0, 2.0)
    jan2 = stored[stored["date"] == pd.Timestamp("2024-01-02")].iloc[0]
    assert (jan2["n0"], jan2["n1"]) == (0, 1) and math.isnan(jan2["mean0"])
    assert int(stored["rows"].sum()) == 7 and set(stored["phase"]) == {
        "baseline",
        "pilot",
        "production",
    }


def test_filters_on_stored_cells_keep_exactly_the_filtered_rows(store: Store) -> None:
    result = load_files(store, [Source.from_bytes("dirty.csv", DIRTY.encode())])
    cur = store.cursor()
    filters = Filters(sites=("A",), date_from=pd.Timestamp("2024-01-02").date())
    stored = summarise_days(cur, result.dataset_id, ["cost"], filters)
    rows = cur.execute(
        "SELECT count(*), count(cost), avg(cost) FROM obs_1 WHERE site = 'A' AND date >= '2024-01-02'"
    ).fetchone()
    assert (int(stored["rows"].sum()), int(stored["n0"].sum())) == rows[:2]
    assert math.isclose((stored["n0"] * stored["mean0"]).sum() / stored["n0"].sum(), rows[2])


def test_a_database_of_schema_1_gets_its_day_cells_on_opening(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    store = Store(path)
    loaded = load_files(
        store, [Source.from_path(Path(__file__).parent.parent / "data" / "sample.csv")]
    )
    catalog = effective_catalog(store, loaded.dataset_id)
    before = analyse(store, loaded.dataset_id, catalog).to_dict()
    # Make it a file written before day cells were stored.
    with store.transaction() as cur:
        cur.execute(f"DROP TABLE cells_{loaded.dataset_id}")
        cur.execute("UPDATE schema_info SET version = 1")
    store.close()
    reopened = Store(path)
    cur = reopened.cursor()
    # Brought up to today's schema: day cells (step 2), then every later step.
    assert cur.execute("SELECT max(version) FROM schema_info").fetchone() == (SCHEMA_VERSION,)
    stored = summarise_days(cur, loaded.dataset_id, list(day_cells.metric_columns(cur, 1)))
    assert int(stored["rows"].sum()) == loaded.report.rows_loaded
    after = analyse(reopened, loaded.dataset_id, catalog).to_dict()
    assert after["dataset"] == before["dataset"]
    # The same verdicts and numbers (to rounding: DuckDB may add in another order in parallel).
    pairs = zip(after["verdicts"], before["verdicts"], strict=True)
    for new, old in pairs:
        assert (new["metric"], new["verdict"]) == (old["metric"], old["verdict"])
        assert math.isclose(new["estimate"], old["estimate"], rel_tol=1e-9, abs_tol=1e-12)
    reopened.close()


def test_an_upgrade_that_fails_says_so_and_changes_nothing(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "old.duckdb"
    store = Store(path)
    loaded = load_files(store, [Source.from_bytes("dirty.csv", DIRTY.encode())])
    with store.transaction() as cur:
        cur.execute(f"DROP TABLE cells_{loaded.dataset_id}")
        cur.execute("UPDATE schema_info SET version = 1")
    store.close()

    def full_disk(cur: duckdb.DuckDBPyConnection, dataset_id: int) -> None:
        raise duckdb.IOException("No space left on device")

    monkeypatch.setattr(day_cells, "build_from_table", full_disk)
    with pytest.raises(ScalegateError, match="could not be brought up to date"):
        Store(path)
    con = duckdb.connect(str(path))
    assert con.execute("SELECT max(version) FROM schema_info").fetchone() == (1,)
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert "obs_1" in tables and "cells_1" not in tables
    con.close()
