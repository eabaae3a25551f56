"""The day cells computed where the rows are: one Spark DataFrame aggregation by raw phase
value, site, channel and day, then, here, the phase values mapped and the cells of values that
mean the same phase pooled, giving exactly the columns of the local day cells (day_cells.py).

Spark computes the same sums as DuckDB's load (engine/sums.py): unweighted, `count`, `avg` and
`coalesce(var_samp, 0) * (count - 1)` per metric (Spark's var_samp is numerically stable), with
W = S2 = n, Q1 = 0, Q2 = m2; with a weight column, two passes (Spark has no weighted var_samp):
each cell's weighted mean in a window, then the weighted deviations from it, never raw power
sums. Cells of raw phase values that mean one phase merge by the engine's one exact pooling. Values that are not finite count apart and are left out, as the local load
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
from analytics.engine.aggregate import group_labels
from analytics.engine.sums import SUMS
from analytics.engine.sums import pool as sums_pool
from analytics.ingest.plan import Plan
from analytics.ingest.sql import bound, phase_sql, shared_params

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


def _clean(plan: Plan, k: int, weight: int | None = None) -> tuple[Any, Any]:
    """A metric's value as a double, NULL where it is not finite; and whether it was not.
    A row total the plan reads per unit of the weight (plan.per_unit) is divided by it."""
    from pyspark.sql import functions as F

    value = _ref(plan.headers[k]).cast("double")
    if weight is not None and k in getattr(plan, "per_unit", frozenset()):
        volume = _ref(plan.headers[weight]).cast("double")
        value = value / F.when(volume != 0, volume)
    bad = F.isnan(value) | (F.abs(value) == F.lit(float("inf")))
    return F.when(~bad, value), bad


def _unweighted(plan: Plan) -> list[Any]:
    """w = 1: count, avg and var_samp, as DuckDB's load computes them."""
    from pyspark.sql import functions as F

    aggs = [F.count(F.lit(1)).alias("rows"), F.count(F.lit(1)).cast("double").alias("volume")]
    for j, k in enumerate(plan.metrics):
        y, bad = _clean(plan, k)
        n = F.count(y)
        m2 = F.coalesce(F.var_samp(y), F.lit(0.0)) * (n - 1)
        aggs += [
            n.alias(f"n{j}"),
            n.cast("double").alias(f"w{j}"),
            F.avg(y).alias(f"mean{j}"),
            m2.alias(f"m2{j}"),
            n.cast("double").alias(f"s2{j}"),
            F.lit(0.0).alias(f"q1{j}"),
            m2.alias(f"q2{j}"),
            F.count(F.when(bad, 1)).alias(f"bad{j}"),
        ]
    return aggs


def _weighted(df: Any, plan: Plan, weight: int, keys: list[Any]) -> tuple[Any, list[Any]]:
    """Two passes, as day_cells.py makes them: each cell's weighted mean in a window, then
    the weighted deviations from it (never raw power sums). A value counts when it is not
    NULL and its row's weight is positive."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    v = _ref(plan.headers[weight]).cast("double")
    columns = [*keys, F.when(v > 0, v).alias("_v")]
    for j, k in enumerate(plan.metrics):
        y, bad = _clean(plan, k, weight)
        columns += [y.alias(f"_y{j}"), bad.alias(f"_bad{j}")]
    picked = df.select(*columns)
    cell = Window.partitionBy("raw_phase", "site", "channel", "date")
    centred = []
    for j in range(len(plan.metrics)):
        w = F.when(F.col(f"_y{j}").isNotNull(), F.col("_v"))
        centred += [w.alias(f"_w{j}")]
    picked = picked.select("*", *centred)
    picked = picked.select(
        "*",
        *[
            (
                F.sum(F.col(f"_w{j}") * F.col(f"_y{j}")).over(cell) / F.sum(f"_w{j}").over(cell)
            ).alias(f"_m{j}")
            for j in range(len(plan.metrics))
        ],
    )
    aggs = [F.count(F.lit(1)).alias("rows"), F.coalesce(F.sum("_v"), F.lit(0.0)).alias("volume")]
    for j in range(len(plan.metrics)):
        w, d = F.col(f"_w{j}"), F.col(f"_y{j}") - F.col(f"_m{j}")

        def total(x: Any) -> Any:
            return F.coalesce(F.sum(x), F.lit(0.0))

        aggs += [
            F.count(w).alias(f"n{j}"),
            total(w).alias(f"w{j}"),
            F.max(f"_m{j}").alias(f"mean{j}"),
            total(w * d * d).alias(f"m2{j}"),
            total(w * w).alias(f"s2{j}"),
            total(w * w * d).alias(f"q1{j}"),
            total(w * w * d * d).alias(f"q2{j}"),
            F.count(F.when(F.col(f"_bad{j}"), 1)).alias(f"bad{j}"),
        ]
    return picked, aggs


def aggregate(df: Any, plan: Plan, types: Mapping[str, str], weight: int | None) -> Any:
    """The one aggregation, as a DataFrame: per raw phase value, site, channel and day, the
    rows, the volume and, per metric j, the sums n, w, mean, m2, s2, q1, q2 (suffixed j) and
    bad{j} (values not finite, left out)."""
    keys = [
        _ref(plan.headers[plan.phase]).cast("string").alias("raw_phase"),  # type: ignore[index]
        _text(plan, plan.site).alias("site"),
        _text(plan, plan.channel).alias("channel"),
        _day(plan, types).alias("date"),
    ]
    if weight is None:
        return df.groupBy(*keys).agg(*_unweighted(plan))
    picked, aggs = _weighted(df, plan, weight, keys)
    return picked.groupBy("raw_phase", "site", "channel", "date").agg(*aggs)


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
    for total in ("rows", "volume"):
        out[total] = np.bincount(labels, weights=loaded[total].to_numpy(float), minlength=groups)
    for j, metric in enumerate(plan.catalog.ids):
        sums = sums_pool(labels, groups, *(loaded[f"{s}{j}"].to_numpy(float) for s in SUMS))
        for kind, values in zip(SUMS, sums, strict=True):
            out[f"{kind}:{metric}"] = values
        n = out[f"n:{metric}"]
        out[f"mean:{metric}"] = np.where(n > 0, out[f"mean:{metric}"], np.nan)
    return SparkCells(cells=pd.DataFrame(out), loaded=loaded, set_aside=aside)
