"""What each column of a file is (phase, site, channel, date, metric, identifier, ...), how its
values are cleaned, and the SQL expressions that do it.

Decisions are taken on the column names and a sample of the first rows, read by DuckDB; every
expression here runs inside DuckDB over the whole file. File values only ever reach SQL as
bound parameters; the text of every expression is made by code from allow-listed pieces.

SQL text here is assembled from code-made pieces only (internal column names c0, c1, ...,
quote_ident-ed metric ids, allow-listed expressions); every value that comes from a file is a
bound parameter. That is what each `noqa: S608` vouches for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import duckdb

from analytics.core.catalog import (
    DIRECTION_RULES,
    KIND_RULES,
    Catalog,
    apply_overrides,
    infer_catalog,
    normalise_header,
    parse_toml,
)
from analytics.core.errors import ScalegateError
from analytics.core.types import PHASES, Phase
from analytics.ingest.read import (
    DATE_TYPES,
    INTEGER_TYPES,
    NUMERIC_TYPES,
    FileSpec,
)
from analytics.ingest.sample import (
    ColumnFacts,
    best_date_format,
    column_facts,
    refuse_empty,
    take_sample,
)
from analytics.ingest.sql import (
    NumberStyle,
    bound,
    norm_sql,
)

# Column names, normalised (case-insensitive; spaces, dashes and underscores alike).
ROLE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "phase": ("phase", "stage", "deployment", "deployment_phase", "period_type"),
    # DESIGN.md's names first, then the other ways business files name a place of work.
    "site": (
        "site",
        "plant",
        "location",
        "branch",
        "store",
        "region",
        "facility",
        "state",
        "country",
        "city",
        "market",
        "territory",
        "district",
        "office",
        "warehouse",
        "depot",
        "hospital",
        "clinic",
        "outlet",
        "shop",
        "factory",
        "mill",
        "centre",
        "center",
    ),
    "channel": ("channel", "source", "medium", "touchpoint"),
    "date": ("date", "day", "week", "month", "timestamp", "period_start"),
}

ROLES = ("phase", "site", "channel", "date", "metric", "value", "ignore")
LONG_NAME = ("metric", "kpi", "measure")

LONG_VALUE = ("value",)

IDENTIFIER_NAMES = ("id", "uuid", "case", "year", "week_number")

# Phase values, normalised the same way. "test" is deliberately absent (A/B files use it).
PHASE_SYNONYMS: dict[Phase, tuple[str, ...]] = {
    "baseline": (
        "baseline",
        "pre",
        "pre_ai",
        "before",
        "control",
        "legacy",
        "manual",
        "status_quo",
    ),
    "pilot": ("pilot", "poc", "proof_of_concept", "trial"),
    "production": ("production", "prod", "rollout", "live", "scaled", "ga"),
}


Form = Literal["wide", "long"]

# -- the plan ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything a load needs to know about its files, decided before any data is stored."""

    files: tuple[FileSpec, ...]
    positions: tuple[tuple[int, ...], ...]  # per file, the position of each canonical column
    headers: tuple[str, ...]
    roles: dict[str, str]  # header -> phase/site/channel/date/metric/value/ignore/identifier
    form: Form
    phase: int | None
    site: int | None
    channel: int | None
    date: int | None
    metrics: tuple[int, ...]  # wide: the metric columns, in file order
    name_col: int | None  # long: the column naming the metric
    value_col: int | None  # long: the column holding the value
    metric_names: tuple[str, ...]  # long: the metric names found, in order of appearance
    catalog: Catalog
    styles: dict[int, NumberStyle]
    date_format: str
    phase_keys: dict[Phase, tuple[str, ...]]
    identifiers: tuple[str, ...]
    ignored: tuple[str, ...]
    renamed: dict[str, str]
    padded: frozenset[int] = frozenset()  # dimension columns whose cells need trimming
    warnings: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)

    def col(self, f: int, k: int) -> tuple[str, str]:
        """Internal column name and DuckDB type of canonical column k in file f."""
        pos = self.positions[f][k]
        return f"c{pos}", self.files[f].types[pos]

    def needs_cleaning(self) -> bool:
        """Whether any value needs text cleaning or line-by-line accounting (the slow path)."""
        cols = list(self.metrics) + [c for c in (self.date, self.value_col) if c is not None]
        return self.form == "long" or any(
            self.col(f, k)[1] not in NUMERIC_TYPES | DATE_TYPES | {"BOOLEAN"}
            for k in cols
            for f in range(len(self.files))
        )


def effective_types(files: Sequence[FileSpec], positions: Sequence[Sequence[int]]) -> list[str]:
    """Each column's type over all files: the common one, else VARCHAR (cleaned as text)."""
    out = []
    for k in range(len(positions[0])):
        types = {spec.types[positions[f][k]] for f, spec in enumerate(files)}
        out.append(types.pop() if len(types) == 1 else "VARCHAR")
    return out


def align_files(files: Sequence[FileSpec]) -> tuple[tuple[int, ...], ...]:
    """Per file, where each of the first file's columns is; files must share their columns."""
    first = [h.lower() for h in files[0].headers]
    positions = [tuple(range(len(first)))]
    for spec in files[1:]:
        mine = [h.lower() for h in spec.headers]
        if sorted(mine) != sorted(first):
            missing = [h for h in files[0].headers if h.lower() not in mine]
            extra = [h for h in spec.headers if h.lower() not in first]
            detail = f"it lacks {', '.join(missing)}" if missing else ""
            if extra:
                detail += ("; " if detail else "") + f"it has {', '.join(extra)} in addition"
            raise ScalegateError(
                f"The files do not share their columns: {spec.name} differs from "
                f"{files[0].name} ({detail}); load files with the same columns together."
            )
        positions.append(tuple(mine.index(h) for h in first))
    return tuple(positions)


def _resolve_mapping(headers: Sequence[str], mapping: Mapping[str, str]) -> dict[int, str]:
    exact = {h: i for i, h in enumerate(headers)}
    by_norm: dict[str, list[int]] = {}
    for i, h in enumerate(headers):
        by_norm.setdefault(normalise_header(h), []).append(i)
    resolved: dict[int, str] = {}
    for key, role in mapping.items():
        if role not in ROLES:
            raise ScalegateError(
                f"The mapping gives {key} the role {role}; use one of {', '.join(ROLES)}."
            )
        if key in exact:
            index = exact[key]
        elif len(by_norm.get(normalise_header(key), [])) == 1:
            index = by_norm[normalise_header(key)][0]
        else:
            raise ScalegateError(
                f"The mapping names the column {key}, which the file does not have "
                f"(its columns are {', '.join(headers)})."
            )
        resolved[index] = role
    for role in ("phase", "site", "channel", "date", "value"):
        chosen = [headers[i] for i, r in resolved.items() if r == role]
        if len(chosen) > 1:
            raise ScalegateError(
                f"Only one column can be the {role}; the mapping names {', '.join(chosen)}."
            )
    return resolved


def _is_identifier_name(norm: str) -> bool:
    return norm in IDENTIFIER_NAMES or norm.endswith("_id") or norm.startswith("id_")


def _names_a_metric(header: str) -> bool:
    """Whether a header contains a word of the catalog's keyword tables (cost, revenue, ...)."""
    words = " " + " ".join(normalise_header(header).split("_")) + " "
    return any(f" {kw}" in words for kw, _ in DIRECTION_RULES + KIND_RULES)


def _phase_keys(
    con: duckdb.DuckDBPyConnection, phase_map: Mapping[str, str]
) -> dict[Phase, tuple[str, ...]]:
    """Lookup lists per phase: normalised synonyms and user values (the user wins), plus the
    spellings with spaces and dashes so the common cases skip the regular expression."""
    owner: dict[str, Phase] = {}
    for phase, words in PHASE_SYNONYMS.items():
        for word in words:
            owner[word] = phase
    keys = list(phase_map)
    extra: dict[str, Phase] = {}
    if keys:
        row = con.execute(
            f"SELECT list_transform($keys, lambda v: {norm_sql('v')}), "
            "list_transform($keys, lambda v: lower(trim(v)))",
            {"keys": keys},
        ).fetchone()
        assert row is not None
        for key, normed, lowered in zip(keys, row[0], row[1], strict=True):
            phase = phase_map[key]
            if phase not in PHASES:
                raise ScalegateError(
                    f"The phase mapping sends {key} to {phase}; use baseline, pilot or production."
                )
            if normed:
                owner[normed] = phase  # type: ignore[assignment]
            extra[lowered] = phase  # type: ignore[assignment]
    lists: dict[Phase, set[str]] = {p: set() for p in PHASES}
    for word, phase in owner.items():
        lists[phase] |= {w.replace("_", sep) for w in (word,) for sep in ("_", " ", "-", "")}
    for lowered, phase in extra.items():
        for p in PHASES:
            lists[p].discard(lowered)
        lists[phase].add(lowered)
    return {p: tuple(sorted(words)) for p, words in lists.items()}


def _long_metric_names(
    con: duckdb.DuckDBPyConnection, files: Sequence[FileSpec], positions, name_col: int
) -> tuple[str, ...]:
    """Every metric name in a long file, in order of first appearance (one scan of the column)."""
    parts, params = [], {}
    for f, spec in enumerate(files):
        relation, p = spec.relation(f"f{f}")
        params |= p
        col = f"c{positions[f][name_col]}"
        parts.append(
            f"SELECT {f} AS file, row_number() OVER () AS rn, trim(CAST({col} AS VARCHAR)) AS name "  # noqa: S608
            f"FROM {relation}"
        )
    sql = (
        "SELECT name FROM (" + " UNION ALL ".join(parts) + ") WHERE name IS NOT NULL "  # noqa: S608
        "AND name <> '' GROUP BY name ORDER BY min(file), min(rn)"
    )
    rows = con.execute(sql, bound(sql, params)).fetchall()
    return tuple(r[0] for r in rows)


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
    for role in ("phase", "site", "channel"):
        if role not in cols.roles.values():
            k = cols.named(ROLE_SYNONYMS[role])
            if k is not None:
                cols.roles[k] = role


def _assign_date(cols: _Columns, european: bool) -> str:
    """The date column (mapped, or the first date-named column whose values read as dates) and
    the format of its text values."""
    candidates = [k for k, r in cols.roles.items() if r == "date"] or [
        k
        for k in range(len(cols.headers))
        if cols.free(k) and cols.norms[k] in ROLE_SYNONYMS["date"]
    ]
    for k in candidates:
        fmt, hits = best_date_format(cols.facts[k], european)
        if cols.types[k] in DATE_TYPES or (cols.types[k] == "VARCHAR" and hits > 0):
            cols.roles[k] = "date"
            return fmt
        if cols.roles.get(k) == "date":
            raise ScalegateError(
                f"The column {cols.headers[k]} was mapped as the date, but none of its first "
                "values reads as a date (such as 2024-01-31 or 31/01/2024)."
            )
    for k in candidates:
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


def _refuse_no_metric(cols: _Columns) -> ScalegateError:
    empty = [
        cols.headers[k]
        for k in range(len(cols.headers))
        if cols.roles.get(k) in (None, "ignore") and cols.facts[k].non_empty == 0
    ]
    if empty:
        return ScalegateError(
            f"Every metric column is empty ({', '.join(empty)}): there are no numbers to analyse."
        )
    return ScalegateError(
        "The file has no numeric column to measure (such as cost, accuracy or tickets): "
        "add one, or map a column as metric."
    )


def _as_text(
    files: Sequence[FileSpec], positions: Sequence[Sequence[int]], text_cols: set[int]
) -> list[FileSpec]:
    """Dimension cells are kept as written (plant 007 stays 007): read them as text."""
    return [
        spec.with_types(
            [
                "VARCHAR"
                if spec.format == "csv" and any(positions[f][k] == pos for k in text_cols)
                else t
                for pos, t in enumerate(spec.types)
            ]
        )
        for f, spec in enumerate(files)
    ]


def make_plan(
    con: duckdb.DuckDBPyConnection,
    files: Sequence[FileSpec],
    mapping: Mapping[str, str] | None,
    phase_map: Mapping[str, str] | None,
    catalog_text: str | bytes | None,
    *,
    require_phase: bool = True,
) -> Plan:
    """Decide every column's role and cleaning from names and the first rows of the files."""
    positions = align_files(files)
    headers = files[0].headers
    cols = _Columns(
        headers=headers,
        norms=_norms(headers),
        types=effective_types(files, positions),
        facts={},
        roles=_resolve_mapping(headers, mapping or {}),
        warnings=[],
    )
    european = any(f.delimiter == ";" or f.decimal_comma for f in files)
    take_sample(con, files, positions)
    refuse_empty(con, files)
    _assign_dimensions(cols)
    dated = [
        k
        for k, n in enumerate(cols.norms)
        if n in ROLE_SYNONYMS["date"] or cols.roles.get(k) == "date"
    ]
    wanted = {
        k for k in range(len(headers)) if cols.roles.get(k) not in ("phase", "site", "channel")
    }
    cols.facts = column_facts(con, cols.types, dated, wanted)
    date_format = _assign_date(cols, european)
    long = _long_form(cols)
    metrics, identifiers, ignored = _classify_rest(cols, long)
    phase = cols.first("phase")
    if phase is None and require_phase:
        raise ScalegateError(
            "No column says which phase each row belongs to (baseline, pilot or production): "
            "name one phase, stage or deployment, or map one as phase."
        )
    styles: dict[int, NumberStyle] = {}
    for k in metrics + ([long[1]] if long else []):
        fk = cols.facts[k]
        comma = fk.style_comma > fk.style_dot or (fk.style_comma == fk.style_dot and european)
        styles[k] = "comma" if comma else "dot"
    metric_names = _long_metric_names(con, files, positions, long[0]) if long else ()
    labels = list(metric_names) if long else [headers[k] for k in metrics]
    if not labels:
        raise _refuse_no_metric(cols)
    catalog = infer_catalog(labels)
    if catalog_text is not None:
        catalog, notes = apply_overrides(catalog, parse_toml(catalog_text))
        cols.warnings += notes
    renamed: dict[str, str] = {}
    for spec in files:
        renamed |= spec.renamed
        if not spec.strict:
            cols.warnings.append(
                f"{spec.name} mixes line endings, so it was read leniently: a line with too "
                "many columns is cut to the header's width instead of being set aside."
            )
    text_cols = {k for k, r in cols.roles.items() if r in ("phase", "site", "channel")}
    return Plan(
        files=tuple(_as_text(files, positions, text_cols | ({long[0]} if long else set()))),
        positions=positions,
        headers=headers,
        roles={h: cols.roles.get(k, "ignore") for k, h in enumerate(headers)},
        form="long" if long else "wide",
        phase=phase,
        site=cols.first("site"),
        channel=cols.first("channel"),
        date=cols.first("date"),
        metrics=tuple(metrics),
        name_col=long[0] if long else None,
        value_col=long[1] if long else None,
        metric_names=metric_names,
        catalog=catalog,
        styles=styles,
        date_format=date_format,
        phase_keys=_phase_keys(con, phase_map or {}),
        identifiers=tuple(identifiers),
        ignored=tuple(ignored),
        renamed=renamed,
        padded=frozenset(k for k in range(len(headers)) if cols.facts[k].padded),
        warnings=tuple(cols.warnings),
    )
