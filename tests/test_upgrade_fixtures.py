"""Databases written by earlier versions still open, with their datasets, catalogs and decisions.

`tests/fixtures/schema2.duckdb` was written by the version of commit bb9bda3 (schema 2), before
any schema change of round 2 (see tests/fixtures/README.md for how). It holds two datasets: every
25th row of the sample with the sample's catalog and a recorded "go" decision, and a small weekly
helpdesk file loaded without a catalog. `schema2_results.json` is what that version's analysis
said of them. Each later schema adds a fixture here and a row to FIXTURES.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from analytics.core.catalog import read_catalog
from analytics.decide.analysis import analyse
from analytics.decide.decisions import list_decisions
from analytics.ingest.load import Source, load_files
from analytics.store.database import Store

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE_CATALOG = Path(__file__).parent.parent / "data" / "sample.catalog.toml"
DB_FIXTURES = ["schema2.duckdb"]


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
    assert set(infos) == {"Sample every 25th row", "Helpdesk weekly (no catalog)"}
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
