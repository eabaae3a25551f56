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
GROUP BY, with n, W and S2) and then the weighted deviations of its rows from it (m2, Q1, Q2),
never raw power sums. A value
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


def _first_pass(k: int, metric: str) -> str:
    """What needs no mean, per metric: n, W, the weighted mean, S2 (_w{k}: the weight of a
    counted value, _y{k} the value)."""
    w, y = f"_w{k}", f"_y{k}"
    return (
        f"count({w}) AS {n_column(metric)}, coalesce(sum({w}), 0)::DOUBLE AS "
        f"{sum_column('w', metric)}, sum({w} * {y}) / sum({w}) AS {mean_column(metric)}, "
        f"coalesce(sum({w} * {w}), 0)::DOUBLE AS {sum_column('s2', metric)}"
    )


def _second_pass(k: int, metric: str) -> str:
    """The deviations' sums, per metric: m2, Q1, Q2 (_d{k} = value − its cell's mean)."""
    w, d = f"_w{k}", f"_d{k}"
    return (
        f"coalesce(sum({w} * {d} * {d}), 0)::DOUBLE AS {m2_column(metric)}, "
        f"coalesce(sum({w} * {w} * {d}), 0)::DOUBLE AS {sum_column('q1', metric)}, "
        f"coalesce(sum({w} * {w} * {d} * {d}), 0)::DOUBLE AS {sum_column('q2', metric)}"
    )


def _weighted_select(table: str, metrics: Sequence[str]) -> str:
    """Two passes over the rows: per cell the sums that need no mean and the weighted mean (a
    GROUP BY), then the rows joined to their cell's mean for the weighted deviations' sums.
    Keys may be NULL, so cells are matched IS NOT DISTINCT FROM."""
    keys = KEYS.split(", ")
    weight = quote_ident(WEIGHT)
    picked = [f"CASE WHEN {weight} > 0 THEN {weight} END AS _v"]
    for k, metric in enumerate(metrics):
        col = quote_ident(metric)
        picked.append(
            f"{col} AS _y{k}, CASE WHEN {col} IS NOT NULL AND {weight} > 0 THEN {weight} END "
            f"AS _w{k}"
        )
    first = ["count(*) AS rows", "coalesce(sum(_v), 0)::DOUBLE AS volume"]
    first += [_first_pass(k, metric) for k, metric in enumerate(metrics)]
    on = " AND ".join(f"p.{key} IS NOT DISTINCT FROM c.{key}" for key in keys)
    centred = [f"p.{key}" for key in keys]
    centred += [f"p._w{k}, p._y{k} - c.{mean_column(m)} AS _d{k}" for k, m in enumerate(metrics)]
    second = [_second_pass(k, metric) for k, metric in enumerate(metrics)]
    columns = [f"c.{key}" for key in keys] + ["c.rows", "c.volume"]
    for metric in metrics:
        columns += [f"c.{sum_column(s, metric)}" for s in ("n", "w", "mean")]
        columns += [f"d.{m2_column(metric)}", f"c.{sum_column('s2', metric)}"]
        columns += [f"d.{sum_column(s, metric)}" for s in ("q1", "q2")]
    match = " AND ".join(f"d.{key} IS NOT DISTINCT FROM c.{key}" for key in keys)
    return (
        f"WITH picked AS (SELECT {KEYS}, {', '.join(picked)} FROM {table}), "  # noqa: S608 (names quoted)
        f"cell AS (SELECT {KEYS}, {', '.join(first)} FROM picked GROUP BY ALL), "
        f"centred AS (SELECT {', '.join(centred)} FROM picked p JOIN cell c ON {on}), "
        f"dev AS (SELECT {', '.join([KEYS, *second])} FROM centred GROUP BY ALL) "
        f"SELECT {', '.join(columns)} FROM cell c JOIN dev d ON {match}"
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
