"""Detection of a large CSV counts the phase values on a sample spread across the file
(analytics/ingest/spread.py), checked against pandas reading every row of the same file."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics.ingest import spread  # noqa: E402
from analytics.ingest.load import Source, detect, load_files  # noqa: E402
from bench import staggered  # noqa: E402


@pytest.fixture
def small_spread(monkeypatch: pytest.MonkeyPatch) -> None:
    """The thresholds scaled down, so a 4 MB file is sampled as a 60 MB one would be."""
    monkeypatch.setattr(spread, "SPREAD_MIN_BYTES", 1 << 20)
    monkeypatch.setattr(spread, "CHUNK_BYTES", 1 << 9)


@pytest.fixture(scope="module")
def rollout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 20-site staggered rollout export, sorted by date: the first rows are all baseline."""
    path = tmp_path_factory.mktemp("spread") / "rollout.csv"
    staggered.write(path, rows=60_000, seed=7)
    return path


def test_a_large_file_sorted_by_date_gets_every_phase_with_estimated_rows(rollout, small_spread):
    exact = pd.read_csv(rollout, usecols=["phase"])["phase"].value_counts().to_dict()
    head = pd.read_csv(rollout, usecols=["phase"], nrows=10_000)["phase"].unique().tolist()
    assert head == ["baseline"]  # the top of the file alone would miss the pilot and production
    found = detect([Source.from_path(rollout)])
    assert found.phase_counts_estimated
    assert set(found.phase_counts) == set(exact) == {"baseline", "pilot", "production"}
    assert found.phase_values == {v: v for v in exact}
    for value in ("baseline", "production"):  # most rows: close
        assert found.phase_counts[value] == pytest.approx(exact[value], rel=0.05), value
    # The pilot: 2% of the rows, in a few short runs of dates, so a rougher estimate.
    assert found.phase_counts["pilot"] == pytest.approx(exact["pilot"], rel=0.3)
    assert sum(found.phase_counts.values()) == pytest.approx(sum(exact.values()), rel=0.03)


def test_a_file_under_the_threshold_is_counted_whole(rollout):
    exact = pd.read_csv(rollout, usecols=["phase"])["phase"].value_counts().to_dict()
    found = detect([Source.from_path(rollout)])
    assert not found.phase_counts_estimated
    assert found.phase_counts == exact


def test_the_sample_never_changes_what_is_loaded(rollout, small_spread, store):
    result = load_files(store, [Source.from_path(rollout)])
    exact = pd.read_csv(rollout, usecols=["phase"])["phase"].value_counts().to_dict()
    rows = store.cursor().execute(
        f"SELECT phase, count(*) FROM obs_{result.dataset_id} GROUP BY phase"  # noqa: S608
    )
    assert dict(rows.fetchall()) == exact


def test_a_file_with_quoted_line_breaks_is_counted_whole(tmp_path, small_spread):
    # A notes column with quoted line breaks: a run of the sample could start inside a quote
    # and read the rest of the sample wrongly (measured: the production rows vanished).
    lines = ["date,phase,site,notes,Cost per case (EUR)"]
    for k in range(40_000):
        phase = "baseline" if k < 24_000 else "production"
        note = f'"call {k}\nfollow-up, ""see ticket"""' if k % 3 == 0 else "ok"
        lines.append(f"2024-{1 + k // 4000:02d}-{1 + k % 28:02d},{phase},S{k % 7},{note},{k % 50}")
    path = tmp_path / "notes.csv"
    path.write_text("\n".join(lines) + "\n")
    found = detect([Source.from_path(path)])
    assert path.stat().st_size > spread.SPREAD_MIN_BYTES
    assert not found.phase_counts_estimated
    assert found.phase_counts == {"baseline": 24_000, "production": 16_000}
