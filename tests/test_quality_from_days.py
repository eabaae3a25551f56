"""The analysis reads each site's data quality from the day cells it already holds
(aggregate.data_quality_from_days) instead of two more queries: it must give exactly what the
queries give (aggregate.data_quality_by_site, DuckDB's sums), under any filter, on a rollout
drawn row by row with missing values, days without rows and rows set aside at load."""

from __future__ import annotations

import io
from datetime import date

import numpy as np
import pandas as pd
import pytest
from rollouts import Rollout, RowPlan, simulate_rows

from analytics.core.catalog import read_catalog
from analytics.engine.aggregate import (
    Filters,
    data_quality_by_site,
    data_quality_from_days,
    summarise_days,
)
from analytics.ingest.load import Source, load_files
from analytics.store.database import Store

STARTS = (None, None, 6, 6, 8, 8, 10, 10)
PLAN = RowPlan(
    volume=np.full((len(STARTS), 16), 60),
    missing=(0, 0.01, 0.0, 0.03, 0.06, 0.10, 0.16, 0.25),
    gap_days=(0, 0, 0, 1, 2, 4, 6, 9),
    rejected=(0, 0, 0, 2, 0, 5, 9, 20),
)


@pytest.mark.parametrize(
    "filters",
    [
        Filters(),
        Filters(grain="week", sites=("S01", "S04", "S07")),
        Filters(date_from=date(2022, 5, 1), date_to=date(2022, 11, 30), channels=("all",)),
    ],
)
def test_quality_from_the_day_cells_equals_the_queries(store: Store, filters: Filters) -> None:
    rows = simulate_rows(Rollout(STARTS, periods=16, noise_sd=3.0), PLAN, np.random.default_rng(3))
    rows["second"] = rows["score"].where(np.random.default_rng(4).random(len(rows)) > 0.3)
    out = io.StringIO()
    rows.to_csv(out, index=False)
    loaded = load_files(store, [Source.from_bytes("rollout.csv", out.getvalue().encode())])
    ds = loaded.dataset_id
    ids = list(read_catalog(store.cursor(), ds).ids)
    assert {"score", "second"} <= set(ids)
    days = summarise_days(store.cursor(), ds, ids, filters)
    for metrics in (ids, ["second"], ["score", "second"]):
        queried = data_quality_by_site(store.cursor(), ds, metrics, filters)
        assert queried["missing_share"].gt(0).any()  # missing values to count
        assert queried["days_missing"].gt(0).any()  # and days without rows
        from_days = data_quality_from_days(days, ids, metrics)
        pd.testing.assert_frame_equal(from_days, queried, check_exact=True, check_dtype=False)
