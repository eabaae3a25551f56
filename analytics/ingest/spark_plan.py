"""What a Spark source's columns are: the local load's own detection, run on Spark's schema
and the first rows Spark sends back, and the checks a Spark load adds (typed columns only).

The first rows (as many as the local load samples) come back through Arrow and are handed to
`detect.make_plan` as a small Parquet file, so roles, identifiers, the catalog and the phase
spellings are decided by exactly the code that decides them for a CSV. The phase values
themselves are mapped later, on the distinct values Spark's aggregation returns.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from analytics.core.errors import ScalegateError
from analytics.ingest.detect import Plan, make_plan
from analytics.ingest.read import Source, open_source

# Spark type names (DataType.typeName()) the cells can use, by role.
NUMBER_TYPES = frozenset(
    {"byte", "short", "integer", "long", "float", "double", "decimal", "boolean"}
)
DATE_TYPES = frozenset({"date", "timestamp", "timestamp_ntz"})


def plan_from_sample(
    sample: pa.Table,
    label: str,
    mapping: Mapping[str, str] | None,
    phase_map: Mapping[str, str] | None,
    catalog_text: str | bytes | None,
) -> Plan:
    """The load plan of a Spark source, decided on its first rows by the local detection."""
    with ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="scalegate-spark-"))
        path = Path(folder) / "sample.parquet"
        pq.write_table(sample, path)
        con = duckdb.connect(":memory:")
        stack.callback(con.close)
        spec = open_source(con, Source(name=label, path=path), stack)
        return make_plan(con, [spec], mapping, phase_map, catalog_text)


def check_types(plan: Plan, types: Mapping[str, str]) -> None:
    """Refuse, with one sentence, a column whose Spark type the cells cannot use: a Spark load
    reads typed columns (a lake table is typed), it does not clean text."""
    if plan.form == "long":
        raise ScalegateError(
            "The source is in long form (a metric column and a value column): a Spark load "
            "needs one column per metric; pivot it on the cluster, or load it as a file."
        )
    for k in plan.metrics:
        name = plan.headers[k]
        kind = types.get(name, "unknown")
        if kind == "string":
            raise ScalegateError(
                f"The metric column {name} holds text, not numbers: a Spark load reads typed "
                "columns, so cast it to a number in the table (or map it as ignore)."
            )
        if kind not in NUMBER_TYPES:
            raise ScalegateError(
                f"The metric column {name} is of Spark type {kind}, which has no numbers to "
                "average: map it as ignore, or cast it to a number in the table."
            )
    date = plan.headers[plan.date] if plan.date is not None else None
    if date is not None and types.get(date) not in DATE_TYPES:
        raise ScalegateError(
            f"The date column {date} is of Spark type {types.get(date, 'unknown')}, not a date "
            "or timestamp: "
            "cast it to a date in the table (or map it as ignore)."
        )


def split_weight(plan: Plan) -> tuple[Plan, int | None]:
    """The plan without its weight column, and that column: the plan's weight role where the
    detection gives one, else the column whose id is the reserved name `weight` (the column
    that makes a local dataset weighted, day_cells.WEIGHT), which is then no metric."""
    from analytics.store.day_cells import WEIGHT

    weight = getattr(plan, "weight", None)
    if weight is not None:
        return plan, weight
    ids = plan.catalog.ids
    if WEIGHT not in ids:
        return plan, None
    j = ids.index(WEIGHT)
    catalog = replace(
        plan.catalog, metrics=tuple(m for m in plan.catalog.metrics if m.id != WEIGHT)
    )
    metrics = plan.metrics[:j] + plan.metrics[j + 1 :]
    return replace(plan, metrics=metrics, catalog=catalog), plan.metrics[j]


def spark_types(schema: Any) -> dict[str, str]:
    """Column name -> Spark type name (decimal(10,2) -> decimal), from a StructType."""
    return {f.name: f.dataType.typeName() for f in schema.fields}
