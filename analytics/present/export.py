"""Exports a CFO can open: charts as PNG/SVG/PDF, tables as CSV/XLSX, and the board pack.

Tables keep numbers as numbers; every text cell that a spreadsheet would read as a formula
(starting with =, +, -, @, a tab or a carriage return) is neutralised with a leading apostrophe,
so a site called `=HYPERLINK(...)` arrives as inert text. The board pack lives in
`analytics.present.pack`.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from analytics.core import fmt
from analytics.decide.results import Results
from analytics.decide.verdict import VERDICT_LABELS
from analytics.present.chart_base import AnyChart

if TYPE_CHECKING:
    pass

ChartFormat = Literal["png", "svg", "pdf"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 (and so XLSX) cannot hold; openpyxl refuses them.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# Columns of `tables` that hold relative changes (fractions), shown as percentages in XLSX.
PERCENT_COLUMNS = frozenset(
    {"lift", "lift_ci_low", "lift_ci_high", "estimate", "ci_low", "ci_high", "ci_level"}
    | {"pilot_estimate", "pilot_ci_low", "pilot_ci_high", "retention"}
    | {"improvement", "improvement_ci_low", "improvement_ci_high", "change"}
    | {"pilot_improvement", "pilot_change"}
)


def chart_bytes(chart: AnyChart, fmt: ChartFormat) -> bytes:
    """A chart rendered offline by vl-convert: PNG at 2x scale, SVG, or vector PDF."""
    if fmt == "svg":
        text = io.StringIO()
        chart.save(text, format="svg")
        return text.getvalue().encode("utf-8")
    buffer = io.BytesIO()
    if fmt == "png":
        chart.save(buffer, format="png", scale_factor=2)
    elif fmt == "pdf":
        chart.save(buffer, format="pdf")
    else:
        raise ValueError(f"Unknown chart format {fmt!r}; use png, svg or pdf.")
    return buffer.getvalue()


def chart_png_svg(chart: AnyChart) -> tuple[bytes, bytes]:
    """PNG (2x) and SVG of one chart from a single Vega run: the SVG rasterised, as vl-convert
    itself does for PNG, which halves the time of a pack with many charts."""
    import vl_convert

    svg = chart_bytes(chart, "svg")
    return bytes(vl_convert.svg_to_png(svg.decode("utf-8"), scale=2)), svg


# -- tables --------------------------------------------------------------------------------------


def _slice_columns(slice_type: str, name: Any) -> tuple[str | None, str | None]:
    if slice_type == "site":
        return str(name), None
    if slice_type == "channel":
        return None, str(name)
    if slice_type == "site_channel" and isinstance(name, tuple | list):
        return str(name[0]), str(name[1])
    return None, None


def _sign(results: Results, metric: str) -> int:
    spec = (results.meta.get("catalog") or {}).get(metric) or {}
    return -1 if spec.get("direction") == "lower" else 1


def _better(sign: int) -> str:
    return "higher" if sign > 0 else "lower"


def _flip(sign: int, ci: Any) -> tuple[float, float]:
    lo, hi = sorted((sign * ci[0], sign * ci[1]))
    return lo, hi


def tables(results: Results) -> dict[str, pd.DataFrame]:
    """The results as flat tables: effects, verdicts, site verdicts, value at scale, retention.

    Every effect table leads with the improvement (positive = better) and its interval, the raw
    change beside it (`change` = `lift` / `estimate`, the metric's own relative change). Lifts and
    intervals stay fractions (0.123 is +12.3%); the XLSX shows them as percentages.
    """
    signs = {m: _sign(results, m) for m in {e.metric for e in results.effects}}
    signs |= {v.metric: _sign(results, v.metric) for v in results.verdicts}
    effects = _effects_table(results, signs)
    verdicts = _verdicts_table(results, signs)
    site_verdicts = _site_verdicts_table(results, signs)
    value = _value_table(results)
    retention = _retention_table(results)
    return {
        "verdicts": verdicts,
        "site_verdicts": site_verdicts,
        "value_at_scale": value,
        "effects": effects,
        "retention": retention,
    }


def _effects_table(results: Results, signs: dict[str, int]) -> pd.DataFrame:
    """Every effect row, the improvement first."""
    return pd.DataFrame(
        [
            {
                "metric": e.metric,
                "better_when": _better(signs[e.metric]),
                "improvement": signs[e.metric] * e.lift,
                "improvement_ci_low": _flip(signs[e.metric], e.lift_ci)[0],
                "improvement_ci_high": _flip(signs[e.metric], e.lift_ci)[1],
                "change": e.lift,
                "comparison": e.comparison,
                "slice_type": e.slice_type,
                "site": _slice_columns(e.slice_type, e.slice)[0],
                "channel": _slice_columns(e.slice_type, e.slice)[1],
                "adjusted": e.adjusted,
                "method": e.method,
                "method_name": fmt.method_name(e.method),
                "n_a": e.n_a,
                "n_b": e.n_b,
                "mean_a": e.mean_a,
                "mean_b": e.mean_b,
                "diff": e.diff,
                "diff_ci_low": e.diff_ci[0],
                "diff_ci_high": e.diff_ci[1],
                "lift": e.lift,
                "lift_ci_low": e.lift_ci[0],
                "lift_ci_high": e.lift_ci[1],
                "p_value": e.p_value,
                "p_adjusted": e.p_adjusted,
            }
            for e in results.effects
        ]
    )


def _verdicts_table(results: Results, signs: dict[str, int]) -> pd.DataFrame:
    """One row per outcome's verdict."""
    return pd.DataFrame(
        [
            {
                "metric": v.metric,
                "label": v.label,
                "verdict": v.verdict,
                "verdict_label": VERDICT_LABELS[v.verdict],
                "better_when": _better(signs[v.metric]),
                "improvement": signs[v.metric] * v.estimate,
                "improvement_ci_low": _flip(signs[v.metric], v.ci)[0],
                "improvement_ci_high": _flip(signs[v.metric], v.ci)[1],
                "change": v.estimate,
                "pilot_improvement": signs[v.metric] * v.pilot_estimate,
                "pilot_change": v.pilot_estimate,
                "estimate": v.estimate,
                "ci_low": v.ci[0],
                "ci_high": v.ci[1],
                "ci_level": v.ci_level,
                "method": v.method,
                "method_name": fmt.method_name(v.method),
                "pilot_verdict": v.pilot_verdict,
                "pilot_estimate": v.pilot_estimate,
                "pilot_ci_low": v.pilot_ci[0],
                "pilot_ci_high": v.pilot_ci[1],
                "retention": v.retention,
                "rows_needed": v.rows_needed,
                "reasons": " ".join(v.reasons),
                "pilot_reasons": " ".join(v.pilot_reasons),
                "assumption": v.assumption,
            }
            for v in results.verdicts
        ]
    )


def _site_verdicts_table(results: Results, signs: dict[str, int]) -> pd.DataFrame:
    """One row per site verdict."""
    return pd.DataFrame(
        [
            {
                "metric": s.metric,
                "site": s.site,
                "verdict": s.verdict,
                "verdict_label": VERDICT_LABELS[s.verdict],
                "better_when": _better(signs.get(s.metric, 1)),
                "improvement": signs.get(s.metric, 1) * s.estimate,
                "improvement_ci_low": _flip(signs.get(s.metric, 1), s.ci)[0],
                "improvement_ci_high": _flip(signs.get(s.metric, 1), s.ci)[1],
                "change": s.estimate,
                "estimate": s.estimate,
                "ci_low": s.ci[0],
                "ci_high": s.ci[1],
                "reasons": " ".join(s.reasons),
            }
            for s in results.site_verdicts
        ]
    )


def _retention_table(results: Results) -> pd.DataFrame:
    """Every retention row."""
    return pd.DataFrame(
        [
            {
                "metric": r.metric,
                "slice_type": r.slice_type,
                "slice": None if r.slice is None else str(r.slice),
                "retention": r.retention,
                "ci_low": r.ci[0],
                "ci_high": r.ci[1],
            }
            for r in results.retention
        ]
    )


def _value_table(results: Results) -> pd.DataFrame:
    """Value a year per priced outcome, whether it counts, and the counted total netted once."""
    total = results.value_total
    counted = set(total.counted) if total is not None else set()
    why = dict(total.not_counted) if total is not None else {}
    rows = [
        {
            "metric": r.metric,
            "counted": r.metric in counted,
            "not_counted_because": why.get(r.metric, ""),
            "currency": r.currency,
            "promised": r.promised,
            "delivered": r.delivered,
            "delivered_ci_low": r.delivered_ci[0],
            "delivered_ci_high": r.delivered_ci[1],
            "ci_level": r.ci_level,
            "run_cost": None,
            "net": None,
        }
        for r in results.value_at_scale
    ]
    if total is not None and total.counted:
        rows.append(
            {
                "metric": "total counted",
                "counted": True,
                "not_counted_because": "",
                "currency": total.currency,
                "promised": total.promised if total.share_of_promise is not None else None,
                "delivered": total.delivered,
                "delivered_ci_low": total.delivered_ci[0],
                "delivered_ci_high": total.delivered_ci[1],
                "ci_level": total.ci_level,
                "run_cost": total.run_cost,
                "net": total.net,
            }
        )
    return pd.DataFrame(rows)


def neutralise(text: str) -> str:
    """Text a spreadsheet will show, never evaluate: formula starters get a leading apostrophe."""
    return "'" + text if text.startswith(FORMULA_START) else text


def _cell(value: Any) -> Any:
    """A value as a spreadsheet cell: numbers stay numbers, non-finite become empty, text inert."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime) and value.tzinfo is not None:
        # Spreadsheets hold no time zones: write the moment in UTC.
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, tuple | list):
        value = ", ".join(map(str, value))
    return neutralise(str(value))


def _safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.astype(object).map(_cell) if not df.empty else df.astype(object)
    out.columns = [neutralise(str(c)) for c in df.columns]
    return out


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 CSV (with a BOM, so Excel reads accents) with formula-like text neutralised."""
    return _safe_frame(df).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def _sheet_title(name: str, taken: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "_", name).strip("'") or "Sheet"
    base = base[:31]
    title, k = base, 2
    while title.lower() in taken:
        suffix = f"_{k}"
        title, k = base[: 31 - len(suffix)] + suffix, k + 1
    taken.add(title.lower())
    return title


def _write_sheet(sheet: Any, df: pd.DataFrame) -> None:
    """One table on a worksheet: bold header, text kept as text, percentages and dates shown
    as such, columns as wide as their content (at most 60), the header frozen."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    safe = _safe_frame(df)
    header = [_ILLEGAL_XML.sub("", str(c)) for c in safe.columns]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    percent = [str(c) in PERCENT_COLUMNS for c in df.columns]
    for row in safe.itertuples(index=False, name=None):
        sheet.append([_ILLEGAL_XML.sub("", v) if isinstance(v, str) else v for v in row])
    for j, column in enumerate(sheet.iter_cols(min_row=2), start=1):
        for cell in column:
            _number_format(cell, percent[j - 1])
    for j, title in enumerate(header, start=1):
        longest = max([len(title)] + [len(str(v)) for v in safe.iloc[:200, j - 1]], default=8)
        sheet.column_dimensions[get_column_letter(j)].width = min(60, max(8, longest + 2))
    sheet.freeze_panes = "A2"


def _number_format(cell: Any, percent: bool) -> None:
    if isinstance(cell.value, str):
        cell.data_type = "s"  # text stays text, even if it looked like a formula
    elif percent and isinstance(cell.value, float):
        cell.number_format = "0.0%"
    elif isinstance(cell.value, datetime):
        cell.number_format = "yyyy-mm-dd"


def to_xlsx_bytes(frames: Mapping[str, pd.DataFrame]) -> bytes:
    """One worksheet per table; numbers are numeric cells, lifts shown as percentages."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    taken: set[str] = set()
    for name, df in frames.items():
        _write_sheet(workbook.create_sheet(_sheet_title(str(name), taken)), df)
    if not workbook.worksheets:
        workbook.create_sheet("Empty")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
