"""Ingest: CSV (also gzip), Parquet and Excel files -> one validated, normalised dataset.

A load is planned outside the write lock (what each file is, what each column means, how its
values are cleaned: analytics.ingest_read and analytics.ingest_detect), then runs as one
transaction on the store: one `CREATE TABLE obs_N AS SELECT ... FROM read_csv(...)` pass over
the files, a few aggregate queries over the new table for the validation report, the
`datasets` and `metrics` rows and the rebuilt `telemetry` view. Readers see the dataset whole
or not at all; a failed load leaves the database as it was.

Clean files take the fast path: DuckDB's sniffer types the numeric columns, so the pass is a
typed read with casts, and nothing else reads the file again. Text that needs cleaning
(thousands separators, currency, percent, text dates), rejected rows and long files add one
diagnostic pass that counts bad values and finds example line numbers.

SQL text here is assembled from code-made pieces only (internal column names c0, c1, ...,
quote_ident-ed metric ids, allow-listed expressions); every value that comes from a file is a
bound parameter. That is what each `noqa: S608` vouches for.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from dataclasses import replace as dc_replace
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from analytics.catalog import save_catalog
from analytics.errors import ScalegateError
from analytics.ingest_detect import (
    CANONICAL,
    Plan,
    bound,
    date_sql,
    is_empty_sql,
    make_plan,
    number_sql,
    phase_sql,
    select_sql,
    shared_params,
    unclosed_quote,
)
from analytics.ingest_read import FileSpec, Source, describe_delimiter, open_source
from analytics.ingest_report import (
    BAD_CHARACTERS,
    EXAMPLES,
    LINE_TOO_LONG,
    LONG_TEXT,
    NO_METRIC_NAME,
    NO_PHASE,
    STRAY_QUOTE,
    UNKNOWN_PHASE,
    WRONG_COLUMNS,
    MissingValues,
    Rejection,
    ValidationReport,
)
from analytics.store import Store, obs_table_name, quote_ident
from analytics.types import PHASES, Phase, Role

__all__ = [
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
        }


class _Retry(Exception):
    """DuckDB met something the plan did not expect; roll back and load with these files."""

    def __init__(self, files: list[FileSpec]) -> None:
        super().__init__("retry")
        self.files = files


class _AlreadyLoaded(Exception):
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


def _sha256(sources: Sequence[Source]) -> str:
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


def _default_name(sources: Sequence[Source]) -> str:
    name = Path(sources[0].name).name
    return re.sub(r"(\.(csv|tsv|txt|parquet|xlsx|xls|ods))?(\.gz)?$", "", name, flags=re.I) or name


def _describe(files: Sequence[FileSpec]) -> tuple[str, str]:
    encodings = sorted({f.encoding_label for f in files})
    delimiters = sorted({describe_delimiter(f.delimiter) for f in files if f.delimiter})
    return " and ".join(encodings), " and ".join(delimiters)


def _relations(plan: Plan, rejects: bool) -> tuple[list[str], dict[str, Any]]:
    rels, params = [], shared_params(plan)
    for f, spec in enumerate(plan.files):
        rel, p = spec.relation(f"f{f}", rejects=f"scalegate_rejects_{f}" if rejects else None)
        rels.append(rel)
        params |= p
    return rels, params


def _physical_line(rn: int, skipped: Sequence[int], header: int = 1) -> int:
    """A data row's line in its file: after the header, skipping lines DuckDB set aside."""
    line = rn + header
    for s in skipped:
        if s <= line:
            line += 1
        else:
            break
    return line


# -- detection --------------------------------------------------------------------------------


def detect(
    sources: Sequence[Source],
    mapping: Mapping[str, Role] | None = None,
    phase_map: Mapping[str, Phase] | None = None,
) -> Detection:
    """What a load would do with these files, without storing anything."""
    if not sources:
        raise ScalegateError("Give at least one file.")
    with ExitStack() as stack:
        con = _scratch().cursor()  # files are read, nothing is stored
        stack.callback(con.close)
        files = [open_source(con, s, stack) for s in sources]
        for _ in range(MAX_ATTEMPTS):
            try:
                return _detect(con, files, sources, mapping, phase_map)
            except _UNREADABLE as exc:
                files = _lenient(files, exc)
        raise ScalegateError("The files cannot be read: export them again as CSV.")


def _detect(
    con: duckdb.DuckDBPyConnection,
    files: list[FileSpec],
    sources: Sequence[Source],
    mapping: Mapping[str, Role] | None,
    phase_map: Mapping[str, Phase] | None,
) -> Detection:
    """What a load would make of the files (one scan of the phase column)."""
    plan = make_plan(con, files, mapping, phase_map, None, require_phase=False)
    values: dict[str, Phase | None] = {}
    counts: dict[str, int] = {}
    if plan.phase is not None:
        rels, params = _relations(plan, rejects=False)
        parts = [
            f"SELECT trim(CAST({plan.col(f, plan.phase)[0]} AS VARCHAR)) AS v FROM {rel}"  # noqa: S608
            for f, rel in enumerate(rels)
        ]
        sql = (
            f"SELECT v, {phase_sql('v')} AS p, count(*) AS n FROM ("  # noqa: S608
            + " UNION ALL ".join(parts)
            + ") WHERE v IS NOT NULL AND v <> '' GROUP BY v ORDER BY n DESC, v"
        )
        rows = con.execute(sql, bound(sql, params)).fetchall()
        for value, phase, n in rows:
            values[value] = phase if phase in PHASES else None
            counts[value] = int(n)
    encoding, delimiter = _describe(plan.files)
    labels = plan.metric_names if plan.form == "long" else [plan.headers[k] for k in plan.metrics]
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
    )


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
) -> LoadResult:
    """Load files as one dataset, in one transaction, and report what was found.

    Raises ScalegateError (nothing stored) for a file that cannot be used. The same content
    loaded again changes nothing and returns already_loaded=True with the dataset that holds
    it. `replace=ID` puts the new data in the place of dataset ID, under its name.
    """
    if not sources:
        raise ScalegateError("Give at least one file to load.")
    with ExitStack() as stack:
        hashing = stack.enter_context(ThreadPoolExecutor(max_workers=1))
        sha = hashing.submit(_sha256, sources)  # runs while DuckDB reads
        con = store.cursor()  # planning reads files and keeps its sample in this cursor's temp
        stack.callback(con.close)
        files = [open_source(con, s, stack) for s in sources]
        for _ in range(MAX_ATTEMPTS):
            try:
                plan = make_plan(con, files, mapping, phase_map, catalog_text)
                return _load(store, plan, sources, sha, name=name, strict=strict, replace=replace)
            except _Retry as retry:
                files = retry.files
            except _UNREADABLE as exc:
                files = _lenient(files, exc)
        raise ScalegateError(
            "The file keeps changing type part way through its rows: save it again as CSV."
        )


@dataclass(slots=True)
class _Counts:
    """Numbers gathered from the new table, before the report is written."""

    table_rows: int = 0
    loaded: int = 0
    phases: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)
    unknown: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    values: list[int] = field(default_factory=list)  # non-null values per metric (loaded rows)
    not_finite: list[int] = field(default_factory=list)
    dates: int = 0
    blank_sites: int = 0
    blank_channels: int = 0
    long_names: int = 0
    site_phases: dict[str, set[str]] = field(default_factory=dict)


def _load(
    store: Store,
    plan: Plan,
    sources: Sequence[Source],
    sha: Future[str],
    *,
    name: str | None,
    strict: bool,
    replace: int | None,
) -> LoadResult:
    try:
        with store.transaction() as cur:
            old_name = None
            if replace is not None:
                found = cur.execute(
                    "SELECT name FROM datasets WHERE id = $id", {"id": replace}
                ).fetchone()
                if not found:
                    raise ScalegateError(f"There is no dataset {replace} to replace.")
                old_name = found[0]
                dataset_id = int(replace)
                cur.execute("DROP TABLE IF EXISTS " + obs_table_name(dataset_id))
            else:
                dataset_id = store.next_dataset_id(cur)
            table = obs_table_name(dataset_id)
            rels, params = _relations(plan, rejects=True)
            parts = [f"SELECT {select_sql(plan, f)} FROM {rel}" for f, rel in enumerate(rels)]  # noqa: S608
            # The one pass over the files: typed read, cleaning, phase mapping, into obs_N.
            sql = f"CREATE TABLE {table} AS " + " UNION ALL ".join(parts)
            cur.execute(sql, bound(sql, params))
            ragged, skipped = _rejects(cur, plan)
            counts = _count(cur, table, plan)
            report = _report(cur, table, plan, counts, ragged, skipped)
            _refuse_unusable(plan, counts, report, strict)
            digest = sha.result()
            twin = cur.execute(
                "SELECT id, name FROM datasets WHERE sha256 = $h ORDER BY id LIMIT 1", {"h": digest}
            ).fetchone()
            if twin:
                raise _AlreadyLoaded(int(twin[0]), str(twin[1]))
            if replace is not None:
                # The replaced dataset's decisions stay: they are the log of what was decided.
                cur.execute("DELETE FROM datasets WHERE id = $id", {"id": dataset_id})
                cur.execute("DELETE FROM metrics WHERE dataset_id = $id", {"id": dataset_id})
            final = _unique_name(cur, (name or old_name or _default_name(sources)).strip())
            cur.execute(
                "INSERT INTO datasets VALUES ($id, $name, $source, $sha, $rows, $rejected, "
                "$at, $table, $report, NULL)",
                {
                    "id": dataset_id,
                    "name": final,
                    "source": ", ".join(s.name for s in sources),
                    "sha": digest,
                    "rows": report.rows_loaded,
                    "rejected": report.rows_rejected,
                    "at": datetime.now(),
                    "table": table,
                    "report": json.dumps(report.to_dict()),
                },
            )
            save_catalog(cur, dataset_id, plan.catalog)
            store.rebuild_view(cur)
    except _AlreadyLoaded as twin:
        note = f"This content is already loaded as dataset {twin.name} (id {twin.dataset_id})."
        report = replace_notes(report, note)
        return LoadResult(twin.dataset_id, twin.name, report, already_loaded=True)
    return LoadResult(dataset_id, final, report)


def replace_notes(report: ValidationReport, note: str) -> ValidationReport:
    facts = {f: getattr(report, f) for f in report.__dataclass_fields__ if f != "warnings"}
    facts["notes"] = (*report.notes, note)
    return ValidationReport.build(**facts)


def _unique_name(cur: duckdb.DuckDBPyConnection, name: str) -> str:
    """The name, or the name with " (2)", " (3)", ... when another dataset has it."""
    taken = {r[0] for r in cur.execute("SELECT name FROM datasets").fetchall()}
    name = name or "dataset"
    candidate, k = name, 2
    while candidate in taken:
        candidate, k = f"{name} ({k})", k + 1
    return candidate


def _rejects(
    cur: duckdb.DuckDBPyConnection, plan: Plan
) -> tuple[dict[str, Rejection], list[list[int]]]:
    """Lines DuckDB set aside while reading, by reason; raises _Retry when a column's type or
    the file's encoding was guessed wrong, ScalegateError for a quote that never closes."""
    reasons: dict[str, list[tuple[int, int]]] = {}
    skipped: list[list[int]] = []
    retry = list(plan.files)
    again = False
    for f, spec in enumerate(plan.files):
        if spec.format != "csv":
            skipped.append([])
            continue
        rows = cur.execute(
            f"SELECT line, error_type, column_name, error_message FROM scalegate_rejects_{f} "  # noqa: S608
            "ORDER BY line"
        ).fetchall()
        seen: dict[int, str] = {}
        cast_cols: set[str] = set()
        for line, kind, column, message in rows:
            kind = str(kind)
            if kind == "CAST" and column in spec.internal:
                cast_cols.add(column)
            elif "ENCODING" in kind or "UNICODE" in kind:
                if spec.encoding == "utf-8":
                    retry[f] = dc_replace(retry[f], encoding="latin-1", encoding_label="Latin-1")
                    again = True
                seen.setdefault(int(line), BAD_CHARACTERS)
            elif kind == "UNQUOTED VALUE" and "unterminated" in str(message).lower():
                raise unclosed_quote(spec.name, int(line))
            elif kind == "UNQUOTED VALUE":
                seen.setdefault(int(line), STRAY_QUOTE)
            elif kind == "LINE SIZE OVER MAXIMUM":
                seen.setdefault(int(line), LINE_TOO_LONG)
            else:
                seen.setdefault(int(line), WRONG_COLUMNS)
        if cast_cols:
            types = [
                "VARCHAR" if col in cast_cols else t
                for col, t in zip(spec.internal, retry[f].types, strict=True)
            ]
            retry[f] = dc_replace(retry[f].with_types(types), dateformat=None, timestampformat=None)
            again = True
        for line, reason in seen.items():
            reasons.setdefault(reason, []).append((f, line))
        skipped.append(sorted(seen))
    if again:
        raise _Retry(retry)
    out = {
        reason: Rejection(len(lines), tuple(line for _, line in sorted(lines)[:EXAMPLES]))
        for reason, lines in reasons.items()
    }
    return out, skipped


def _count(cur: duckdb.DuckDBPyConnection, table: str, plan: Plan) -> _Counts:
    """One GROUP BY over the new table: rows per phase (and per unknown phase value) and
    site, filled values and NaN/infinite values per metric, blank and long names."""
    ids = [quote_ident(m) for m in plan.catalog.ids]
    per_metric = [f"count({m})" for m in ids] + [
        f"count(*) FILTER (WHERE NOT isfinite({m}))" for m in ids
    ]
    rows = cur.execute(
        "SELECT phase, site, count(*), count(date), "  # noqa: S608
        "count(*) FILTER (WHERE site = '(blank)'), count(*) FILTER (WHERE channel = '(blank)'), "
        f"count(*) FILTER (WHERE length(site) > {LONG_TEXT} OR length(channel) > {LONG_TEXT}), "
        + ", ".join(per_metric)
        + f" FROM {table} GROUP BY ALL"
    ).fetchall()
    n_metrics = len(ids)
    c = _Counts(values=[0] * n_metrics, not_finite=[0] * n_metrics)
    c.phases = {p: 0 for p in PHASES}
    for row in rows:
        phase, site, n = row[0], row[1], int(row[2])
        c.table_rows += n
        if phase in PHASES:
            c.loaded += n
            c.phases[phase] += n
            c.dates += int(row[3])
            c.blank_sites += int(row[4])
            c.blank_channels += int(row[5])
            c.long_names += int(row[6])
            for j in range(n_metrics):
                c.values[j] += int(row[7 + j])
                c.not_finite[j] += int(row[7 + n_metrics + j])
            c.site_phases.setdefault(site, set()).add(phase)
        elif phase is None:
            c.rejected[NO_PHASE] = c.rejected.get(NO_PHASE, 0) + n
        elif phase == "!metric":
            c.rejected[NO_METRIC_NAME] = c.rejected.get(NO_METRIC_NAME, 0) + n
        else:
            c.rejected[UNKNOWN_PHASE] = c.rejected.get(UNKNOWN_PHASE, 0) + n
            c.unknown[phase[1:]] = c.unknown.get(phase[1:], 0) + n
    return c


def _diagnose(
    cur: duckdb.DuckDBPyConnection, plan: Plan, skipped: list[list[int]]
) -> tuple[dict[str, list[int]], list[list[int]], list[int], list[int]]:
    """The diagnostic pass: per file, read again with row numbers, count empty and unreadable
    values of each metric on the loaded rows, and find example lines of everything set aside.

    Returns example lines per rejection reason, per metric [empty, unreadable] counts, example
    lines per metric, and [unreadable dates, *example lines]."""
    rels, params = _relations(plan, rejects=False)
    n = len(plan.catalog.ids)
    lines: dict[str, list[int]] = {NO_PHASE: [], NO_METRIC_NAME: [], UNKNOWN_PHASE: []}
    missing = [[0, 0] for _ in range(n)]
    metric_lines: list[list[int]] = [[] for _ in range(n)]
    dates = [0]
    ok = f"ph IN {CANONICAL}"
    for f, rel in enumerate(rels):
        cols = [f"{phase_sql(f'CAST({plan.col(f, plan.phase)[0]} AS VARCHAR)')} AS ph"]  # type: ignore[arg-type]
        aggs = [
            f"min(rn, {EXAMPLES}) FILTER (WHERE ph IS NULL)",
            f"min(rn, {EXAMPLES}) FILTER (WHERE ph = '!metric')",
            f"min(rn, {EXAMPLES}) FILTER (WHERE ph LIKE '?%')",
        ]
        if plan.form == "long":
            name_col = plan.col(f, plan.name_col)[0]  # type: ignore[arg-type]
            value_col, value_type = plan.col(f, plan.value_col)  # type: ignore[arg-type]
            cols.append(f"trim(CAST({name_col} AS VARCHAR)) AS name")
            cols.append(f"CAST({value_col} AS VARCHAR) AS raw0")
            cols.append(f"{number_sql(value_col, value_type, plan.styles[plan.value_col])} AS val0")  # type: ignore[index]
            for j in range(n):
                mine = f"{ok} AND name = $m{j}"
                aggs += [
                    f"count(*) FILTER (WHERE {mine} AND {is_empty_sql('raw0')})",
                    f"count(*) FILTER (WHERE {mine} AND NOT {is_empty_sql('raw0')} AND val0 IS NULL)",
                    f"min(rn, {EXAMPLES}) FILTER (WHERE {mine} AND ((NOT {is_empty_sql('raw0')} "
                    "AND val0 IS NULL) OR NOT isfinite(val0)))",
                ]
        else:
            for j, k in enumerate(plan.metrics):
                col, duck_type = plan.col(f, k)
                cols.append(f"CAST({col} AS VARCHAR) AS raw{j}")
                cols.append(f"{number_sql(col, duck_type, plan.styles[k])} AS val{j}")
                bad = f"NOT {is_empty_sql(f'raw{j}')} AND val{j} IS NULL"
                aggs += [
                    f"count(*) FILTER (WHERE {ok} AND {is_empty_sql(f'raw{j}')})",
                    f"count(*) FILTER (WHERE {ok} AND {bad})",
                    f"min(rn, {EXAMPLES}) FILTER (WHERE {ok} AND ({bad} OR NOT isfinite(val{j})))",
                ]
        if plan.date is not None:
            col, duck_type = plan.col(f, plan.date)
            cols.append(f"CAST({col} AS VARCHAR) AS raw_date")
            cols.append(f"{date_sql(col, duck_type)} AS val_date")
            bad = f"NOT {is_empty_sql('raw_date')} AND val_date IS NULL"
            aggs += [
                f"count(*) FILTER (WHERE {ok} AND {bad})",
                f"min(rn, {EXAMPLES}) FILTER (WHERE {ok} AND {bad})",
            ]
        source = f"SELECT row_number() OVER () AS rn, {', '.join(cols)} FROM {rel}"  # noqa: S608
        if plan.form == "long":
            # Rows without a metric name are marked as the load marks them.
            source = (
                "SELECT * REPLACE (CASE WHEN (name IS NULL OR name = '') AND ph IN "  # noqa: S608
                f"{CANONICAL} THEN '!metric' ELSE ph END AS ph) FROM ({source})"
            )
        sql = f"SELECT {', '.join(aggs)} FROM ({source})"  # noqa: S608
        row = cur.execute(sql, bound(sql, params)).fetchone()
        assert row is not None
        skip, header = skipped[f], plan.files[f].skip + 1

        def at(rns: list[int] | None, skip: list[int] = skip, header: int = header) -> list[int]:
            return [_physical_line(int(r), skip, header) for r in rns or []]

        lines[NO_PHASE] += at(row[0])
        lines[NO_METRIC_NAME] += at(row[1])
        lines[UNKNOWN_PHASE] += at(row[2])
        for j in range(n):
            missing[j][0] += int(row[3 + 3 * j])
            missing[j][1] += int(row[4 + 3 * j])
            metric_lines[j] += at(row[5 + 3 * j])
        if plan.date is not None:
            dates[0] += int(row[3 + 3 * n])
            dates += at(row[4 + 3 * n])
    return lines, missing, metric_lines, dates


def _report(
    cur: duckdb.DuckDBPyConnection,
    table: str,
    plan: Plan,
    c: _Counts,
    ragged: dict[str, Rejection],
    skipped: list[list[int]],
) -> ValidationReport:
    """Remove what was set aside from the new table, then write the report from the counts."""
    if c.table_rows > c.loaded:
        cur.execute(f"DELETE FROM {table} WHERE phase IS NULL OR phase NOT IN {CANONICAL}")  # noqa: S608
    ids = plan.catalog.ids
    for j, metric in enumerate(ids):
        if c.not_finite[j]:
            col = quote_ident(metric)
            cur.execute(f"UPDATE {table} SET {col} = NULL WHERE NOT isfinite({col})")  # noqa: S608
    # Exact repeats, by a hash of the whole stored row (one hash table, no sort).
    row = cur.execute(
        "SELECT count(*) - count(DISTINCT hash(date, phase, site, channel"  # noqa: S608
        + "".join(f", {quote_ident(m)}" for m in ids)
        + f")) FROM {table}"
    ).fetchone()
    c.duplicates = int(row[0]) if row else 0
    diagnose = plan.needs_cleaning() or c.table_rows > c.loaded or any(c.not_finite)
    example: dict[str, list[int]] = {}
    metric_lines: list[list[int]] = [[] for _ in ids]
    empty_unreadable = [[c.loaded - c.values[j], 0] for j in range(len(ids))]
    dates: list[int] = [0]
    if diagnose:
        example, empty_unreadable, metric_lines, dates = _diagnose(cur, plan, skipped)
        if plan.form == "wide":
            # Rows are the same as the load's; trust the table for the empty count.
            for j in range(len(ids)):
                empty_unreadable[j][0] = c.loaded - c.values[j] - empty_unreadable[j][1]
    rejected = dict(ragged)
    for reason, n in c.rejected.items():
        rejected[reason] = Rejection(n, tuple(sorted(example.get(reason, []))[:EXAMPLES]))
    missing = {
        metric: MissingValues(
            empty=empty_unreadable[j][0],
            unreadable=empty_unreadable[j][1],
            not_finite=c.not_finite[j],
            lines=tuple(sorted(metric_lines[j])[:EXAMPLES]),
        )
        for j, metric in enumerate(ids)
    }
    labels = plan.metric_names if plan.form == "long" else [plan.headers[k] for k in plan.metrics]
    encoding, delimiter = _describe(plan.files)
    rows_rejected = sum(r.count for r in rejected.values())
    sites = c.site_phases
    return ValidationReport.build(
        files=tuple(f.name for f in plan.files),
        encoding=encoding,
        delimiter=delimiter,
        form=plan.form,
        rows_read=c.table_rows + sum(r.count for r in ragged.values()),
        rows_loaded=c.loaded,
        rows_rejected=rows_rejected,
        rejected=rejected,
        unknown_phases=dict(sorted(c.unknown.items(), key=lambda kv: (-kv[1], kv[0]))),
        phases=c.phases,
        metrics=dict(zip(ids, labels, strict=True)),
        missing_values=missing,
        unreadable_dates=dates[0],
        date_lines=tuple(sorted(dates[1:])[:EXAMPLES]),
        duplicate_rows=c.duplicates,
        sites_without_baseline=tuple(sorted(s for s, p in sites.items() if "baseline" not in p)),
        sites_only_in_production=tuple(sorted(s for s, p in sites.items() if p == {"production"})),
        identifiers=plan.identifiers,
        ignored_columns=plan.ignored,
        renamed_headers=dict(plan.renamed),
        blank_sites=c.blank_sites,
        blank_channels=c.blank_channels,
        long_names=c.long_names,
        notes=plan.warnings,
    )


def _refuse_unusable(plan: Plan, c: _Counts, report: ValidationReport, strict: bool) -> None:
    """Raise the one sentence that says what to fix, when the load has nothing usable."""
    what = plan.files[0].name if len(plan.files) == 1 else "the files"
    phase_col = plan.headers[plan.phase] if plan.phase is not None else "phase"
    if report.rows_read == 0:
        raise ScalegateError(
            f"{what[0].upper()}{what[1:]} has a header but no rows: export it again with its data."
        )
    if c.loaded == 0:
        if c.table_rows == 0:
            raise ScalegateError(
                f"No line of {what} has as many columns as its header "
                f"({len(plan.headers)}): check the delimiter and the quotes."
            )
        if c.unknown:
            found = ", ".join(list(c.unknown)[:6])
            raise ScalegateError(
                f"None of the values in the phase column {phase_col} is known (found {found}): "
                "map each to baseline, pilot or production."
            )
        if c.rejected.get(NO_METRIC_NAME):
            raise ScalegateError(
                f"No row of {what} names its metric in the column "
                f"{plan.headers[plan.name_col]}: fill it in."  # type: ignore[index]
            )
        raise ScalegateError(
            f"The phase column {phase_col} is empty in every row: "
            "fill it with baseline, pilot or production."
        )
    usable = [m for j, m in enumerate(plan.catalog.ids) if c.values[j] - c.not_finite[j] > 0]
    if not usable:
        labels = ", ".join(report.metrics.values())
        raise ScalegateError(
            f"Every metric column is empty or unreadable ({labels}): there are no numbers to "
            "analyse."
        )
    if strict and report.rows_rejected:
        first = next(iter(report.rejected.items()))
        where = f" at line {first[1].lines[0]}" if first[1].lines else ""
        raise ScalegateError(
            f"{report.rows_rejected:,} rows of {what} cannot be used (the first: {first[0]}"
            f"{where}): fix them, or load without strict mode."
        )
