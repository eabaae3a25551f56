"""The format of a text date column, decided over the WHOLE column, never a sample: a contact
export sorted by date shows days 1-12 for its first rows, which read both ways.

DuckDB groups the column's distinct values with their counts once, then counts how many rows
each candidate format reads. The format that reads the most wins; when day-first and
month-first read the same rows (no day above 12), the spacing of the dates decides (a weekly
file read the right way falls every 7 days), then the file's conventions, and the report says
which was chosen and why. More than 1% of the filled dates unreadable refuses the file.

SQL text here holds only internal column names and code-made expressions; values are bound
parameters. That is what each `noqa: S608` vouches for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

import duckdb

from analytics.core.errors import ScalegateError
from analytics.ingest.read import FileSpec
from analytics.ingest.sql import NULL_MARKERS, bound, is_empty_sql
from analytics.ingest.vocab import TOTAL_ROW

DateOrder = Literal["auto", "day-first", "month-first"]
DATE_ORDERS: tuple[DateOrder, ...] = ("auto", "day-first", "month-first")

DMY = ("%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%y", "%d.%m.%y", "%d/%m/%Y %H:%M")
DMY += ("%d/%m/%Y %H:%M:%S",)
MDY = ("%m/%d/%Y", "%m-%d-%Y", "%m/%d/%y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S")
MDY += ("%m/%d/%Y %I:%M %p", "%m/%d/%Y %I:%M:%S %p")
OTHER = ("%Y/%m/%d", "%Y-%m", "%Y%m%d", "%d %b %Y", "%b %d, %Y", "%d-%b-%Y", "%b %Y", "%d %B %Y")
OTHER += ("%B %d, %Y", "%B %Y", "%b-%y")
UNREADABLE_SHARE = 0.01  # more than this share of filled dates unreadable: refused
EXAMPLES = 3


@dataclass(frozen=True, slots=True)
class DateChoice:
    """The format chosen for a text date column and what the whole column said."""

    format: str
    filled: int
    unreadable: int
    note: str | None = None  # why day-first or month-first, when both read every date


def _iso(v: str) -> str:
    return f"COALESCE(TRY_CAST({v} AS DATE), TRY_CAST(TRY_CAST({v} AS TIMESTAMP) AS DATE))"


def _parsed(fmt: str) -> str:
    """SQL reading value v under one candidate (ISO first, as the load's date_sql does); a
    year outside 1900-2199 is a misreading ("01/02/24" under %Y is the year 24)."""
    read = f"COALESCE({_iso('v')}, CAST(try_strptime(v, '{fmt}') AS DATE))"
    return f"(CASE WHEN year({read}) BETWEEN 1900 AND 2199 THEN {read} END)"


def _distinct_values(
    con: duckdb.DuckDBPyConnection,
    files: Sequence[FileSpec],
    positions: Sequence[Sequence[int]],
    k: int,
    header: str,
) -> None:
    """Temp table date_values(v, n): each filled date cell of the column and its count; cells
    of total rows and repeated headers are left out (those rows are set aside anyway)."""
    parts, params = [], {"null_markers": NULL_MARKERS, "total_re": TOTAL_ROW, "hdr": header}
    for f, spec in enumerate(files):
        relation, p = spec.relation(f"f{f}")
        params |= p
        parts.append(f"SELECT trim(CAST(c{positions[f][k]} AS VARCHAR)) AS v FROM {relation}")  # noqa: S608
    sql = (
        "CREATE OR REPLACE TEMP TABLE date_values AS SELECT v, count(*) AS n FROM ("  # noqa: S608
        + " UNION ALL ".join(parts)
        + f") WHERE NOT {is_empty_sql('v')} AND NOT regexp_full_match(v, $total_re, 'i') "
        "AND lower(v) <> lower(trim($hdr)) GROUP BY v"
    )
    con.execute(sql, bound(sql, params))


def _hits(con: duckdb.DuckDBPyConnection, formats: Sequence[str]) -> tuple[int, list[int]]:
    """Filled cells, and how many of them each format reads."""
    exprs = [f"coalesce(sum(n) FILTER (WHERE {_parsed(f)} IS NOT NULL), 0)" for f in formats]
    row = con.execute(f"SELECT coalesce(sum(n), 0), {', '.join(exprs)} FROM date_values").fetchone()  # noqa: S608
    assert row is not None
    return int(row[0]), [int(x) for x in row[1:]]


def _irregularity(con: duckdb.DuckDBPyConnection, fmt: str) -> int:
    """How irregular the distinct dates read under a format are: 1 when they fall on one
    weekday (weekly), on one day of the month (monthly) or at one interval; else the number
    of different gaps between them."""
    row = con.execute(
        "SELECT count(DISTINCT gap), count(DISTINCT dow), count(DISTINCT dom) FROM ("  # noqa: S608
        "SELECT d - lag(d) OVER (ORDER BY d) AS gap, dayofweek(d) AS dow, day(d) AS dom FROM "
        f"(SELECT DISTINCT {_parsed(fmt)} AS d FROM date_values) WHERE d IS NOT NULL)"
    ).fetchone()
    if not row:
        return 0
    gaps, weekdays, days = (int(x) for x in row)
    return 1 if weekdays == 1 or days == 1 else gaps


def _example(con: duckdb.DuckDBPyConnection) -> tuple[str, date | None]:
    """A value read both ways, and what it is day first."""
    row = con.execute(
        f"SELECT v, {_parsed(DMY[0])} FROM date_values WHERE "  # noqa: S608
        f"{_parsed(DMY[0])} <> {_parsed(MDY[0])} ORDER BY n DESC, v LIMIT 1"
    ).fetchone()
    return (str(row[0]), row[1]) if row else ("", None)


def _tie_note(
    con: duckdb.DuckDBPyConnection, dmy: str, mdy: str, european: bool
) -> tuple[str, str]:
    """Day-first against month-first when both read every date: the spacing, then the
    file's conventions. Returns the format and the sentence that says why."""
    day_gaps, month_gaps = _irregularity(con, dmy), _irregularity(con, mdy)
    value, day_first = _example(con)
    if day_gaps != month_gaps:
        chosen = dmy if day_gaps < month_gaps else mdy
        why = (
            "the dates then fall at regular intervals (one weekday, one day of the month or "
            "one spacing), and the other way they do not"
        )
    else:
        chosen = dmy if european else mdy
        why = (
            "the file uses semicolons or decimal commas, as day-first countries do"
            if european
            else "the file uses commas and decimal points, as month-first countries do"
        )
    order = "day first" if chosen == dmy else "month first"
    shown = f' (such as "{value}", read as {day_first:%d %B %Y})' if day_first else ""
    if shown and chosen != dmy:
        shown = f' (such as "{value}")'
    note = (
        f"Every date reads both day first and month first{shown}; they were read {order} "
        f"because {why}. If that is wrong, load again choosing the other date order."
    )
    return chosen, note


def choose_date_format(
    con: duckdb.DuckDBPyConnection,
    files: Sequence[FileSpec],
    positions: Sequence[Sequence[int]],
    k: int,
    header: str,
    *,
    european: bool,
    order: DateOrder = "auto",
) -> DateChoice:
    """The format that reads the most of the whole column; refused when more than 1% of the
    filled dates cannot be read under it."""
    _distinct_values(con, files, positions, k, header)
    groups = {"day-first": DMY, "month-first": MDY, "auto": DMY + MDY}[order]
    formats = ("%Y-%m-%d", *groups, *OTHER)
    filled, hits = _hits(con, formats)
    best = max(hits)
    chosen = formats[hits.index(best)] if best else "%Y-%m-%d"
    note = None
    if order == "auto" and best:
        dmy = next((f for f, h in zip(formats, hits, strict=True) if f in DMY and h == best), None)
        mdy = next((f for f, h in zip(formats, hits, strict=True) if f in MDY and h == best), None)
        iso_only = hits[0] == best
        if dmy and mdy and not iso_only:
            chosen, note = _tie_note(con, dmy, mdy, european)
    unreadable = filled - best
    if filled and unreadable > UNREADABLE_SHARE * filled:
        raise _refusal(con, header, filled, unreadable, chosen)
    return DateChoice(chosen, filled, unreadable, note)


def _refusal(
    con: duckdb.DuckDBPyConnection, header: str, filled: int, unreadable: int, fmt: str
) -> ScalegateError:
    rows = con.execute(
        f"SELECT v FROM date_values WHERE {_parsed(fmt)} IS NULL ORDER BY n DESC, v "  # noqa: S608
        f"LIMIT {EXAMPLES}"
    ).fetchall()
    shown = ", ".join(f'"{r[0][:30]}"' for r in rows)
    how = {"%d": "day first", "%m": "month first"}.get(fmt[:2], "")
    reading = f" ({how}, as most of them read)" if how else ""
    return ScalegateError(
        f"{unreadable:,} of the {filled:,} dates in the column {header} "
        f"({unreadable / filled:.1%}) cannot be read as dates{reading}, such as {shown}: "
        "correct them, or give the column another role to load without dates."
    )
