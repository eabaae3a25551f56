"""The SQL expressions of a load: phase values to phases, text to numbers and dates,
dimension cells to names, and the SELECT list that turns a file's columns into the wide row.

Expressions are text made by code from allow-listed pieces; the values they compare with
(phase spellings, metric names, date formats, "no value" markers) are bound parameters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from analytics.core.types import PHASES
from analytics.ingest.read import DATE_TYPES, NUMERIC_TYPES
from analytics.store.database import quote_ident

if TYPE_CHECKING:
    from analytics.ingest.detect import Plan

NumberStyle = Literal["dot", "comma"]

CANONICAL = "('baseline', 'pilot', 'production')"  # the stored phases, as SQL text made by code

# Cells that mean "no value" in business files; compared lower-cased and trimmed.
NULL_MARKERS = ["", "na", "n/a", "n.a.", "null", "none", "-", "--", "#n/a", "nil", "?"]

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
    percent signs (12.5% -> 0.125) before TRY_CAST; what still fails is NULL (and counted)."""
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
