"""The SQL expressions of a load: phase values to phases, text to numbers and dates,
dimension cells to names, and the SELECT list that turns a file's columns into the wide row.

Expressions are text made by code from allow-listed pieces; the values they compare with
(phase spellings, metric names, date formats, "no value" markers) are bound parameters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from analytics.core.types import LEAVE_OUT, PHASES
from analytics.ingest.read import DATE_TYPES, NUMERIC_TYPES
from analytics.ingest.vocab import PHASE_PATTERNS, TOTAL_ROW
from analytics.store.database import quote_ident

if TYPE_CHECKING:
    from analytics.ingest.plan import Plan

NumberStyle = Literal["dot", "comma"]

# The shape a number written in each style must have once currency and spaces are stripped:
# thousands separators only in whole groups of three, so "01.01.2024" or "1,2,3" is no number.
NUMBER_SHAPES: dict[NumberStyle, str] = {
    "dot": "[-+]?(\\d{1,3}(,\\d{3})+|\\d*)(\\.\\d+)?([eE][-+]?\\d+)?%?",
    "comma": "[-+]?(\\d{1,3}(\\.\\d{3})+|\\d*)(,\\d+)?%?",
}

CANONICAL = "('baseline', 'pilot', 'production')"  # the stored phases, as SQL text made by code

# Cells that mean "no value" in business files; compared lower-cased and trimmed.
NULL_MARKERS = ["", "na", "n/a", "n.a.", "null", "none", "-", "--", "#n/a", "nil", "?", "—", "–"]
NULL_MARKERS += ["#value!", "#div/0!", "#ref!"]

# Yes/No, Y/N, True/False cells read as 1 and 0.
YES_WORDS = ["yes", "y", "true"]
NO_WORDS = ["no", "n", "false"]

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
    """A raw phase cell -> 'baseline' | 'pilot' | 'production'; NULL when blank; '!left' for a
    value the person chose to leave out; '?' || value when unknown (rows so marked are counted,
    then removed before the load commits).

    The plain lower-cased cell is looked up first, so the regular expressions run only on
    unusual spellings; whole values only ("Live chat" is not "live"), the user's map first.
    """
    lowered = f"lower(trim({x}))"
    normed = norm_sql(x)
    return (
        f"CASE WHEN {x} IN ('baseline', 'pilot', 'production') AND NOT $ph_custom THEN {x} "
        f"WHEN {x} IS NULL OR trim({x}) = '' THEN NULL "
        f"WHEN list_contains($ph_left_out, {lowered}) THEN '!left' "
        f"WHEN list_contains($ph_baseline, {lowered}) THEN 'baseline' "
        f"WHEN list_contains($ph_pilot, {lowered}) THEN 'pilot' "
        f"WHEN list_contains($ph_production, {lowered}) THEN 'production' "
        f"WHEN list_contains($ph_baseline, {normed}) THEN 'baseline' "
        f"WHEN list_contains($ph_pilot, {normed}) THEN 'pilot' "
        f"WHEN list_contains($ph_production, {normed}) THEN 'production' "
        f"WHEN regexp_full_match({normed}, $ph_re_baseline) THEN 'baseline' "
        f"WHEN regexp_full_match({normed}, $ph_re_pilot) THEN 'pilot' "
        f"WHEN regexp_full_match({normed}, $ph_re_production) THEN 'production' "
        f"ELSE '?' || trim({x}) END"
    )


def stripped_sql(x: str) -> str:
    """Currency symbols and codes, spaces (also non-breaking) and apostrophes removed;
    (1,234) accounting negatives turned into -1,234."""
    bare = (
        f"regexp_replace(trim({x}), "
        "'[\\s\\x{a0}\\x{202f}\\x{80}€$£¥'']|(?i:eur|usd|gbp|chf)', '', 'g')"
    )
    return f"regexp_replace({bare}, '^\\((.*)\\)$', '-\\1')"


def number_sql(x: str, duck_type: str, style: NumberStyle) -> str:
    """A cell -> DOUBLE. Typed numbers are cast; text loses thousands separators, currency and
    percent signs (12.5% -> 0.125) before TRY_CAST, Yes/No, Y/N and True/False read as 1 and 0;
    what still fails is NULL (and counted)."""
    if duck_type in NUMERIC_TYPES or duck_type == "BOOLEAN" or duck_type.startswith("DECIMAL"):
        return f"CAST({x} AS DOUBLE)"
    if duck_type != "VARCHAR":
        return "CAST(NULL AS DOUBLE)"
    s = stripped_sql(x)
    body = f"rtrim({s}, '%')"
    if style == "comma":
        body = f"replace(replace({body}, '.', ''), ',', '.')"
    else:
        body = f"replace({body}, ',', '')"
    shape = NUMBER_SHAPES[style].replace("'", "''")  # a constant of ours, as an SQL literal
    return (
        f"CASE WHEN {is_empty_sql(x)} THEN NULL "
        f"WHEN NOT regexp_full_match({s}, '{shape}') "
        f"AND NOT list_contains($yes_words, lower(trim({x}))) "
        f"AND NOT list_contains($no_words, lower(trim({x}))) THEN NULL "
        f"WHEN suffix({s}, '%') THEN TRY_CAST({body} AS DOUBLE) / 100 "
        f"WHEN list_contains($yes_words, lower(trim({x}))) THEN 1.0 "
        f"WHEN list_contains($no_words, lower(trim({x}))) THEN 0.0 "
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


def phase_params(phase_keys: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The parameters of phase_sql: the lookup lists and the whole-value patterns."""
    return {
        "ph_baseline": list(phase_keys.get("baseline", ())),
        "ph_pilot": list(phase_keys.get("pilot", ())),
        "ph_production": list(phase_keys.get("production", ())),
        "ph_left_out": list(phase_keys.get(LEAVE_OUT, ())),
        # The canonical spellings skip every lookup unless the user mapped one of them.
        "ph_custom": any(w not in phase_keys[w] for w in PHASES),
        **{f"ph_re_{p}": PHASE_PATTERNS[p] for p in PHASES},
    }


def _header_as_written(plan: Plan, k: int | None) -> str:
    if k is None:
        return ""
    header = plan.headers[k]
    return plan.renamed.get(header, header)


def shared_params(plan: Plan) -> dict[str, Any]:
    """The parameters every expression of a plan refers to."""
    params: dict[str, Any] = {
        "null_markers": NULL_MARKERS,
        "date_format": plan.date_format,
        "total_re": TOTAL_ROW,
        "hdr_phase": _header_as_written(plan, plan.phase).strip().lower(),
        "yes_words": YES_WORDS,
        "no_words": NO_WORDS,
        **phase_params(plan.phase_keys),
    }
    for j, name in enumerate(plan.metric_names):
        params[f"m{j}"] = name
    return params


def _per_unit(plan: Plan, f: int, k: int, value: str) -> str:
    """A row total divided by the row's volume; any other metric as it is."""
    if k not in plan.per_unit:
        return value
    return f"({value}) / NULLIF({weight_sql(plan, f)}, 0)"


def select_sql(plan: Plan, f: int) -> str:
    """The SELECT list turning file f's columns into date, phase, site, channel and metrics.

    Long files become sparse wide rows: the value lands in the column of the metric its row
    names (names compared as bound parameters), every other metric NULL.
    """

    def c(k: int | None) -> tuple[str, str]:
        return plan.col(f, k) if k is not None else ("NULL", "VARCHAR")

    date = date_sql(*c(plan.date)) if plan.date is not None else "CAST(NULL AS DATE)"
    phase = row_phase_sql(plan, f)
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
            f"{_per_unit(plan, f, k, number_sql(*c(k), plan.styles[k]))} AS {quote_ident(ids[j])}"
            for j, k in enumerate(plan.metrics)
        ]
    out += [f"{phase} AS phase", f"{site} AS site", f"{channel} AS channel"]
    if plan.weight is not None:
        out.append(f"{weight_sql(plan, f)} AS weight")
    return ", ".join(out + metrics)


def weight_sql(plan: Plan, f: int) -> str:
    """The row's volume as a DOUBLE (the weight column cleaned like a metric)."""
    assert plan.weight is not None
    return number_sql(*plan.col(f, plan.weight), plan.styles[plan.weight])


def row_phase_sql(plan: Plan, f: int) -> str:
    """A row's phase (phase_sql), or the mark of a row set aside whole: '!header' for a header
    repeated mid-file, '!total' for a Total/Subtotal row, '!weight' for a row without a
    volume (missing, zero or negative). The cheap LIKE runs before the pattern."""
    raw = f"CAST({plan.col(f, plan.phase)[0]} AS VARCHAR)" if plan.phase is not None else "NULL"
    marks = [f"WHEN lower(trim({raw})) = $hdr_phase THEN '!header'"]
    for k in (plan.phase, plan.site, plan.channel, plan.date):
        if k is None:
            continue
        col, duck_type = plan.col(f, k)
        if duck_type == "VARCHAR":
            # ILIKE on the raw cell first (as lower(trim()) LIKE, without two new strings a row).
            marks.append(
                f"WHEN {col} ILIKE '%total%' AND regexp_full_match(trim({col}), $total_re, 'i') "
                "THEN '!total'"
            )
    if plan.weight is not None:
        marks.append(f"WHEN coalesce({weight_sql(plan, f)}, -1) <= 0 THEN '!weight'")
    return f"CASE {' '.join(marks)} ELSE {phase_sql(raw)} END"
