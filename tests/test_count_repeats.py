"""Repeated rows are counted over many batches of hashes exactly as pandas counts them.

count_repeats (ingest/repeats.py) streams the rows' hashes in batches into one array, and takes
a big table in parts by the hash of the date; here the batch and the part are made small so
that the rows span many batches and parts, and the count is checked against pandas'
`duplicated()` on the same rows, read back from the table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.ingest import repeats
from analytics.ingest.load import Source, load_files
from analytics.store.database import Store


def _export(seed: int) -> pd.DataFrame:
    """A daily export of 12,000 cases where some rows were sent twice or three times."""
    rng = np.random.default_rng(seed)
    n = 12_000
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime("2025-01-06") + pd.to_timedelta(rng.integers(0, 90, n), "D"),
            "phase": rng.choice(["baseline", "pilot", "production"], n),
            "site": rng.choice(["Lyon", "Porto", "Graz"], n),
            "channel": rng.choice(["chat", "phone"], n),
            "cost_eur": np.round(rng.gamma(4.0, 10.0, n), 1),
            "resolved": rng.integers(0, 2, n),
        }
    )
    again = frame.sample(700, random_state=seed)
    thrice = frame.sample(150, random_state=seed + 1)
    return pd.concat([frame, again, thrice, thrice]).sample(frac=1.0, random_state=seed)


@pytest.mark.parametrize(("batch", "part_rows"), [(1_000, 10**9), (4_096, 3_000), (1 << 20, 700)])
def test_repeats_over_many_batches_and_parts_equal_pandas(
    batch: int, part_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(repeats, "BATCH", batch)
    monkeypatch.setattr(repeats, "PART_ROWS", part_rows)
    store = Store(":memory:")
    text = _export(7).to_csv(index=False).encode()
    result = load_files(store, [Source.from_bytes("cases.csv", text)])
    stored = store.cursor().execute(f"SELECT * FROM obs_{result.dataset_id}").df()
    expected = int(stored.duplicated().sum())
    assert expected >= 700  # the planted repeats, and any the draw made by itself
    assert result.report.duplicate_rows == expected
