"""A load's pass run ahead, while the person reviews the detected columns.

The pass over the rows (read, clean, check, the day cells) is most of a load, and the columns
the detection found are most often right. So as soon as the Data page shows them, the pass runs
in the background into an in-memory database of its own (`stage_N`, attached to the store's
DuckDB): nothing in the store's file changes, nothing else reads it, and writing there costs
about 0.4 CPU-seconds less per million rows than writing the file, which on a busy 2-core
server is the difference the person waits for. Pressing Load then copies the two tables into
the store, writes the dataset's rows and commits, in one transaction of the store under its
write lock, exactly as load_files would; changing a column, leaving the page or closing the
session detaches the staging database, and a server that stops never had it on disk. So
nothing is stored before Load is pressed, and a failed load stores nothing.

If the pass failed, or for a load that replaces a dataset, `commit` answers None and the caller
loads as usual: the sentence a failure deserves comes from load_files, exactly as without
staging. With `ahead`, work on the staged tables (Home's analysis) starts as soon as the pass
is over and runs while Load commits.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from contextlib import suppress
from typing import Any

import duckdb

from analytics.ingest.check import Counts
from analytics.ingest.detect import Plan
from analytics.ingest.load import (
    AlreadyLoaded,
    LoadResult,
    checked_pass,
    refuse_or_twin,
    sha256_of,
    store_dataset,
)
from analytics.ingest.progress import ProgressFn, notify
from analytics.ingest.read import Source
from analytics.ingest.report import ValidationReport
from analytics.store import day_cells
from analytics.store.database import Store, cells_table_name, obs_table_name

# Staging tables are obs_/cells_ of ids no dataset reaches, in a database of their own: one per
# staged load of the process.
_FIRST_ID = 2_000_000_000
_ids = itertools.count(_FIRST_ID)


# Work on the staged tables before Load (Home's analysis): called on the pass's thread with its
# cursor, the staging id of its tables, the report and the content's hash once the pass is
# over, it reads what it needs and returns the computation, which runs after the cursor is free.
Ahead = Callable[[duckdb.DuckDBPyConnection, int, ValidationReport, str], Callable[[], Any]]


class StagedLoad:
    """The pass of one load of `sources` under `plan`, started at once on a background thread;
    with `ahead`, what it computes on the staged tables ends in the future `ahead_result`
    (None when the pass failed, an exception when the computation did)."""

    def __init__(
        self, store: Store, sources: Sequence[Source], plan: Plan, ahead: Ahead | None = None
    ) -> None:
        self.sources = tuple(sources)
        self.plan = plan
        self.ahead_result: Future[Any] = Future()
        self._ahead = ahead
        self._store = store
        self._id = next(_ids)
        self._stage = f"stage_{self._id}"  # code-made: the staging database's name
        self._cur = store.cursor()
        self._home = _quoted(self._cur.execute("SELECT current_database()").fetchone()[0])
        self._done = threading.Event()
        self._lock = threading.Lock()  # commit and discard do not run together
        self._open = True
        self._checked: tuple[ValidationReport, Counts, str] | None = None
        # A session that goes away without Load or a change drops the pass with it.
        weakref.finalize(self, _drop, self._cur, self._stage)
        self._thread = threading.Thread(target=self._run, name="scalegate-stage", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        cur = self._cur
        compute: Callable[[], Any] | None = None
        try:
            cur.execute(f"ATTACH ':memory:' AS {self._stage}")
            cur.execute(f"USE {self._stage}")  # the pass's tables land there
            report, counts = checked_pass(cur, self.plan, obs_table_name(self._id), None, None)
            day_cells.build(cur, self._id, self.plan.catalog.ids)
            digest = sha256_of(self.sources)
            self._checked = (report, counts, digest)
            compute = self._read_ahead(cur, report, digest)
        except Exception:  # noqa: BLE001 - load_files, run at Load, says what went wrong
            self._checked = None
        finally:
            with suppress(duckdb.Error):  # the setting is global to the database
                cur.execute("SET preserve_insertion_order = true")
            with suppress(duckdb.Error):
                cur.execute(f"USE {self._home}")
            self._done.set()
        self._compute_ahead(compute)

    def _read_ahead(
        self, cur: duckdb.DuckDBPyConnection, report: ValidationReport, digest: str
    ) -> Callable[[], Any] | None:
        """What the work ahead reads on the staged tables (its failure is its own, not the
        pass's: Load still commits the pass)."""
        if self._ahead is None:
            return None
        try:
            return self._ahead(cur, self._id, report, digest)
        except Exception as exc:  # noqa: BLE001 - whoever waits for it computes it again
            self.ahead_result.set_exception(exc)
            return None

    def _compute_ahead(self, compute: Callable[[], Any] | None) -> None:
        """Run the work ahead (the cursor is free again: Load may commit meanwhile)."""
        if self.ahead_result.done():
            return
        try:
            self.ahead_result.set_result(None if compute is None else compute())
        except Exception as exc:  # noqa: BLE001 - whoever waits for it computes it again
            self.ahead_result.set_exception(exc)

    def wait(self) -> None:
        """Until the pass is over (done, failed or interrupted)."""
        self._done.wait()

    def commit(
        self, *, name: str | None, strict: bool, progress: ProgressFn | None = None
    ) -> LoadResult | None:
        """Store the staged pass as a new dataset (waiting for the pass if it is still running);
        None when it cannot be used (the caller then loads as usual). Raises ScalegateError for
        files that cannot be used, exactly as load_files would."""
        notify(progress, "pass")
        self.wait()
        with self._lock:
            if not self._open:
                return None
            self._open = False
            try:
                if self._checked is None:
                    return None
                notify(progress, "save", self._checked[0].rows_read)
                return self._store_it(name, strict)
            finally:
                self._end()

    def _store_it(self, name: str | None, strict: bool) -> LoadResult | None:
        assert self._checked is not None
        report, counts, digest = self._checked
        try:
            with self._store.transaction() as cur:
                refuse_or_twin(cur, self.plan, (counts, report), strict, digest)
                dataset_id = self._store.next_dataset_id(cur)
                cur.execute("SET preserve_insertion_order = false")  # as the pass itself
                for table in (obs_table_name, cells_table_name):
                    staged = f"{self._stage}.{table(self._id)}"
                    cur.execute(f"CREATE TABLE {table(dataset_id)} AS FROM {staged}")  # noqa: S608
                found = (self.sources, digest, report)
                final = store_dataset(self._store, cur, dataset_id, self.plan, found, name)
        except duckdb.Error:  # a write conflict, a staged table gone: load as usual
            return None
        except AlreadyLoaded as twin:
            return LoadResult(twin.dataset_id, twin.name, report, already_loaded=True)
        finally:
            with suppress(duckdb.Error):  # the setting is global to the database
                self._cur.execute("SET preserve_insertion_order = true")
        return LoadResult(dataset_id, final, report)

    def discard(self) -> None:
        """Roll the pass back (interrupting it when still running); nothing was stored."""
        with self._lock:
            if not self._open:
                return
            self._open = False
            if not self._done.is_set():
                self._cur.interrupt()
                self._done.wait()
            self._end()

    def _end(self) -> None:
        _drop(self._cur, self._stage)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _drop(cur: duckdb.DuckDBPyConnection, stage: str) -> None:
    """Detach the staging database (its tables go with it), and close the cursor."""
    with suppress(duckdb.Error):
        cur.execute(f"DETACH DATABASE IF EXISTS {stage}")
    with suppress(duckdb.Error):
        cur.close()
