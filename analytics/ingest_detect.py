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

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import duckdb

from analytics.catalog import (
    DIRECTION_RULES,
    KIND_RULES,
    Catalog,
    apply_overrides,
    infer_catalog,
    normalise_header,
    parse_toml,
)
from analytics.errors import ScalegateError
from analytics.ingest_read import DATE_TYPES, INTEGER_TYPES, NUMERIC_TYPES, FileSpec
from analytics.types import PHASES, Phase

SAMPLE_ROWS = 10_000
CANONICAL = "('baseline', 'pilot', 'production')"  # the stored phases, as SQL text made by code

# Column names, normalised (case-insensitive; spaces, dashes and underscores alike).
ROLE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "phase": ("phase", "stage", "deployment", "deployment_phase", "period_type"),
    "site": ("site", "plant", "location", "branch", "store", "region", "facility"),
    "channel": ("channel", "source", "medium", "touchpoint"),
    "date": ("date", "day", "week", "month", "timestamp", "period_start"),
}
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

# Cells that mean "no value" in business files; compared lower-cased and trimmed.
NULL_MARKERS = ["", "na", "n/a", "n.a.", "null", "none", "-", "--", "#n/a", "nil", "?"]

# Date formats tried on text dates after ISO, in order of preference for ties.
DATE_FORMATS_DMY = ("%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%y", "%d.%m.%y")
DATE_FORMATS_MDY = ("%m/%d/%Y", "%m-%d-%Y", "%m/%d/%y")
DATE_FORMATS_OTHER = ("%Y/%m/%d", "%Y-%m", "%Y%m%d", "%d %b %Y", "%b %d, %Y", "%d-%b-%Y", "%b %Y")

NumberStyle = Literal["dot", "comma"]
Form = Literal["wide", "long"]

# -- SQL expressions (text made by code; values are parameters) ------------------------------


def bound(sql: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters a statement refers to (DuckDB refuses unused ones)."""
    used = set(re.findall(r"\$(\w+)", sql))
    return {k: v for k, v in params.items() if k in used}


def norm_sql(x: str) -> str:
    """The SQL twin of catalog.normalise_header for values: lower, no accents, words joined by _."""
    return f"trim(regexp_replace(lower(strip_accents(trim({x}))), '[^0-9a-z]+', '_', 'g'), '_')"


def is_empty_sql(x: str) -> str:
    return f"({x} IS NULL OR list_contains($null_markers, lower(trim({x}))))"


def phase_sql(x: str) -> str:
    """A raw phase cell -> 'baseline' | 'pilot' | 'production'; NULL when blank; '?' || value when
    unknown (rows so marked are counted, then removed before the load commits).

    The plain lower-cased cell is looked up first, so the regular expression runs only on
    unusual spellings.
    """
    lowered = f"lower(trim({x}))"
    normed = norm_sql(x)
    return (
        f"CASE WHEN {x} IN ('baseline', 'pilot', 'production') AND NOT $ph_custom THEN {x} "
        f"WHEN {x} IS NULL OR trim({x}) = '' THEN NULL "
        f"WHEN list_contains($ph_baseline, {lowered}) THEN 'baseline' "
        f"WHEN list_contains($ph_pilot, {lowered}) THEN 'pilot' "
        f"WHEN list_contains($ph_production, {lowered}) THEN 'production' "
        f"WHEN list_contains($ph_baseline, {normed}) THEN 'baseline' "
        f"WHEN list_contains($ph_pilot, {normed}) THEN 'pilot' "
        f"WHEN list_contains($ph_production, {normed}) THEN 'production' "
        f"ELSE '?' || trim({x}) END"
    )


def _stripped_sql(x: str) -> str:
    """Currency symbols and codes, spaces (also non-breaking) and apostrophes removed;
    (1,234) accounting negatives turned into -1,234."""
    bare = (
        f"regexp_replace(trim({x}), "
        "'[\\s\\x{a0}\\x{202f}\\x{80}€$£¥'']|(?i:eur|usd|gbp|chf)', '', 'g')"
    )
    return f"regexp_replace({bare}, '^\\((.*)\\)$', '-\\1')"


def number_sql(x: str, duck_type: str, style: NumberStyle) -> str:
    """A cell -> DOUBLE. Typed numbers are cast; text loses thousands separators, currency and
    percent signs (12.5% -> 0.125) before TRY_CAST; what still fails is NULL (and counted)."""
    if duck_type in NUMERIC_TYPES or duck_type == "BOOLEAN" or duck_type.startswith("DECIMAL"):
        return f"CAST({x} AS DOUBLE)"
    if duck_type != "VARCHAR":
        return "CAST(NULL AS DOUBLE)"
    s = _stripped_sql(x)
    body = f"rtrim({s}, '%')"
    if style == "comma":
        body = f"replace(replace({body}, '.', ''), ',', '.')"
    else:
        body = f"replace({body}, ',', '')"
    return (
        f"CASE WHEN {is_empty_sql(x)} THEN NULL "
        f"WHEN suffix({s}, '%') THEN TRY_CAST({body} AS DOUBLE) / 100 "
        f"ELSE TRY_CAST({body} AS DOUBLE) END"
    )


def date_sql(x: str, duck_type: str) -> str:
    """A cell -> DATE: typed dates as they are, text as ISO or the format chosen from the sample."""
    if duck_type == "DATE":
        return x
    if duck_type in DATE_TYPES:
        return f"CAST({x} AS DATE)"
    if duck_type != "VARCHAR":
        return "CAST(NULL AS DATE)"
    return (
        f"COALESCE(TRY_CAST(trim({x}) AS DATE), TRY_CAST(TRY_CAST(trim({x}) AS TIMESTAMP) AS DATE), "
        f"CAST(try_strptime(trim({x}), $date_format) AS DATE))"
    )


def text_sql(x: str, blank: str, trim: bool) -> str:
    """A dimension cell -> text as written (trimmed when the sample shows padded cells: the
    trim costs a tenth of the load); blank cells become the code-made label `blank`."""
    cell = f"trim(CAST({x} AS VARCHAR))" if trim else f"CAST({x} AS VARCHAR)"
    return f"COALESCE(NULLIF({cell}, ''), '{blank}')"


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


@dataclass(frozen=True, slots=True)
class _ColumnFacts:
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


_STYLE_DOT = "[-+]?(\\d{1,3}(,\\d{3})+|\\d*)(\\.\\d+)?([eE][-+]?\\d+)?%?"
_STYLE_COMMA = "[-+]?(\\d{1,3}(\\.\\d{3})+|\\d*)(,\\d+)?%?"


def _sample(con: duckdb.DuckDBPyConnection, files: Sequence[FileSpec], positions) -> None:
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


def unclosed_quote(name: str, line: int) -> ScalegateError:
    return ScalegateError(
        f'Line {line} of {name} opens a quote (") that never closes, so the rest of the file '
        "cannot be read: close or remove that quote."
    )


def _refuse_empty(con: duckdb.DuckDBPyConnection, files: Sequence[FileSpec]) -> None:
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


def _all_facts(
    con: duckdb.DuckDBPyConnection,
    types: Sequence[str],
    date_candidates: Sequence[int],
    wanted: set[int],
) -> dict[int, _ColumnFacts]:
    """The sample's facts for the wanted columns, in one query: number shapes of text columns,
    distinct counts of integer columns, how many text values each date format reads."""
    formats = ("iso",) + DATE_FORMATS_DMY + DATE_FORMATS_MDY + DATE_FORMATS_OTHER
    exprs: list[str] = []
    for k, duck_type in enumerate(types):
        x = f"k{k}"
        s = _stripped_sql(x)
        ok = f"NOT {is_empty_sql(x)}"
        dot = f"replace(rtrim({s}, '%'), ',', '')"
        comma = f"replace(replace(rtrim({s}, '%'), '.', ''), ',', '.')"
        text = duck_type == "VARCHAR" and k in wanted
        exprs += [
            f"count(*) FILTER (WHERE {ok})" if k in wanted else "0",
            f"count(*) FILTER (WHERE {ok} AND TRY_CAST({dot} AS DOUBLE) IS NOT NULL)"
            if text
            else "0",
            f"count(*) FILTER (WHERE {ok} AND TRY_CAST({comma} AS DOUBLE) IS NOT NULL)"
            if text
            else "0",
            f"count(*) FILTER (WHERE regexp_full_match({s}, $dot_re))" if text else "0",
            f"count(*) FILTER (WHERE regexp_full_match({s}, $comma_re))" if text else "0",
            f"count(DISTINCT {x})" if duck_type in INTEGER_TYPES and k in wanted else "0",
            f"count(*) FILTER (WHERE {x} <> trim({x}))",
        ]
        dated = text and k in date_candidates
        exprs.append(
            f"count(*) FILTER (WHERE TRY_CAST(TRY_CAST(trim({x}) AS TIMESTAMP) AS DATE) IS NOT NULL)"
            if dated
            else "0"
        )
        exprs += [
            f"count(try_strptime(trim({x}), $fmt{i}))" if dated else "0"
            for i in range(1, len(formats))
        ]
    sql = "SELECT count(*), " + ", ".join(exprs) + " FROM sample"  # noqa: S608
    params = {
        "null_markers": NULL_MARKERS,
        "dot_re": _STYLE_DOT,
        "comma_re": _STYLE_COMMA,
        **{f"fmt{i}": fmt for i, fmt in enumerate(formats) if i},
    }
    row = con.execute(sql, bound(sql, params)).fetchone()
    assert row is not None
    rows, values = row[0], row[1:]
    width = 7 + len(formats)
    facts = {}
    for k in range(len(types)):
        v = values[k * width : (k + 1) * width]
        facts[k] = _ColumnFacts(
            non_empty=v[0],
            numbers_dot=v[1],
            numbers_comma=v[2],
            style_dot=v[3],
            style_comma=v[4],
            distinct=v[5],
            rows=rows,
            padded=v[6],
            date_hits=dict(zip(formats, v[7:], strict=True)),
        )
    return facts


def _best_date_format(facts: _ColumnFacts, european: bool) -> tuple[str, int]:
    order = ("iso",) + (
        DATE_FORMATS_DMY + DATE_FORMATS_MDY if european else DATE_FORMATS_MDY + DATE_FORMATS_DMY
    )
    order += DATE_FORMATS_OTHER
    best = max(order, key=lambda fmt: (facts.date_hits[fmt], -order.index(fmt)))
    return ("%Y-%m-%d" if best == "iso" else best), facts.date_hits[best]


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
    roles = _resolve_mapping(headers, mapping or {})
    # Spaces, dashes and underscores alike, or left out: "Touch point" is a touchpoint.
    norms = [normalise_header(h) for h in headers]
    squashed = {w.replace("_", ""): w for words in ROLE_SYNONYMS.values() for w in words}
    squashed |= {w.replace("_", ""): w for w in (*LONG_NAME, *LONG_VALUE, *IDENTIFIER_NAMES)}
    norms = [squashed.get(n.replace("_", ""), n) for n in norms]
    types = effective_types(files, positions)
    european = any(f.delimiter == ";" or f.decimal_comma for f in files)
    warnings: list[str] = []
    _sample(con, files, positions)
    _refuse_empty(con, files)

    def numeric(k: int) -> bool:
        return types[k] in NUMERIC_TYPES or types[k].startswith("DECIMAL")

    def free(k: int) -> bool:
        return k not in roles

    for role in ("phase", "site", "channel"):
        if role not in roles.values():
            for k in range(len(headers)):
                if free(k) and norms[k] in ROLE_SYNONYMS[role]:
                    roles[k] = role
                    break
    by_name = [k for k in range(len(headers)) if norms[k] in ROLE_SYNONYMS["date"]]
    wanted = {k for k in range(len(headers)) if roles.get(k) not in ("phase", "site", "channel")}
    facts = _all_facts(con, types, [k for k, r in roles.items() if r == "date"] + by_name, wanted)
    date_format = "%Y-%m-%d"
    date_candidates = [k for k, r in roles.items() if r == "date"]
    if not date_candidates:
        date_candidates = [
            k for k in range(len(headers)) if free(k) and norms[k] in ROLE_SYNONYMS["date"]
        ]
    for k in date_candidates:
        fmt, hits = _best_date_format(facts[k], european)
        if types[k] in DATE_TYPES or (types[k] == "VARCHAR" and hits > 0):
            roles[k] = "date"
            date_format = fmt
            break
        if roles.get(k) == "date":
            raise ScalegateError(
                f"The column {headers[k]} was mapped as the date, but none of its first values "
                "reads as a date (such as 2024-01-31 or 31/01/2024)."
            )
    if "date" not in roles.values():
        for k in date_candidates:
            if free(k) and not numeric(k):
                warnings.append(
                    f"The column {headers[k]} is named like a date but its values are not dates; "
                    "it was not used."
                )
    name_col = next((k for k, r in roles.items() if r == "metric" and not numeric(k)), None)
    value_col = next((k for k, r in roles.items() if r == "value"), None)
    if name_col is None and (
        "value" in roles.values()
        or any(free(k) and norms[k] in LONG_VALUE for k in range(len(headers)))
    ):
        name_col = next(
            (
                k
                for k in range(len(headers))
                if free(k) and norms[k] in LONG_NAME and not numeric(k)
            ),
            None,
        )
    if value_col is None and name_col is not None:
        value_col = next(
            (k for k in range(len(headers)) if free(k) and norms[k] in LONG_VALUE), None
        )
    if value_col is not None and name_col is None:
        raise ScalegateError(
            f"The value column {headers[value_col]} needs a column naming the metric each value "
            "measures (metric, kpi or measure): map one as metric."
        )
    form: Form = "long" if name_col is not None and value_col is not None else "wide"
    if form == "long":
        roles[name_col] = "metric"  # type: ignore[index]
        roles[value_col] = "value"  # type: ignore[index]
    metrics: list[int] = []
    identifiers: list[str] = []
    ignored: list[str] = []
    for k in range(len(headers)):
        role = roles.get(k)
        fk = facts[k]
        if role == "ignore" or (role is not None and role != "metric") or k == name_col:
            if role == "ignore":
                ignored.append(headers[k])
            continue
        if role == "metric" and form == "wide":
            metrics.append(k)
            continue
        integer = types[k] in INTEGER_TYPES
        distinct_ints = integer and fk.rows >= 20 and fk.distinct == fk.rows == fk.non_empty
        is_number = (
            numeric(k)
            or types[k] == "BOOLEAN"
            or (
                types[k] == "VARCHAR"
                and fk.non_empty > 0
                and max(fk.numbers_dot, fk.numbers_comma) * 2 >= fk.non_empty
            )
        )
        if _is_identifier_name(norms[k]) or (norms[k] in ROLE_SYNONYMS["date"] and integer):
            roles[k] = "identifier"
            identifiers.append(headers[k])
        elif distinct_ints and not _names_a_metric(headers[k]):
            roles[k] = "identifier"
            identifiers.append(headers[k])
            warnings.append(
                f"The column {headers[k]} holds a different whole number on every row, so it "
                "was taken for an identifier, not a metric: map it as metric if it is one."
            )
        elif is_number and form == "wide":
            roles[k] = "metric"
            metrics.append(k)
        else:
            roles[k] = "ignore"
            ignored.append(headers[k])
            if is_number and form == "long":
                warnings.append(
                    f"The column {headers[k]} was not used: in a long file the metrics come from "
                    f"the {headers[name_col]} and {headers[value_col]} columns."  # type: ignore[index]
                )
    phase = next((k for k, r in roles.items() if r == "phase"), None)
    if phase is None and require_phase:
        raise ScalegateError(
            "No column says which phase each row belongs to (baseline, pilot or production): "
            "name one phase, stage or deployment, or map one as phase."
        )
    styles: dict[int, NumberStyle] = {}
    for k in metrics + ([value_col] if value_col is not None else []):
        fk = facts[k]
        if fk.style_comma > fk.style_dot or (fk.style_comma == fk.style_dot and european):
            styles[k] = "comma"
        else:
            styles[k] = "dot"
    metric_names: tuple[str, ...] = ()
    if form == "long":
        metric_names = _long_metric_names(con, files, positions, name_col)  # type: ignore[arg-type]
        labels = list(metric_names)
    else:
        labels = [headers[k] for k in metrics]
    if not labels:
        empty = [
            headers[k]
            for k in range(len(headers))
            if roles.get(k) in (None, "ignore") and facts[k].non_empty == 0
        ]
        if empty:
            raise ScalegateError(
                f"Every metric column is empty ({', '.join(empty)}): there are no numbers to "
                "analyse."
            )
        raise ScalegateError(
            "The file has no numeric column to measure (such as cost, accuracy or tickets): "
            "add one, or map a column as metric."
        )
    catalog = infer_catalog(labels)
    if catalog_text is not None:
        catalog, notes = apply_overrides(catalog, parse_toml(catalog_text))
        warnings += notes
    renamed: dict[str, str] = {}
    for spec in files:
        renamed |= spec.renamed
        if not spec.strict:
            warnings.append(
                f"{spec.name} mixes line endings, so it was read leniently: a line with too "
                "many columns is cut to the header's width instead of being set aside."
            )
    # Dimension cells are kept as written (plant 007 stays 007): read them as text.
    text_cols = {k for k, r in roles.items() if r in ("phase", "site", "channel")}
    if name_col is not None and form == "long":
        text_cols.add(name_col)
    files = [
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
    named_roles = {headers[k]: roles.get(k, "ignore") for k in range(len(headers))}
    return Plan(
        files=tuple(files),
        positions=positions,
        headers=headers,
        roles=named_roles,
        form=form,
        phase=phase,
        site=next((k for k, r in roles.items() if r == "site"), None),
        channel=next((k for k, r in roles.items() if r == "channel"), None),
        date=next((k for k, r in roles.items() if r == "date"), None),
        metrics=tuple(metrics),
        name_col=name_col if form == "long" else None,
        value_col=value_col if form == "long" else None,
        metric_names=metric_names,
        catalog=catalog,
        styles=styles,
        date_format=date_format,
        phase_keys=_phase_keys(con, phase_map or {}),
        identifiers=tuple(identifiers),
        ignored=tuple(ignored),
        renamed=renamed,
        padded=frozenset(k for k in range(len(headers)) if facts[k].padded),
        warnings=tuple(warnings),
    )


def shared_params(plan: Plan) -> dict[str, Any]:
    """The parameters every expression of a plan refers to."""
    params: dict[str, Any] = {
        "null_markers": NULL_MARKERS,
        "date_format": plan.date_format,
        "ph_baseline": list(plan.phase_keys.get("baseline", ())),
        "ph_pilot": list(plan.phase_keys.get("pilot", ())),
        "ph_production": list(plan.phase_keys.get("production", ())),
        # The canonical spellings skip every lookup unless the user mapped one of them.
        "ph_custom": any(w not in plan.phase_keys[w] for w in PHASES),
    }
    for j, name in enumerate(plan.metric_names):
        params[f"m{j}"] = name
    return params


def select_sql(plan: Plan, f: int) -> str:
    """The SELECT list turning file f's columns into date, phase, site, channel and metrics.

    Long files become sparse wide rows: the value lands in the column of the metric its row
    names (names compared as bound parameters), every other metric NULL.
    """
    from analytics.store import quote_ident

    def c(k: int | None) -> tuple[str, str]:
        return plan.col(f, k) if k is not None else ("NULL", "VARCHAR")

    date = date_sql(*c(plan.date)) if plan.date is not None else "CAST(NULL AS DATE)"
    phase = phase_sql(f"CAST({c(plan.phase)[0]} AS VARCHAR)")
    site, channel = "'all'", "'all'"
    if plan.site is not None:
        site = text_sql(c(plan.site)[0], "(blank)", plan.site in plan.padded)
    if plan.channel is not None:
        channel = text_sql(c(plan.channel)[0], "(blank)", plan.channel in plan.padded)
    out = [f"{date} AS date"]
    ids = plan.catalog.ids
    if plan.form == "long":
        name = f"trim(CAST({c(plan.name_col)[0]} AS VARCHAR))"
        phase = (
            f"CASE WHEN ({name}) IS NULL OR ({name}) = '' THEN "
            f"CASE WHEN ({phase}) IN {CANONICAL} THEN '!metric' ELSE ({phase}) END "
            f"ELSE ({phase}) END"
        )
        value = number_sql(*c(plan.value_col), plan.styles[plan.value_col])  # type: ignore[index]
        metrics = [
            f"CASE WHEN {name} = $m{j} THEN {value} END AS {quote_ident(ids[j])}"
            for j in range(len(plan.metric_names))
        ]
    else:
        metrics = [
            f"{number_sql(*c(k), plan.styles[k])} AS {quote_ident(ids[j])}"
            for j, k in enumerate(plan.metrics)
        ]
    out += [f"{phase} AS phase", f"{site} AS site", f"{channel} AS channel", *metrics]
    return ", ".join(out)
