"""Databases written by earlier versions still open, with their datasets, catalogs and decisions.

`tests/fixtures/schema2.duckdb` was written by the version of commit bb9bda3 (schema 2), before
any schema change of round 2 (see tests/fixtures/README.md for how). It holds two datasets: every
25th row of the sample with the sample's catalog and a recorded "go" decision, and a small weekly
helpdesk file loaded without a catalog. `schema2_results.json` is what that version's analysis
said of them. Each later schema adds a fixture here and a row to FIXTURES.

`tests/fixtures/schema3.duckdb` was written by schema 3 (weighted day cells): the same two
datasets and decision, and a weighted weekly helpdesk export (a `weight` column of contacts)
with a recorded "fix first" decision; `schema3_results.json` is that version's dataset block,
effects and verdicts of the weighted dataset.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from analytics.core.catalog import read_catalog
from analytics.decide.analysis import analyse
from analytics.decide.decisions import list_decisions
from analytics.engine.aggregate import summarise_days
from analytics.ingest.load import Source, load_files
from analytics.store import day_cells
from analytics.store.database import Store

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE_CATALOG = Path(__file__).parent.parent / "data" / "sample.catalog.toml"
DB_FIXTURES = ["schema2.duckdb", "schema3.duckdb"]
WEIGHTED = "Helpdesk by contacts (weighted)"


@pytest.fixture(params=DB_FIXTURES)
def old_db(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A copy of an old database (opening may upgrade it; the fixture itself never changes)."""
    path = tmp_path / request.param
    shutil.copyfile(FIXTURES / request.param, path)
    return path


def _expected() -> dict[str, Any]:
    return json.loads((FIXTURES / "schema2_results.json").read_text(encoding="utf-8"))


def test_old_database_keeps_its_datasets_and_catalogs(old_db: Path) -> None:
    store = Store(old_db)
    infos = {d.name: d for d in store.datasets()}
    assert set(infos) - {WEIGHTED} == {"Sample every 25th row", "Helpdesk weekly (no catalog)"}
    assert infos["Sample every 25th row"].rows == 6000
    assert infos["Helpdesk weekly (no catalog)"].rows == 24
    expected = _expected()
    for key, name in (
        ("sample", "Sample every 25th row"),
        ("helpdesk", "Helpdesk weekly (no catalog)"),
    ):
        catalog = read_catalog(store.cursor(), infos[name].id)
        recorded = expected[key]["meta"]["catalog"]
        assert [m.id for m in catalog.metrics] == list(recorded)
        for metric in catalog.metrics:
            was = recorded[metric.id]
            assert (metric.kind, metric.direction, metric.value_per_unit, metric.guardrail) == (
                was["kind"],
                was["direction"],
                was["value_per_unit"],
                was["guardrail"],
            )


def test_old_database_keeps_its_decision_and_snapshot(old_db: Path) -> None:
    store = Store(old_db)
    sample = store.dataset("Sample every 25th row")
    (decision,) = list_decisions(store, sample.id)
    assert (decision.decision, decision.owner) == ("go", "Fixture CFO")
    assert decision.rationale == "Cost per case holds up; revisit tickets."
    assert decision.decided_at.isoformat() == "2025-02-03T10:30:00"
    snapped = {v["metric"]: v["verdict"] for v in decision.snapshot["verdicts"]}
    recorded = {v["metric"]: v["verdict"] for v in _expected()["sample"]["verdicts"]}
    assert snapped == recorded


def test_old_database_analyses_as_a_fresh_load_of_the_same_file(old_db: Path) -> None:
    """The stored dataset, upgraded, gives today's analysis exactly as the same file loaded today."""
    store = Store(old_db)
    stored = store.dataset("Sample every 25th row")
    old = analyse(store, stored.id, read_catalog(store.cursor(), stored.id)).to_dict()
    fresh_store = Store(":memory:")
    fresh = load_files(
        fresh_store,
        [Source.from_path(FIXTURES / "sample_every25th.csv.gz")],
        catalog_text=SAMPLE_CATALOG.read_text(encoding="utf-8"),
    )
    new = analyse(
        fresh_store, fresh.dataset_id, read_catalog(fresh_store.cursor(), fresh.dataset_id)
    ).to_dict()
    assert old["dataset"]["rows"] == new["dataset"]["rows"] == 6000
    assert old["dataset"]["sites"] == new["dataset"]["sites"]
    for a, b in zip(old["verdicts"], new["verdicts"], strict=True):
        assert (a["metric"], a["verdict"]) == (b["metric"], b["verdict"])
        assert a["estimate"] == pytest.approx(b["estimate"], rel=1e-9, abs=1e-12)
    recorded = _expected()["sample"]["dataset"]
    assert (old["dataset"]["date_min"], old["dataset"]["date_max"]) == (
        recorded["date_min"],
        recorded["date_max"],
    )
    assert old["dataset"]["phases"] == recorded["phases"]


def test_every_dataset_has_weighted_day_cells_equal_to_a_fresh_build(old_db: Path) -> None:
    """After opening, every dataset's day cells are in the weighted format (schema 3) and equal
    the cells built afresh from its rows (for unweighted rows: W = S2 = n, Q1 = 0, Q2 = m2)."""
    store = Store(old_db)
    cur = store.cursor()
    for info in store.datasets():
        assert day_cells.has_weight_sums(cur, info.id)
        metrics = day_cells.metric_columns(cur, info.id)
        stored = summarise_days(cur, info.id, metrics)
        with store.transaction() as tx:
            day_cells.build_from_table(tx, info.id)
        fresh = summarise_days(cur, info.id, metrics)
        keys = ["phase", "site", "channel", "date"]
        stored, fresh = (f.sort_values(keys).reset_index(drop=True) for f in (stored, fresh))
        pd.testing.assert_frame_equal(stored, fresh, check_exact=False, rtol=1e-12)
        if not day_cells.is_weighted(cur, info.id):
            for k in range(len(metrics)):
                assert (stored[f"w{k}"] == stored[f"n{k}"]).all()
                assert (stored[f"q1{k}"] == 0).all()
                assert (stored[f"q2{k}"] == stored[f"m2{k}"]).all()


def test_the_weighted_dataset_of_schema_3_keeps_its_weights_and_decision(tmp_path: Path) -> None:
    """schema3.duckdb's weighted dataset, opened by today's version, analyses as the same rows
    stored afresh, and its recorded dataset block and unadjusted effects are unchanged."""
    from weighted_panels import RESOLUTION_CATALOG, peak_week_rows, store_weighted

    copy = tmp_path / "schema3.duckdb"
    shutil.copyfile(FIXTURES / "schema3.duckdb", copy)
    store = Store(copy)
    info = store.dataset(WEIGHTED)
    assert day_cells.is_weighted(store.cursor(), info.id)
    (decision,) = list_decisions(store, info.id)
    assert (decision.decision, decision.owner) == ("fix_first", "Fixture COO")
    old = analyse(store, info.id, read_catalog(store.cursor(), info.id)).to_dict()
    fresh_store, ds = store_weighted(
        peak_week_rows(0), ("resolution_rate",), RESOLUTION_CATALOG, name=WEIGHTED
    )
    new = analyse(fresh_store, ds, read_catalog(fresh_store.cursor(), ds)).to_dict()
    recorded = json.loads((FIXTURES / "schema3_results.json").read_text(encoding="utf-8"))
    assert old["dataset"] == new["dataset"] == recorded["dataset"]
    assert old["dataset"]["volume"] == 253958.0 and old["dataset"]["cadence"] == "weekly"
    for a, b in zip(old["verdicts"], new["verdicts"], strict=True):
        assert (a["metric"], a["verdict"], a["method"]) == (b["metric"], b["verdict"], b["method"])
        assert a["estimate"] == pytest.approx(b["estimate"], rel=1e-9)
    was = [e for e in recorded["effects"] if not e["adjusted"]]
    now = [e for e in old["effects"] if not e["adjusted"]]
    assert len(was) == len(now) > 0
    for a, b in zip(was, now, strict=True):
        assert set(a) <= set(b)  # later versions add fields (improvement, direction) beside them
        for key, value in a.items():
            numeric = isinstance(value, float) or key.endswith("_ci")
            assert b[key] == (pytest.approx(value, rel=1e-9) if numeric else value)


def test_money_nobody_gave_is_marked_not_given_on_upgrade(old_db: Path) -> None:
    """Schema 2 stored an annual volume of 120,000 for every dataset. The sample was loaded with
    its catalog (which gives that volume and the values): kept. The helpdesk file was loaded
    without one: its volume becomes "not given", and no money is shown for it."""
    store = Store(old_db)
    assert store.cursor().execute("SELECT max(version) FROM schema_info").fetchone()[0] >= 4
    sample = store.dataset("Sample every 25th row")
    helpdesk = store.dataset("Helpdesk weekly (no catalog)")
    kept = read_catalog(store.cursor(), sample.id)
    assert kept.settings.annual_volume == 120_000 and kept.settings.run_cost_per_year == 150_000
    assert kept.source != "keyword guesses"
    assert kept.get("minutes_saved").value_per_unit == 0.75
    assert not any(m.adds_to_total for m in kept.metrics)  # nobody said they add up
    cleared = read_catalog(store.cursor(), helpdesk.id)
    assert cleared.settings.annual_volume is None and cleared.source == "keyword guesses"
    found = analyse(store, helpdesk.id, cleared)
    assert found.value_at_scale == () and found.value_total.needs
    priced = analyse(store, sample.id, kept)
    assert {r.metric for r in priced.value_at_scale} == {
        "cost_per_case_eur",
        "minutes_saved",
        "error_rate",
        "revenue_per_case_eur",
        "support_tickets",
    }
    assert priced.value_total.counted == ()  # no outcome is marked as a separate benefit yet


def test_the_automatic_value_of_a_money_column_goes_without_a_catalog() -> None:
    """A schema-2 dataset loaded without a catalog had value 1 per unit on its money columns:
    step 4 clears it; a value a catalog gave (not 1, or not a money column) stays."""
    import duckdb

    from analytics.store.migrations import LEDGER

    con = duckdb.connect(":memory:")
    con.execute(
        "CREATE TABLE datasets (id INTEGER, settings JSON); CREATE TABLE metrics (dataset_id "
        "INTEGER, position INTEGER, metric_id VARCHAR, label VARCHAR, unit VARCHAR, kind VARCHAR,"
        " direction VARCHAR, min_effect DOUBLE, value_per_unit DOUBLE, guardrail DOUBLE, guards "
        "JSON, guessed BOOLEAN)"
    )
    defaults = json.dumps({"alpha": 0.05, "grain": "month", "annual_volume": 120000.0})
    catalogued = json.dumps({"alpha": 0.05, "grain": "month", "annual_volume": 120000.0,
                             "run_cost_per_year": 9.0})  # fmt: skip
    con.execute("INSERT INTO datasets VALUES (1, $a), (2, $b)", {"a": defaults, "b": catalogued})
    for ds in (1, 2):
        con.execute(
            "INSERT INTO metrics VALUES ($ds, 0, 'cost_eur', 'Cost (EUR)', 'EUR', 'outcome', "
            "'lower', 0.05, 1.0, NULL, NULL, false)",
            {"ds": ds},
        )
    LEDGER[4][1](con)
    rows = con.execute(
        "SELECT dataset_id, value_per_unit, adds_to_total FROM metrics ORDER BY 1"
    ).fetchall()
    assert rows == [(1, None, False), (2, 1.0, False)]
    stored = con.execute("SELECT settings FROM datasets ORDER BY id").fetchall()
    settings = [json.loads(r[0]) for r in stored]
    assert settings[0]["annual_volume"] is None and settings[1]["annual_volume"] == 120000.0
    assert settings[0]["catalog_source"] == "keyword guesses"
