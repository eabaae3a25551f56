"""What each column of a file is (phase, site, channel, date, metric, identifier, ...), how its
values are cleaned, and the SQL expressions that do it.

Decisions are taken on the column names and a sample of the first rows, read by DuckDB; every
expression here runs inside DuckDB over the whole file. File values only ever reach SQL as
bound parameters; the text of every expression is made by code from allow-listed pieces.

SQL text here is assembled from code-made pieces only (internal column names c0, c1, ...,
quote_ident-ed metric ids, allow-listed expressions); every value that comes from a file is a
bound parameter. That is what each `noqa: S608` vouches for. The plan itself is in plan.py,
the column roles in columns.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import duckdb

from analytics.core.catalog import (
    Catalog,
    apply_overrides,
    infer_catalog,
    normalise_header,
    parse_toml,
)
from analytics.core.errors import ScalegateError
from analytics.core.types import LEAVE_OUT, PHASES, Phase
from analytics.ingest.columns import (
    _assign_date,
    _assign_dimensions,
    _assign_phase,
    _assign_weight,
    _classify_rest,
    _Columns,
    _long_form,
    _norms,
    _split_totals,
    _style,
    per_unit_label,
)
from analytics.ingest.dates import DateOrder, choose_date_format
from analytics.ingest.header import title_note, with_what_was_seen
from analytics.ingest.plan import ROLES, Plan, align_files, effective_types
from analytics.ingest.read import (
    FileSpec,
)
from analytics.ingest.roles import (
    TextFacts,
    best_guess,
)
from analytics.ingest.sample import (
    column_facts,
    refuse_empty,
    take_sample,
)
from analytics.ingest.sql import (
    bound,
    norm_sql,
)
from analytics.ingest.vocab import (
    PHASE_SYNONYMS,
)


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


def _phase_keys(
    con: duckdb.DuckDBPyConnection, phase_map: Mapping[str, str]
) -> dict[Phase, tuple[str, ...]]:
    """Lookup lists per phase: normalised synonyms and user values (the user wins), plus the
    spellings with spaces and dashes so the common cases skip the regular expression; and,
    when the user left values out, their list under LEAVE_OUT."""
    owner: dict[str, str] = {
        word: phase for phase, words in PHASE_SYNONYMS.items() for word in words
    }
    extra = _user_values(con, phase_map, owner)
    lists: dict[str, set[str]] = {p: set() for p in (*PHASES, LEAVE_OUT)}
    for word, phase in owner.items():
        lists[phase] |= {w.replace("_", sep) for w in (word,) for sep in ("_", " ", "-", "")}
    for lowered, phase in extra.items():
        for p in PHASES:
            lists[p].discard(lowered)
        lists[phase].add(lowered)
    keys_of = {p: tuple(sorted(words)) for p, words in lists.items()}
    if not keys_of[LEAVE_OUT]:  # the plan names a left-out list only when there is one
        del keys_of[LEAVE_OUT]
    return keys_of  # type: ignore[return-value]


def _user_values(
    con: duckdb.DuckDBPyConnection, phase_map: Mapping[str, str], owner: dict[str, str]
) -> dict[str, str]:
    """The user's values, lower-cased, with their phase (or LEAVE_OUT); their normalised
    spellings join `owner` (a value left out is looked up as written only)."""
    keys = list(phase_map)
    if not keys:
        return {}
    row = con.execute(
        f"SELECT list_transform($keys, lambda v: {norm_sql('v')}), "
        "list_transform($keys, lambda v: lower(trim(v)))",
        {"keys": keys},
    ).fetchone()
    assert row is not None
    extra: dict[str, str] = {}
    for key, normed, lowered in zip(keys, row[0], row[1], strict=True):
        phase = phase_map[key]
        if phase not in (*PHASES, LEAVE_OUT):
            raise ScalegateError(
                f"The phase mapping sends {key} to {phase}; use baseline, pilot or production."
            )
        if normed and phase != LEAVE_OUT:
            owner[normed] = phase
        extra[lowered] = phase
    return extra


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


def _catalog(cols: _Columns, labels: list[str], catalog_text: str | bytes | None) -> Catalog:
    """The metrics' catalog: guessed from their names, then the user's catalog file applied
    (its notes join the plan's warnings); refused when there is no metric at all."""
    if not labels:
        raise _refuse_no_metric(cols)
    catalog = infer_catalog(labels)
    if catalog_text is not None:
        catalog, notes = apply_overrides(catalog, parse_toml(catalog_text))
        cols.warnings += notes
    return catalog


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
    numeric = metrics + [c for c in (long[1] if long else None, weight) if c is not None]
    styles = {k: _style(cols.facts[k], european) for k in numeric}
    metrics, per_unit, aside = _split_totals(con, cols, metrics, styles)
    guesses = _guesses(cols, texts, ignored)
    if cols.first("phase") is None and require_phase:
        raise _refuse_no_phase(cols, guesses)
    metric_names = _long_metric_names(con, files, positions, long[0]) if long else ()
    labels = list(metric_names) if long else _labels(cols, metrics, per_unit)
    catalog = _catalog(cols, labels, catalog_text)
    renamed = _file_notes(files, cols)
    cols.warnings += [f"Not used: {g}; give it a role if it is one." for g in guesses.values()]
    text_cols = {k for k, r in cols.roles.items() if r in ("phase", "site", "channel")}
    return Plan(
        files=tuple(_as_text(files, positions, text_cols | ({long[0]} if long else set()))),
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
