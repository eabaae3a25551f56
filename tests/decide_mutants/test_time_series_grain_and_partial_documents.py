"""Two defaults: the time series of a dataset whose catalog reads by month is by month when no
filters are given, and the sign convention is added to a results document that holds verdicts
but no effects (an older or partial document)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from test_decision_export import HELPDESK

from analytics.core.catalog import read_catalog
from analytics.decide.analysis import time_series
from analytics.decide.signs import add_improvements
from analytics.engine.aggregate import Filters
from analytics.ingest.load import Source, load_files
from analytics.store.database import Store


def test_without_filters_the_series_follows_the_catalogs_grain(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.duckdb")
    ds = load_files(
        store, [Source.from_path(HELPDESK)], catalog_text='[settings]\ngrain = "month"\n'
    ).dataset_id
    catalog = read_catalog(store.cursor(), ds)
    plain = time_series(store, ds, catalog)
    monthly = time_series(store, ds, catalog, Filters(grain="month"))
    pd.testing.assert_frame_equal(plain, monthly)
    periods = pd.to_datetime(plain["period"].dropna())
    assert len(periods) and (periods.dt.day == 1).all()  # the weekly rows pooled by month


def test_a_document_without_effects_still_gets_its_improvements() -> None:
    doc = {
        "meta": {"catalog": {"cost": {"direction": "lower"}}},
        "verdicts": [{"metric": "cost", "estimate": -0.2, "ci": [-0.3, -0.1]}],
    }
    out = add_improvements(doc)
    (verdict,) = out["verdicts"]
    assert "effects" not in out and out["meta"]["sign_convention"]
    assert verdict["improvement"] == 0.2 and verdict["improvement_ci"] == [0.1, 0.3]
