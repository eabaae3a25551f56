"""The value at scale chart: improvement x value per unit x cases a year, per outcome and total."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import altair as alt
import pandas as pd

from analytics.core import fmt
from analytics.core.catalog import Catalog
from analytics.decide import value as value_mod
from analytics.decide.results import Results
from analytics.present.chart_base import (
    INK,
    PHASE_COLOURS,
    WIDTH,
    AnyChart,
    ChartContext,
    _finite,
    _framed,
    _level,
    _number_axis,
    _zero_rule,
    empty_chart,
    metric_from,
    money,
)


def currency_of(catalog: Catalog | None, results: Results | None = None) -> str:
    """The currency of value at scale: the analysis' own, else the catalog's."""
    total = results.value_total if results is not None else None
    if total is not None:
        return total.currency
    return value_mod.currency_of(catalog) if catalog is not None else ""


def _label(results: Results, metric_id: str) -> str:
    return metric_from(results, metric_id).label


def value_title(results: Results, currency: str = "") -> str:
    """The value finding in one line, counted only on outcomes that justify scaling and add up:
    'Production delivers 54% of the value the pilot promised on the same outcomes: ...'."""
    total = results.value_total
    if total is None or total.needs:
        return "Value at scale needs inputs: " + "; ".join(total.needs if total else ["inputs"])
    currency = total.currency or currency
    if not total.counted:
        return "No outcome both justifies scaling and adds to a total: no value is counted yet"
    amount = money(total.delivered, currency)
    ci = fmt.money_interval(total.delivered_ci, currency)
    net = f"; {money(total.net, currency)} net of the running cost" if total.run_cost else ""
    names = ", ".join(_label(results, m) for m in total.counted)
    if total.share_of_promise is not None:
        return (
            f"Production delivers {total.share_of_promise:.0%} of the value the pilot promised "
            f"on the same outcomes ({names}): {amount} of {money(total.promised, currency)} a "
            f"year ({_level(total.ci_level)} interval {ci}){net}"
        )
    return (
        f"{names} {'justifies' if len(total.counted) == 1 else 'justify'} scaling: {amount} a "
        f"year ({_level(total.ci_level)} interval {ci}){net}"
    )


def not_counted_lines(results: Results) -> list[str]:
    """'Revenue per case (EUR): not counted: inconclusive', one line per outcome left out."""
    total = results.value_total
    if total is None:
        return []
    return [f"{_label(results, m)}: not counted: {why}" for m, why in total.not_counted]


TOTAL = "Total counted"


PROMISED, DELIVERED = "Promised (pilot)", "Delivered (production)"


def value_frame(results: Results, catalog: Catalog | None = None) -> pd.DataFrame:
    """One row per counted outcome and their total: promised, delivered and its interval. With
    nothing counted, every priced outcome, each saying why it is not counted."""
    total = results.value_total
    counted = set(total.counted) if total is not None else set()
    why = dict(total.not_counted) if total is not None else {}
    rows = []
    for r in results.value_at_scale:
        if counted and r.metric not in counted:
            continue  # listed under the chart: an inconclusive outcome must not set its scale
        label = metric_from(results, r.metric, catalog).label
        note = "counted" if r.metric in counted else f"not counted: {why.get(r.metric, '')}"
        rows.append(
            {
                "metric": r.metric,
                "label": f"{label} ({note})",
                "promised": _finite(r.promised),
                "delivered": _finite(r.delivered),
                "delivered_low": _finite(min(r.delivered_ci)),
                "delivered_high": _finite(max(r.delivered_ci)),
                "net": None,
            }
        )
    if total is not None and total.counted:
        rows.append(
            {
                "metric": "",
                "label": TOTAL,
                "promised": _finite(total.promised) if total.share_of_promise is not None else None,
                "delivered": _finite(total.delivered),
                "delivered_low": _finite(total.delivered_ci[0]),
                "delivered_high": _finite(total.delivered_ci[1]),
                "net": _finite(total.net) if total.run_cost else None,
            }
        )
    return pd.DataFrame(rows)


def _value_details(results: Results, total: Any) -> list[str]:
    """The lines under the value chart: the interval, what is not counted, the net tick."""
    detail = (
        f"Black line: the delivered value's {_level(total.ci_level)} interval (the verdicts' "
        "level). The total counts only outcomes that justify scaling and are separate benefits."
    )
    left_out = not_counted_lines(results)
    details = [detail]
    if total.counted and left_out:
        details.append("Not counted: " + "; ".join(left_out).replace(": not counted:", ":"))
    if total.run_cost:
        details[0] += (
            f" Black tick: the total net of the running cost "
            f"({money(total.run_cost, total.currency)}), counted once."
        )
    return details


def value_chart(results: Results, catalog: Catalog, ctx: ChartContext) -> AnyChart:
    """Value a year at full scale: promised (pilot) against delivered (production, with its
    interval at the verdicts' level), each outcome saying whether it counts, and the total of
    the counted outcomes, net of the running cost once."""
    total = results.value_total
    if total is None or total.needs:
        needs = "; ".join(total.needs) if total else "inputs"
        return empty_chart(ctx, f"Value at scale needs {needs}.")
    frame = value_frame(results, catalog)
    if frame.empty or frame["delivered"].isna().all():
        return empty_chart(ctx, "No outcome has a value per unit and an estimate yet.")
    currency = total.currency
    ctx = replace(ctx, ci_level=total.ci_level)
    x_title = "Value at full scale, " + (f"{currency} a year" if currency else "a year")
    kinds = [PROMISED, DELIVERED]
    y = alt.Y(
        "label:N",
        title=None,
        sort=frame["label"].tolist(),
        axis=alt.Axis(labelLimit=420, labelFontSize=13),
    )
    y_offset = alt.YOffset("kind:N", sort=kinds, scale=alt.Scale(domain=kinds))
    x = alt.X("value:Q", axis=_number_axis(x_title, tickCount=6))
    colour = alt.Color(
        "kind:N",
        title=None,
        scale=alt.Scale(domain=kinds, range=[PHASE_COLOURS["pilot"], PHASE_COLOURS["production"]]),
    )
    tooltip = [
        alt.Tooltip("label:N", title="Outcome"),
        alt.Tooltip("kind:N", title="Value"),
        alt.Tooltip("value:Q", title="A year", format=",.0f"),
    ]
    folded = alt.Chart().transform_fold(["promised", "delivered"], as_=["key", "value"])
    bars = (
        folded.transform_calculate(kind=f"datum.key == 'promised' ? '{PROMISED}' : '{DELIVERED}'")
        .mark_bar(height=18)
        .encode(y=y, yOffset=y_offset, x=x, color=colour, tooltip=tooltip)
    )
    interval = (
        alt.Chart()
        .transform_calculate(kind=f"'{DELIVERED}'")
        .mark_rule(color=INK, strokeWidth=2.5)
        .encode(y=y, yOffset=y_offset, x=alt.X("delivered_low:Q"), x2="delivered_high:Q")
    )
    layers: list[alt.Chart] = [bars, interval]
    details = _value_details(results, total)
    if total.run_cost:
        net = alt.Chart().transform_filter("datum.net != null")
        layers.append(
            net.transform_calculate(kind=f"'{DELIVERED}'")
            .mark_tick(color=INK, thickness=3, size=26, opacity=1)
            .encode(y=y, yOffset=y_offset, x=alt.X("net:Q"))
        )
    # Tall enough to fill a slide: a few outcomes would otherwise give a thin strip.
    chart = alt.layer(*layers, _zero_rule(), data=frame).properties(
        width=WIDTH + 120, height=max(300, 64 * len(frame))
    )
    return _framed(chart, value_title(results, currency), ctx, details)
