"""A file with no pilot rows: the scorecard does not say the pilot agreed with anything."""

from __future__ import annotations

import math

import numpy as np

from analytics.core.catalog import infer_catalog
from analytics.decide.analysis import analyse
from analytics.ingest.load import Source, load_files
from analytics.present.charts_verdict import scorecard_frame, scorecard_title
from analytics.store.database import Store


def _baseline_and_production() -> bytes:
    """Six sites, two of them live from month 7 of 12, no pilot: cost per case falls by 3."""
    rng = np.random.default_rng(7)
    lines = ["date,phase,site,cost_per_case"]
    for site in range(6):
        for month in range(1, 13):
            live = site < 2 and month >= 7
            for day in range(1, 29, 3):
                cost = 40 + site + rng.normal(0, 2) - (3 if live else 0)
                phase = "production" if live else "baseline"
                lines.append(f"2024-{month:02d}-{day:02d},{phase},S{site},{cost:.3f}")
    return ("\n".join(lines) + "\n").encode()


def test_no_pilot_means_no_pilot_agreement() -> None:
    store = Store(":memory:")
    loaded = load_files(store, [Source.from_bytes("np.csv", _baseline_and_production())])
    results = analyse(store, loaded.dataset_id, infer_catalog(["cost_per_case"]))
    assert results.verdicts and all(not math.isfinite(v.pilot_estimate) for v in results.verdicts)
    frame = scorecard_frame(results)
    assert all(s.endswith("(no pilot estimate)") for s in frame["status"])
    assert "agreed" not in " ".join(frame["status"])
    assert scorecard_title(results).endswith("(the data has no pilot to compare with)")
