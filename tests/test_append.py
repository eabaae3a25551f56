"""`load FILE --append DATASET`: a new week's file added to a stored dataset in one transaction.

The check that matters: a dataset built by appending weeks holds exactly the rows and day cells,
and gives exactly the analysis, of the same weeks loaded as one file; a refused append changes
nothing; a process killed with the append's transaction open leaves the dataset as it was.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
import rollout_rows as rr
from conftest import take_snapshot

from analytics.__main__ import main
from analytics.core.catalog import read_catalog
from analytics.core.errors import ScalegateError
from analytics.decide.analysis import analyse
from analytics.ingest.append import append_files
from analytics.ingest.load import Source, load_files
from analytics.store import history
from analytics.store.database import Store

ROOT = Path(__file__).resolve().parent.parent


def _load(store: Store, data: bytes, name: str = "Rollout") -> int:
    return load_files(
        store, [Source.from_bytes(f"{name}.csv", data)], name=name, catalog_text=rr.CATALOG
    ).dataset_id


def _cells(store: Store, dataset_id: int) -> list[tuple]:
    """Every day cell, rounded to 9 significant digits (sums pooled in another order)."""
    rows = store.cursor().execute(f"SELECT * FROM cells_{dataset_id} ORDER BY ALL").fetchall()
    return [tuple(float(f"{x:.9g}") if isinstance(x, float) else x for x in r) for r in rows]


def _verdicts(store: Store, dataset_id: int) -> list[tuple[str, str, float]]:
    found = analyse(store, dataset_id, read_catalog(store.cursor(), dataset_id))
    return [(v.metric, v.verdict, v.estimate) for v in found.verdicts]


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    return {
        "base": rr.weeks(0, 23),
        "week24": rr.weeks(24, 24),
        "week23_24_other": rr.weeks(23, 24, seed=99),
        "all": rr.weeks(0, 24),
    }


def test_appended_week_equals_one_load_of_all_weeks(files: dict[str, bytes]) -> None:
    store = Store(":memory:")
    ds = _load(store, files["base"])
    before = store.dataset(ds)
    result = append_files(store, ds, [Source.from_bytes("week24.csv", files["week24"])])
    after = store.dataset(ds)
    week_rows = files["week24"].count(b"\n") - 1
    assert (result.rows_added, result.days_added, result.days_replaced) == (week_rows, 7, 0)
    assert (str(result.date_min), str(result.date_max)) == ("2025-06-23", "2025-06-29")
    assert after.rows == before.rows + week_rows
    assert after.sha256 != before.sha256 and result.sha256 == after.sha256
    assert f"Added {week_rows:,} rows over 7 days (2025-06-23 to 2025-06-29)" in result.to_text()
    whole = Store(":memory:")
    one = _load(whole, files["all"])
    assert _cells(store, ds) == _cells(whole, one)
    rows = "SELECT * FROM obs_{} ORDER BY ALL"
    assert (
        store.cursor().execute(rows.format(ds)).fetchall()
        == whole.cursor().execute(rows.format(one)).fetchall()
    )
    for (m, v, e), (m2, v2, e2) in zip(_verdicts(store, ds), _verdicts(whole, one), strict=True):
        assert (m, v) == (m2, v2) and e == pytest.approx(e2, rel=1e-9)
    kinds = [(r.kind, r.rows_added) for r in history.loads_of(store.cursor(), ds)]
    assert kinds == [("load", before.rows), ("append", week_rows)]
    again = append_files(store, ds, [Source.from_bytes("week24.csv", files["week24"])])
    assert again.already_appended and store.dataset(ds).sha256 == after.sha256


def test_overlapping_days_are_refused_and_nothing_changes(files: dict[str, bytes]) -> None:
    store = Store(":memory:")
    ds = _load(store, files["base"])
    before = take_snapshot(store)
    with pytest.raises(ScalegateError) as refused:
        append_files(store, ds, [Source.from_bytes("w.csv", files["week23_24_other"])])
    sentence = str(refused.value)
    assert "repeats 7 days" in sentence and "2025-06-16 to 2025-06-22" in sentence
    assert "\n" not in sentence
    assert take_snapshot(store) == before


def test_replacing_the_overlap_equals_loading_the_corrected_weeks(files: dict[str, bytes]) -> None:
    store = Store(":memory:")
    ds = _load(store, files["base"])
    old_week23 = (
        store.cursor()
        .execute(f"SELECT count(*) FROM obs_{ds} WHERE date >= DATE '2025-06-16'")
        .fetchone()[0]
    )
    result = append_files(
        store, ds, [Source.from_bytes("w.csv", files["week23_24_other"])], replace_overlap=True
    )
    assert (result.days_replaced, result.rows_replaced, result.days_added) == (7, old_week23, 14)
    whole = Store(":memory:")
    corrected = rr.weeks(0, 22)
    one = load_files(
        whole,
        [
            Source.from_bytes("a.csv", corrected),
            Source.from_bytes("b.csv", files["week23_24_other"]),
        ],
        catalog_text=rr.CATALOG,
    ).dataset_id
    assert _cells(store, ds) == _cells(whole, one)
    assert store.dataset(ds).rows == whole.dataset(one).rows


def test_a_file_with_other_columns_is_refused_in_one_sentence(
    files: dict[str, bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.duckdb"
    store = Store(db)
    ds = _load(store, files["base"])
    before = take_snapshot(store)
    store.close()
    text = files["week24"].decode().splitlines()
    narrow = "\n".join(",".join(line.split(",")[:-1]) for line in text) + "\n"
    path = tmp_path / "week24.csv"
    path.write_text(narrow)
    code = main(["load", str(path), "--append", str(ds), "--db", str(db)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err == (
        "The file week24.csv does not have the columns of dataset Rollout (it lacks Accuracy): "
        "add a file with the same columns, or load it as a new dataset."
    )
    assert take_snapshot(Store(db)) == before


def test_append_through_the_cli_reports_what_was_added(
    files: dict[str, bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.duckdb"
    store = Store(db)
    _load(store, files["base"])
    store.close()
    path = tmp_path / "week24.csv"
    path.write_bytes(files["week24"])
    assert main(["load", str(path), "--append", "Rollout", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "Added" in out and "over 7 days (2025-06-23 to 2025-06-29) to dataset Rollout" in out
    assert main(["load", str(path), "--replace-overlap", "--db", str(db)]) == 2


def test_caches_are_refreshed_after_an_append(files: dict[str, bytes], tmp_path: Path) -> None:
    """The dashboard's caches are keyed by the fingerprint: an append makes a new key."""
    from analytics.engine.aggregate import Filters
    from analytics.present.ui_state import catalog_to_json, filters_to_json
    from ui import cached

    db = str(tmp_path / "cache.duckdb")
    store = cached._store(db)
    ds = _load(store, files["base"])
    info = store.dataset(ds)
    catalog = catalog_to_json(read_catalog(store.cursor(), ds))
    filters = filters_to_json(Filters(grain="month"))
    first = cached.results(db, ds, info.sha256, info.name, catalog, filters)
    append_files(store, ds, [Source.from_bytes("week24.csv", files["week24"])])
    info2 = store.dataset(ds)
    second = cached.results(db, ds, info2.sha256, info2.name, catalog, filters)
    assert first.dataset["date_max"] == "2025-06-22"
    assert second.dataset["date_max"] == "2025-06-29"
    assert (
        second.dataset["rows"]
        == info2.rows
        == first.dataset["rows"] + (files["week24"].count(b"\n") - 1)
    )


_KILLED = """
import sys, time
from analytics.ingest import append
from analytics.ingest.load import Source
from analytics.store.database import Store

insert = append._insert

def slow(cur, info):  # every row is written, nothing is committed yet
    insert(cur, info)
    print("in transaction", flush=True)
    time.sleep(60)

append._insert = slow
store = Store(sys.argv[1])
append.append_files(store, 1, [Source.from_path(sys.argv[2])], replace_overlap=True)
print("finished", flush=True)
"""


def test_an_append_killed_part_way_leaves_the_dataset_as_it_was(tmp_path: Path) -> None:
    base, big = tmp_path / "base.csv", tmp_path / "big.csv"
    query = (
        "COPY (SELECT DATE '2024-01-01' + (i % {days})::INTEGER AS date, "
        "['baseline', 'production'][1 + i % 2] AS phase, 'S' || (i % 7) AS site, 'web' AS channel,"
        " (i % 1000) / 7.0 + {shift} AS cost FROM range({rows}) t(i)) TO '{path}' (HEADER)"
    )
    con = duckdb.connect()
    con.execute(query.format(days=60, shift=0, rows=3000, path=base))
    con.execute(query.format(days=120, shift=1, rows=400_000, path=big))
    con.close()
    db = tmp_path / "killed.duckdb"
    store = Store(db)
    load_files(store, [Source.from_path(base)], name="Kept")
    before = take_snapshot(store)
    store.close()
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED, str(db), str(big)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "in transaction"
    time.sleep(0.2)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    reopened = Store(db)
    assert take_snapshot(reopened) == before
    assert reopened.dataset("Kept").rows == 3000
    reopened.close()


def test_an_appended_file_is_read_with_the_datasets_date_format() -> None:
    """31/01/2025 settles day-first at the first load; a week of 03/02/2025-style dates alone
    would read month-first (2 March), and the append reads it day-first (3 February)."""
    frame = rr.weeks(0, 3).decode().splitlines()  # 6 January to 2 February 2025
    head, body = frame[0], frame[1:]

    def day_first(line: str) -> str:
        iso, rest = line.split(",", 1)
        y, m, d = iso.split("-")
        return f"{d}/{m}/{y},{rest}"

    first = "\n".join([head, *map(day_first, body)]) + "\n"
    week = rr.weeks(4, 4).decode().splitlines()  # 3 to 9 February 2025
    ambiguous = [line for line in week[1:] if int(line[8:10]) <= 7]  # 3 to 7 February only
    second = "\n".join([week[0], *map(day_first, ambiguous)]) + "\n"
    alone = Store(":memory:")
    read_alone = _load(alone, second.encode())
    span = alone.cursor().execute(f"SELECT min(date), max(date) FROM obs_{read_alone}").fetchone()
    assert [str(d) for d in span] == ["2025-03-02", "2025-07-02"]  # month-first, on its own
    store = Store(":memory:")
    ds = _load(store, first.encode())
    result = append_files(store, ds, [Source.from_bytes("week.csv", second.encode())])
    assert (str(result.date_min), str(result.date_max)) == ("2025-02-03", "2025-02-07")
