"""results.json of fixed inputs, compared with the recorded goldens in tests/golden/.

The goldens were recorded before the round-2 layout move (issue 17a: modules moved into
sub-packages, behaviour unchanged); this test proves the move changed no number. A change of
method (a new estimator, a new field) changes them on purpose: re-record with
`SCALEGATE_RECORD_GOLDEN=1 python -m pytest tests/test_results_golden.py` and review the diff.
"""

from __future__ import annotations

import gzip
import json
import math
import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from test_analysis import staggered_rows, store_rows

from analytics.core.catalog import read_catalog
from analytics.decide.analysis import analyse
from analytics.engine.aggregate import Filters
from analytics.ingest.load import Source, load_files
from analytics.store.database import Store

ROOT = Path(__file__).parent.parent
GOLDEN = Path(__file__).parent / "golden"
SAMPLE = ROOT / "data" / "sample.csv"
SAMPLE_CATALOG = (ROOT / "data" / "sample.catalog.toml").read_text(encoding="utf-8")
RECORD = os.environ.get("SCALEGATE_RECORD_GOLDEN") == "1"
# The counterfactual's state-space optimiser is not bit-reproducible across processes.
LOOSE = ("counterfactual",)


def _loaded(path: Path, catalog: str | None) -> tuple[Store, int]:
    store = Store(":memory:")
    result = load_files(store, [Source.from_path(path)], catalog_text=catalog)
    return store, result.dataset_id


def _case(name: str) -> dict[str, Any]:
    if name == "staggered":
        store, _ = store_rows(staggered_rows())
        return analyse(store, 1, read_catalog(store.cursor(), 1)).to_dict()
    if name == "helpdesk":
        store, ds = _loaded(Path(__file__).parent / "fixtures" / "helpdesk_weekly.csv", None)
        return analyse(store, ds, read_catalog(store.cursor(), ds)).to_dict()
    catalog = None if name == "sample_no_catalog" else SAMPLE_CATALOG
    store, ds = _loaded(SAMPLE, catalog)
    filters = {
        "sample_week": Filters(grain="week"),
        "sample_filtered": Filters(
            date_from=date(2024, 2, 1),
            sites=("Aarhus", "Brno", "Cluj", "Lyon", "Porto", "Tampere"),
            channels=("phone", "web"),
        ),
    }.get(name)
    return analyse(store, ds, read_catalog(store.cursor(), ds), filters).to_dict()


CASES = ("sample", "sample_week", "sample_filtered", "sample_no_catalog", "helpdesk", "staggered")


def _strip(doc: dict[str, Any]) -> dict[str, Any]:
    doc = json.loads(json.dumps(doc))
    for key in ("created_at", "version", "input_hashes"):
        doc["meta"].pop(key, None)
    return doc


def _close(a: Any, b: Any, rel: float, where: str) -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict) and sorted(a) == sorted(b), where
        for k in a:
            _close(a[k], b[k], rel, f"{where}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, rel, f"{where}[{i}]")
    elif isinstance(a, float) and isinstance(b, float | int):
        assert math.isclose(a, b, rel_tol=rel, abs_tol=rel * 1e-3), where
    else:
        assert a == b, where


@pytest.mark.parametrize("name", CASES)
def test_results_equal_the_recorded_golden(name: str) -> None:
    path = GOLDEN / f"{name}.json.gz"
    doc = _strip(_case(name))
    if RECORD:
        GOLDEN.mkdir(exist_ok=True)
        with gzip.open(path, "wt", encoding="utf-8") as f:
            json.dump(doc, f, indent=1, sort_keys=True)
    with gzip.open(path, "rt", encoding="utf-8") as f:
        golden = json.load(f)
    for section in golden:
        rel = 1e-3 if section in LOOSE else 1e-9
        _close(doc[section], golden[section], rel, section)
