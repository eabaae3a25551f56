"""Charts of the watch since the decision: an outcome's per-period production effect with its
band against the decision-time effect and the threshold, and a guardrail's production mean
against its limit. Built from WatchReport objects, one row per period; titles state the finding.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from analytics.decide.watch_report import BAND_LEVEL, GuardrailWatch, OutcomeWatch
from analytics.present.chart_base import LIFT_AXIS_FORMAT, PHASE_COLOURS, VERDICT_COLOURS, WIDTH

ALERT_COLOUR = VERDICT_COLOURS["do_not_scale"]


def _frame(points) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "period": [p.period.isoformat() for p in points],
            "value": [p.value for p in points],
            "low": [p.low for p in points],
            "high": [p.high for p in points],
            "when": ["after the decision" if p.after_decision else "before" for p in points],
        }
    )


def outcome_title(watch: OutcomeWatch, alerted: bool) -> str:
    """'Cost per case (EUR): the effect holds since the decision' (or nothing to watch yet)."""
    if not alerted and not any(p.after_decision for p in watch.points):
        return f"{watch.label}: nothing to watch yet, no period since the decision"
    state = "has slipped" if alerted else "holds"
    return f"{watch.label}: the effect {state} since the decision"


def outcome_subtitle(watch: OutcomeWatch) -> str:
    """How the effect is known, and what the band is."""
    how = (
        f"Causal: from {watch.comparison_sites} comparison sites without the AI."
        if watch.mode == "causal"
        else "Not causal: no comparison site is left, so this is the level against the decision's."
    )
    return f"{how} Shaded: pointwise {BAND_LEVEL:.0%} band of each period's estimate."


def outcome_watch_chart(watch: OutcomeWatch, *, alerted: bool = False) -> alt.LayerChart:
    """Per-period improvement (positive is better) with its pointwise band; rules at the
    decision-time effect and at the threshold."""
    frame = _frame(watch.points)
    x = alt.X("period:T", title=None, axis=alt.Axis(format="%d %b %Y"))
    label = "Improvement" if watch.mode == "causal" else "Change from the decision-time level"
    y = alt.Y(
        "value:Q", title=f"{label} (better is positive)", axis=alt.Axis(format=LIFT_AXIS_FORMAT)
    )
    colour = alt.Color(
        "when:N",
        scale=alt.Scale(
            domain=["before", "after the decision"],
            range=[PHASE_COLOURS["baseline"], PHASE_COLOURS["production"]],
        ),
        title=None,
    )
    band = alt.Chart().mark_area(opacity=0.18).encode(x=x, y="low:Q", y2="high:Q", color=colour)
    line = (
        alt.Chart()
        .mark_line(point=True)
        .encode(
            x=x,
            y=y,
            color=colour,
            tooltip=[
                alt.Tooltip("period:T", title="Period", format="%d %b %Y"),
                alt.Tooltip("value:Q", title=label, format="+.1%"),
                alt.Tooltip("low:Q", title=f"{BAND_LEVEL:.0%} low", format="+.1%"),
                alt.Tooltip("high:Q", title=f"{BAND_LEVEL:.0%} high", format="+.1%"),
            ],
        )
    )
    rules = pd.DataFrame(
        {
            "y": [watch.reference, watch.min_effect] if watch.mode == "causal" else [0.0],
            "rule": ["decision-time effect", "threshold"]
            if watch.mode == "causal"
            else ["decision-time level"],
        }
    )
    rule = (
        alt.Chart(rules)
        .mark_rule(strokeDash=[6, 4])
        .encode(
            y="y:Q",
            stroke=alt.Stroke(
                "rule:N",
                scale=alt.Scale(range=[VERDICT_COLOURS["scale"], ALERT_COLOUR]),
                title=None,
            ),
        )
    )
    chart = alt.layer(band, line, data=frame).properties(width=WIDTH, height=260)
    return alt.layer(chart, rule).properties(
        title=alt.TitleParams(outcome_title(watch, alerted), subtitle=outcome_subtitle(watch))
    )


def guardrail_title(watch: GuardrailWatch, alerted: bool) -> str:
    side = "at least" if watch.direction == "higher" else "at most"
    state = "is breached" if alerted else "holds"
    if not alerted and not any(p.after_decision for p in watch.points):
        state = "has nothing to watch yet"
    return f"Guardrail {watch.label} {state}: production must stay {side} {watch.limit:.4g}"


def guardrail_watch_chart(watch: GuardrailWatch, *, alerted: bool = False) -> alt.LayerChart:
    """Production mean per period with its band, against the guardrail's limit."""
    frame = _frame(watch.points)
    x = alt.X("period:T", title=None, axis=alt.Axis(format="%d %b %Y"))
    band = (
        alt.Chart()
        .mark_area(opacity=0.18, color=PHASE_COLOURS["production"])
        .encode(x=x, y=alt.Y("low:Q", scale=alt.Scale(zero=False), title=watch.label), y2="high:Q")
    )
    line = (
        alt.Chart()
        .mark_line(point=True, color=PHASE_COLOURS["production"])
        .encode(
            x=x,
            y="value:Q",
            tooltip=[alt.Tooltip("value:Q", title="Production mean", format=",.4~g")],
        )
    )
    limit = (
        alt.Chart(pd.DataFrame({"y": [watch.limit]}))
        .mark_rule(strokeDash=[6, 4], color=ALERT_COLOUR)
        .encode(y="y:Q")
    )
    return alt.layer(band, line, limit, data=frame).properties(
        width=WIDTH,
        height=200,
        title=alt.TitleParams(
            guardrail_title(watch, alerted),
            subtitle=f"Shaded: pointwise {BAND_LEVEL:.0%} band; dashed: the limit.",
        ),
    )
