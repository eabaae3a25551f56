"""The pilot-to-production gap as a waterfall (issue 14): from the pilot's effect, one step per
factor in the fixed order time → sites → channels → load, to production's effect over the
conditions comparable with the pilot; each step's whisker spans its range over all 24 orders.
Everything in improvement terms (positive = better)."""

from __future__ import annotations

import math
import textwrap
from dataclasses import replace
from typing import Any

import altair as alt
import pandas as pd

from analytics.core import fmt
from analytics.engine.gap import LABELS
from analytics.present.chart_base import (
    INK,
    PHASE_COLOURS,
    WIDTH,
    AnyChart,
    ChartContext,
    _framed,
    empty_chart,
    metric_axis_title,
    metric_from,
)

STEP_COLOURS = {"gain": "#2e7d32", "loss": "#c62828"}
SHORT = {"time": "Time at pilot site", "sites": "Other sites", "channels": "New channels",
         "load": "Peak load"}  # fmt: skip


def _row(results: Any, metric_id: str) -> Any:
    return next((g for g in getattr(results, "gaps", ()) if g.metric == metric_id), None)


def waterfall_frame(row: Any, sign: int) -> pd.DataFrame:
    """One bar per mark: the pilot, each factor's step (start, end, order range), production."""
    d = row.gap
    ranges = {s.factor: (s.low, s.high) for s in d.shares}
    bars = [{"label": "Pilot", "start": 0.0, "end": sign * d.pilot, "kind": "pilot"}]
    level = sign * d.pilot
    for factor, step in d.waterfall:
        lo, hi = sorted(sign * x for x in ranges[factor])
        bars.append(
            {
                "label": SHORT[factor],
                "start": level,
                "end": level + sign * step,
                "kind": "gain" if sign * step >= 0 else "loss",
                "range_low": level + lo,
                "range_high": level + hi,
            }
        )
        level += sign * step
    bars.append({"label": "Production", "start": 0.0, "end": level,
                 "kind": "production"})  # fmt: skip
    frame = pd.DataFrame(bars)
    frame["step"] = frame["end"] - frame["start"]
    return frame


def share_lines(row: Any, sign: int) -> list[str]:
    """Each factor's Shapley share with its interval, in words (improvement terms)."""
    d = row.gap
    out = []
    for s in d.shares:
        if not math.isfinite(s.se) or s.se == 0:
            out.append(f"{LABELS[s.factor].capitalize()}: 0 (nothing to move)")
            continue
        lo, hi = sorted(sign * x for x in s.ci)
        out.append(
            f"{LABELS[s.factor].capitalize()}: {sign * s.value:+.3g} "
            f"({fmt.level(d.level)} interval {lo:+.3g} to {hi:+.3g})"
        )
    return out


def _wrapped(lines: list[str], width: int = 110) -> list[str]:
    return [part for line in lines for part in textwrap.wrap(line, width)]


def waterfall_chart(
    results: Any, metric_id: str, ctx: ChartContext, *, extra: list[str] | None = None
) -> AnyChart:
    """From the pilot's effect to production's, one bar per factor (module docstring); ``extra``
    lines (the representativeness sentence, in the pack) go under the subtitle."""
    row = _row(results, metric_id)
    if row is None:
        return empty_chart(ctx, "No decomposition of this outcome: the pilot or production "
                           "has no judged period.")  # fmt: skip
    metric = metric_from(results, metric_id)
    frame = waterfall_frame(row, metric.sign)
    ctx = replace(ctx, ci_level=row.gap.level, method="")
    order = frame["label"].tolist()
    x = alt.X("label:N", sort=order, title=None, axis=alt.Axis(labelAngle=0, labelLimit=150))
    colour = alt.Color(
        "kind:N",
        scale=alt.Scale(
            domain=["pilot", "gain", "loss", "production"],
            range=[
                PHASE_COLOURS["pilot"],
                STEP_COLOURS["gain"],
                STEP_COLOURS["loss"],
                PHASE_COLOURS["production"],
            ],
        ),  # fmt: skip
        legend=None,
    )
    bars = (
        alt.Chart()
        .mark_bar(size=48)
        .encode(
            x=x,
            y=alt.Y("start:Q", title=f"Improvement in {metric_axis_title(metric)}"),
            y2="end:Q",
            color=colour,
            tooltip=[
                alt.Tooltip("label:N", title="Step"),
                alt.Tooltip("step:Q", title="Change", format="+,.4g"),
                alt.Tooltip("range_low:Q", title="Lowest over orders (level)", format=",.4g"),
                alt.Tooltip("range_high:Q", title="Highest over orders (level)", format=",.4g"),
            ],
        )
    )
    whiskers = (
        alt.Chart()
        .mark_rule(color=INK, strokeWidth=2)
        .encode(x=x, y="range_low:Q", y2="range_high:Q")
    )
    zero = alt.Chart().mark_rule(color="#333333").encode(y=alt.datum(0))
    chart = alt.layer(zero, bars, whiskers, data=frame).properties(width=WIDTH - 60, height=280)
    detail = [
        "Steps in the fixed order time, sites, channels, load; the black whisker is the "
        "range of each step over all 24 orders of the factors.",
        "Shapley shares (each factor's average step over the orders, intervals from "
        "site-period influence): " + "; ".join(share_lines(row, metric.sign)) + ".",
    ]
    finding = textwrap.wrap(row.gap.sentence, 90)
    return _framed(chart, finding, ctx, _wrapped(detail + list(extra or [])))  # type: ignore[arg-type]
