"""Charts over time: the production trend and the baseline's forecast (the counterfactual)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import altair as alt
import pandas as pd

from analytics.core.catalog import Metric
from analytics.decide.results import CounterfactualRow
from analytics.present.chart_base import (
    PHASE_COLOURS,
    PHASE_LABELS,
    WIDTH,
    AnyChart,
    ChartContext,
    _finite,
    _framed,
    _is_share,
    _level_axis,
    _period_axis,
    _phase_colour,
    empty_chart,
    metric_axis_title,
    num,
    pct,
)


def _phase_means(series: pd.DataFrame) -> dict[str, float]:
    """Each phase's mean over its periods, weighted by the periods' weight totals (rows when
    the series carries no weights)."""
    weight = series["w"] if "w" in series else series["n"]
    pooled = (
        series.assign(total=weight * series["mean"], weight=weight)
        .groupby("phase")[["total", "weight"]]
        .sum()
    )
    return {
        str(p): float(r["total"] / r["weight"]) for p, r in pooled.iterrows() if r["weight"] > 0
    }


def _level_text(x: float, metric: Metric) -> str:
    if _is_share(metric):
        return pct(x, signed=False)
    unit = f" {metric.unit}" if metric.unit and metric.unit != "share" else ""
    return f"{num(x)}{unit}"


def trend_title(series: pd.DataFrame, metric: Metric) -> str:
    """'Cost per case (EUR) averages 35.2 EUR in production against 41.0 EUR before the AI'."""
    means = _phase_means(series)
    if "production" in means and "baseline" in means:
        return (
            f"{metric.label} averages {_level_text(means['production'], metric)} in production "
            f"against {_level_text(means['baseline'], metric)} before the AI"
        )
    phase, value = next(iter(means.items()))
    return f"{metric.label} averages {_level_text(value, metric)} in {phase}"


def _series_for(series: pd.DataFrame, metric: Metric) -> pd.DataFrame:
    if series is None or series.empty:
        return pd.DataFrame(columns=["phase", "period", "n", "mean", "se"])
    if "metric" in series.columns:
        series = series[series["metric"] == metric.id]
    series = series[series["n"] > 0]
    return (
        series.dropna(subset=["period", "mean"]) if "period" in series.columns else series.iloc[:0]
    )


def trend_chart(series: pd.DataFrame, metric: Metric, ctx: ChartContext) -> AnyChart:
    """Period means by phase over time, with a 95% band (normal, ±1.96 standard errors)."""
    data = _series_for(series, metric)
    if data.empty:
        return empty_chart(ctx, f"{metric.label} has no dated values under these filters.")
    z = 1.959963984540054
    frame = pd.DataFrame(
        {
            "phase": data["phase"].map(PHASE_LABELS).to_numpy(),
            "period": pd.to_datetime(data["period"]).dt.strftime("%Y-%m-%d").to_numpy(),
            "mean": data["mean"].astype(float).to_numpy(),
            "low": (data["mean"] - z * data["se"]).astype(float).to_numpy(),
            "high": (data["mean"] + z * data["se"]).astype(float).to_numpy(),
            "n": data["n"].astype(int).to_numpy(),
        }
    )
    ctx = replace(ctx, ci_level=0.95, method="period means, normal band", n=int(frame["n"].sum()))
    phases = [p for p in PHASE_LABELS if PHASE_LABELS[p] in set(frame["phase"])]
    colour = alt.Color("phase:N", scale=_phase_colour(phases), title="Phase")
    x = _period_axis()
    y_title = metric_axis_title(metric)
    y = alt.Y(
        "mean:Q", title=y_title, axis=_level_axis(metric, y_title), scale=alt.Scale(zero=False)
    )
    band = (
        alt.Chart()
        .mark_area(opacity=0.18)
        .encode(
            x=x,
            y=alt.Y("low:Q", title=y_title),
            y2="high:Q",
            fill=alt.Fill("phase:N", scale=_phase_colour(phases), legend=None),
        )
    )
    line = (
        alt.Chart()
        .mark_line(point=True, strokeWidth=2.5)
        .encode(
            x=x,
            y=y,
            color=colour,
            tooltip=[
                alt.Tooltip("phase:N", title="Phase"),
                alt.Tooltip("period:T", title="Period", format="%b %Y", formatType="utc"),
                alt.Tooltip("mean:Q", title="Mean", format=",.4~g"),
                alt.Tooltip("n:Q", title="Rows", format=","),
            ],
        )
    )
    chart = alt.layer(band, line, data=frame).properties(width=WIDTH, height=300)
    chart = chart.resolve_scale(fill="independent")  # else the bands' null legend hides the lines'
    detail = f"Shaded: 95% band of each period's mean; {metric.direction} is better."
    return _framed(chart, trend_title(data, metric), ctx, detail)


def baseline_title(counterfactual: CounterfactualRow, metric: Metric) -> str:
    """'Cost per case (EUR) ran 14% below its projection without the AI (better)'."""
    points = [p for p in counterfactual.points if math.isfinite(p[1]) and math.isfinite(p[2])]
    observed = sum(p[1] for p in points)
    predicted = sum(p[2] for p in points)
    if not points or predicted == 0:
        return f"{metric.label} against its projection without the AI"
    gap = observed / predicted - 1
    if abs(gap) < 0.0005:
        return f"{metric.label} ran level with its projection without the AI"
    side = "above" if gap > 0 else "below"
    lo, hi = counterfactual.ci
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo <= 0 <= hi:
        # The cumulative effect's interval holds 0: the gap is within what chance would give.
        return (
            f"{metric.label} ran {abs(gap):.0%} {side} its projection without the AI, "
            "within the projection's uncertainty"
        )
    good = "better" if metric.sign * gap > 0 else "worse"
    return f"{metric.label} ran {abs(gap):.0%} {side} its projection without the AI ({good})"


def _projection_frame(points: Sequence[tuple[str, float, float, float, float]]) -> pd.DataFrame:
    """The forecast's points as a frame: period, observed, predicted and its band."""
    return pd.DataFrame(
        [
            {
                "period": p[0],
                "observed": _finite(p[1]),
                "predicted": _finite(p[2]),
                "low": _finite(p[3]),
                "high": _finite(p[4]),
            }
            for p in points
        ]
    )


def _projection_layers(cf: pd.DataFrame, x: alt.X, y_title: str) -> list[alt.Chart]:
    """The projection without the AI: its band and its dashed line."""
    band = alt.Chart(cf).mark_area(color=PHASE_COLOURS["baseline"], opacity=0.2)
    projection = alt.Chart(cf).mark_line(
        color=PHASE_COLOURS["baseline"], strokeDash=[6, 4], strokeWidth=2
    )
    tooltip = [
        alt.Tooltip("period:T", title="Period", format="%b %Y", formatType="utc"),
        alt.Tooltip("observed:Q", title="Observed", format=",.4~g"),
        alt.Tooltip("predicted:Q", title="Without the AI", format=",.4~g"),
    ]
    return [
        band.encode(x=x, y=alt.Y("low:Q", title=y_title), y2="high:Q"),
        projection.encode(x=x, y=alt.Y("predicted:Q", title=y_title), tooltip=tooltip),
    ]


def _phase_lines(data: pd.DataFrame, metric: Metric, x: alt.X, y_title: str) -> alt.Chart:
    """The observed period means, one line per phase."""
    frame = pd.DataFrame(
        {
            "phase": data["phase"].map(PHASE_LABELS).to_numpy(),
            "period": pd.to_datetime(data["period"]).dt.strftime("%Y-%m-%d").to_numpy(),
            "mean": data["mean"].astype(float).to_numpy(),
            "n": data["n"].astype(int).to_numpy(),
        }
    )
    phases = [p for p in PHASE_LABELS if PHASE_LABELS[p] in set(frame["phase"])]
    line = alt.Chart(frame).mark_line(point=True, strokeWidth=2.5)
    return line.encode(
        x=x,
        y=alt.Y(
            "mean:Q",
            title=y_title,
            axis=_level_axis(metric, y_title),
            scale=alt.Scale(zero=False),
        ),
        color=alt.Color("phase:N", scale=_phase_colour(phases), title="Phase"),
        tooltip=[
            alt.Tooltip("phase:N", title="Phase"),
            alt.Tooltip("period:T", title="Period", format="%b %Y", formatType="utc"),
            alt.Tooltip("mean:Q", title="Mean", format=",.4~g"),
            alt.Tooltip("n:Q", title="Rows", format=","),
        ],
    )


def baseline_chart(
    series: pd.DataFrame,
    counterfactual_row: CounterfactualRow | None,
    metric: Metric,
    ctx: ChartContext,
) -> AnyChart:
    """The outcome over time against the baseline and the projection without the AI."""
    data = _series_for(series, metric)
    points = counterfactual_row.points if counterfactual_row is not None else ()
    if data.empty and not points:
        return empty_chart(ctx, f"{metric.label} has no baseline periods to project from.")
    x = _period_axis()
    y_title = metric_axis_title(metric)
    cf = _projection_frame(points)
    layers = _projection_layers(cf, x, y_title) if points else []
    if not data.empty:
        layers.append(_phase_lines(data, metric, x, y_title))
    elif points:
        observed = alt.Chart(cf).mark_line(
            point=True, color=PHASE_COLOURS["production"], strokeWidth=2.5
        )
        layers.append(observed.encode(x=x, y=alt.Y("observed:Q", title=y_title)))
    chart = alt.layer(*layers).properties(width=WIDTH, height=300)
    if counterfactual_row is None:
        return _framed(chart, f"{metric.label} over time: no projection without the AI yet", ctx)
    ctx = replace(ctx, ci_level=1 - ctx.alpha, method=counterfactual_row.method)
    detail = (
        f"Dashed grey: the projection without the AI from {counterfactual_row.baseline_periods} "
        "baseline periods, with its band."
    )
    return _framed(chart, baseline_title(counterfactual_row, metric), ctx, detail)
