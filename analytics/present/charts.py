"""Altair charts built from results objects, one theme: the dashboard and the exports draw the same.

Every builder takes aggregates only (a `Results`, or the period means of `analysis.time_series`),
never raw rows, and returns a chart whose title states the finding computed from those numbers,
with the dataset, date range and filters as a subtitle and a footnote giving n, the interval's
level, the method, the version and the data's short hash. An empty input gives a chart that says
"No data for this view" instead of raising.

The charts live by subject: chart_base (theme, colours, context, frame), charts_verdict
(scorecard, pilot against production), charts_value (value at scale), charts_time (trend,
baseline forecast), charts_sites (site heatmap, site verdicts). This module is their index: the
pages and the pack call `charts.<builder>`.
"""

from __future__ import annotations

from analytics.present.chart_base import (
    FONT,
    INK,
    LIFT_AXIS_FORMAT,
    NO_DATA,
    OKABE_ITO,
    PHASE_COLOURS,
    PHASE_LABELS,
    VERDICT_COLOURS,
    VERDICT_SHAPES,
    WIDTH,
    AnyChart,
    ChartContext,
    context_from,
    empty_chart,
    metric_axis_title,
    metric_from,
    money,
    num,
    pct,
    scalegate_theme,
)
from analytics.present.charts_sites import (
    heatmap_frame,
    site_heatmap,
    site_verdict_chart,
    site_verdict_title,
)
from analytics.present.charts_time import baseline_chart, baseline_title, trend_chart, trend_title
from analytics.present.charts_value import (
    TOTAL,
    currency_of,
    not_counted_lines,
    value_chart,
    value_frame,
    value_title,
)
from analytics.present.charts_verdict import (
    PhaseEffect,
    phase_effects,
    pilot_vs_production_chart,
    pilot_vs_production_title,
    scorecard_chart,
    scorecard_frame,
    scorecard_title,
)

__all__ = [
    "FONT", "INK", "LIFT_AXIS_FORMAT", "NO_DATA", "OKABE_ITO", "PHASE_COLOURS", "PHASE_LABELS",
    "TOTAL", "VERDICT_COLOURS", "VERDICT_SHAPES", "WIDTH", "AnyChart", "ChartContext",
    "PhaseEffect", "baseline_chart", "baseline_title", "context_from", "currency_of",
    "empty_chart", "heatmap_frame", "metric_axis_title", "metric_from", "money",
    "not_counted_lines", "num", "pct", "phase_effects", "pilot_vs_production_chart",
    "pilot_vs_production_title", "scalegate_theme", "scorecard_chart", "scorecard_frame",
    "scorecard_title", "site_heatmap", "site_verdict_chart", "site_verdict_title",
    "trend_chart", "trend_title", "value_chart", "value_frame", "value_title",
]  # fmt: skip
