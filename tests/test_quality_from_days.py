"""The analysis reads each site's data quality from the day cells it already holds
(aggregate.data_quality_from_days) instead of two more queries: it must give exactly what the
queries give (aggregate.data_quality_by_site, DuckDB's sums), under any filter, on a rollout
drawn row by row with missing values, days without rows and rows set aside at load; and the
gaps per site, now counted for all sites at once, against a plain count per site."""

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
from analytics.engine.cadence import DAILY, MONTHLY, WEEKLY, gaps_by_site
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


@pytest.mark.parametrize("cadence", [DAILY, WEEKLY, MONTHLY])
def test_gaps_by_site_equal_a_count_per_site(cadence) -> None:
    """Periods without data inside each site's span, against a plain count per site: the
    periods from first to last date minus those with a date (sites without a date: 0)."""
    rng = np.random.default_rng(len(cadence.name))
    n = 400
    frame = pd.DataFrame(
        {
            "site": rng.choice(["Lyon", "Brno", "Aarhus", "Cluj"], n),
            "date": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 90, n) * cadence.days, unit="D"),
        }
    )
    frame.loc[rng.random(n) < 0.2, "date"] = pd.NaT
    frame.loc[frame["site"] == "Cluj", "date"] = pd.NaT
    found = gaps_by_site(frame, cadence).set_index("site")
    for site, group in frame.groupby("site"):
        dates = group["date"].dropna()
        if dates.empty:
            expected = 0
        elif cadence is MONTHLY:
            months = {(d.year, d.month) for d in dates}
            first, last = min(months), max(months)
            span = (last[0] - first[0]) * 12 + last[1] - first[1] + 1
            expected = span - len(months)
        else:
            steps = {round((d - dates.min()).days / cadence.days) for d in dates}
            expected = max(steps) + 1 - len(steps)
        assert found.loc[site, "periods_missing"] == expected
        assert found.loc[site, "days_missing"] == expected * cadence.days
    assert found.loc["Cluj", "periods_missing"] == 0 and found["periods_missing"].gt(0).any()
