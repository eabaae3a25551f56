"""Ingest: CSV (also gzip), Parquet and Excel files -> one validated, normalised dataset.

A load is planned outside the write lock, then runs as one transaction on the store:

- ingest_read: what each file is (CSV, gzip, Parquet, Excel), its encoding, delimiter, header;
- ingest_sample, ingest_detect: the first rows, and from them and the names the role and
  cleaning of every column (the Plan);
- ingest_sql: the expressions, values always bound as parameters;
- ingest_check: after the one `CREATE TABLE obs_N AS SELECT ... FROM read_csv(...)` pass, what
  DuckDB set aside, the counts, the diagnostic pass, the refusals;
- ingest_report: the ValidationReport.

The transaction also writes the `datasets` and `metrics` rows and rebuilds the `telemetry`
view, so readers see a dataset whole or not at all, and a failed load leaves the database as
it was.

Clean files take the fast path: DuckDB's sniffer types the numeric columns, so the pass is a
typed read with casts, and nothing else reads the file again. Text that needs cleaning
(thousands separators, currency, percent, text dates), rejected rows and long-form files add one
diagnostic pass that counts bad values and finds example line numbers.

SQL text here is assembled from code-made pieces only (internal column names c0, c1, ...,
quote_ident-ed metric ids, allow-listed expressions); every value that comes from a file is a
bound parameter. That is what each `noqa: S608` vouches for.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from dataclasses import replace as dc_replace
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from analytics.core.catalog import save_catalog
from analytics.core.errors import ScalegateError
from analytics.core.types import PHASES, Phase, Role
from analytics.ingest.check import (
    Counts,
    Retry,
    build_report,
    count_rows,
    describe_files,
    read_rejects,
    refuse_unusable,
    relations,
)
from analytics.ingest.dates import DATE_ORDERS, DateOrder
from analytics.ingest.detect import Plan, make_plan
from analytics.ingest.progress import ProgressFn, csv_lines, execute_watched, notify
from analytics.ingest.read import FileSpec, Source, open_source
from analytics.ingest.report import ValidationReport
from analytics.ingest.spread import spread_sample
from analytics.ingest.sql import bound, phase_sql, select_sql
from analytics.store import day_cells, history
from analytics.store.database import Store, cells_table_name, obs_table_name

__all__ = [
    "DATE_ORDERS",
    "DateOrder",
    "Detection",
    "LoadResult",
    "Source",
    "ValidationReport",
    "detect",
    "load_files",
]

MAX_ATTEMPTS = (
    4  # a load re-plans when DuckDB finds a late surprise (a text cell in a number column)
)


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What load_files did: the dataset holding the content, and the validation report."""

    dataset_id: int
    name: str
    report: ValidationReport
    already_loaded: bool = False


@dataclass(frozen=True, slots=True)
class Detection:
    """What a load would make of some files, for the user to confirm before anything is stored."""

    files: tuple[str, ...]
    encoding: str
    delimiter: str
    form: str
    headers: tuple[str, ...]
    roles: dict[str, str]  # header -> phase/site/channel/date/metric/value/ignore/identifier
    identifiers: tuple[str, ...]
    phase_column: str | None
    phase_values: dict[str, Phase | None]  # value as written -> phase, None = unknown
    phase_counts: dict[str, int]
    metrics: dict[str, str]  # header (or, in a long file, metric name) -> metric id
    renamed_headers: dict[str, str]
    warnings: tuple[str, ...] = ()
    weight_column: str | None = None  # the rows' volume, when each row is a group
    guesses: dict[str, str] = field(default_factory=dict)  # unplaced column -> best guess
    phase_counts_estimated: bool = False  # counted on a spread sample of a large file
    # The plan behind this detection, when a load of the same files and choices can reuse it
    # (every file read from its own path, nothing temporary; see reusable_plan).
    plan: Plan | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": list(self.files),
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "form": self.form,
            "headers": list(self.headers),
            "roles": dict(self.roles),
            "identifiers": list(self.identifiers),
            "phase_column": self.phase_column,
            "phase_values": dict(self.phase_values),
            "phase_counts": dict(self.phase_counts),
            "metrics": dict(self.metrics),
            "renamed_headers": dict(self.renamed_headers),
            "warnings": list(self.warnings),
            "weight_column": self.weight_column,
            "guesses": dict(self.guesses),
            "phase_counts_estimated": self.phase_counts_estimated,
        }


class AlreadyLoaded(Exception):
    """The bytes are already stored as a dataset (raised inside a load's transaction)."""

    def __init__(self, dataset_id: int, name: str) -> None:
        super().__init__(name)
        self.dataset_id = dataset_id
        self.name = name


# -- helpers ------------------------------------------------------------------------------------

_SCRATCH: list[duckdb.DuckDBPyConnection] = []

_SCRATCH_LOCK = threading.Lock()


def _scratch() -> duckdb.DuckDBPyConnection:
    """An in-memory database for detect(), which reads files without any store; made on the
    first call, shared by the process (each call takes its own cursor)."""
    with _SCRATCH_LOCK:
        if not _SCRATCH:
            _SCRATCH.append(duckdb.connect(":memory:"))
        return _SCRATCH[0]


# What DuckDB raises for a file it cannot parse (as opposed to a mistake in our SQL).
_UNREADABLE = (duckdb.InvalidInputException, duckdb.IOException, duckdb.ConversionException)


def _lenient(files: list[FileSpec], exc: duckdb.Error) -> list[FileSpec]:
    """The files to try again after DuckDB failed to parse one: mixed line endings are read
    with strict_mode=false; anything else becomes a sentence for the user."""
    message = str(exc)
    culprit = next((f for f in files if f.path in message), files[0])
    if "invalid state" in message and any(f.strict and f.format == "csv" for f in files):
        return [
            dc_replace(f, strict=False)
            if f.format == "csv" and (f.path in message or "file =" not in message)
            else f
            for f in files
        ]
    reason = message.split("\n", 1)[0].split("Error: ", 1)[-1].strip().rstrip(".")
    raise ScalegateError(
        f"The file {culprit.name} cannot be read as a table ({reason}): "
        "export it again as CSV, Excel or Parquet."
    ) from exc


def sha256_of(sources: Sequence[Source]) -> str:
    """The bytes' sha256 (for several files, the sha256 of their hashes in order)."""
    digests = []
    for source in sources:
        h = hashlib.sha256()
        if source.data is not None:
            h.update(source.data)
        else:
            with open(source.path, "rb") as handle:  # type: ignore[arg-type]
                while chunk := handle.read(1 << 20):
                    h.update(chunk)
        digests.append(h.hexdigest())
    if len(digests) == 1:
        return digests[0]
    return hashlib.sha256("\n".join(digests).encode()).hexdigest()


def default_name(sources: Sequence[Source]) -> str:
    """The name a dataset of these files is stored under when none is given."""
    name = Path(sources[0].name).name
    return re.sub(r"(\.(csv|tsv|txt|parquet|xlsx|xls|ods))?(\.gz)?$", "", name, flags=re.I) or name


# -- detection --------------------------------------------------------------------------------


def detect(
    sources: Sequence[Source],
    mapping: Mapping[str, Role] | None = None,
    phase_map: Mapping[str, Phase] | None = None,
    date_order: DateOrder = "auto",
) -> Detection:
    """What a load would do with these files, without storing anything."""
    if not sources:
        raise ScalegateError("Give at least one file.")
    with ExitStack() as stack:
        con = _scratch().cursor()  # files are read, nothing is stored
        stack.callback(con.close)
        files = [open_source(con, s, stack) for s in sources]
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="scalegate-")))
        for _ in range(MAX_ATTEMPTS):
            try:
                return _detect(con, files, sources, (mapping, phase_map, date_order), folder)
            except _UNREADABLE as exc:
                files = _lenient(files, exc)
        raise ScalegateError("The files cannot be read: export them again as CSV.")


def _detect(
    con: duckdb.DuckDBPyConnection,
    files: list[FileSpec],
    sources: Sequence[Source],
    choices: tuple[Mapping[str, Role] | None, Mapping[str, Phase] | None, DateOrder],
    folder: Path,
) -> Detection:
    """What a load would make of the files (one scan of the phase column, or of a sample)."""
    mapping, phase_map, date_order = choices
    plan = make_plan(
        con, files, mapping, phase_map, None, require_phase=False, date_order=date_order
    )
    values: dict[str, Phase | None] = {}
    counts: dict[str, int] = {}
    estimated = False
    if plan.phase is not None:
        rows, estimated = _phase_values(con, plan, folder)
        for value, phase, n in rows:
            values[value] = phase if phase in PHASES else None
            counts[value] = int(n)
    encoding, delimiter = describe_files(plan.files)
    labels = [m.label for m in plan.catalog.metrics]
    return Detection(
        files=tuple(s.name for s in sources),
        encoding=encoding,
        delimiter=delimiter,
        form=plan.form,
        headers=plan.headers,
        roles=dict(plan.roles),
        identifiers=plan.identifiers,
        phase_column=plan.headers[plan.phase] if plan.phase is not None else None,
        phase_values=values,
        phase_counts=counts,
        metrics=dict(zip(labels, plan.catalog.ids, strict=True)),
        renamed_headers=dict(plan.renamed),
        warnings=plan.warnings,
        weight_column=plan.headers[plan.weight] if plan.weight is not None else None,
        guesses=dict(plan.guesses),
        phase_counts_estimated=estimated,
        plan=plan if _reads_sources(plan, sources) else None,
    )


def _reads_sources(plan: Plan, sources: Sequence[Source]) -> bool:
    """Whether the plan reads each source at its own path (no copy made for the detection,
    which is gone when the detection returns)."""
    paths = [str(s.path) if s.path is not None else None for s in sources]
    return len(plan.files) == len(paths) and all(
        f.path == p for f, p in zip(plan.files, paths, strict=True)
    )


def reusable_plan(detection: Detection | None, catalog_text: str | bytes | None) -> Plan | None:
    """The detection's plan, when a load given the same files and choices can skip planning:
    no catalog file (the detection read none) and a phase column found (a load without one is
    refused by planning again)."""
    if detection is None or detection.plan is None or catalog_text is not None:
        return None
    return detection.plan if detection.plan.phase is not None else None


def _phase_values(
    con: duckdb.DuckDBPyConnection, plan: Plan, folder: Path
) -> tuple[list[tuple[str, str | None, int]], bool]:
    """(value, phase, rows) for every value of the phase column, most rows first, and whether
    the rows are estimates: large plain CSV files are scanned through a spread sample
    (analytics/ingest/spread.py), the rest whole."""
    found = [spread_sample(f, folder, k) for k, f in enumerate(plan.files)]
    if all(s is None for s in found):
        return _count_phase_values(con, plan, [1.0] * len(found)), False
    files = tuple(s[0] if s else f for s, f in zip(found, plan.files, strict=True))
    try:
        rows = _count_phase_values(
            con, dc_replace(plan, files=files), [s[1] if s else 1.0 for s in found]
        )
    except duckdb.Error:  # a sample cut inside a quoted line break: read the files whole
        return _count_phase_values(con, plan, [1.0] * len(found)), False
    return rows, True


def _count_phase_values(
    con: duckdb.DuckDBPyConnection, plan: Plan, shares: Sequence[float]
) -> list[tuple[str, str | None, int]]:
    """The phase column's values with their phase and rows, each file's rows divided by the
    share of it that was read."""
    if plan.phase is None:
        return []
    rels, params = relations(plan, rejects=False)
    parts = [
        f"SELECT trim(CAST({plan.col(f, plan.phase)[0]} AS VARCHAR)) AS v, "  # noqa: S608
        f"{f} AS f FROM {rel}"
        for f, rel in enumerate(rels)
    ]
    sql = (
        f"SELECT v, {phase_sql('v')} AS p, f, count(*) AS n FROM ("  # noqa: S608
        + " UNION ALL ".join(parts)
        + ") WHERE v IS NOT NULL AND v <> '' AND lower(v) <> $hdr_phase "
        "AND NOT regexp_full_match(v, $total_re, 'i') GROUP BY v, f"
    )
    rows: dict[str, list] = {}
    for value, phase, f, n in con.execute(sql, bound(sql, params)).fetchall():
        held = rows.setdefault(value, [value, phase, 0.0])
        held[2] += n / shares[f]
    found = [(v, p, round(n)) for v, p, n in rows.values()]
    return sorted(found, key=lambda r: (-r[2], r[0]))


# -- loading ----------------------------------------------------------------------------------


def load_files(
    store: Store,
    sources: Sequence[Source],
    *,
    name: str | None = None,
    mapping: Mapping[str, Role] | None = None,
    phase_map: Mapping[str, Phase] | None = None,
    catalog_text: str | bytes | None = None,
    strict: bool = False,
    replace: int | None = None,
    adapt: Callable[[Plan], Plan] | None = None,
    date_order: DateOrder = "auto",
    catalog_name: str | None = None,
    progress: ProgressFn | None = None,
    planned: Plan | None = None,
) -> LoadResult:
    """Load files as one dataset, in one transaction, and report what was found.

    Raises ScalegateError (nothing stored) for a file that cannot be used. The same content
    loaded again changes nothing and returns already_loaded=True with the dataset that holds
    it. `replace=ID` puts the new data in the place of dataset ID, under its name. `adapt`
    may change the plan before anything is read (an append reuses its dataset's date format).
    `catalog_name` names the catalog file given as `catalog_text`, stored with the dataset.
    `progress` is called with each stage and, during the pass over the rows, with the rows read
    so far (analytics/ingest/progress.py). `planned` is a plan the detection made of the same
    sources with the same choices (reusable_plan): the files are then not planned again.
    """
    if not sources:
        raise ScalegateError("Give at least one file to load.")
    with ExitStack() as stack:
        helpers = stack.enter_context(ThreadPoolExecutor(max_workers=2))
        sha = helpers.submit(sha256_of, sources)  # runs while DuckDB reads
        # The rows to expect, for the progress bar: counted while the load is planned.
        lines = helpers.submit(csv_lines, sources) if progress is not None else None
        con = store.cursor()  # planning reads files and keeps its sample in this cursor's temp
        stack.callback(con.close)
        notify(progress, "plan")
        if planned is not None:
            files = list(planned.files)
        else:
            files = [open_source(con, s, stack) for s in sources]
        for _ in range(MAX_ATTEMPTS):
            try:
                plan = planned or make_plan(
                    con, files, mapping, phase_map, catalog_text, date_order=date_order
                )
                planned = None  # a retry plans its files again
                plan = adapt(plan) if adapt is not None else plan
                plan = _named_catalog(plan, catalog_text, catalog_name)
                watched = (progress, lines)
                return _load(
                    store, plan, sources, sha, watched, name=name, strict=strict, replace=replace
                )
            except Retry as retry:
                files = retry.files
            except _UNREADABLE as exc:
                files = _lenient(files, exc)
        raise ScalegateError(
            "The file keeps changing type part way through its rows: save it again as CSV."
        )


def _named_catalog(plan: Plan, text: str | bytes | None, name: str | None) -> Plan:
    """The plan with its catalog's source named: the file given, or keyword guesses."""
    if text is None:
        return plan
    source = name or "a catalog file"
    return dc_replace(plan, catalog=dc_replace(plan.catalog, source=source))


def _load(
    store: Store,
    plan: Plan,
    sources: Sequence[Source],
    sha: Future[str],
    watched: tuple[ProgressFn | None, Future[int | None] | None],
    *,
    name: str | None,
    strict: bool,
    replace: int | None,
) -> LoadResult:
    progress, lines = watched
    try:
        with store.transaction() as cur:
            dataset_id, old_name = _target(store, cur, replace)
            table = obs_table_name(dataset_id)
            report, counts = checked_pass(cur, plan, table, progress, lines)
            digest = sha.result()
            refuse_or_twin(cur, plan, (counts, report), strict, digest)
            if replace is not None:
                # The replaced dataset's decisions stay: they are the log of what was decided.
                cur.execute("DELETE FROM datasets WHERE id = $id", {"id": dataset_id})
                cur.execute("DELETE FROM metrics WHERE dataset_id = $id", {"id": dataset_id})
            # The day cells every analysis reads (one GROUP BY over the cleaned rows).
            notify(progress, "cells", report.rows_read)
            day_cells.build(cur, dataset_id, plan.catalog.ids)
            notify(progress, "save", report.rows_read)
            final = store_dataset(
                store, cur, dataset_id, plan, (sources, digest, report), name or old_name
            )
    except AlreadyLoaded as twin:
        # Nothing changed; the report says what the file holds, the result names its twin.
        return LoadResult(twin.dataset_id, twin.name, report, already_loaded=True)
    finally:
        # The setting is global to the database: put it back even when the load failed.
        store.cursor().execute("SET preserve_insertion_order = true")
    return LoadResult(dataset_id, final, report)


def checked_pass(
    cur: duckdb.DuckDBPyConnection,
    plan: Plan,
    table: str,
    progress: ProgressFn | None,
    lines: Future[int | None] | None,
) -> tuple[ValidationReport, Counts]:
    """The pass over the files into `table`, then what DuckDB set aside, the counts and the
    report (rows to set aside are deleted from `table`)."""
    _pass(cur, plan, table, progress, lines)
    ragged, skipped = read_rejects(cur, plan)
    counts = count_rows(cur, table, plan)
    notify(progress, "check")
    return build_report(cur, table, plan, counts, ragged, skipped), counts


def refuse_or_twin(
    cur: duckdb.DuckDBPyConnection,
    plan: Plan,
    checked: tuple[Counts, ValidationReport],
    strict: bool,
    digest: str,
) -> None:
    """Raise ScalegateError for files that cannot be used, AlreadyLoaded when a stored dataset
    holds the same bytes."""
    counts, report = checked
    refuse_unusable(plan, counts, report, strict)
    twin = cur.execute(
        "SELECT id, name FROM datasets WHERE sha256 = $h ORDER BY id LIMIT 1", {"h": digest}
    ).fetchone()
    if twin:
        raise AlreadyLoaded(int(twin[0]), str(twin[1]))


def store_dataset(
    store: Store,
    cur: duckdb.DuckDBPyConnection,
    dataset_id: int,
    plan: Plan,
    found: tuple[Sequence[Source], str, ValidationReport],
    name: str | None,
) -> str:
    """The dataset's rows beside its tables: `datasets`, its catalog, the load history, the
    telemetry view; returns the name it was stored under (made unique)."""
    sources, digest, report = found
    final = _unique_name(cur, (name or default_name(sources)).strip())
    _save(cur, dataset_id, final, sources, digest, report)
    save_catalog(cur, dataset_id, plan.catalog)
    history.record_load(cur, dataset_id, plan, report, digest)
    store.rebuild_view(cur)
    return final


def _target(
    store: Store, cur: duckdb.DuckDBPyConnection, replace: int | None
) -> tuple[int, str | None]:
    """The dataset id the load writes (a new one, or the one it replaces, whose tables are
    dropped) and the replaced dataset's name."""
    if replace is None:
        return store.next_dataset_id(cur), None
    found = cur.execute("SELECT name FROM datasets WHERE id = $id", {"id": replace}).fetchone()
    if not found:
        raise ScalegateError(f"There is no dataset {replace} to replace.")
    dataset_id = int(replace)
    cur.execute("DROP TABLE IF EXISTS " + obs_table_name(dataset_id))
    cur.execute("DROP TABLE IF EXISTS " + cells_table_name(dataset_id))
    return dataset_id, found[0]


def _pass(
    cur: duckdb.DuckDBPyConnection,
    plan: Plan,
    table: str,
    progress: ProgressFn | None,
    lines: Future[int | None] | None,
) -> None:
    """The one pass over the files: typed read, cleaning, phase mapping, into obs_N.

    Rows may land in any order (nothing reads obs_N by position), which lets DuckDB write in
    parallel without reordering: 10M rows load in 4.0 s instead of 4.5 s, with 10% less peak
    memory at 1M rows. Order is back on before anything numbers lines (the diagnostic pass
    reads the files again with row_number())."""
    rels, params = relations(plan, rejects=True)
    parts = [f"SELECT {select_sql(plan, f)} FROM {rel}" for f, rel in enumerate(rels)]  # noqa: S608
    sql = f"CREATE TABLE {table} AS " + " UNION ALL ".join(parts)
    cur.execute("SET preserve_insertion_order = false")
    notify(progress, "pass")
    execute_watched(cur, sql, bound(sql, params), progress, lines)
    cur.execute("SET preserve_insertion_order = true")


def _save(
    cur: duckdb.DuckDBPyConnection,
    dataset_id: int,
    name: str,
    sources: Sequence[Source],
    digest: str,
    report: ValidationReport,
) -> None:
    """The dataset's row in `datasets`."""
    cur.execute(
        "INSERT INTO datasets VALUES ($id, $name, $source, $sha, $rows, $rejected, "
        "$at, $table, $report, NULL)",
        {
            "id": dataset_id,
            "name": name,
            "source": ", ".join(s.name for s in sources),
            "sha": digest,
            "rows": report.rows_loaded,
            "rejected": report.rows_rejected,
            "at": datetime.now(),
            "table": obs_table_name(dataset_id),
            "report": json.dumps(report.to_dict()),
        },
    )


def _unique_name(cur: duckdb.DuckDBPyConnection, name: str) -> str:
    """The name, or the name with " (2)", " (3)", ... when another dataset has it."""
    taken = {r[0] for r in cur.execute("SELECT name FROM datasets").fetchall()}
    name = name or "dataset"
    candidate, k = name, 2
    while candidate in taken:
        candidate, k = f"{name} ({k})", k + 1
    return candidate
