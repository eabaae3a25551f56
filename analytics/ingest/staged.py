"""A load's pass run ahead, while the person reviews the detected columns.

The pass over the rows (read, clean, check, the day cells) is most of a load, and the columns
the detection found are most often right. So as soon as the Data page shows them, the pass runs
in the background inside a transaction of its own that nothing else can see: its tables have
staging names, no `datasets` row points to them, and the transaction is not committed. Pressing
Load then only names the tables, writes the dataset's rows and commits (a fraction of a second
instead of the whole pass); changing a column, leaving the page or closing the session rolls it
back, and a server that stops never commits it. So nothing is stored before Load is pressed,
and a failed load stores nothing, as with load_files.

The pass runs without the store's write lock (it writes only its own new tables); the commit
takes the lock. If any dataset was stored, replaced or removed meanwhile (the transaction reads
the `datasets` of when it began), if the pass failed, or for a load that replaces a dataset,
`commit` answers None and the caller loads as usual: the sentence a failure deserves comes
from load_files, exactly as without staging.
"""

from __future__ import annotations

import itertools
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
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
from analytics.ingest.progress import POLL, STAGES, Progress, ProgressFn, csv_lines, notify
from analytics.ingest.read import Source
from analytics.ingest.report import ValidationReport
from analytics.store import day_cells
from analytics.store.database import Store, cells_table_name, obs_table_name

# Staging tables are obs_/cells_ of ids no dataset reaches: one per staged load of the process.
_FIRST_ID = 2_000_000_000
_ids = itertools.count(_FIRST_ID)
# What the store holds, as the staged transaction sees it at its start: unchanged at the commit,
# or the commit gives way to a plain load (the transaction reads the store of its start).
_STATE = "SELECT (SELECT list(d ORDER BY d.id) FROM datasets d), (SELECT count(*) FROM loads)"
# After the read of the rows, what is left of the pass (the checks, the day cells, the hash, the
# reads ahead) takes about this share of the read's time (measured on 1M rows: 0.3 s after 1.1 s).
AFTER_READ = 0.3


class _Stale(Exception):
    """The store changed since the staged pass began."""


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
        self._cur = store.cursor()
        self._done = threading.Event()
        self._lock = threading.Lock()  # commit and discard do not run together
        self._open = True
        self._checked: tuple[ValidationReport, Counts, str, Any] | None = None
        self._read: tuple[float, float | None] | None = None  # when the read began, and ended
        self._shown = 0.0  # the share of the read last reported by progress()
        # A session that goes away without Load or a change rolls the pass back with it.
        weakref.finalize(self, _roll_back, self._cur)
        self._thread = threading.Thread(target=self._run, name="scalegate-stage", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        cur = self._cur
        compute: Callable[[], Any] | None = None
        try:
            digest = _hashed(self.sources)  # beside the pass (hashlib lets go of the GIL)
            cur.begin()
            state = cur.execute(_STATE).fetchone()
            cur.execute("SET enable_progress_bar = true")  # query_progress, for eta and progress
            cur.execute("SET enable_progress_bar_print = false")
            began = time.perf_counter()
            self._read = (began, None)
            report, counts = checked_pass(cur, self.plan, obs_table_name(self._id), None, None)
            self._read = (began, time.perf_counter())
            day_cells.build(cur, self._id, self.plan.catalog.ids)
            self._checked = (report, counts, digest.result(), state)
            compute = self._read_ahead(cur, report, digest.result())
        except Exception:  # noqa: BLE001 - load_files, run at Load, says what went wrong
            self._checked = None
        finally:
            with suppress(duckdb.Error):  # the setting is global to the database
                cur.execute("SET preserve_insertion_order = true")
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

    def wait(self, timeout: float | None = None) -> bool:
        """Until the pass is over (done, failed or interrupted), or `timeout` seconds have
        passed; whether it is over."""
        return self._done.wait(timeout)

    def over(self) -> bool:
        """Whether the pass is over (Load then only commits: a tenth of a second)."""
        return self._done.is_set()

    def _read_share(self) -> float | None:
        """The share of the rows read so far (DuckDB's progress of the read), None before it
        begins; 1 once it is over."""
        if self._read is None:
            return None
        if self._read[1] is not None:
            return 1.0
        try:
            share = self._cur.query_progress()  # of the query running now, the read
        except duckdb.Error:  # the cursor ended meanwhile: no figure
            return None
        return min(share, 100.0) / 100 if share > 0 else None

    def eta(self) -> float | None:
        """Seconds until the pass is likely over, from how fast its read goes (None: too early
        to say). An estimate, for choosing whether a wait deserves a progress bar."""
        if self.over():
            return 0.0
        share, read = self._read_share(), self._read
        if share is None or read is None:
            return None
        now = time.perf_counter()
        took = (now - read[0]) / share if read[1] is None else read[1] - read[0]
        return max(0.0, read[0] + took * (1 + AFTER_READ) - now)

    def progress(self, total: int | None = None) -> Progress:
        """How far the pass has got, for a progress bar (`total`: the rows expected). Never
        less than reported before: between two of DuckDB's figures it has none (-1)."""
        share = self._shown = max(self._shown, self._read_share() or 0.0)
        if share >= 1.0:
            return Progress("cells", STAGES["cells"][0], self._rows_read())
        low, high = STAGES["pass"]
        rows = int(total * share) if total else None
        return Progress("pass", low + (high - low) * share, rows, total)

    def _rows_read(self) -> int | None:
        checked = self._checked
        return checked[0].rows_read if checked is not None else None

    def _wait_showing(self, progress: ProgressFn | None) -> None:
        """Until the pass is over, reporting how far it has got every POLL seconds."""
        notify(progress, "pass")
        if progress is None or self.wait(POLL):
            self.wait()
            return
        total = csv_lines(self.sources)
        while not self.wait(POLL):
            progress(self.progress(total))

    def commit(
        self, *, name: str | None, strict: bool, progress: ProgressFn | None = None
    ) -> LoadResult | None:
        """Store the staged pass as a new dataset (waiting for the pass if it is still running);
        None when it cannot be used (the caller then loads as usual). Raises ScalegateError for
        files that cannot be used, exactly as load_files would."""
        self._wait_showing(progress)
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
        report, counts, digest, state = self._checked
        cur = self._cur
        try:
            with self._store.adopt(cur):
                if _state_now(self._store) != state:
                    raise _Stale
                refuse_or_twin(cur, self.plan, (counts, report), strict, digest)
                dataset_id = self._store.next_dataset_id(cur)
                for table in (obs_table_name, cells_table_name):
                    cur.execute(f"ALTER TABLE {table(self._id)} RENAME TO {table(dataset_id)}")
                found = (self.sources, digest, report)
                final = store_dataset(self._store, cur, dataset_id, self.plan, found, name)
        except (_Stale, duckdb.Error):  # changed meanwhile (a write conflict): load as usual
            return None
        except AlreadyLoaded as twin:
            return LoadResult(twin.dataset_id, twin.name, report, already_loaded=True)
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
        _roll_back(self._cur)


def _hashed(sources: Sequence[Source]) -> Future[str]:
    """The content hash of the files, computed on a thread of its own."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scalegate-hash")
    try:
        return pool.submit(sha256_of, sources)
    finally:
        pool.shutdown(wait=False)  # the thread ends with the hash


def _state_now(store: Store) -> Any:
    """The store's state as committed now (a cursor of its own: the staged one reads its start)."""
    cur = store.cursor()
    try:
        return cur.execute(_STATE).fetchone()
    finally:
        cur.close()


def _roll_back(cur: duckdb.DuckDBPyConnection) -> None:
    """Roll back whatever is still open on the cursor, and close it."""
    with suppress(duckdb.Error):
        cur.rollback()
    with suppress(duckdb.Error):
        cur.close()
