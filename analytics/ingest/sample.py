"""The sample a plan is decided on: the first rows of every file, read by DuckDB as text,
and what they say about each column (how many values read as numbers in either decimal
style, whether whole numbers repeat, which date format reads the most values).

SQL text here holds only names made by code and quoted identifiers; a value from a file is
always a bound parameter. That is what each `noqa: S608` vouches for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from analytics.core.errors import ScalegateError
from analytics.ingest.read import INTEGER_TYPES, FileSpec, unclosed_quote
from analytics.ingest.sql import (
    NO_WORDS,
    NULL_MARKERS,
    NUMBER_SHAPES,
    YES_WORDS,
    bound,
    is_empty_sql,
    stripped_sql,
)

SAMPLE_ROWS = 10_000

# Date formats tried on text dates after ISO, in order of preference for ties.
DATE_FORMATS_DMY = ("%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%y", "%d.%m.%y")

DATE_FORMATS_MDY = ("%m/%d/%Y", "%m-%d-%Y", "%m/%d/%y")

DATE_FORMATS_OTHER = ("%Y/%m/%d", "%Y-%m", "%Y%m%d", "%d %b %Y", "%b %d, %Y", "%d-%b-%Y", "%b %Y")


@dataclass(frozen=True, slots=True)
class ColumnFacts:
    """What the sample says about one column."""

    non_empty: int
    numbers_dot: int
    numbers_comma: int
    style_dot: int
    style_comma: int
    distinct: int
    rows: int
    padded: int  # cells with spaces around them
    date_hits: dict[str, int]


_STYLE_DOT = NUMBER_SHAPES["dot"]

_STYLE_COMMA = NUMBER_SHAPES["comma"]


def take_sample(con: duckdb.DuckDBPyConnection, files: Sequence[FileSpec], positions) -> None:
    """The first rows of every file as text, in canonical column order: temp table `sample`."""
    parts, params = [], {}
    for f, spec in enumerate(files):
        relation, p = spec.relation(f"f{f}", rejects=f"sample_rejects_{f}")
        params |= p
        cols = ", ".join(f"CAST(c{pos} AS VARCHAR) AS k{k}" for k, pos in enumerate(positions[f]))
        parts.append(f"(SELECT {cols} FROM {relation} LIMIT {SAMPLE_ROWS})")  # noqa: S608
    sql = "CREATE OR REPLACE TEMP TABLE sample AS " + " UNION ALL ".join(parts)
    con.execute(sql, bound(sql, params))
    for f, spec in enumerate(files):
        if spec.format == "csv":
            row = con.execute(
                f"SELECT min(line) FROM sample_rejects_{f} WHERE error_type = 'UNQUOTED VALUE' "  # noqa: S608
                "AND lower(error_message) LIKE '%unterminated%'"
            ).fetchone()
            if row and row[0] is not None:
                raise unclosed_quote(spec.name, int(row[0]))


def refuse_empty(con: duckdb.DuckDBPyConnection, files: Sequence[FileSpec]) -> None:
    """A sentence when the sample holds no row: a header alone, or no line that fits it."""
    row = con.execute("SELECT count(*) FROM sample").fetchone()
    if row and row[0]:
        return
    what = files[0].name if len(files) == 1 else "the files"
    if any(f.data_lines > 0 for f in files):
        raise ScalegateError(
            f"No line of {what} has as many columns as its header "
            f"({len(files[0].headers)}): check the delimiter and the quotes."
        )
    raise ScalegateError(
        f"{what[0].upper()}{what[1:]} has a header but no rows: export it again with its data."
    )


FORMATS = ("iso",) + DATE_FORMATS_DMY + DATE_FORMATS_MDY + DATE_FORMATS_OTHER


def _facts_sql(k: int, duck_type: str, dated: bool, wanted: bool) -> list[str]:
    """One column's aggregates over the sample, in ColumnFacts' order ("0" where not asked)."""
    x = f"k{k}"
    s = stripped_sql(x)
    ok = f"NOT {is_empty_sql(x)}"
    dot = f"replace(rtrim({s}, '%'), ',', '')"
    comma = f"replace(replace(rtrim({s}, '%'), '.', ''), ',', '.')"
    yes_no = f"list_contains($yes_no, lower(trim({x})))"
    text = duck_type == "VARCHAR" and wanted
    dated = text and dated
    return [
        f"count(*) FILTER (WHERE {ok})" if wanted else "0",
        f"count(*) FILTER (WHERE {ok} AND (TRY_CAST({dot} AS DOUBLE) IS NOT NULL "
        f"AND regexp_full_match({s}, $dot_re) OR {yes_no}))"
        if text
        else "0",
        f"count(*) FILTER (WHERE {ok} AND (TRY_CAST({comma} AS DOUBLE) IS NOT NULL "
        f"AND regexp_full_match({s}, $comma_re) OR {yes_no}))"
        if text
        else "0",
        f"count(*) FILTER (WHERE regexp_full_match({s}, $dot_re))" if text else "0",
        f"count(*) FILTER (WHERE regexp_full_match({s}, $comma_re))" if text else "0",
        f"count(DISTINCT {x})" if duck_type in INTEGER_TYPES and wanted else "0",
        f"count(*) FILTER (WHERE {x} <> trim({x}))",
        f"count(*) FILTER (WHERE TRY_CAST(TRY_CAST(trim({x}) AS TIMESTAMP) AS DATE) IS NOT NULL)"
        if dated
        else "0",
        *(
            f"count(try_strptime(trim({x}), $fmt{i}))" if dated else "0"
            for i in range(1, len(FORMATS))
        ),
    ]


def column_facts(
    con: duckdb.DuckDBPyConnection,
    types: Sequence[str],
    date_candidates: Sequence[int],
    wanted: set[int],
) -> dict[int, ColumnFacts]:
    """The sample's facts for the wanted columns, in one query: number shapes of text columns,
    distinct counts of integer columns, how many text values each date format reads."""
    exprs = [
        e
        for k, duck_type in enumerate(types)
        for e in _facts_sql(k, duck_type, k in date_candidates, k in wanted)
    ]
    sql = "SELECT count(*), " + ", ".join(exprs) + " FROM sample"  # noqa: S608
    params = {
        "null_markers": NULL_MARKERS,
        "yes_no": YES_WORDS + NO_WORDS,
        "dot_re": _STYLE_DOT,
        "comma_re": _STYLE_COMMA,
        **{f"fmt{i}": fmt for i, fmt in enumerate(FORMATS) if i},
    }
    row = con.execute(sql, bound(sql, params)).fetchone()
    assert row is not None
    rows, values = row[0], row[1:]
    width = 7 + len(FORMATS)
    facts = {}
    for k in range(len(types)):
        v = values[k * width : (k + 1) * width]
        facts[k] = ColumnFacts(
            non_empty=v[0],
            numbers_dot=v[1],
            numbers_comma=v[2],
            style_dot=v[3],
            style_comma=v[4],
            distinct=v[5],
            rows=rows,
            padded=v[6],
            date_hits=dict(zip(FORMATS, v[7:], strict=True)),
        )
    return facts


def best_date_format(facts: ColumnFacts, european: bool) -> tuple[str, int]:
    order = ("iso",) + (
        DATE_FORMATS_DMY + DATE_FORMATS_MDY if european else DATE_FORMATS_MDY + DATE_FORMATS_DMY
    )
    order += DATE_FORMATS_OTHER
    best = max(order, key=lambda fmt: (facts.date_hits[fmt], -order.index(fmt)))
    return ("%Y-%m-%d" if best == "iso" else best), facts.date_hits[best]
