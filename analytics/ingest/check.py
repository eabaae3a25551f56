"""After the load's one pass: what DuckDB set aside, the counts of the new table, the
diagnostic pass for line numbers and bad values, the report, and the refusals.

All of it runs inside the load's transaction, so a refusal here rolls everything back.

SQL text here is assembled from code-made pieces only (internal column names c0, c1, ...,
quote_ident-ed metric ids, allow-listed expressions); every value that comes from a file is a
bound parameter. That is what each `noqa: S608` vouches for.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from dataclasses import replace as dc_replace
from typing import Any

import duckdb

from analytics.core.errors import ScalegateError
from analytics.core.types import PHASES
from analytics.ingest.plan import Plan
from analytics.ingest.read import FileSpec, describe_delimiter, unclosed_quote
from analytics.ingest.repeats import count_repeats
from analytics.ingest.report import (
    BAD_CHARACTERS,
    EXAMPLES,
    LINE_TOO_LONG,
    LONG_TEXT,
    NO_METRIC_NAME,
    NO_PHASE,
    NO_VOLUME,
    STRAY_QUOTE,
    UNKNOWN_PHASE,
    UNREADABLE_LINE,
    WHOLE_ROW_MARKS,
    WRONG_COLUMNS,
    MissingValues,
    Rejection,
    ValidationReport,
)
from analytics.ingest.sql import (
    CANONICAL,
    bound,
    date_sql,
    is_empty_sql,
    number_sql,
    row_phase_sql,
    shared_params,
)
from analytics.store.database import quote_ident


class Retry(Exception):
    """DuckDB met something the plan did not expect; roll back and load with these files."""

    def __init__(self, files: list[FileSpec]) -> None:
        super().__init__("retry")
        self.files = files


def describe_files(files: Sequence[FileSpec]) -> tuple[str, str]:
    encodings = sorted({f.encoding_label for f in files})
    delimiters = sorted({describe_delimiter(f.delimiter) for f in files if f.delimiter})
    return " and ".join(encodings), " and ".join(delimiters)


def relations(plan: Plan, rejects: bool) -> tuple[list[str], dict[str, Any]]:
    rels, params = [], shared_params(plan)
    for f, spec in enumerate(plan.files):
        rel, p = spec.relation(f"f{f}", rejects=f"scalegate_rejects_{f}" if rejects else None)
        rels.append(rel)
        params |= p
    return rels, params


def physical_line(rn: int, skipped: Sequence[int], header: int = 1) -> int:
    """A data row's line in its file: after the header, skipping lines DuckDB set aside."""
    line = rn + header
    for s in skipped:
        if s <= line:
            line += 1
        else:
            break
    return line


@dataclass(slots=True)
class Counts:
    """Numbers gathered from the new table, before the report is written."""

    table_rows: int = 0
    loaded: int = 0
    phases: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)
    rejected_sites: dict[str, int] = field(default_factory=dict)  # set-aside rows per site
    unknown: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    values: list[int] = field(default_factory=list)  # non-null values per metric (loaded rows)
    not_finite: list[int] = field(default_factory=list)
    blank_sites: int = 0
    blank_channels: int = 0
    long_names: int = 0
    site_phases: dict[str, set[str]] = field(default_factory=dict)


def read_rejects(
    cur: duckdb.DuckDBPyConnection, plan: Plan
) -> tuple[dict[str, Rejection], list[list[int]]]:
    """Lines DuckDB set aside while reading, by reason; raises Retry when a column's type or
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
        seen, cast_cols, bad_encoding = _file_rejects(rows, spec)
        if bad_encoding and spec.encoding == "utf-8":
            retry[f] = dc_replace(retry[f], encoding="latin-1", encoding_label="Latin-1")
            again = True
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
        raise Retry(retry)
    out = {
        reason: Rejection(len(lines), tuple(line for _, line in sorted(lines)[:EXAMPLES]))
        for reason, lines in reasons.items()
    }
    return out, skipped


def _file_rejects(rows: list[tuple], spec: Any) -> tuple[dict[int, str], set[str], bool]:
    """One file's rejected lines: the reason of each line, the columns whose type was guessed
    wrong, whether a character did not decode; raises for a quote that never closes."""
    seen: dict[int, str] = {}
    cast_cols: set[str] = set()
    bad_encoding = False
    for line, kind, column, message in rows:
        kind = str(kind)
        if kind == "CAST" and column in spec.internal:
            cast_cols.add(column)
            continue
        if "ENCODING" in kind or "UNICODE" in kind:
            bad_encoding = True
            reason = BAD_CHARACTERS
        elif kind == "UNQUOTED VALUE" and "unterminated" in str(message).lower():
            raise unclosed_quote(spec.name, int(line))
        elif kind == "UNQUOTED VALUE":
            reason = STRAY_QUOTE
        elif kind == "LINE SIZE OVER MAXIMUM":
            reason = LINE_TOO_LONG
        else:
            reason = WRONG_COLUMNS
        seen.setdefault(int(line), reason)
    return seen, cast_cols, bad_encoding


def count_rows(cur: duckdb.DuckDBPyConnection, table: str, plan: Plan) -> Counts:
    """One GROUP BY over the new table: rows per phase (and per unknown phase value), site
    and channel, filled values per metric; blank and long names are judged per group. Rows
    to be set aside (a marked phase) are summed per site from the same groups, before
    build_report deletes them, so a clean file pays nothing for it. NaN and infinite values
    are counted only when the columns' min and max show one (answered from DuckDB's column
    statistics; NaN sorts above every number)."""
    ids = [quote_ident(m) for m in plan.catalog.ids]
    n_metrics = len(ids)
    rows = cur.execute(
        "SELECT phase, site, channel, count(*), "  # noqa: S608
        + ", ".join(f"count({m})" for m in ids)
        + f" FROM {table} GROUP BY ALL"
    ).fetchall()
    bounds = (
        cur.execute(
            "SELECT " + ", ".join(f"min({m}), max({m})" for m in ids) + f" FROM {table}"  # noqa: S608
        ).fetchone()
        or ()
    )
    suspect = {
        j
        for j in range(n_metrics)
        if bounds[2 * j + 1] is not None
        and not (math.isfinite(bounds[2 * j]) and math.isfinite(bounds[2 * j + 1]))
    }
    c = Counts(values=[0] * n_metrics, not_finite=[0] * n_metrics)
    c.phases = {p: 0 for p in PHASES}
    for row in rows:
        phase, site, channel, n = row[0], row[1], row[2], int(row[3])
        c.table_rows += n
        if phase in PHASES:
            c.loaded += n
            c.phases[phase] += n
            c.blank_sites += n if site == "(blank)" else 0
            c.blank_channels += n if channel == "(blank)" else 0
            c.long_names += n if max(len(site), len(channel)) > LONG_TEXT else 0
            for j in range(n_metrics):
                c.values[j] += int(row[4 + j])
            c.site_phases.setdefault(site, set()).add(phase)
        else:
            _count_rejected(c, phase, site, n)
    if suspect:
        order = sorted(suspect)
        found = cur.execute(
            "SELECT "  # noqa: S608
            + ", ".join(f"count(*) FILTER (WHERE NOT isfinite({ids[j]}))" for j in order)
            + f" FROM {table} WHERE phase IN {CANONICAL}"
        ).fetchone()
        for j, n in zip(order, found or (), strict=True):
            c.not_finite[j] = int(n)
    return c


def _count_rejected(c: Counts, phase: str | None, site: str, n: int) -> None:
    """Rows of a group set aside (a marked phase): per site and per reason."""
    c.rejected_sites[site] = c.rejected_sites.get(site, 0) + n
    if phase is None:
        c.rejected[NO_PHASE] = c.rejected.get(NO_PHASE, 0) + n
    elif phase == "!metric":
        c.rejected[NO_METRIC_NAME] = c.rejected.get(NO_METRIC_NAME, 0) + n
    elif phase in WHOLE_ROW_MARKS:
        reason = WHOLE_ROW_MARKS[phase]
        c.rejected[reason] = c.rejected.get(reason, 0) + n
    else:
        c.rejected[UNKNOWN_PHASE] = c.rejected.get(UNKNOWN_PHASE, 0) + n
        c.unknown[phase[1:]] = c.unknown.get(phase[1:], 0) + n


def diagnose(
    cur: duckdb.DuckDBPyConnection, plan: Plan, skipped: list[list[int]]
) -> tuple[dict[str, list[int]], list[list[int]], list[int], list[int]]:
    """The diagnostic pass: per file, read again with row numbers, count empty and unreadable
    values of each metric on the loaded rows, and find example lines of everything set aside.

    Returns example lines per rejection reason, per metric [empty, unreadable] counts, example
    lines per metric, and [unreadable dates, *example lines]."""
    rels, params = relations(plan, rejects=False)
    n = len(plan.catalog.ids)
    lines: dict[str, list[int]] = {NO_PHASE: [], NO_METRIC_NAME: [], UNKNOWN_PHASE: []}
    missing = [[0, 0] for _ in range(n)]
    metric_lines: list[list[int]] = [[] for _ in range(n)]
    dates = [0]
    for f, rel in enumerate(rels):
        sql = _diagnostic_sql(plan, f, rel)
        row = cur.execute(sql, bound(sql, params)).fetchone()
        assert row is not None
        skip, header = skipped[f], plan.files[f].skip + 1

        def at(rns: list[int] | None, skip: list[int] = skip, header: int = header) -> list[int]:
            return [physical_line(int(r), skip, header) for r in rns or []]

        lines[NO_PHASE] += at(row[0])
        lines[NO_METRIC_NAME] += at(row[1])
        lines[UNKNOWN_PHASE] += at(row[2])
        for i, reason in enumerate(WHOLE_ROW_MARKS.values()):
            lines.setdefault(reason, []).extend(at(row[3 + i]))
        row = row[len(WHOLE_ROW_MARKS) :]
        for j in range(n):
            missing[j][0] += int(row[3 + 3 * j])
            missing[j][1] += int(row[4 + 3 * j])
            metric_lines[j] += at(row[5 + 3 * j])
        if plan.date is not None:
            dates[0] += int(row[3 + 3 * n])
            dates += at(row[4 + 3 * n])
    return lines, missing, metric_lines, dates


def _diagnostic_sql(plan: Plan, f: int, rel: str) -> str:
    """The one query of the diagnostic pass over file f: example row numbers of each mark, and
    per metric (and date) the empty and unreadable values on the loaded rows."""
    n = len(plan.catalog.ids)
    ok = f"ph IN {CANONICAL}"
    cols = [f"{row_phase_sql(plan, f)} AS ph"]
    aggs = [
        f"min(rn, {EXAMPLES}) FILTER (WHERE ph IS NULL)",
        f"min(rn, {EXAMPLES}) FILTER (WHERE ph = '!metric')",
        f"min(rn, {EXAMPLES}) FILTER (WHERE ph LIKE '?%')",
    ] + [f"min(rn, {EXAMPLES}) FILTER (WHERE ph = '{mark}')" for mark in WHOLE_ROW_MARKS]
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
    return sql


def build_report(
    cur: duckdb.DuckDBPyConnection,
    table: str,
    plan: Plan,
    c: Counts,
    ragged: dict[str, Rejection],
    skipped: list[list[int]],
) -> ValidationReport:
    """Remove what was set aside from the new table, then write the report from the counts."""
    _clean_table(cur, table, plan, c)
    ids = plan.catalog.ids
    example, empty_unreadable, metric_lines, dates = _examples(cur, plan, c, skipped)
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
    encoding, delimiter = describe_files(plan.files)
    by_site = dict(c.rejected_sites)
    if unreadable := sum(r.count for r in ragged.values()):
        by_site[UNREADABLE_LINE] = by_site.get(UNREADABLE_LINE, 0) + unreadable
    sites = c.site_phases
    return ValidationReport.build(
        files=tuple(f.name for f in plan.files),
        encoding=encoding,
        delimiter=delimiter,
        form=plan.form,
        rows_read=c.table_rows + sum(r.count for r in ragged.values()),
        rows_loaded=c.loaded,
        rows_rejected=sum(r.count for r in rejected.values()),
        rejected=rejected,
        rejected_by_site=dict(sorted(by_site.items(), key=lambda kv: (-kv[1], kv[0]))),
        unknown_phases=dict(sorted(c.unknown.items(), key=lambda kv: (-kv[1], kv[0]))),
        phases=c.phases,
        metrics=dict(zip(ids, [m.label for m in plan.catalog.metrics], strict=True)),
        missing_values=missing,
        unreadable_dates=dates[0],
        blank_dates=_blank_dates(cur, table, plan, dates[0]),
        volume=_volume(cur, table, plan),
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


def _clean_table(cur: duckdb.DuckDBPyConnection, table: str, plan: Plan, c: Counts) -> None:
    """Delete the rows set aside, blank the non-finite values, count the repeated rows."""
    if c.table_rows > c.loaded:
        cur.execute(f"DELETE FROM {table} WHERE phase IS NULL OR phase NOT IN {CANONICAL}")  # noqa: S608
    ids = plan.catalog.ids
    for j, metric in enumerate(ids):
        if c.not_finite[j]:
            col = quote_ident(metric)
            cur.execute(f"UPDATE {table} SET {col} = NULL WHERE NOT isfinite({col})")  # noqa: S608
    c.duplicates = count_repeats(cur, table, (*ids, "weight") if plan.weight is not None else ids)


def _examples(
    cur: duckdb.DuckDBPyConnection, plan: Plan, c: Counts, skipped: list[list[int]]
) -> tuple[dict[str, list[int]], list[list[int]], list[list[int]], list[int]]:
    """Example lines per reason, (empty, unreadable) per metric, lines per metric, and the
    unreadable dates with their lines: from the diagnostic pass when anything needed cleaning
    or was set aside, else from the counts alone (a clean file pays nothing)."""
    ids = plan.catalog.ids
    slow = plan.needs_cleaning() or c.table_rows > c.loaded or any(c.not_finite)
    if not slow:
        empty = [[c.loaded - c.values[j], 0] for j in range(len(ids))]
        return {}, empty, [[] for _ in ids], [0]
    example, empty_unreadable, metric_lines, dates = diagnose(cur, plan, skipped)
    if plan.form == "wide":
        # Rows are the same as the load's; trust the table for the empty count.
        for j in range(len(ids)):
            empty_unreadable[j][0] = c.loaded - c.values[j] - empty_unreadable[j][1]
    return example, empty_unreadable, metric_lines, dates


def _blank_dates(cur: duckdb.DuckDBPyConnection, table: str, plan: Plan, unreadable: int) -> int:
    """Loaded rows with no date at all (unreadable dates are counted apart)."""
    if plan.date is None:
        return 0
    row = cur.execute(f"SELECT count(*) FILTER (WHERE date IS NULL) FROM {table}").fetchone()  # noqa: S608
    return max(0, int(row[0]) - unreadable) if row else 0


def _volume(cur: duckdb.DuckDBPyConnection, table: str, plan: Plan) -> dict[str, Any]:
    """The rows' volume: its column, total, smallest and largest row (empty when unweighted)."""
    if plan.weight is None:
        return {}
    row = cur.execute(f"SELECT sum(weight), min(weight), max(weight) FROM {table}").fetchone()  # noqa: S608
    assert row is not None
    return {
        "column": plan.headers[plan.weight],
        "total": float(row[0] or 0.0),
        "min": float(row[1] or 0.0),
        "max": float(row[2] or 0.0),
    }


def refuse_unusable(plan: Plan, c: Counts, report: ValidationReport, strict: bool) -> None:
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
        if c.rejected.get(NO_VOLUME) and plan.weight is not None:
            raise ScalegateError(
                f"No row of {what} has a volume above zero in the column "
                f"{plan.headers[plan.weight]}: give that column another role, or fill it in."
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
