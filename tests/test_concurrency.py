"""Loads and reads at the same time on one database file: readers never see half a dataset,
nothing deadlocks, and a load killed part way leaves exactly the data that was there before."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from analytics.ingest.load import Source, load_files
from analytics.store.database import Store

ROOT = Path(__file__).resolve().parent.parent
WRITERS, FILES_PER_WRITER, READERS = 3, 3, 3


def _csv(seed: int, rows: int) -> bytes:
    phases = ("baseline", "pilot", "production")
    lines = ["date,phase,site,channel,cost,accuracy"]
    for i in range(rows):
        day = 1 + (i * 7 + seed) % 28
        lines.append(
            f"2024-{1 + i % 12:02d}-{day:02d},{phases[i % 3]},S{(i + seed) % 5},web,"
            f"{seed}.{i % 100},{(i % 97) / 100}"
        )
    return ("\n".join(lines) + "\n").encode()


def _check_snapshot(cur: duckdb.DuckDBPyConnection) -> int:
    """Inside one read transaction: every listed dataset has its full table and view rows."""
    listed = cur.execute("SELECT id, rows, obs_table FROM datasets").fetchall()
    for dataset_id, rows, table in listed:
        stored = cur.execute(
            f"SELECT count(*), count(cost) + count(accuracy) FROM {table}"
        ).fetchone()
        assert stored is not None and stored[0] == rows, (table, stored, rows)
        in_view = cur.execute(
            "SELECT count(*) FROM telemetry WHERE dataset_id = $id", {"id": dataset_id}
        ).fetchone()
        assert in_view == (stored[1],), (dataset_id, in_view, stored)
    ids = {r[0] for r in listed}
    in_view = {r[0] for r in cur.execute("SELECT DISTINCT dataset_id FROM telemetry").fetchall()}
    assert in_view <= ids
    return len(listed)


def test_threads_loading_and_reading_never_see_half_a_dataset(tmp_path: Path) -> None:
    store = Store(tmp_path / "shared.duckdb")
    sizes = {
        (w, k): 1500 + 700 * (w * FILES_PER_WRITER + k)
        for w in range(WRITERS)
        for k in range(FILES_PER_WRITER)
    }
    errors: list[BaseException] = []
    seen: list[int] = []
    done = threading.Event()

    def writer(w: int) -> None:
        try:
            for k in range(FILES_PER_WRITER):
                data = _csv(seed=w * 10 + k, rows=sizes[(w, k)])
                result = load_files(store, [Source.from_bytes(f"w{w}_{k}.csv", data)])
                assert result.report.rows_loaded == sizes[(w, k)]
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    def reader() -> None:
        cur = store.cursor()
        try:
            while not done.is_set():
                cur.begin()
                try:
                    seen.append(_check_snapshot(cur))
                finally:
                    cur.rollback()
        except BaseException as exc:
            errors.append(exc)
        finally:
            cur.close()

    readers = [threading.Thread(target=reader) for _ in range(READERS)]
    writers = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join(timeout=120)
    done.set()
    for t in readers:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in readers + writers), "a thread is stuck: deadlock?"
    assert errors == []
    infos = store.datasets()
    assert len(infos) == WRITERS * FILES_PER_WRITER
    assert sorted(i.rows for i in infos) == sorted(sizes.values())
    assert len(set(seen)) > 1  # the readers did watch datasets arrive
    assert _check_snapshot(store.cursor()) == WRITERS * FILES_PER_WRITER
    store.close()


def test_the_same_file_loaded_by_two_threads_is_stored_once(tmp_path: Path) -> None:
    store = Store(tmp_path / "twice.duckdb")
    data = _csv(seed=3, rows=4000)
    results = []

    def load() -> None:
        results.append(load_files(store, [Source.from_bytes("same.csv", data)]))

    threads = [threading.Thread(target=load) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 3 and len(store.datasets()) == 1
    assert sorted(r.already_loaded for r in results) == [False, True, True]
    assert {r.dataset_id for r in results} == {1}
    store.close()


# -- a process killed in the middle of a load ---------------------------------------------

_KILLED_LOAD = """
import sys
from analytics.ingest import load as ingest

relations = ingest.relations

def announce(plan, rejects):  # the load's transaction is open: the big read starts now
    if rejects:
        print("in transaction", flush=True)
    return relations(plan, rejects)

ingest.relations = announce
store = ingest.Store(sys.argv[1])
replace = int(sys.argv[3]) if len(sys.argv) > 3 else None
ingest.load_files(store, [ingest.Source.from_path(sys.argv[2])], replace=replace)
print("finished", flush=True)
"""


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file big enough that loading it takes well over the time to kill the loader."""
    path = tmp_path_factory.mktemp("big") / "big.csv"
    duckdb.connect().execute(
        "COPY (SELECT DATE '2024-01-01' + (i % 300)::INTEGER AS date, "
        "['baseline', 'pilot', 'production'][1 + i % 3] AS phase, 'S' || (i % 17) AS site, "
        "'web' AS channel, (i % 1000) / 7.0 AS cost, (i % 89) / 89.0 AS accuracy, "
        "(i * 31) % 997 AS tickets FROM range(3000000) t(i)) TO '" + str(path) + "' (HEADER)"
    )
    return path


@pytest.mark.parametrize("replace", [False, True], ids=["new dataset", "replacement"])
def test_a_load_killed_part_way_leaves_the_previous_data(
    tmp_path: Path, big_csv: Path, snapshot, replace: bool
) -> None:
    db = tmp_path / "killed.duckdb"
    store = Store(db)
    kept = load_files(store, [Source.from_bytes("small.csv", _csv(seed=1, rows=300))], name="Kept")
    before = snapshot(store)
    store.close()
    args = [sys.executable, "-c", _KILLED_LOAD, str(db), str(big_csv)]
    if replace:
        args.append(str(kept.dataset_id))
    child = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "in transaction"
    time.sleep(0.25)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert "finished" not in child.stdout.read()  # it died mid-load, not after it
    reopened = Store(db)
    assert snapshot(reopened) == before
    assert [d.name for d in reopened.datasets()] == ["Kept"]
    again = load_files(reopened, [Source.from_bytes("after.csv", _csv(seed=2, rows=30))])
    assert again.report.rows_loaded == 30
    reopened.close()
