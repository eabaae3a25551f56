"""Day cells stored beside each dataset: the one GROUP BY every analysis starts from.

Every statistic reads cells, never rows (see aggregate.py), and every filter a user can set
(dates, sites, channels) is a key of the day cell (phase, site, channel, date). So the cells are
computed once, inside the load's transaction, and stored as `cells_<id>`: one row per day cell
with the row count and, per metric, n, mean and m2 (DuckDB's avg and var_samp, as before).
An analysis then reads a few thousand stored cells instead of scanning millions of rows, and its
numbers are the same: filtering day cells by a date, site or channel keeps exactly the cells of
the rows the filter keeps.

Column names are made from the metric's column name (a quoted identifier), so no position has
to be kept in step with the catalog.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from analytics.store.database import cells_table_name, obs_table_name, quote_ident

DIMENSIONS = ("date", "phase", "site", "channel")


def n_column(metric: str) -> str:
    return quote_ident(f"n:{metric}")


def mean_column(metric: str) -> str:
    return quote_ident(f"mean:{metric}")


def m2_column(metric: str) -> str:
    return quote_ident(f"m2:{metric}")


def metric_columns(cur: duckdb.DuckDBPyConnection, dataset_id: int) -> list[str]:
    """The metric columns of a dataset's observation table, in table order."""
    rows = cur.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = $t "
        "AND NOT list_contains($dims, column_name) ORDER BY column_index",
        {"t": obs_table_name(dataset_id), "dims": list(DIMENSIONS)},
    ).fetchall()
    return [r[0] for r in rows]


def build(cur: duckdb.DuckDBPyConnection, dataset_id: int, metrics: Sequence[str]) -> None:
    """(Re)create the dataset's day cells from its observation table, in the caller's
    transaction."""
    aggregates = ["count(*) AS rows"]
    for metric in metrics:
        col = quote_ident(metric)
        aggregates.append(
            f"count({col}) AS {n_column(metric)}, avg({col}) AS {mean_column(metric)}, "
            f"coalesce(var_samp({col}), 0) * (count({col}) - 1) AS {m2_column(metric)}"
        )
    table = cells_table_name(dataset_id)
    cur.execute("DROP TABLE IF EXISTS " + table)
    cur.execute(
        f"CREATE TABLE {table} AS SELECT phase, site, channel, date, "  # noqa: S608 (names quoted)
        + ", ".join(aggregates)
        + f" FROM {obs_table_name(dataset_id)} GROUP BY ALL"
    )


def build_from_table(cur: duckdb.DuckDBPyConnection, dataset_id: int) -> None:
    """(Re)create the day cells of every metric column the observation table holds."""
    build(cur, dataset_id, metric_columns(cur, dataset_id))
