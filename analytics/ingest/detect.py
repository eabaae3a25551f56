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
from analytics.ingest.dates import DateOrder, choose_date_format
from analytics.ingest.header import title_note, with_what_was_seen
from analytics.ingest.read import (
    DATE_TYPES,
    INTEGER_TYPES,
    NUMERIC_TYPES,
    FileSpec,
)
from analytics.ingest.roles import (
    TextFacts,
    best_guess,
    looks_like_volume,
    phases_in_files,
    products_of_weight,
    reads_as_phases,
    text_facts,
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
from analytics.ingest.vocab import (
    PHASE_SYNONYMS,
    ROLE_SYNONYMS,
    head_role,
    is_total_name,
    is_weight_name,
)

ROLES = ("phase", "site", "channel", "date", "metric", "value", "weight", "ignore")
LONG_NAME = ("metric", "kpi", "measure")

LONG_VALUE = ("value",)

IDENTIFIER_NAMES = ("id", "uuid", "case", "year", "week_number")

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
    weight: int | None = None  # the rows' volume (contacts handled, cases, ...)
    per_unit: frozenset[int] = frozenset()  # metric columns of row totals, divided by weight
    guesses: dict[str, str] = field(default_factory=dict)  # unplaced column -> best guess
    params: dict[str, Any] = field(default_factory=dict)

    def col(self, f: int, k: int) -> tuple[str, str]:
        """Internal column name and DuckDB type of canonical column k in file f."""
        pos = self.positions[f][k]
        return f"c{pos}", self.files[f].types[pos]

    def needs_cleaning(self) -> bool:
        """Whether any value needs text cleaning or line-by-line accounting (the slow path)."""
        cols = list(self.metrics) + [
            c for c in (self.date, self.value_col, self.weight) if c is not None
        ]
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
    for role in ("phase", "site", "channel", "date", "value", "weight"):
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


def _refuse_no_phase(cols: _Columns, guesses: Mapping[str, str]) -> ScalegateError:
    seen = "; ".join(list(guesses.values())[:2])
    seen = seen if len(seen) <= 100 else seen[:99] + "…"
    return ScalegateError(
        "No column says which phase each row belongs to (baseline, pilot or production)"
        + (f"; the columns that could be it: {seen}" if seen else "")
        + ": name one phase, stage or deployment, or give one the role phase."
    )


def _guesses(
    cols: _Columns, texts: Mapping[int, TextFacts], ignored: Sequence[str]
) -> dict[str, str]:
    """A best guess for every text column left unplaced (listed, never silently dropped)."""
    out = {}
    for k, header in enumerate(cols.headers):
        if header in ignored and k in texts:
            out[header] = best_guess(header, texts[k], numeric=False)
    return out


def _plan_dates(
    con: duckdb.DuckDBPyConnection,
    cols: _Columns,
    files: Sequence[FileSpec],
    positions: Sequence[Sequence[int]],
    european: bool,
    date_order: DateOrder,
) -> str:
    """The date column and its format: found on the sample, the format decided over the whole
    column when its values are text."""
    date_format = _assign_date(cols, european)
    k = cols.first("date")
    if k is None or cols.types[k] != "VARCHAR":
        return date_format
    choice = choose_date_format(
        con, files, positions, k, cols.headers[k], european=european, order=date_order
    )
    if choice.note:
        cols.warnings.append(choice.note)
    return choice.format


def _file_notes(files: Sequence[FileSpec], cols: _Columns) -> dict[str, str]:
    """Renamed headers of all files, and the notes on how each file was read."""
    renamed: dict[str, str] = {}
    for spec in files:
        renamed |= spec.renamed
        if spec.preamble:
            cols.warnings.append(title_note(spec.name, spec.preamble, spec.skip + 1))
        if not spec.strict:
            cols.warnings.append(
                f"{spec.name} mixes line endings, so it was read leniently: a line with too "
                "many columns is cut to the header's width instead of being set aside."
            )
    return renamed


def _labels(cols: _Columns, metrics: Sequence[int], per_unit: frozenset[int]) -> list[str]:
    weight = cols.first("weight")
    return [
        per_unit_label(cols, k, weight) if k in per_unit and weight is not None else cols.headers[k]
        for k in metrics
    ]


def make_plan(
    con: duckdb.DuckDBPyConnection,
    files: Sequence[FileSpec],
    mapping: Mapping[str, str] | None,
    phase_map: Mapping[str, str] | None,
    catalog_text: str | bytes | None,
    *,
    require_phase: bool = True,
    date_order: DateOrder = "auto",
) -> Plan:
    """Decide every column's role and cleaning from names and values of the files; a refusal
    says where the table was found when title lines were set aside above it."""
    try:
        return _make_plan(
            con,
            files,
            mapping,
            phase_map,
            catalog_text,
            require_phase=require_phase,
            date_order=date_order,
        )
    except ScalegateError as error:
        titled = next((f for f in files if f.preamble), None)
        if titled is None:
            raise
        raise ScalegateError(
            with_what_was_seen(error, titled.name, titled.preamble, titled.skip + 1)
        ) from error


def _assign_by_sample(
    con: duckdb.DuckDBPyConnection,
    cols: _Columns,
    files: Sequence[FileSpec],
    positions: Sequence[Sequence[int]],
    phase_keys: Mapping[str, Any],
) -> dict[int, TextFacts]:
    """Read the sample, place the dimensions (names, then the phase by values) and gather the
    other columns' facts; returns the text columns' facts for the best guesses."""
    take_sample(con, files, positions)
    refuse_empty(con, files)
    _assign_dimensions(cols)
    texts = _assign_phase(con, cols, files, positions, phase_keys)
    # Every text column is tried as a date: a date under a name such as "Zeitraum" must not
    # be read as a number (01.01.2024 is no 1,012,024).
    dated = [k for k, t in enumerate(cols.types) if t == "VARCHAR" or cols.roles.get(k) == "date"]
    wanted = {
        k for k in range(len(cols.headers)) if cols.roles.get(k) not in ("phase", "site", "channel")
    }
    cols.facts = column_facts(con, cols.types, dated, wanted)
    return texts


def _make_plan(
    con: duckdb.DuckDBPyConnection,
    files: Sequence[FileSpec],
    mapping: Mapping[str, str] | None,
    phase_map: Mapping[str, str] | None,
    catalog_text: str | bytes | None,
    *,
    require_phase: bool = True,
    date_order: DateOrder = "auto",
) -> Plan:
    """Decide every column's role and cleaning from names and values of the files."""
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
    phase_keys = _phase_keys(con, phase_map or {})
    texts = _assign_by_sample(con, cols, files, positions, phase_keys)
    date_format = _plan_dates(con, cols, files, positions, european, date_order)
    _assign_weight(con, cols, european)
    long = _long_form(cols)
    metrics, identifiers, ignored = _classify_rest(cols, long)
    weight = cols.first("weight")
    styles = {
        k: _style(cols.facts[k], european)
        for k in metrics + [c for c in (long[1] if long else None, weight) if c is not None]
    }
    metrics, per_unit, aside = _split_totals(con, cols, metrics, styles)
    guesses = _guesses(cols, texts, ignored)
    if cols.first("phase") is None and require_phase:
        raise _refuse_no_phase(cols, guesses)
    metric_names = _long_metric_names(con, files, positions, long[0]) if long else ()
    labels = list(metric_names) if long else _labels(cols, metrics, per_unit)
    if not labels:
        raise _refuse_no_metric(cols)
    catalog = infer_catalog(labels)
    if catalog_text is not None:
        catalog, notes = apply_overrides(catalog, parse_toml(catalog_text))
        cols.warnings += notes
    renamed = _file_notes(files, cols)
    cols.warnings += [f"Not used: {g}; give it a role if it is one." for g in guesses.values()]
    text_cols = {k for k, r in cols.roles.items() if r in ("phase", "site", "channel")}
    text_cols |= {long[0]} if long else set()
    return Plan(
        files=tuple(_as_text(files, positions, text_cols)),
        positions=positions,
        headers=headers,
        roles={h: cols.roles.get(k, "ignore") for k, h in enumerate(headers)},
        form="long" if long else "wide",
        phase=cols.first("phase"),
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
        phase_keys=phase_keys,
        identifiers=tuple(identifiers),
        ignored=tuple(ignored) + tuple(aside),
        renamed=renamed,
        padded=frozenset(k for k in range(len(headers)) if cols.facts[k].padded),
        warnings=tuple(cols.warnings),
        weight=weight,
        per_unit=per_unit,
        guesses=guesses,
    )
