"""The columns of a file and their roles, assigned from names and the sample's values: the
dimensions, the phase, the weight, totals against per-unit metrics, the date, the long form,
and the rest (metrics, identifiers, ignored)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from analytics.core.catalog import (
    DIRECTION_RULES,
    KIND_RULES,
    normalise_header,
)
from analytics.core.errors import ScalegateError
from analytics.ingest.read import (
    DATE_TYPES,
    INTEGER_TYPES,
    NUMERIC_TYPES,
    FileSpec,
)
from analytics.ingest.roles import (
    TextFacts,
    looks_like_volume,
    phases_in_files,
    products_of_weight,
    reads_as_phases,
    text_facts,
)
from analytics.ingest.sample import (
    ColumnFacts,
    best_date_format,
)
from analytics.ingest.sql import (
    NumberStyle,
)
from analytics.ingest.vocab import (
    ROLE_SYNONYMS,
    head_role,
    is_total_name,
    is_weight_name,
)

LONG_NAME = ("metric", "kpi", "measure")


LONG_VALUE = ("value",)


IDENTIFIER_NAMES = ("id", "uuid", "case", "year", "week_number")


def _is_identifier_name(norm: str) -> bool:
    return norm in IDENTIFIER_NAMES or norm.endswith("_id") or norm.startswith("id_")


def _names_a_metric(header: str) -> bool:
    """Whether a header contains a word of the catalog's keyword tables (cost, revenue, ...)."""
    words = " " + " ".join(normalise_header(header).split("_")) + " "
    return any(f" {kw}" in words for kw, _ in DIRECTION_RULES + KIND_RULES)


@dataclass(slots=True)
class _Columns:
    """The columns being classified: names, types over all files, sample facts, roles so far."""

    headers: tuple[str, ...]
    norms: list[str]
    types: list[str]
    facts: dict[int, ColumnFacts]
    roles: dict[int, str]
    warnings: list[str]

    def numeric(self, k: int) -> bool:
        return self.types[k] in NUMERIC_TYPES or self.types[k].startswith("DECIMAL")

    def free(self, k: int) -> bool:
        return k not in self.roles

    def first(self, role: str) -> int | None:
        return next((k for k, r in self.roles.items() if r == role), None)

    def text_columns(self) -> list[int]:
        """The unassigned columns that are not numbers."""
        return [
            k
            for k in range(len(self.headers))
            if self.free(k) and not self.numeric(k) and self.types[k] != "BOOLEAN"
        ]

    def named(self, words: Sequence[str], *, text: bool = False) -> int | None:
        """The first unassigned column with one of these names (and text values, if asked)."""
        return next(
            (
                k
                for k in range(len(self.headers))
                if self.free(k) and self.norms[k] in words and not (text and self.numeric(k))
            ),
            None,
        )


def _norms(headers: Sequence[str]) -> list[str]:
    """Headers normalised; spaces, dashes and underscores alike or left out ("Touch point")."""
    squashed = {w.replace("_", ""): w for words in ROLE_SYNONYMS.values() for w in words}
    squashed |= {w.replace("_", ""): w for w in (*LONG_NAME, *LONG_VALUE, *IDENTIFIER_NAMES)}
    return [squashed.get(n.replace("_", ""), n) for n in map(normalise_header, headers)]


def _assign_dimensions(cols: _Columns) -> None:
    """Phase, site and channel by their names: a synonym ("Region"), then for site and channel
    a text column whose last word names the role ("Contact channel", "Sales region")."""
    for role in ("phase", "site", "channel"):
        if role not in cols.roles.values():
            k = cols.named(ROLE_SYNONYMS[role])
            if k is not None:
                cols.roles[k] = role
    for role in ("site", "channel"):
        if role not in cols.roles.values():
            k = next((k for k in cols.text_columns() if head_role(cols.norms[k]) == role), None)
            if k is not None:
                cols.roles[k] = role


def _assign_phase(
    con: duckdb.DuckDBPyConnection,
    cols: _Columns,
    files: Sequence[FileSpec],
    positions: Sequence[Sequence[int]],
    phase_keys: Mapping[str, Any],
) -> dict[int, TextFacts]:
    """When no column is named for the phase: a text column named like one ("Deployment
    stage") whose values read as phases, else the first whose values (>= 95% of them, whole
    values only) read as at least two phases over the whole file. Returns the text columns'
    sample facts, for the best guesses."""
    texts = [k for k in cols.text_columns() if cols.types[k] not in DATE_TYPES]
    facts = text_facts(con, texts, phase_keys)
    if cols.first("phase") is not None:
        return facts
    for k in texts:
        if head_role(cols.norms[k]) == "phase" and reads_as_phases(facts[k], phases_needed=1):
            cols.roles[k] = "phase"
            return facts
    for k in texts:
        if not reads_as_phases(facts[k], phases_needed=1):
            continue
        if facts[k].phases < 2:
            filled, phased, phases = phases_in_files(con, files, positions, k, phase_keys)
            if phases < 2 or phased < 0.95 * filled:
                continue
        cols.roles[k] = "phase"
        cols.warnings.append(
            f"The column {cols.headers[k]} was taken for the phase because its values "
            f"({', '.join(facts[k].examples)}) read as baseline, pilot and production."
        )
        return facts
    return facts


def _style(fk: ColumnFacts, european: bool) -> NumberStyle:
    comma = fk.style_comma > fk.style_dot or (fk.style_comma == fk.style_dot and european)
    return "comma" if comma else "dot"


def _assign_weight(con: duckdb.DuckDBPyConnection, cols: _Columns, european: bool) -> None:
    """The volume column, unless mapped: named like one (contacts handled, cases, volume...)
    and holding whole numbers, none negative, some above 1."""
    if cols.first("weight") is not None:
        return
    for k in range(len(cols.headers)):
        norm = cols.norms[k]
        if not cols.free(k) or not is_weight_name(norm) or _is_identifier_name(norm):
            continue
        if "_" not in norm and _names_a_metric(cols.headers[k]):
            continue  # a bare "Tickets" is an outcome; "Tickets handled" is the volume
        fk = cols.facts[k]
        number = cols.numeric(k) or max(fk.numbers_dot, fk.numbers_comma) * 2 >= fk.non_empty > 0
        if number and looks_like_volume(con, k, cols.types[k], _style(fk, european)):
            cols.roles[k] = "weight"
            return


def _split_totals(
    con: duckdb.DuckDBPyConnection,
    cols: _Columns,
    metrics: list[int],
    styles: dict[int, NumberStyle],
) -> tuple[list[int], frozenset[int], list[str]]:
    """Row totals in a weighted file are never averaged: a column equal to another metric
    times the weight is set aside (its per-unit twin is already there); another named as a
    total (total, sum, number of) is offered per unit of the weight. Returns the metrics kept,
    the per-unit ones and the headers set aside."""
    weight = cols.first("weight")
    if weight is None:
        return metrics, frozenset(), []
    twins = products_of_weight(con, metrics, weight, {**styles, weight: styles[weight]})
    aside = []
    for a, b in twins.items():
        cols.roles[a] = "ignore"
        aside.append(cols.headers[a])
        cols.warnings.append(
            f"{cols.headers[a]} equals {cols.headers[b]} times {cols.headers[weight]} on every "
            f"row: a row total, set aside (its value per unit is {cols.headers[b]})."
        )
    kept = [k for k in metrics if k not in twins]
    per_unit = frozenset(k for k in kept if is_total_name(cols.norms[k]))
    for k in sorted(per_unit):
        cols.warnings.append(
            f"{cols.headers[k]} is a total per row, which is never averaged: it is analysed "
            f"per unit of {cols.headers[weight]}, as {per_unit_label(cols, k, weight)}."
        )
    return kept, per_unit, aside


def per_unit_label(cols: _Columns, k: int, weight: int) -> str:
    volume = cols.headers[weight].strip()
    return f"{cols.headers[k].strip()} per {volume[:1].lower() + volume[1:]}"


def _date_named(norm: str) -> bool:
    """A synonym of the date, or a name ending in one ("Week commencing" is a synonym;
    "Contact date", "Reporting month" end in one)."""
    return norm in ROLE_SYNONYMS["date"] or head_role(norm) == "date"


def _dated_by_values(cols: _Columns, european: bool, named: Sequence[int]) -> list[int]:
    """Text columns not named like a date whose every sampled value reads as a date."""
    return [
        k
        for k in cols.text_columns()
        if k not in named
        and not _date_named(cols.norms[k])
        and cols.facts[k].non_empty > 0
        and best_date_format(cols.facts[k], european)[1] == cols.facts[k].non_empty
    ]


def _shown_format(fmt: str) -> str:
    """A strptime format in the words of a date field: "%d.%m.%Y" -> "DD.MM.YYYY"."""
    for code, word in (("%d", "DD"), ("%m", "MM"), ("%Y", "YYYY"), ("%y", "YY"), ("%b", "Mon")):
        fmt = fmt.replace(code, word)
    return fmt


def _assign_date(cols: _Columns, european: bool) -> str:
    """The date column (mapped, or the first date-named column whose values read as dates) and
    the format of its text values."""
    named = [
        k
        for k in range(len(cols.headers))
        if cols.free(k) and cols.norms[k] in ROLE_SYNONYMS["date"]
    ]
    by_values = _dated_by_values(cols, european, named)
    candidates = [k for k, r in cols.roles.items() if r == "date"] or [
        *named,
        *(k for k in cols.text_columns() if k not in named and _date_named(cols.norms[k])),
        *by_values,
    ]
    for k in candidates:
        fmt, hits = best_date_format(cols.facts[k], european)
        if cols.types[k] in DATE_TYPES or (cols.types[k] == "VARCHAR" and hits > 0):
            cols.roles[k] = "date"
            if k in by_values:
                cols.warnings.append(
                    f"The column {cols.headers[k]} was taken for the date because all its "
                    f"values read as dates ({_shown_format(fmt)})."
                )
            return fmt
        if cols.roles.get(k) == "date":
            raise ScalegateError(
                f"The column {cols.headers[k]} was mapped as the date, but none of its first "
                "values reads as a date (such as 2024-01-31 or 31/01/2024)."
            )
    for k in named:
        if cols.free(k) and not cols.numeric(k):
            cols.warnings.append(
                f"The column {cols.headers[k]} is named like a date but its values are not "
                "dates; it was not used."
            )
    return "%Y-%m-%d"


def _long_form(cols: _Columns) -> tuple[int, int] | None:
    """(metric name column, value column) when the file is long, else None."""
    name_col = next(
        (k for k, r in cols.roles.items() if r == "metric" and not cols.numeric(k)), None
    )
    value_col = cols.first("value")
    if name_col is None and (value_col is not None or cols.named(LONG_VALUE) is not None):
        name_col = cols.named(LONG_NAME, text=True)
    if value_col is None and name_col is not None:
        value_col = cols.named(LONG_VALUE)
    if value_col is not None and name_col is None:
        raise ScalegateError(
            f"The value column {cols.headers[value_col]} needs a column naming the metric each "
            "value measures (metric, kpi or measure): map one as metric."
        )
    if name_col is None or value_col is None:
        return None
    cols.roles[name_col], cols.roles[value_col] = "metric", "value"
    return name_col, value_col


def _classify_rest(
    cols: _Columns, long: tuple[int, int] | None
) -> tuple[list[int], list[str], list[str]]:
    """Every other column: a metric, an identifier set aside, or a column not used."""
    metrics: list[int] = []
    identifiers: list[str] = []
    ignored: list[str] = []
    for k, header in enumerate(cols.headers):
        role, fk = cols.roles.get(k), cols.facts[k]
        if role is not None and (role != "metric" or long is not None and k == long[0]):
            if role == "ignore":
                ignored.append(header)
            continue
        if role == "metric" and long is None:
            metrics.append(k)
            continue
        integer = cols.types[k] in INTEGER_TYPES
        distinct_ints = integer and fk.rows >= 20 and fk.distinct == fk.rows == fk.non_empty
        is_number = (
            cols.numeric(k)
            or cols.types[k] == "BOOLEAN"
            or (
                cols.types[k] == "VARCHAR"
                and fk.non_empty > 0
                and max(fk.numbers_dot, fk.numbers_comma) * 2 >= fk.non_empty
            )
        )
        norm = cols.norms[k]
        if _is_identifier_name(norm) or (norm in ROLE_SYNONYMS["date"] and integer):
            cols.roles[k] = "identifier"
            identifiers.append(header)
        elif distinct_ints and not _names_a_metric(header):
            cols.roles[k] = "identifier"
            identifiers.append(header)
            cols.warnings.append(
                f"The column {header} holds a different whole number on every row, so it "
                "was taken for an identifier, not a metric: map it as metric if it is one."
            )
        elif is_number and long is None:
            cols.roles[k] = "metric"
            metrics.append(k)
        else:
            cols.roles[k] = "ignore"
            ignored.append(header)
            if is_number and long is not None:
                cols.warnings.append(
                    f"The column {header} was not used: in a long file the metrics come from "
                    f"the {cols.headers[long[0]]} and {cols.headers[long[1]]} columns."
                )
    return metrics, identifiers, ignored
