"""Load a dataset whose rows stay in the lake: the day cells computed on Spark.

`python -m analytics load SOURCE --engine spark [--spark-remote sc://HOST:PORT]` reads a
Parquet file or folder (any URI the cluster reads) or a catalog table (`--table`), decides the
columns' roles on Spark's schema and first rows with the local detection (spark_plan.py), runs
one aggregation into day cells on Spark (spark_cells.py), brings the cells back through Arrow
and stores them, with the dataset's and metrics' records, in one transaction. The dataset has
no local rows (obs_table NULL); `dataset_sources` records where its cells were computed. Every
analysis reads cells only, so pages, verdicts and exports work on it unchanged.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import pandas as pd

from analytics.core.catalog import save_catalog
from analytics.core.errors import ScalegateError
from analytics.core.types import PHASES
from analytics.ingest import spark_session
from analytics.ingest.check import Counts, refuse_unusable
from analytics.ingest.load import LoadResult, _named_catalog
from analytics.ingest.plan import Plan
from analytics.ingest.report import (
    LONG_TEXT,
    NO_PHASE,
    UNKNOWN_PHASE,
    MissingValues,
    Rejection,
    ValidationReport,
)
from analytics.ingest.sample import SAMPLE_ROWS
from analytics.ingest.spark_cells import SparkCells, aggregate, pool
from analytics.ingest.spark_plan import check_types, plan_from_sample, spark_types, split_weight
from analytics.store.database import Store, cells_table_name

ENGINE = "spark"


@dataclass(frozen=True, slots=True)
class SparkSource:
    """Where the rows are: a Parquet path or URI, or a table of the cluster's catalog."""

    path: str | None = None
    table: str | None = None
    remote: str | None = None  # sc://HOST:PORT; None = a local Spark

    @property
    def label(self) -> str:
        return self.table if self.table else str(self.path)

    def read(self, spark: Any) -> Any:
        return spark.table(self.table) if self.table else spark.read.parquet(self.path)


def load_spark(
    store: Store,
    source: SparkSource,
    *,
    name: str | None = None,
    mapping: Mapping[str, str] | None = None,
    phase_map: Mapping[str, str] | None = None,
    catalog_text: str | bytes | None = None,
    strict: bool = False,
    catalog_name: str | None = None,
) -> LoadResult:
    """Compute a source's day cells on Spark and store them as one dataset, in one transaction.

    Raises ScalegateError (nothing stored) for a source Spark cannot reach or read, or whose
    columns the cells cannot use. The same source (same files, sizes and times) loaded again
    changes nothing and returns already_loaded=True.
    """
    if (source.path is None) == (source.table is None):
        raise ScalegateError("Give either a Parquet path or --table NAME to load with Spark.")
    spark = spark_session.session(source.remote)
    with spark_session.spark_errors(source.label):
        df = source.read(spark)
        schema = df.schema
        types = spark_types(schema)
        sample = df.limit(SAMPLE_ROWS).toArrow()
    plan = plan_from_sample(sample, source.label, mapping, phase_map, catalog_text)
    plan = _named_catalog(plan, catalog_text, catalog_name)  # its file, as a CSV load names it
    check_types(plan, types)
    plan, weight = split_weight(plan)
    with spark_session.spark_errors(source.label):
        raw = aggregate(df, plan, types, weight).toArrow()
        files = _file_listing(spark, df)
    pooled = pool(raw, plan)
    report, counts = _report(plan, pooled, source)
    refuse_unusable(plan, counts, report, strict)
    rows_read = report.rows_read
    fingerprint = _fingerprint(source, schema.json(), files, rows_read, pooled)
    weighted = plan.headers[weight] if weight is not None else None
    return _store(store, plan, pooled, report, source, fingerprint, name, weighted)


def _file_listing(spark: Any, df: Any) -> list[tuple[str, int, str]]:
    """The source's files with their sizes and modification times (metadata only: the
    binaryFile reader lists files without reading them when no content is asked for)."""
    files = sorted(df.inputFiles())
    if not files:
        return []
    listing = (
        spark.read.format("binaryFile")
        .load(files)
        .select("path", "length", "modificationTime")
        .toArrow()
        .to_pylist()
    )
    return sorted((r["path"], int(r["length"]), str(r["modificationTime"])) for r in listing)


def _fingerprint(
    source: SparkSource,
    schema: str,
    files: list[tuple[str, int, str]],
    rows: int,
    pooled: SparkCells,
) -> str:
    """A fingerprint from the source's metadata (its files, sizes and times, schema and row
    count) instead of its bytes; a source without files adds a digest of its cells."""
    payload: dict[str, Any] = {
        "engine": ENGINE,
        "source": source.label,
        "schema": schema,
        "files": files,
        "rows": rows,
    }
    if not files:
        cells = pooled.cells.sort_values(["phase", "site", "channel", "date"], kind="stable")
        payload["cells"] = hashlib.sha256(
            pd.util.hash_pandas_object(cells, index=False).to_numpy().tobytes()
        ).hexdigest()
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _report(plan: Plan, pooled: SparkCells, source: SparkSource) -> tuple[ValidationReport, Counts]:
    """The validation report, from the cells (Spark counted every row into them)."""
    loaded, aside = pooled.loaded, pooled.set_aside
    ids = plan.catalog.ids
    c = Counts(values=[0] * len(ids), not_finite=[0] * len(ids))
    c.loaded = int(loaded["rows"].sum())
    c.table_rows = c.loaded + int(aside["rows"].sum())
    c.phases = {p: int(loaded.loc[loaded["phase"] == p, "rows"].sum()) for p in PHASES}
    for j in range(len(ids)):
        c.not_finite[j] = int(loaded[f"bad{j}"].sum())
        c.values[j] = int(loaded[f"n{j}"].sum()) + c.not_finite[j]
    for phase, rows in aside.groupby("phase", dropna=False)["rows"].sum().items():
        reason = NO_PHASE if pd.isna(phase) else UNKNOWN_PHASE
        c.rejected[reason] = c.rejected.get(reason, 0) + int(rows)
        if reason == UNKNOWN_PHASE:
            c.unknown[str(phase)[1:]] = int(rows)
    c.rejected_sites = {str(s): int(n) for s, n in aside.groupby("site")["rows"].sum().items()}
    c.blank_sites = int(loaded.loc[loaded["site"] == "(blank)", "rows"].sum())
    c.blank_channels = int(loaded.loc[loaded["channel"] == "(blank)", "rows"].sum())
    long = (loaded["site"].str.len() > LONG_TEXT) | (loaded["channel"].str.len() > LONG_TEXT)
    c.long_names = int(loaded.loc[long, "rows"].sum())
    for site, phases in loaded.groupby("site")["phase"].unique().items():
        c.site_phases[str(site)] = set(phases)
    sites = c.site_phases
    report = ValidationReport.build(
        files=(source.label,),
        encoding="day cells computed on Spark",
        delimiter="",
        form=plan.form,
        rows_read=c.table_rows,
        rows_loaded=c.loaded,
        rows_rejected=c.table_rows - c.loaded,
        rejected={reason: Rejection(n) for reason, n in c.rejected.items()},
        rejected_by_site=dict(sorted(c.rejected_sites.items(), key=lambda kv: (-kv[1], kv[0]))),
        unknown_phases=dict(sorted(c.unknown.items(), key=lambda kv: (-kv[1], kv[0]))),
        phases=c.phases,
        metrics={m: plan.headers[k] for m, k in zip(ids, plan.metrics, strict=True)},
        missing_values={
            m: MissingValues(empty=c.loaded - c.values[j], not_finite=c.not_finite[j])
            for j, m in enumerate(ids)
        },
        sites_without_baseline=tuple(sorted(s for s, p in sites.items() if "baseline" not in p)),
        sites_only_in_production=tuple(sorted(s for s, p in sites.items() if p == {"production"})),
        identifiers=plan.identifiers,
        ignored_columns=plan.ignored,
        blank_sites=c.blank_sites,
        blank_channels=c.blank_channels,
        long_names=c.long_names,
        notes=(
            *plan.warnings,
            "The rows stay where they are: Spark grouped them into day cells, so repeated "
            "rows were not counted and no row is stored here.",
        ),
    )
    return report, c


def _store(
    store: Store,
    plan: Plan,
    pooled: SparkCells,
    report: ValidationReport,
    source: SparkSource,
    fingerprint: str,
    name: str | None,
    weight: str | None,
) -> LoadResult:
    """The cells, the dataset, its source and its catalog, in one transaction."""
    from analytics.ingest.load import _unique_name

    with store.transaction() as cur:
        # Registered before any query: DuckDB refuses it while a result is still open.
        cur.register("spark_day_cells", pooled.cells)
        twin = cur.execute(
            "SELECT id, name FROM datasets WHERE sha256 = $h ORDER BY id LIMIT 1",
            {"h": fingerprint},
        ).fetchone()
        if twin:
            return LoadResult(int(twin[0]), str(twin[1]), report, already_loaded=True)
        dataset_id = store.next_dataset_id(cur)
        _write_cells(cur, dataset_id, plan)
        final = _unique_name(cur, (name or _default_name(source)).strip())
        cur.execute(
            "INSERT INTO datasets (id, name, source, sha256, rows, rejected, loaded_at, "
            "obs_table, report, settings) VALUES ($id, $name, $source, $sha, $rows, "
            "$rejected, $at, NULL, $report, NULL)",
            {
                "id": dataset_id,
                "name": final,
                "source": f"{source.label} (Spark)",
                "sha": fingerprint,
                "rows": report.rows_loaded,
                "rejected": report.rows_rejected,
                "at": datetime.now(),
                "report": json.dumps(report.to_dict()),
            },
        )
        cur.execute(
            "INSERT INTO dataset_sources (dataset_id, engine, uri, table_name, remote, "
            "rows_read, fingerprint, weight) VALUES ($id, $engine, $uri, $table, $remote, "
            "$rows, $fp, $weight)",
            {
                "id": dataset_id,
                "engine": ENGINE,
                "uri": source.path,
                "table": source.table,
                "remote": source.remote or spark_session.LOCAL,
                "rows": report.rows_read,
                "fp": fingerprint,
                "weight": weight,
            },
        )
        save_catalog(cur, dataset_id, plan.catalog)
        store.rebuild_view(cur)
    return LoadResult(dataset_id, final, report)


def _write_cells(cur: duckdb.DuckDBPyConnection, dataset_id: int, plan: Plan) -> None:
    """cells_<id> from the registered spark_day_cells, with the local day cells' columns and
    types: phase, site, channel, date, rows, volume, then per metric n (BIGINT) and w, mean,
    m2, s2, q1, q2 (DOUBLE; a mean over no value is NULL, as avg makes it)."""
    from analytics.engine.sums import SUMS
    from analytics.store.day_cells import sum_column

    columns = ["phase", "site", "channel", "CAST(date AS DATE) AS date", "rows::BIGINT AS rows"]
    columns.append("volume::DOUBLE AS volume")
    for metric in plan.catalog.ids:
        for kind in SUMS:
            col = sum_column(kind, metric)
            if kind == "n":
                columns.append(f"{col}::BIGINT AS {col}")
            elif kind == "mean":
                columns.append(f"CASE WHEN isnan({col}) THEN NULL ELSE {col} END AS {col}")
            else:
                columns.append(f"{col}::DOUBLE AS {col}")
    cur.execute(
        f"CREATE TABLE {cells_table_name(dataset_id)} AS SELECT "  # noqa: S608 (names quoted)
        + ", ".join(columns)
        + " FROM spark_day_cells"
    )


def _default_name(source: SparkSource) -> str:
    label = source.label.rstrip("/")
    tail = label.rsplit("/", 1)[-1]
    return tail.removesuffix(".parquet") or label


__all__ = ["SparkSource", "load_spark"]
