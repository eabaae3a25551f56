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
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

Step = Callable[[duckdb.DuckDBPyConnection], None]


def _day_cells(cur: duckdb.DuckDBPyConnection) -> None:
    """1 -> 2: every dataset gets its day cells (one GROUP BY over its rows).

    Like every step that rebuilds cells from rows, it skips datasets whose rows are not here
    (cells computed on Spark are kept as they are)."""
    from analytics.store import day_cells  # day_cells imports the database module
    from analytics.store.database import with_rows

    for dataset_id in with_rows(cur):
        day_cells.build_from_table(cur, dataset_id)


def _remote_cells(cur: duckdb.DuckDBPyConnection) -> None:
    """-> 6: a dataset may have no local rows (its cells computed on Spark): the observation
    table becomes optional, and the source of such cells is recorded beside the dataset."""
    from analytics.store.database import SOURCES_SCHEMA

    cur.execute("ALTER TABLE datasets ALTER COLUMN obs_table DROP NOT NULL")
    cur.execute(SOURCES_SCHEMA)


def _weighted_day_cells(cur: duckdb.DuckDBPyConnection) -> None:
    """2 -> 3: every dataset's day cells are rebuilt in the weighted format: per metric n, w,
    mean, m2, s2, q1, q2 and per cell the volume (engine/sums.py; w = 1 for unweighted rows,
    which gives the numbers of schema 2 exactly)."""
    from analytics.store import day_cells
    from analytics.store.database import with_rows

    for dataset_id in with_rows(cur):  # cells computed on Spark are kept as they are
        day_cells.build_from_table(cur, dataset_id)


# version reached -> (what it changes, in a line; the step)
LEDGER: dict[int, tuple[str, Step]] = {
    2: ("day cells stored per dataset (cells_<id>)", _day_cells),
    3: (
        "weighted day cells (weight totals and the sums HC1 and clusters need)",
        _weighted_day_cells,
    ),
    6: ("datasets whose cells were computed on Spark, with no local rows", _remote_cells),
}
SCHEMA_VERSION = max(LEDGER)


def upgrade(cur: duckdb.DuckDBPyConnection, version: int) -> None:
    """Run every step after `version`, in order, on the caller's transaction."""
    for target in sorted(LEDGER):
        if target > version:
            LEDGER[target][1](cur)
