"""Day cells stored beside each dataset: the one GROUP BY every analysis starts from.

Every statistic reads cells, never rows (see aggregate.py), and every filter a user can set
(dates, sites, channels) is a key of the day cell (phase, site, channel, date). So the cells are
computed once, inside the load's transaction, and stored as `cells_<id>`: one row per day cell
with its row count and volume and, per metric, the sums of engine/sums.py: n, w, mean, m2, s2,
q1, q2. An analysis then reads a few thousand stored cells instead of scanning millions of rows,
and its numbers are the same: filtering day cells by a date, site or channel keeps exactly the
cells of the rows the filter keeps.

A dataset whose observation table has a column `weight` (the rows' volume: contacts handled,
cases...) is weighted: its sums are computed in two passes, the cell's weighted mean first (a
window over the cell) and then the weighted deviations from it, never raw power sums. A value
counts in its metric's sums when it is not NULL and its row's weight is positive. Unweighted
data is w = 1, computed with DuckDB's avg and var_samp as before: W = S2 = n, Q1 = 0, Q2 = m2.

Column names are made from the metric's column name (a quoted identifier), so no position has
to be kept in step with the catalog.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from analytics.store.database import cells_table_name, obs_table_name, quote_ident

DIMENSIONS = ("date", "phase", "site", "channel")
WEIGHT = "weight"  # the reserved column of a weighted dataset's observation table
KEYS = "phase, site, channel, date"


def sum_column(kind: str, metric: str) -> str:
    """The stored column of one sum (n, w, mean, m2, s2, q1, q2) of a metric."""
    return quote_ident(f"{kind}:{metric}")


def n_column(metric: str) -> str:
    return sum_column("n", metric)


def mean_column(metric: str) -> str:
    return sum_column("mean", metric)


def m2_column(metric: str) -> str:
    return sum_column("m2", metric)


def _columns(cur: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = cur.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = $t ORDER BY column_index",
        {"t": table},
    ).fetchall()
    return [r[0] for r in rows]


def metric_columns(cur: duckdb.DuckDBPyConnection, dataset_id: int) -> list[str]:
    """The metric columns of a dataset's observation table, in table order (never the weight)."""
    skip = {*DIMENSIONS, WEIGHT}
    return [c for c in _columns(cur, obs_table_name(dataset_id)) if c not in skip]


def is_weighted(cur: duckdb.DuckDBPyConnection, dataset_id: int) -> bool:
    """Whether the dataset's rows carry a volume (a column `weight` in its observation table;
    for cells computed on Spark, with no local rows, the weight column its source names)."""
    columns = _columns(cur, obs_table_name(dataset_id))
    if columns:
        return WEIGHT in columns
    row = cur.execute(
        "SELECT count(*) FROM dataset_sources WHERE dataset_id = $id AND weight IS NOT NULL",
        {"id": dataset_id},
    ).fetchone()
    return bool(row and row[0])


def has_weight_sums(cur: duckdb.DuckDBPyConnection, dataset_id: int) -> bool:
    """Whether the stored day cells are in the weighted format (schema 3: w, s2, q1, q2)."""
    return "volume" in _columns(cur, cells_table_name(dataset_id))


def _unweighted(metric: str) -> str:
    """w = 1: DuckDB's count, avg and var_samp, exactly as the cells were before weights."""
    col = quote_ident(metric)
    m2 = f"coalesce(var_samp({col}), 0) * (count({col}) - 1)"
    return (
        f"count({col}) AS {n_column(metric)}, count({col})::DOUBLE AS {sum_column('w', metric)}, "
        f"avg({col}) AS {mean_column(metric)}, {m2} AS {m2_column(metric)}, "
        f"count({col})::DOUBLE AS {sum_column('s2', metric)}, "
        f"0.0::DOUBLE AS {sum_column('q1', metric)}, {m2} AS {sum_column('q2', metric)}"
    )


def _weighted(k: int, metric: str) -> str:
    """The sums of one metric from the centred pass (_w{k}: weight of a counted value, _y{k}
    its value, _m{k} its cell's weighted mean)."""
    w, y, m = f"_w{k}", f"_y{k}", f"_m{k}"
    return (
        f"count({w}) AS {n_column(metric)}, coalesce(sum({w}), 0)::DOUBLE AS "
        f"{sum_column('w', metric)}, max({m}) AS {mean_column(metric)}, "
        f"coalesce(sum({w} * ({y} - {m}) ** 2), 0)::DOUBLE AS {m2_column(metric)}, "
        f"coalesce(sum({w} * {w}), 0)::DOUBLE AS {sum_column('s2', metric)}, "
        f"coalesce(sum({w} * {w} * ({y} - {m})), 0)::DOUBLE AS {sum_column('q1', metric)}, "
        f"coalesce(sum({w} * {w} * ({y} - {m}) ** 2), 0)::DOUBLE AS {sum_column('q2', metric)}"
    )


def _weighted_select(table: str, metrics: Sequence[str]) -> str:
    """Two passes over the rows: weighted cell means in a window, then weighted deviations."""
    weight = quote_ident(WEIGHT)
    picked = [f"CASE WHEN {weight} > 0 THEN {weight} END AS _v"]
    centred = []
    for k, metric in enumerate(metrics):
        col = quote_ident(metric)
        picked.append(f"{col} AS _y{k}, CASE WHEN {col} IS NOT NULL THEN _v END AS _w{k}")
        centred.append(f"sum(_w{k} * _y{k}) OVER cell / sum(_w{k}) OVER cell AS _m{k}")
    sums = ", ".join(_weighted(k, metric) for k, metric in enumerate(metrics))
    return (
        f"WITH picked AS (SELECT {KEYS}, {', '.join(picked)} FROM {table}), "  # noqa: S608 (names quoted)
        f"centred AS (SELECT *, {', '.join(centred) or '0 AS _none'} FROM picked "
        f"WINDOW cell AS (PARTITION BY {KEYS})) "
        f"SELECT {KEYS}, count(*) AS rows, coalesce(sum(_v), 0)::DOUBLE AS volume"
        + (f", {sums}" if sums else "")
        + " FROM centred GROUP BY ALL"
    )


def build(cur: duckdb.DuckDBPyConnection, dataset_id: int, metrics: Sequence[str]) -> None:
    """(Re)create the dataset's day cells from its observation table, in the caller's
    transaction."""
    obs = obs_table_name(dataset_id)
    if is_weighted(cur, dataset_id):
        select = _weighted_select(obs, metrics)
    else:
        aggregates = ["count(*) AS rows", "count(*)::DOUBLE AS volume"]
        aggregates += [_unweighted(metric) for metric in metrics]
        select = f"SELECT {KEYS}, " + ", ".join(aggregates) + f" FROM {obs} GROUP BY ALL"  # noqa: S608 (names quoted)
    table = cells_table_name(dataset_id)
    cur.execute("DROP TABLE IF EXISTS " + table)
    cur.execute(f"CREATE TABLE {table} AS " + select)


def build_from_table(cur: duckdb.DuckDBPyConnection, dataset_id: int) -> None:
    """(Re)create the day cells of every metric column the observation table holds."""
    build(cur, dataset_id, metric_columns(cur, dataset_id))
