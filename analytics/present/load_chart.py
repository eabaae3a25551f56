"""The load curve chart (issue 14, item 3): a metric's mean per site-period against that
site-period's volume (log scale), one colour per phase, titled with what the load curve shows
and the volume multiple observed, so a reader sees how little of the 10× range the data covers."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from analytics.decide.load_report import ASKED, asked_answer, slope_sentence
from analytics.present.chart_base import (
    PHASE_LABELS,
    WIDTH,
    ChartContext,
    _framed,
    _phase_colour,
    empty_chart,
    metric_axis_title,
    metric_from,
)


def load_frame(found: Any, metric_id: str) -> pd.DataFrame:
    """One row per (site, period, phase): volume and the metric's mean (what the chart draws)."""
    section = getattr(found, "load_curve", None)
    row = next((r for r in section.rows if r.metric == metric_id), None) if section else None
    columns = ["site", "period", "phase", "volume", "mean"]
    if row is None:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(list(row.curve.points), columns=columns)
    return frame.assign(phase=frame["phase"].map(PHASE_LABELS))


def load_curve_chart(found: Any, metric_id: str, ctx: ChartContext) -> alt.VConcatChart:
    """The metric against volume per site-period; empty (saying why) without a load curve."""
    frame = load_frame(found, metric_id)
    if frame.empty:
        return empty_chart(ctx, "No dated production data: no load curve.")
    section = found.load_curve
    row = next(r for r in section.rows if r.metric == metric_id)
    metric = metric_from(found, metric_id)
    volume = "weight total" if section.weighted else "rows"
    chart = (
        alt.Chart(frame)
        .mark_circle(size=45, opacity=0.7)
        .encode(
            x=alt.X(
                "volume:Q",
                title=f"Volume per site and period ({volume})",
                scale=alt.Scale(type="log"),
            ),
            y=alt.Y("mean:Q", title=metric_axis_title(metric), scale=alt.Scale(zero=False)),
            color=alt.Color("phase:N", title="Phase", scale=_phase_colour()),
            tooltip=[
                "site:N",
                "period:N",
                "phase:N",
                alt.Tooltip("volume:Q", format=",.0f"),
                alt.Tooltip("mean:Q", format=".4g"),
            ],
        )  # fmt: skip
        .properties(width=WIDTH, height=260)
    )
    return _framed(chart, asked_answer(section, ASKED), ctx, slope_sentence(row))
