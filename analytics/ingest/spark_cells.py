"""The day cells computed where the rows are: one Spark DataFrame aggregation by raw phase
value, site, channel and day, then, here, the phase values mapped and the cells of values that
mean the same phase pooled, giving exactly the columns of the local day cells (day_cells.py).

Spark gets the same statistics as DuckDB's load: `count`, `avg` and
`coalesce(var_samp, 0) * (count - 1)` per metric (Spark's var_samp is numerically stable, so no
raw power sums). Values that are not finite count apart and are left out, as the local load
sets them aside. Dates are UTC days whatever the session's time zone: a timestamp's day comes
from its microseconds since the epoch, not from the session's calendar.
Column names sent to Spark are quoted references; the values a phase is compared with never
reach Spark at all (the mapping runs here, in DuckDB, with the local load's own expression).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from analytics.core.types import PHASES
from analytics.engine.aggregate import group_labels, pool_by_label
from analytics.ingest.detect import Plan
from analytics.ingest.sql import bound, phase_sql, shared_params
from analytics.store.day_cells import m2_column, mean_column, n_column

MICROS_PER_DAY = 86_400_000_000


def _ref(name: str) -> Any:
    """A column of the source by its exact name (quoted: dots and spaces are not paths)."""
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")


def _text(plan: Plan, k: int | None) -> Any:
    """A site or channel cell as text, as the local load's text_sql makes it."""
    from pyspark.sql import functions as F

    if k is None:
        return F.lit("all")
    cell = _ref(plan.headers[k]).cast("string")
    if k in plan.padded:
        cell = F.trim(cell)
    return F.coalesce(F.when(cell != "", cell), F.lit("(blank)"))


def _day(plan: Plan, types: Mapping[str, str]) -> Any:
    """The UTC day of each row (NULL without a date column)."""
    from pyspark.sql import functions as F

    if plan.date is None:
        return F.lit(None).cast("date")
    name = plan.headers[plan.date]
    col, kind = _ref(name), types[name]
    if kind == "timestamp":
        days = F.floor(F.unix_micros(col) / F.lit(MICROS_PER_DAY)).cast("int")
        return F.date_from_unix_date(days)
    return F.to_date(col)  # a date, or a timestamp without time zone (its wall-clock day)


def aggregate(df: Any, plan: Plan, types: Mapping[str, str]) -> Any:
    """The one aggregation, as a DataFrame: per raw phase value, site, channel and day, the
    rows and, per metric j, n{j}, mean{j}, m2{j} and bad{j} (values not finite)."""
    from pyspark.sql import functions as F

    aggs = [F.count(F.lit(1)).alias("rows")]
    for j, k in enumerate(plan.metrics):
        value = _ref(plan.headers[k]).cast("double")
        bad = F.isnan(value) | (F.abs(value) == F.lit(float("inf")))
        clean = F.when(~bad, value)
        aggs += [
            F.count(clean).alias(f"n{j}"),
            F.avg(clean).alias(f"mean{j}"),
            (F.coalesce(F.var_samp(clean), F.lit(0.0)) * (F.count(clean) - 1)).alias(f"m2{j}"),
            F.count(F.when(bad, 1)).alias(f"bad{j}"),
        ]
    keys = [
        _ref(plan.headers[plan.phase]).cast("string").alias("raw_phase"),  # type: ignore[index]
        _text(plan, plan.site).alias("site"),
        _text(plan, plan.channel).alias("channel"),
        _day(plan, types).alias("date"),
    ]
    return df.groupBy(*keys).agg(*aggs)


@dataclass(frozen=True, slots=True)
class SparkCells:
    """The raw-phase cells mapped to phases: the day cells of the loaded rows (as stored), and
    the cells of rows set aside (no phase, or a phase value nobody mapped)."""

    cells: pd.DataFrame  # phase, site, channel, date, rows, then n:, mean:, m2: per metric
    loaded: pd.DataFrame  # the loaded raw cells: phase, site, channel, rows, n{j}, bad{j}
    set_aside: pd.DataFrame  # raw_phase (trimmed), phase (NULL or '?value'), site, rows


def map_phases(raw: pa.Table, plan: Plan) -> pd.DataFrame:
    """Each raw cell with its phase, by the local load's own phase_sql and parameters."""
    con = duckdb.connect(":memory:")
    try:
        con.register("raw_cells", raw)
        sql = f"SELECT *, {phase_sql('raw_phase')} AS phase FROM raw_cells"  # noqa: S608 (code-made)
        return con.execute(sql, bound(sql, shared_params(plan))).df()
    finally:
        con.close()


def pool(raw: pa.Table, plan: Plan) -> SparkCells:
    """Map phases, keep the rows of known phases, and pool the cells of raw values that mean
    the same phase (Chan's formula, the engine's one pooling)."""
    frame = map_phases(raw, plan)
    known = frame["phase"].isin(PHASES)
    loaded = frame[known].reset_index(drop=True)
    aside = frame.loc[~known, ["raw_phase", "phase", "site", "rows"]].reset_index(drop=True)
    labels, keys = group_labels(
        {d: loaded[d] for d in ("phase", "site", "channel")}
        | {"date": pd.to_datetime(loaded["date"])}
    )
    groups = len(keys)
    out: dict[str, Any] = {d: keys[d].to_numpy() for d in ("phase", "site", "channel")}
    out["date"] = keys["date"].to_numpy()  # NaT without dates; stored as DATE
    out["rows"] = np.bincount(labels, weights=loaded["rows"].to_numpy(float), minlength=groups)
    for j, metric in enumerate(plan.catalog.ids):
        n, mean, m2 = pool_by_label(
            labels,
            groups,
            loaded[f"n{j}"].to_numpy(float),
            loaded[f"mean{j}"].to_numpy(float),
            loaded[f"m2{j}"].to_numpy(float),
        )
        out[_unquoted(n_column(metric))] = n
        out[_unquoted(mean_column(metric))] = np.where(n > 0, mean, np.nan)
        out[_unquoted(m2_column(metric))] = m2
    return SparkCells(cells=pd.DataFrame(out), loaded=loaded, set_aside=aside)


def _unquoted(identifier: str) -> str:
    return identifier[1:-1].replace('""', '"')
