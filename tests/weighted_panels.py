"""Generators of weighted (aggregated) exports for the weights tests: each row summarises a
volume of contacts, and the volume varies within every cell, as real exports do."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.core.catalog import apply_overrides, infer_catalog, parse_toml, save_catalog
from analytics.store import day_cells
from analytics.store.database import Store

CATALOG = """
[metrics.cost]
kind = "outcome"
direction = "lower"
[metrics.saved]
kind = "outcome"
direction = "higher"
[metrics.accuracy]
kind = "process"
direction = "higher"
"""


def store_weighted(
    rows: pd.DataFrame,
    metrics: tuple[str, ...] = ("cost", "saved", "accuracy"),
    toml: str = CATALOG,
    store: Store | None = None,
    name: str = "weighted",
    weighted: bool = True,
) -> tuple[Store, int]:
    """Rows written straight into an observation table with a `weight` column (the interface
    the ingest fills), with day cells and a catalog, as a load would leave them; with
    weighted=False the same rows without their weight column (each row one case)."""
    store = store or Store(":memory:")
    catalog, _ = apply_overrides(infer_catalog(list(metrics)), parse_toml(toml))
    (dataset_id,) = (
        store.cursor().execute("SELECT coalesce(max(id), 0) + 1 FROM datasets").fetchall()[0]
    )
    with store.transaction() as cur:
        cur.register("rows_df", rows)
        columns = ", ".join(f'"{m}"::DOUBLE AS "{m}"' for m in metrics)
        cur.execute(
            f"CREATE TABLE obs_{dataset_id} AS SELECT date::DATE AS date, phase, site, channel, "  # noqa: S608
            + ("weight::DOUBLE AS weight, " if weighted else "")
            + f"{columns} FROM rows_df"
        )
        cur.unregister("rows_df")
        day_cells.build_from_table(cur, dataset_id)
        cur.execute(
            "INSERT INTO datasets VALUES ($id, $name, 'test', $sha, $n, 0, now(), $obs, NULL, "
            "NULL)",
            {"id": dataset_id, "name": name, "sha": f"w{dataset_id}", "n": len(rows),
             "obs": f"obs_{dataset_id}"},
        )  # fmt: skip
        save_catalog(cur, dataset_id, catalog)
        store.rebuild_view(cur)
    return store, dataset_id


def peak_week_rows(seed: int = 0) -> pd.DataFrame:
    """The issue's helpdesk: a weekly KPI export of 6 regions over 26 weeks, one row per region
    and week with its contacts handled (~1,240) and resolution rate. A pilot at R0 in weeks
    4-7; production at R0-R2 from week 8. The AI resolves 1.5 points more in ordinary weeks but
    1 point fewer in the two peak weeks (20-21), which carry five times the contacts. Counted as
    rows, the peak weeks are 2 of 18; counted as contacts, over a third of production."""
    rng = np.random.default_rng(seed)
    records = []
    start = pd.Timestamp(2024, 1, 1)  # a Monday
    for week in range(26):
        peak = week in (20, 21)
        for r in range(6):
            phase = "baseline"
            if r == 0 and 4 <= week < 8:
                phase = "pilot"
            elif r < 3 and week >= 8:
                phase = "production"
            contacts = int(rng.normal(1240, 120) * (5 if peak else 1))
            gain = 0.0 if phase == "baseline" else (-0.01 if peak else 0.015)
            rate = 0.70 + 0.01 * r - (0.03 if peak else 0.0) + gain + rng.normal(0, 0.004)
            resolved = rng.binomial(contacts, rate)
            records.append(
                (start + pd.Timedelta(weeks=week), phase, f"R{r}", "all", contacts,
                 resolved / contacts)
            )  # fmt: skip
    rows = pd.DataFrame(
        records, columns=["date", "phase", "site", "channel", "weight", "resolution_rate"]
    )
    rows["date"] = rows["date"].dt.date
    return rows


RESOLUTION_CATALOG = """
[metrics.resolution_rate]
kind = "outcome"
direction = "higher"
"""
