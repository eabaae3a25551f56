"""The watch on a monthly export (each row dated the first of its month): it watches by month,
its points are the months, and the months since the decision are counted as months."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from analytics.__main__ import main
from analytics.core.catalog import read_catalog
from analytics.decide.analysis import analyse
from analytics.decide.decisions import record_decision
from analytics.ingest.append import append_files
from analytics.ingest.load import Source, load_files
from analytics.store.database import Store

LIVE = {"P1": "2023-07", "P2": "2023-07", "P3": "2023-07", "P4": "2023-07", "P5": "2024-01",
        "P6": "2024-01"}  # fmt: skip
SITES = [*LIVE, "P7", "P8"]


def _months(first: str, last: str, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    rows = []
    for month in pd.period_range(first, last, freq="M"):
        for site in SITES:
            live = site in LIVE and month >= pd.Period(LIVE[site], freq="M")
            for _ in range(30):
                cost = rng.normal(50 * (0.85 if live else 1.0), 8)
                rows.append((month.start_time.date().isoformat(), site,
                             "production" if live else "baseline", round(cost, 2)))  # fmt: skip
    frame = pd.DataFrame(rows, columns=["month", "plant", "phase", "Cost per case"])
    return frame.to_csv(index=False).encode()


def test_a_monthly_export_is_watched_by_month(tmp_path: Path) -> None:
    db = tmp_path / "monthly.duckdb"
    store = Store(db)
    ds = load_files(store, [Source.from_bytes("history.csv", _months("2023-01", "2024-06", 1))])
    found = analyse(store, ds.dataset_id, read_catalog(store.cursor(), ds.dataset_id))
    record_decision(store, ds.dataset_id, decision="go", owner="CFO", rationale="-", results=found)
    append_files(
        store, ds.dataset_id, [Source.from_bytes("later.csv", _months("2024-07", "2024-12", 2))]
    )
    store.close()
    out = tmp_path / "out"
    main(["watch", "--db", str(db), "--out", str(out), "--as-of", "2025-01-15"])
    document = json.loads((out / "alerts.json").read_text())
    assert document["meta"]["grain"] == "month"
    assert document["meta"]["periods_since_decision"] == 6
    (outcome,) = document["outcomes"]
    periods = [date.fromisoformat(p["period"]) for p in outcome["points"]]
    assert periods and all(p.day == 1 for p in periods)  # month starts, not Mondays
    after = [p["period"] for p in outcome["points"] if p["after_decision"]]
    assert after == [f"2024-{m:02d}-01" for m in range(7, 13)]
