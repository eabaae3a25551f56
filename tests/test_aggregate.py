"""Cells from DuckDB equal a row-level pandas computation, filters included."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from analytics.engine.aggregate import (
    Filters,
    data_quality_by_site,
    pool_cells,
    summarise_cells,
    summarise_dataset,
)
from analytics.store import day_cells
from analytics.store.database import Store


def _rows(seed: int = 3, n: int = 4000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 120, n), unit="D"),
            "phase": rng.choice(["baseline", "pilot", "production"], n),
            "site": rng.choice(["A", "B", 'C "quoted"; DROP TABLE x'], n),
            "channel": rng.choice(["web", "phone"], n),
            # Mean dwarfs spread: the case where Σx² − (Σx)²/n loses every digit.
            "uptime": 0.999 + rng.normal(0, 0.0005, n),
            "amount": 1e5 + rng.normal(0, 3, n),
        }
    )
    frame.loc[rng.random(n) < 0.1, "amount"] = np.nan
    frame["date"] = frame["date"].dt.date
    return frame


@pytest.fixture()
def stored() -> tuple[Store, pd.DataFrame]:
    store = Store(":memory:")
    rows = _rows()
    with store.transaction() as cur:
        cur.register("rows_df", rows)
        cur.execute("CREATE TABLE obs_1 AS SELECT * FROM rows_df")
        day_cells.build_from_table(cur, 1)
        cur.execute(
            "INSERT INTO datasets VALUES (1, 'd', 's', 'h', 4000, 7, now(), 'obs_1', NULL, NULL)"
        )
        store.rebuild_view(cur)
    return store, rows


def _expected(rows: pd.DataFrame, metric: str) -> pd.DataFrame:
    frame = rows.dropna(subset=[metric]).copy()
    frame["period"] = pd.to_datetime(frame["date"]).dt.to_period("M").dt.start_time
    grouped = frame.groupby(["phase", "site", "channel", "period"])[metric]
    out = grouped.agg(n="count", mean="mean").reset_index()
    out["m2"] = grouped.apply(lambda x: float(((x - x.mean()) ** 2).sum())).to_numpy()
    return out


@pytest.mark.parametrize("metric", ["uptime", "amount"])
def test_cells_equal_row_level_statistics(stored: tuple[Store, pd.DataFrame], metric: str) -> None:
    store, rows = stored
    cells = summarise_cells(store.cursor(), 1, ["uptime", "amount"])
    got = cells[cells["metric"] == metric].reset_index(drop=True)
    want = _expected(rows, metric)
    assert len(got) == len(want)
    np.testing.assert_array_equal(got["n"].to_numpy(), want["n"].to_numpy())
    np.testing.assert_allclose(got["mean"], want["mean"], rtol=1e-12)
    np.testing.assert_allclose(got["m2"], want["m2"], rtol=1e-7)


def test_pooled_variance_is_stable_for_tiny_spread(stored: tuple[Store, pd.DataFrame]) -> None:
    store, rows = stored
    cells = summarise_cells(store.cursor(), 1, ["uptime"])
    pooled = pool_cells(cells, ["phase"]).set_index("phase")
    for phase, group in rows.groupby("phase"):
        want = group["uptime"].var(ddof=1)
        got = pooled.loc[phase, "m2"] / (pooled.loc[phase, "n"] - 1)
        assert got == pytest.approx(want, rel=1e-9)


def test_filters_are_applied_with_bound_values(stored: tuple[Store, pd.DataFrame]) -> None:
    store, rows = stored
    site = 'C "quoted"; DROP TABLE x'
    filters = Filters(
        date_from=date(2024, 2, 1), date_to=date(2024, 3, 31), sites=(site,), channels=("web",)
    )
    cells = summarise_cells(store.cursor(), 1, ["amount"], filters)
    keep = rows[
        (rows["date"] >= date(2024, 2, 1))
        & (rows["date"] <= date(2024, 3, 31))
        & (rows["site"] == site)
        & (rows["channel"] == "web")
    ]
    assert cells["n"].sum() == keep["amount"].notna().sum()
    assert set(cells["site"]) == {site}
    summary = summarise_dataset(store.cursor(), 1, filters)
    assert summary.rows == len(keep)
    assert summary.rows_rejected == 7
    assert summary.phases == keep["phase"].value_counts().to_dict()
    assert store.cursor().execute("SELECT count(*) FROM obs_1").fetchone()[0] == 4000


def test_week_grain_starts_periods_on_mondays(stored: tuple[Store, pd.DataFrame]) -> None:
    store, _ = stored
    cells = summarise_cells(store.cursor(), 1, ["uptime"], Filters(grain="week"))
    assert set(cells["period"].dt.day_of_week) == {0}


def test_data_quality_by_site(stored: tuple[Store, pd.DataFrame]) -> None:
    store, rows = stored
    quality = data_quality_by_site(store.cursor(), 1, ["uptime", "amount"]).set_index("site")
    for site, group in rows.groupby("site"):
        missing = group[["uptime", "amount"]].isna().to_numpy().mean()
        assert quality.loc[site, "missing_share"] == pytest.approx(missing)
        span = (max(group["date"]) - min(group["date"])).days + 1
        assert quality.loc[site, "days_missing"] == span - group["date"].nunique()
