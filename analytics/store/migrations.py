"""The one migration ledger of the database schema: each step brings a file from the version
before it to its own version, inside the opening transaction.

Every schema change of the project adds exactly one numbered step here, with its test from
every earlier version (tests/test_upgrade_fixtures.py, fixtures in tests/fixtures/). Numbers
are never reused. Reserved for round 2, in the order the work lands:
  3  weighted day cells (real exports: weight totals and the sums HC1 and clusters need)
  4  money inputs marked "not given" unless a person or a catalog gave them
  5  appended data and alert acknowledgements (watching after the decision)
  6  datasets whose cells were computed elsewhere (Spark), with no local rows
A step that is not written yet is simply absent: SCHEMA_VERSION is the highest step present.

Steps never run on the user's file itself: analytics/store/upgrade.py runs them on a copy, keeps
the original as `<file>.bak-<old version>` and only then puts the upgraded copy in its place.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

Step = Callable[[duckdb.DuckDBPyConnection], None]


def _day_cells(cur: duckdb.DuckDBPyConnection) -> None:
    """1 -> 2: every dataset gets its day cells (one GROUP BY over its rows)."""
    from analytics.store import day_cells  # day_cells imports the database module

    for (dataset_id,) in cur.execute("SELECT id FROM datasets ORDER BY id").fetchall():
        day_cells.build_from_table(cur, dataset_id)


def _weighted_day_cells(cur: duckdb.DuckDBPyConnection) -> None:
    """2 -> 3: every dataset's day cells are rebuilt in the weighted format: per metric n, w,
    mean, m2, s2, q1, q2 and per cell the volume (engine/sums.py; w = 1 for unweighted rows,
    which gives the numbers of schema 2 exactly)."""
    from analytics.store import day_cells

    for (dataset_id,) in cur.execute("SELECT id FROM datasets ORDER BY id").fetchall():
        day_cells.build_from_table(cur, dataset_id)


def _watching(cur: duckdb.DuckDBPyConnection) -> None:
    """4 -> 5: the load history (appends) and alert acknowledgements, with a record of each
    dataset's first load."""
    from analytics.store import history

    for statement in history.TABLES:
        cur.execute(statement)
    history.backfill(cur)


# version reached -> (what it changes, in a line; the step)
LEDGER: dict[int, tuple[str, Step]] = {
    2: ("day cells stored per dataset (cells_<id>)", _day_cells),
    3: (
        "weighted day cells (weight totals and the sums HC1 and clusters need)",
        _weighted_day_cells,
    ),
    5: ("load history (appends) and alert acknowledgements", _watching),
}
SCHEMA_VERSION = max(LEDGER)


def current_version() -> int:
    """The highest step of the ledger, read when called (the opening machinery uses this, so a
    test can register an extra step and see a real upgrade)."""
    return max(LEDGER)


def upgrade(cur: duckdb.DuckDBPyConnection, version: int) -> None:
    """Run every step after `version`, in order, on the caller's transaction."""
    for target in sorted(LEDGER):
        if target > version:
            LEDGER[target][1](cur)
