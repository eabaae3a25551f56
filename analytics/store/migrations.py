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

import json
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


# The defaults of schema 2's settings: a stored dataset whose settings and metrics all hold them
# was loaded without a catalog, so its annual volume of 120,000 is a default nobody entered.
_OLD_DEFAULTS = {
    "alpha": 0.05,
    "min_production_rows": 30,
    "min_production_sites": 2,
    "retention_floor": 0.5,
    "grain": "month",
    "run_cost_per_year": 0.0,
}
_OLD_VOLUME = 120_000.0
_MONEY_UNITS = ("EUR", "USD", "GBP", "CHF", "JPY", "CAD", "AUD", "SEK", "NOK", "DKK", "PLN")
_MONEY_UNITS += ("€", "$", "£", "¥")


def _from_a_catalog(cur: duckdb.DuckDBPyConnection, dataset_id: int, settings: dict) -> bool:
    """Whether a catalog file shaped this dataset: a setting off its old default, a guardrail,
    or a value per unit other than the automatic 1 of a money column."""
    if any(settings.get(k, v) != v for k, v in _OLD_DEFAULTS.items()):
        return True
    if settings.get("annual_volume", _OLD_VOLUME) != _OLD_VOLUME:
        return True
    return bool(
        cur.execute(
            "SELECT count(*) FROM metrics WHERE dataset_id = $id AND (guardrail IS NOT NULL "
            "OR (value_per_unit IS NOT NULL AND (value_per_unit <> 1.0 "
            "OR upper(coalesce(unit, '')) NOT IN (SELECT unnest($money)))))",
            {"id": dataset_id, "money": list(_MONEY_UNITS)},
        ).fetchone()[0]
    )


def _money_given(cur: duckdb.DuckDBPyConnection) -> None:
    """3 -> 4: money inputs marked "not given" unless a catalog gave them.

    Schema 2 gave every dataset an annual volume of 120,000 and every money column a value of 1
    per unit, whether or not anyone entered them. A dataset that shows no sign of a catalog
    loses both (its annual volume becomes null: not given); one loaded with a catalog keeps them
    and is marked as catalogued. Metrics gain `adds_to_total` (false) and `overlaps_with`.
    """
    cur.execute("ALTER TABLE metrics ADD COLUMN IF NOT EXISTS adds_to_total BOOLEAN DEFAULT false")
    cur.execute("ALTER TABLE metrics ADD COLUMN IF NOT EXISTS overlaps_with JSON")
    cur.execute("UPDATE metrics SET adds_to_total = false WHERE adds_to_total IS NULL")
    rows = cur.execute("SELECT id, settings FROM datasets ORDER BY id").fetchall()
    for dataset_id, text in rows:
        settings = json.loads(text) if text else {}
        if _from_a_catalog(cur, dataset_id, settings):
            settings.setdefault("catalog_source", "a catalog file (stored before names were kept)")
        else:
            settings["annual_volume"] = None
            settings["catalog_source"] = "keyword guesses"
            cur.execute(
                "UPDATE metrics SET value_per_unit = NULL WHERE dataset_id = $id "
                "AND value_per_unit = 1.0 AND upper(coalesce(unit, '')) IN (SELECT unnest($m))",
                {"id": dataset_id, "m": list(_MONEY_UNITS)},
            )
        cur.execute(
            "UPDATE datasets SET settings = $s WHERE id = $id",
            {"s": json.dumps(settings), "id": dataset_id},
        )


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
    4: ("money inputs nobody gave marked not given; adds_to_total, overlaps", _money_given),
    5: ("load history (appends) and alert acknowledgements", _watching),
    6: ("datasets whose cells were computed on Spark, with no local rows", _remote_cells),
}
SCHEMA_VERSION = max(LEDGER)


def _columns(cur: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    rows = cur.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = $t", {"t": table}
    ).fetchall()
    return {r[0] for r in rows}


def _cells_lack(cur: duckdb.DuckDBPyConnection, column: str | None) -> bool:
    """Whether a dataset with local rows has no day cells (column None) or cells without
    `column`."""
    from analytics.store.database import cells_table_name, with_rows

    for dataset_id in with_rows(cur):
        found = _columns(cur, cells_table_name(dataset_id))
        if not found or (column is not None and column not in found):
            return True
    return False


# Whether a file already holds a step's change, read from the file itself. The version number
# alone cannot say: while round 2 was written, branches numbered only their own step (branch
# cfo wrote files of version 4 without step 3, watch version 5 without steps 3-4, main after
# merging watch version 5 without step 4, spark version 6 without 4-5). A step at or below the
# file's version whose change is missing runs too.
HELD: dict[int, Callable[[duckdb.DuckDBPyConnection], bool]] = {
    2: lambda cur: not _cells_lack(cur, None),
    3: lambda cur: not _cells_lack(cur, "volume"),
    4: lambda cur: "adds_to_total" in _columns(cur, "metrics"),
    5: lambda cur: bool(_columns(cur, "loads")) and bool(_columns(cur, "alert_acks")),
    6: lambda cur: bool(_columns(cur, "dataset_sources")),
}


def current_version() -> int:
    """The highest step of the ledger, read when called (the opening machinery uses this, so a
    test can register an extra step and see a real upgrade)."""
    return max(LEDGER)


def upgrade(cur: duckdb.DuckDBPyConnection, version: int) -> None:
    """Run every step after `version`, and every earlier step whose change the file lacks
    (HELD), in order, on the caller's transaction."""
    for target in sorted(LEDGER):
        if target > version or not HELD.get(target, lambda _: True)(cur):
            LEDGER[target][1](cur)
