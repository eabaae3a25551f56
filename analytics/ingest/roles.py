"""Roles that names alone do not settle, decided on the values (in DuckDB, on the sample, and
over the whole file where the sample could mislead): the phase column, the volume (weight)
column, row totals, and a best guess for every column left unplaced.

SQL text here holds only internal column names (k0, k1, ... of the sample; c0, c1, ... of the
files) and code-made expressions; every value from a file is a bound parameter. That is what
each `noqa: S608` vouches for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from analytics.ingest.read import FileSpec
from analytics.ingest.sql import (
    CANONICAL,
    NULL_MARKERS,
    NumberStyle,
    bound,
    is_empty_sql,
    number_sql,
    phase_params,
    phase_sql,
)

PHASE_SHARE = 0.95  # of a column's non-empty values must read as phases
MAX_PHASE_VALUES = 30  # distinct values a phase column may hold in the sample
WEIGHT_SHARE = 0.95  # of a volume column's values must be whole numbers >= 0
EXAMPLE_VALUES = 3


@dataclass(frozen=True, slots=True)
class TextFacts:
    """A text column in the sample: filled cells, distinct values, the commonest values, and
    how many cells read as a phase (and how many phases)."""

    filled: int
    distinct: int
    examples: tuple[str, ...]
    phased: int
    phases: int


def text_facts(
    con: duckdb.DuckDBPyConnection, columns: Sequence[int], phase_keys: Mapping[str, Any]
) -> dict[int, TextFacts]:
    """Facts of the sample's text columns, one query (plus one for the examples of each)."""
    if not columns:
        return {}
    exprs = []
    for k in columns:
        x, p = f"k{k}", phase_sql(f"k{k}")
        exprs += [
            f"count(*) FILTER (WHERE NOT {is_empty_sql(x)})",
            f"count(DISTINCT {x}) FILTER (WHERE NOT {is_empty_sql(x)})",
            f"count(*) FILTER (WHERE {p} IN {CANONICAL})",
            f"count(DISTINCT {p}) FILTER (WHERE {p} IN {CANONICAL})",
        ]
    sql = "SELECT " + ", ".join(exprs) + " FROM sample"  # noqa: S608
    params = {"null_markers": NULL_MARKERS, **phase_params(phase_keys)}
    row = con.execute(sql, bound(sql, params)).fetchone() or ()
    out = {}
    for i, k in enumerate(columns):
        top = con.execute(
            f"SELECT trim(k{k}) AS v FROM sample WHERE NOT {is_empty_sql(f'k{k}')} "  # noqa: S608
            f"GROUP BY v ORDER BY count(*) DESC, v LIMIT {EXAMPLE_VALUES}",
            {"null_markers": NULL_MARKERS},
        ).fetchall()
        filled, distinct, phased, phases = row[4 * i : 4 * i + 4]
        out[k] = TextFacts(filled, distinct, tuple(r[0] for r in top), phased, phases)
    return out


def reads_as_phases(facts: TextFacts, *, phases_needed: int) -> bool:
    return (
        facts.filled > 0
        and facts.distinct <= MAX_PHASE_VALUES
        and facts.phased >= PHASE_SHARE * facts.filled
        and facts.phases >= phases_needed
    )


def phases_in_files(
    con: duckdb.DuckDBPyConnection,
    files: Sequence[FileSpec],
    positions: Sequence[Sequence[int]],
    k: int,
    phase_keys: Mapping[str, Any],
) -> tuple[int, int, int]:
    """(filled cells, cells read as a phase, distinct phases) of column k over whole files:
    a file sorted by date may hold only baseline rows in its first thousands."""
    parts, params = [], {"null_markers": NULL_MARKERS, **phase_params(phase_keys)}
    for f, spec in enumerate(files):
        relation, p = spec.relation(f"f{f}")
        params |= p
        parts.append(f"SELECT CAST(c{positions[f][k]} AS VARCHAR) AS v FROM {relation}")  # noqa: S608
    sql = (
        f"SELECT count(*) FILTER (WHERE NOT {is_empty_sql('v')}), "  # noqa: S608
        f"count(*) FILTER (WHERE ph IN {CANONICAL}), "
        f"count(DISTINCT ph) FILTER (WHERE ph IN {CANONICAL}) FROM ("
        f"SELECT v, {phase_sql('v')} AS ph FROM (" + " UNION ALL ".join(parts) + "))"
    )
    row = con.execute(sql, bound(sql, params)).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def looks_like_volume(
    con: duckdb.DuckDBPyConnection, k: int, duck_type: str, style: NumberStyle
) -> bool:
    """Whether a column's sample values are counts of units: whole numbers, none negative,
    some above 1 (a 0/1 column is a per-row outcome, not a volume)."""
    x = number_sql(f"k{k}", "VARCHAR", style)
    sql = (
        f"SELECT count(v), count(*) FILTER (WHERE v >= 0 AND v = floor(v)), max(v) "  # noqa: S608
        f"FROM (SELECT {x} AS v FROM sample)"
    )
    params = {"null_markers": NULL_MARKERS, "yes_words": [], "no_words": []}
    row = con.execute(sql, bound(sql, params)).fetchone()
    if not row or not row[0]:
        return False
    filled, whole, top = row
    return whole >= WEIGHT_SHARE * filled and top is not None and top > 1


def products_of_weight(
    con: duckdb.DuckDBPyConnection,
    metrics: Sequence[int],
    weight: int,
    styles: Mapping[int, NumberStyle],
) -> dict[int, int]:
    """Metric columns equal, on every sample row where all three are filled (at least 3), to
    another metric times the weight (within 0.5%): a row total -> the per-unit metric."""
    if len(metrics) < 2:
        return {}
    nums = {k: number_sql(f"k{k}", "VARCHAR", styles[k]) for k in (*metrics, weight)}
    pairs = [(a, b) for a in metrics for b in metrics if a != b]
    w = f"v{weight}"
    exprs = []
    for a, b in pairs:
        both = f"v{a} IS NOT NULL AND v{b} IS NOT NULL AND {w} IS NOT NULL"
        close = f"abs(v{a} - v{b} * {w}) <= 0.005 * abs(v{a}) + 0.01"
        exprs.append(
            f"count(*) FILTER (WHERE {both}) >= 3 AND bool_and({close}) FILTER (WHERE {both})"
        )
    inner = ", ".join(f"{expr} AS v{k}" for k, expr in nums.items())
    sql = f"SELECT {', '.join(exprs)} FROM (SELECT {inner} FROM sample)"  # noqa: S608
    params = {"null_markers": NULL_MARKERS, "yes_words": [], "no_words": []}
    row = con.execute(sql, bound(sql, params)).fetchone() or ()
    found: dict[int, int] = {}
    for (a, b), hit in zip(pairs, row, strict=True):
        if hit and a not in found and b not in found:
            found[a] = b
    return found


def best_guess(header: str, facts: TextFacts | None, numeric: bool) -> str:
    """A sentence saying what an unplaced column looks like, for the user to map it."""
    if facts is None or numeric:
        return f"{header}: numbers that were not used"
    # One line whatever the values hold: line breaks and tabs in a cell shown as spaces.
    shown = ", ".join(" ".join(str(v).split()) or repr(v) for v in facts.examples)
    if facts.filled == 0:
        return f"{header}: empty"
    if facts.phased and facts.phases < 2 and facts.phased >= PHASE_SHARE * facts.filled:
        return f"{header}: text ({shown}); its values read as one phase only"
    if facts.phased:
        share = facts.phased / facts.filled
        return (
            f"{header}: text ({shown}); {share:.0%} of its values read as phases, too few to "
            "take it for the phase"
        )
    if facts.distinct <= MAX_PHASE_VALUES:
        return f"{header}: text with {facts.distinct} values ({shown}); perhaps a site or channel"
    return f"{header}: text with many different values ({shown}); perhaps a name or comment"
