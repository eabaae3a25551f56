"""How far a load has got, for whoever shows it (the Data page's progress bar).

load_files(progress=fn) calls fn(Progress) on the caller's own thread: at each stage, and every
POLL seconds during the one pass over the files, where DuckDB's own query progress says how much
of the input has been read. Rows read during the pass are that share of the file's lines
(counted up front for uncompressed CSV; unknown otherwise); after the pass they are exact.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import duckdb

POLL = 0.2  # seconds between two reports during the pass

# Each stage's share of a load's time, measured on a 1M-row CSV (the pass dominates).
STAGES: dict[str, tuple[float, float]] = {
    "plan": (0.0, 0.05),
    "pass": (0.05, 0.75),
    "check": (0.75, 0.88),
    "cells": (0.88, 0.97),
    "save": (0.97, 1.0),
}
LABELS = {
    "plan": "Reading the columns and planning the load",
    "pass": "Reading and cleaning every row",
    "check": "Checking what was set aside",
    "cells": "Summarising the rows by day, site and channel",
    "save": "Saving the dataset",
}


@dataclass(frozen=True, slots=True)
class Progress:
    """One report: the stage, the share of the whole load done (0 to 1), the rows read so far
    (None when unknown) and the rows expected (None when unknown)."""

    stage: str
    fraction: float
    rows: int | None = None
    total: int | None = None

    def text(self) -> str:
        label = LABELS.get(self.stage, self.stage)
        if self.rows is None:
            return f"{label}…"
        if self.total and self.stage == "pass":
            return f"{label}: about {self.rows:,} of {self.total:,} rows read…"
        return f"{label}: {self.rows:,} rows read…"


ProgressFn = Callable[[Progress], None]


def notify(fn: ProgressFn | None, stage: str, rows: int | None = None) -> None:
    """Report the start of a stage."""
    if fn is not None:
        fn(Progress(stage, STAGES[stage][0], rows))


def csv_lines(sources: Sequence[Any]) -> int | None:
    """Data lines in the files (lines less one header each), for plain CSV held in memory or
    on disk; None when any file is compressed, Parquet or Excel."""
    total = 0
    for source in sources:
        name = str(source.name).lower()
        if not name.endswith((".csv", ".tsv", ".txt")):
            return None
        if source.data is not None:
            lines = source.data.count(b"\n") + (not source.data.endswith(b"\n"))
        else:
            lines = 0
            with open(source.path, "rb") as handle:
                while chunk := handle.read(1 << 22):
                    lines += chunk.count(b"\n")
        total += max(lines - 1, 0)
    return total


def execute_watched(
    cur: duckdb.DuckDBPyConnection,
    sql: str,
    params: Any,
    fn: ProgressFn | None,
    expected: Future[int | None] | None,
) -> None:
    """Run the pass; with a progress function, run it on a worker thread (DuckDB lets go of
    the GIL) and report DuckDB's query progress from this one every POLL seconds. `expected`
    counts the rows to expect beside the pass: its answer is used once it is there (the pass
    never waits for the count)."""
    if fn is None:
        cur.execute(sql, params)
        return
    low, high = STAGES["pass"]
    cur.execute("SET enable_progress_bar = true")
    cur.execute("SET enable_progress_bar_print = false")
    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(cur.execute, sql, params)
        while True:
            try:
                running.result(timeout=POLL)
                return
            except TimeoutError:
                share = max(0.0, min(cur.query_progress(), 100.0)) / 100
                total = expected.result() if expected is not None and expected.done() else None
                rows = int(total * share) if total else None
                fn(Progress("pass", low + (high - low) * share, rows, total))
