"""Altair charts built from results objects, one theme: the dashboard and the exports draw the same.

Every builder takes aggregates only (a `Results`, or the period means of `analysis.time_series`),
never raw rows, and returns a chart whose title states the finding computed from those numbers,
with the dataset, date range and filters as a subtitle and a footnote giving n, the interval's
level, the method, the version and the data's short hash. An empty input gives a chart that says
"No data for this view" instead of raising.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any, Literal

import altair as alt
import pandas as pd

from analytics.core import fmt
from analytics.core.catalog import Catalog, Metric
from analytics.decide import value as value_mod
from analytics.decide.results import CounterfactualRow, Results
from analytics.decide.verdict import VERDICT_LABELS

AnyChart = alt.Chart | alt.LayerChart | alt.HConcatChart | alt.VConcatChart

# Liberation Sans is installed here and is metric-compatible with Arial, so a browser on a
# machine without it lays out text exactly as the export does.
FONT = "Liberation Sans, Arial, Helvetica, sans-serif"
INK, MUTED, GRID = "#1a1a1a", "#555555", "#e4e4e4"

# Okabe–Ito: distinguishable with every common colour-vision deficiency.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")

PHASE_LABELS: dict[str, str] = {
    "baseline": "Baseline",
    "pilot": "Pilot",
    "production": "Production",
}
PHASE_COLOURS: dict[str, str] = {"baseline": "#7A7A7A", "pilot": "#CC79A7", "production": "#0072B2"}
# "No meaningful effect" (we know it is small) and "inconclusive" (we do not know yet) differ
# in colour and in shape, never only in hue.
VERDICT_COLOURS: dict[str, str] = {
    "scale": "#009E73",
    "fix_first": "#E69F00",
    "do_not_scale": "#D55E00",
    "need_more_data": "#56B4E9",
}
VERDICT_SHAPES: dict[str, str] = {
    "scale": "circle",
    "fix_first": "triangle-up",
    "do_not_scale": "square",
    "need_more_data": "diamond",
}
NO_DATA = "No data for this view"
WIDTH = 620
LIFT_AXIS_FORMAT = "+.0%"


@alt.theme.register("scalegate", enable=True)
def scalegate_theme() -> alt.theme.ThemeConfig:
    """Neutral, colour-blind safe, readable at slide size."""
    return {
        "config": {
            "font": FONT,
            "background": "white",
            "padding": 12,
            "view": {"stroke": None, "continuousWidth": WIDTH, "continuousHeight": 300},
            "title": {
                "fontSize": 18,
                "fontWeight": "bold",
                "color": INK,
                "anchor": "start",
                "subtitleFontSize": 13,
                "subtitleColor": MUTED,
                "subtitlePadding": 6,
                "offset": 14,
            },
            "axis": {
                "labelFontSize": 12,
                "titleFontSize": 13,
                "titleFontWeight": "normal",
                "labelColor": "#333333",
                "titleColor": INK,
                "gridColor": GRID,
                "domainColor": "#999999",
                "tickColor": "#999999",
                "labelLimit": 240,
            },
            "legend": {
                # Named, or a dark page paints legend text light on the chart's white ground.
                "labelColor": INK,
                "titleColor": INK,
                "labelFontSize": 12,
                "titleFontSize": 12,
                "titleFontWeight": "normal",
                "orient": "top",
                "labelLimit": 320,
                "symbolSize": 120,
            },
            "header": {"labelFontSize": 12, "titleFontSize": 13},
            "text": {"fontSize": 12, "color": INK},
            "range": {"category": list(OKABE_ITO)},
        }
    }


# -- formatting: the one formatter (analytics.core.fmt), named here for the chart builders -------

pct, num, money = fmt.pct, fmt.num, fmt.money


def metric_axis_title(metric: Metric) -> str:
    """A metric's label with its unit, unless the label already carries it."""
    unit = metric.unit
    if not unit or unit == "share" or unit.lower() in metric.label.lower():
        return metric.label
    return f"{metric.label} ({unit})"


def _is_share(metric: Metric) -> bool:
    return metric.unit == "share"


_level = fmt.level


def _level_axis(metric: Metric, title: str) -> alt.Axis:
    """A metric's level axis: percentages for shares, plain numbers otherwise."""
    if _is_share(metric):
        return alt.Axis(title=title, format=".0%")
    return _number_axis(title)


def _number_axis(title: str, **kw: Any) -> alt.Axis:
    """A numeric axis whose labels never use SI prefixes for small numbers (0.52, not 520m)."""
    return alt.Axis(title=title, labelExpr=fmt.AXIS_NUMBER, **kw)


def _finite(x: float | None) -> float | None:
    """A float for a chart's data: None where there is no number (Vega skips it)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


# -- context: what every chart says about where its numbers come from ----------------------------


@dataclass(frozen=True, slots=True)
class ChartContext:
    """Where a chart's numbers come from, printed on the chart."""

    dataset: str
    date_range: str
    filters: str
    data_hash: str
    version: str
    ci_level: float
    method: str
    n: int
    alpha: float = 0.05  # the analysis' alpha: 1 − alpha is the level of unadjusted intervals

    @property
    def subtitle(self) -> str:
        return " · ".join(part for part in (self.dataset, self.date_range, self.filters) if part)

    @property
    def footnote_lines(self) -> list[str]:
        """The footnote as lines: what was counted and at which level, then how."""
        first = [f"n = {self.n:,} rows"]
        if math.isfinite(self.ci_level) and 0 < self.ci_level < 1:
            first.append(f"{_level(self.ci_level)} intervals")
        first.append(f"Scalegate {self.version}")
        if self.data_hash:
            first.append(f"data {self.data_hash[:8]}")
        lines = [" · ".join(first)]
        if self.method:
            lines.append(
                f"Method: {fmt.method_name(self.method)} (Methods page, section "
                f"{fmt.method_section(self.method)})"
            )
        return lines

    @property
    def footnote(self) -> str:
        return " · ".join(self.footnote_lines)


def _filters_text(filters: Mapping[str, Any]) -> str:
    def named(values: Sequence[str], what: str) -> str:
        if not values:
            return f"all {what}s"
        if len(values) <= 3:
            return f"{what}{'s' if len(values) > 1 else ''} " + ", ".join(map(str, values))
        return f"{len(values)} {what}s"

    parts = [
        named(filters.get("sites") or [], "site"),
        named(filters.get("channels") or [], "channel"),
    ]
    grain = filters.get("grain")
    if grain:
        parts.append(f"by {grain}")
    return ", ".join(parts)


def _alpha(results: Results) -> float:
    return float(results.meta.get("settings", {}).get("alpha", 0.05))


def context_from(results: Results) -> ChartContext:
    """The context of every chart of one analysis."""
    meta, dataset = results.meta, results.dataset
    lo, hi = dataset.get("date_min"), dataset.get("date_max")
    dates = f"{lo} to {hi}" if lo and hi else "no dates"
    filters = dict(meta.get("filters") or {})
    if filters.get("date_from") or filters.get("date_to"):
        dates = f"{filters.get('date_from') or lo} to {filters.get('date_to') or hi}"
    hashes = [str(h) for h in meta.get("input_hashes") or [] if h]
    data_hash = (
        hashes[0] if len(hashes) == 1 else hashlib.sha256("".join(hashes).encode()).hexdigest()
    )
    levels = [v.ci_level for v in results.verdicts if math.isfinite(v.ci_level)]
    methods = sorted({v.method for v in results.verdicts if v.method})
    return ChartContext(
        dataset=str(meta.get("dataset_name") or "Dataset"),
        date_range=dates,
        filters=_filters_text(filters),
        data_hash=data_hash if hashes else "",
        version=str(meta.get("version", "")),
        ci_level=levels[0] if levels else 1 - _alpha(results),
        method=", ".join(methods),
        n=int(dataset.get("rows") or 0),
        alpha=_alpha(results),
    )


# -- shared pieces -------------------------------------------------------------------------------


def metric_from(results: Results, metric_id: str, catalog: Catalog | None = None) -> Metric:
    """A metric's catalog entry: from the catalog, else from the catalog recorded in results."""
    if catalog is not None and metric_id in catalog.ids:
        return catalog.get(metric_id)
    spec = dict((results.meta.get("catalog") or {}).get(metric_id) or {})
    known = {f.name for f in fields(Metric)}
    spec = {k: v for k, v in spec.items() if k in known}
    spec["guards"] = tuple(spec.get("guards") or ())
    spec.setdefault("id", metric_id)
    if "label" not in spec:
        verdict = results.verdict(metric_id)
        spec["label"] = verdict.label if verdict else metric_id
    return Metric(**spec)


def _framed(
    chart: AnyChart, finding: str, ctx: ChartContext, detail: str | list[str] = ""
) -> alt.VConcatChart:
    """The chart under its finding and subtitle (one or more lines of detail), with the
    footnote beneath it."""
    lines = [detail] if isinstance(detail, str) else list(detail)
    subtitle = [ctx.subtitle] + [line for line in lines if line]
    footnote = alt.Title(
        ctx.footnote_lines,
        orient="bottom",
        anchor="start",
        fontSize=10,
        fontWeight="normal",
        color=MUTED,
        offset=16,
    )
    return alt.vconcat(chart.properties(title=footnote)).properties(
        title=alt.Title(finding, subtitle=subtitle)
    )


def empty_chart(ctx: ChartContext, reason: str = "") -> alt.VConcatChart:
    """A chart that says there is nothing to show, and why."""
    message = alt.Chart(alt.Data(values=[{"message": NO_DATA}])).mark_text(fontSize=16, color=MUTED)
    message = message.encode(text="message:N").properties(width=WIDTH, height=120)
    return _framed(message, NO_DATA, ctx, reason)


def _verdict_colour() -> alt.Scale:
    return alt.Scale(
        domain=list(VERDICT_LABELS.values()), range=[VERDICT_COLOURS[k] for k in VERDICT_LABELS]
    )


def _verdict_shape() -> alt.Scale:
    return alt.Scale(
        domain=list(VERDICT_LABELS.values()), range=[VERDICT_SHAPES[k] for k in VERDICT_LABELS]
    )


def _phase_colour(phases: Iterable[str] = PHASE_LABELS) -> alt.Scale:
    phases = list(phases)
    return alt.Scale(
        domain=[PHASE_LABELS[p] for p in phases], range=[PHASE_COLOURS[p] for p in phases]
    )


def _period_axis() -> alt.X:
    # Periods are calendar dates: read and shown in UTC so no viewer's time zone shifts them.
    return alt.X(
        "period:T",
        title=None,
        scale=alt.Scale(type="utc"),
        axis=alt.Axis(tickCount={"interval": "month", "step": 1}, labelOverlap=True),
    )


def _zero_rule() -> alt.Chart:
    return alt.Chart().mark_rule(color="#333333", strokeWidth=1).encode(x=alt.datum(0))


def _plural(k: int, one: str, many: str) -> str:
    return one if k == 1 else many


def _unique_labels(labels: Sequence[str], ids: Sequence[str]) -> list[str]:
    """Labels as axis categories: two metrics with one label are told apart by their ids."""
    counts = Counter(labels)
    return [f"{lab} ({i})" if counts[lab] > 1 else lab for lab, i in zip(labels, ids, strict=True)]


# -- scorecard -----------------------------------------------------------------------------------


def scorecard_title(results: Results) -> str:
    """'2 of 5 outcomes justify scaling (the pilot alone said 4)'."""
    m = len(results.verdicts)
    k = sum(v.verdict == "scale" for v in results.verdicts)
    p = sum(v.pilot_verdict == "scale" for v in results.verdicts)
    verb = _plural(k, "justifies", "justify")
    return (
        f"{k} of {m} {_plural(m, 'outcome', 'outcomes')} {verb} scaling (the pilot alone said {p})"
    )


def scorecard_frame(results: Results, catalog: Catalog | None = None) -> pd.DataFrame:
    """One row per outcome: adjusted lifts signed so that positive is good, and the verdicts."""
    rows = []
    verdicts = results.verdicts
    labels = _unique_labels([v.label for v in verdicts], [v.metric for v in verdicts])
    for v, label in zip(verdicts, labels, strict=True):
        metric = metric_from(results, v.metric, catalog)
        s = metric.sign
        lo, hi = (
            sorted((s * v.ci[0], s * v.ci[1])) if all(map(math.isfinite, v.ci)) else (None, None)
        )
        p_lo, p_hi = sorted((s * v.pilot_ci[0], s * v.pilot_ci[1]))
        rows.append(
            {
                "metric": v.metric,
                "label": label,
                "verdict": VERDICT_LABELS[v.verdict],
                "pilot_verdict": VERDICT_LABELS[v.pilot_verdict],
                "status": VERDICT_LABELS[v.verdict]
                + (
                    " (the pilot agreed)"
                    if v.pilot_verdict == v.verdict
                    else f" (pilot alone: {VERDICT_LABELS[v.pilot_verdict]})"
                ),
                "lift": _finite(s * v.estimate),
                "change": _finite(v.estimate),
                "lift_low": _finite(lo),
                "lift_high": _finite(hi),
                "pilot_lift": _finite(s * v.pilot_estimate),
                "pilot_low": _finite(p_lo),
                "pilot_high": _finite(p_hi),
                "min_effect": metric.min_effect,
                "direction": f"{metric.direction} is better",
            }
        )
    return pd.DataFrame(rows)


def scorecard_chart(results: Results, catalog: Catalog, ctx: ChartContext) -> AnyChart:
    """Each outcome's adjusted production lift with its interval, the pilot's, the threshold."""
    frame = scorecard_frame(results, catalog)
    if frame.empty:
        return empty_chart(ctx, "No outcome metric has been judged yet.")
    level = results.verdicts[0].ci_level
    ctx = replace(ctx, ci_level=level)
    order = frame["label"].tolist()
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelFontSize=13))
    x_title = "Improvement vs baseline, adjusted (positive = better)"
    x = alt.X("lift:Q", title=x_title, axis=alt.Axis(format=LIFT_AXIS_FORMAT))
    tooltip = [
        alt.Tooltip("label:N", title="Outcome"),
        alt.Tooltip("verdict:N", title="Verdict"),
        alt.Tooltip("lift:Q", title="Production improvement", format="+.1%"),
        alt.Tooltip("lift_low:Q", title="from", format="+.1%"),
        alt.Tooltip("lift_high:Q", title="to", format="+.1%"),
        alt.Tooltip("change:Q", title="Change in the metric", format="+.1%"),
        alt.Tooltip("pilot_lift:Q", title="Pilot improvement", format="+.1%"),
        alt.Tooltip("pilot_verdict:N", title="Pilot alone said"),
        alt.Tooltip("min_effect:Q", title="Worth scaling from", format=".0%"),
    ]
    colour = alt.Color("verdict:N", scale=_verdict_colour(), title="Verdict")
    shape = alt.Shape("verdict:N", scale=_verdict_shape(), title="Verdict")
    base = alt.Chart().encode(y=y)
    interval = base.mark_rule(strokeWidth=3).encode(
        x=alt.X("lift_low:Q", title=x_title), x2="lift_high:Q", color=colour
    )
    threshold = base.mark_tick(color=INK, thickness=2, size=22).encode(
        x=alt.X("min_effect:Q", title=x_title)
    )
    pilot = base.mark_point(
        shape="diamond",
        filled=False,
        size=150,
        strokeWidth=2,
        color=PHASE_COLOURS["pilot"],
        yOffset=-12,
    ).encode(x=alt.X("pilot_lift:Q", title=x_title))
    production = base.mark_point(filled=True, size=170, opacity=1).encode(
        x=x, color=colour, shape=shape, tooltip=tooltip
    )
    status = base.mark_text(align="left", dx=14, fontSize=12, color=INK).encode(
        x=alt.value(WIDTH - 200), text="status:N"
    )
    chart = alt.layer(
        _zero_rule(), interval, threshold, pilot, production, status, data=frame
    ).properties(width=WIDTH - 200, height=alt.Step(46))
    detail = (
        f"Filled marks: production, adjusted, with its {_level(level)} interval; "
        "open diamonds: the pilot; black ticks: the smallest improvement worth scaling."
    )
    return _framed(chart, scorecard_title(results), ctx, detail)


# -- value at scale ------------------------------------------------------------------------------


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
    detail = (
        f"Black line: the delivered value's {_level(total.ci_level)} interval (the verdicts' "
        "level). The total counts only outcomes that justify scaling and are separate benefits."
    )
    left_out = not_counted_lines(results)
    details = [detail]
    if total.counted and left_out:
        details.append("Not counted: " + "; ".join(left_out).replace(": not counted:", ":"))
    if total.run_cost:
        net = alt.Chart().transform_filter("datum.net != null")
        layers.append(
            net.transform_calculate(kind=f"'{DELIVERED}'")
            .mark_tick(color=INK, thickness=3, size=26, opacity=1)
            .encode(y=y, yOffset=y_offset, x=alt.X("net:Q"))
        )
        details[0] += (
            f" Black tick: the total net of the running cost ({money(total.run_cost, currency)}),"
            " counted once."
        )
    # Tall enough to fill a slide: a few outcomes would otherwise give a thin strip.
    chart = alt.layer(*layers, _zero_rule(), data=frame).properties(
        width=WIDTH + 120, height=max(300, 64 * len(frame))
    )
    return _framed(chart, value_title(results, currency), ctx, details)


# -- pilot against production --------------------------------------------------------------------


def pilot_vs_production_title(results: Results, metric_id: str) -> str:
    """'Production keeps 38% of the pilot's improvement on Accuracy', or what stands instead."""
    metric = metric_from(results, metric_id)
    retention = next(
        (r for r in results.retention if r.metric == metric_id and r.slice_type == "overall"), None
    )
    pilot = results.effect(metric_id, "pilot_vs_baseline")
    production = results.effect(metric_id, "production_vs_baseline")
    if retention is not None and math.isfinite(retention.retention):
        r = retention.retention
        if r < 0:
            return f"Production reverses the pilot's improvement on {metric.label} ({r:.0%} kept)"
        return f"Production keeps {r:.0%} of the pilot's improvement on {metric.label}"
    if production is None:
        return f"No production effect on {metric.label} can be estimated yet"
    better = pct(metric.sign * production.lift)
    if pilot is None:
        return f"Production improves {metric.label} by {better} (no pilot to compare)"
    return f"The pilot showed no clear improvement on {metric.label} to keep; production: {better}"


@dataclass(frozen=True, slots=True)
class PhaseEffect:
    """A phase's adjusted effect as every view shows it: the improvement (positive = better)
    with its interval, the raw change beside it, and the interval's level.

    For an outcome these are the verdict's own numbers (Bonferroni level), so the metric has
    one interval on every page and in the pack; for a process metric, the model's at 1 - alpha.
    """

    phase: str
    improvement: float
    low: float
    high: float
    change: float
    level: float
    n: int
    method: str


def phase_effects(results: Results, metric_id: str) -> list[PhaseEffect]:
    """Pilot and production effects of one metric, as `PhaseEffect`s (those that exist)."""
    sign = metric_from(results, metric_id).sign
    verdict = results.verdict(metric_id)
    out = []
    for phase, comparison in (
        ("pilot", "pilot_vs_baseline"),
        ("production", "production_vs_baseline"),
    ):
        e = results.effect(metric_id, comparison)
        if e is None:
            continue
        change, ci, level = e.lift, e.lift_ci, 1 - _alpha(results)
        if verdict is not None:
            change = verdict.pilot_estimate if phase == "pilot" else verdict.estimate
            ci = verdict.pilot_ci if phase == "pilot" else verdict.ci
            level = verdict.ci_level
        lo, hi = sorted((sign * ci[0], sign * ci[1]))
        out.append(PhaseEffect(phase, sign * change, lo, hi, change, level, e.n_a, e.method))
    return out


def pilot_vs_production_chart(results: Results, metric_id: str, ctx: ChartContext) -> AnyChart:
    """The adjusted pilot improvement beside production's, with the verdicts' intervals."""
    effects = phase_effects(results, metric_id)
    if not effects:
        return empty_chart(ctx, f"There is no adjusted effect for {metric_id}.")
    metric = metric_from(results, metric_id)
    frame = pd.DataFrame(
        [
            {
                "phase": PHASE_LABELS[p.phase],
                "lift": _finite(p.improvement),
                "low": _finite(p.low),
                "high": _finite(p.high),
                "change": _finite(p.change),
                "text": pct(p.improvement),
                "n": p.n,
                "method": p.method,
            }
            for p in effects
        ]
    )
    baseline = results.effect(metric_id, "production_vs_baseline") or results.effect(
        metric_id, "pilot_vs_baseline"
    )
    ctx = replace(
        ctx,
        ci_level=effects[-1].level,
        method=", ".join(dict.fromkeys(p.method for p in effects)),
        n=(baseline.n_b if baseline else 0) + sum(p.n for p in effects),
    )
    y_title = f"Improvement in {metric.label} vs baseline (positive = better)"
    x = alt.X("phase:N", title=None, sort=["Pilot", "Production"], axis=alt.Axis(labelAngle=0))
    y = alt.Y("lift:Q", title=y_title, axis=alt.Axis(format=LIFT_AXIS_FORMAT))
    bars = (
        alt.Chart()
        .mark_bar(size=90)
        .encode(
            x=x,
            y=y,
            color=alt.Color("phase:N", scale=_phase_colour(("pilot", "production")), legend=None),
            tooltip=[
                alt.Tooltip("phase:N", title="Phase"),
                alt.Tooltip("lift:Q", title="Improvement", format="+.1%"),
                alt.Tooltip("low:Q", title="from", format="+.1%"),
                alt.Tooltip("high:Q", title="to", format="+.1%"),
                alt.Tooltip("change:Q", title=f"Change in {metric.label}", format="+.1%"),
                alt.Tooltip("n:Q", title="Rows", format=","),
            ],
        )
    )
    ci = (
        alt.Chart()
        .mark_rule(color=INK, strokeWidth=2)
        .encode(x=x, y=alt.Y("low:Q", title=y_title), y2="high:Q")
    )
    labels = (
        alt.Chart()
        .mark_text(dx=52, align="left", fontSize=14, fontWeight="bold")
        .encode(x=x, y="lift:Q", text="text:N")
    )
    threshold = (
        alt.Chart().mark_rule(color=INK, strokeDash=[6, 4]).encode(y=alt.datum(metric.min_effect))
    )
    zero = alt.Chart().mark_rule(color="#333333").encode(y=alt.datum(0))
    chart = alt.layer(zero, threshold, bars, ci, labels, data=frame).properties(
        width=WIDTH - 160, height=300
    )
    verdict = results.verdict(metric_id)
    detail = (
        f"Dashed line: the smallest improvement worth scaling ({pct(metric.min_effect, digits=0)}); "
        f"{metric.direction} {metric.label} is better."
    )
    retention = next(
        (r for r in results.retention if r.metric == metric_id and r.slice_type == "overall"), None
    )
    if retention is not None and all(map(math.isfinite, retention.ci)):
        detail += f" Retention {retention.retention:.0%} ({retention.ci[0]:.0%} to {retention.ci[1]:.0%})."
    if verdict is not None:
        detail += (
            f" Verdict: {VERDICT_LABELS[verdict.verdict]}; the pilot alone said "
            f"{VERDICT_LABELS[verdict.pilot_verdict]}."
        )
    return _framed(chart, pilot_vs_production_title(results, metric_id), ctx, detail)


# -- time ----------------------------------------------------------------------------------------


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
    layers: list[alt.Chart] = []
    if points:
        cf = pd.DataFrame(
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
        band = alt.Chart(cf).mark_area(color=PHASE_COLOURS["baseline"], opacity=0.2)
        layers.append(band.encode(x=x, y=alt.Y("low:Q", title=y_title), y2="high:Q"))
        projection = alt.Chart(cf).mark_line(
            color=PHASE_COLOURS["baseline"], strokeDash=[6, 4], strokeWidth=2
        )
        layers.append(
            projection.encode(
                x=x,
                y=alt.Y("predicted:Q", title=y_title),
                tooltip=[
                    alt.Tooltip("period:T", title="Period", format="%b %Y", formatType="utc"),
                    alt.Tooltip("observed:Q", title="Observed", format=",.4~g"),
                    alt.Tooltip("predicted:Q", title="Without the AI", format=",.4~g"),
                ],
            )
        )
    if not data.empty:
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
        layers.append(
            line.encode(
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
        )
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


# -- sites and channels --------------------------------------------------------------------------


def heatmap_frame(
    results: Results, metric_id: str, measure: Literal["lift", "retention"] = "lift"
) -> pd.DataFrame:
    """One row per site × channel: unadjusted production lift, or that lift over the pilot's."""
    metric = metric_from(results, metric_id)
    pilot = results.effect(metric_id, "pilot_vs_baseline")
    promise = any(r.metric == metric_id and r.slice_type == "overall" for r in results.retention)
    rows = []
    for e in results.effects:
        if (e.metric, e.comparison, e.slice_type, e.adjusted) != (
            metric_id,
            "production_vs_baseline",
            "site_channel",
            False,
        ):
            continue
        site, channel = e.slice if isinstance(e.slice, tuple | list) else (str(e.slice), "all")
        if measure == "retention":
            if pilot is None or not promise or not pilot.lift:
                continue
            value = e.lift / pilot.lift
            good = value - 1
        else:
            value = metric.sign * e.lift  # the improvement: positive = better
            good = value
        rows.append(
            {
                "site": str(site),
                "channel": str(channel),
                "value": _finite(value),
                "good": _finite(good),
                "text": pct(value, signed=measure == "lift", digits=0),
                "change": _finite(e.lift),
                "n": e.n_a + e.n_b,
            }
        )
    return pd.DataFrame(rows)


def site_heatmap(
    results: Results,
    metric_id: str,
    ctx: ChartContext,
    measure: Literal["lift", "retention"] = "lift",
) -> AnyChart:
    """Site × channel heatmap of production's unadjusted lift vs baseline, or of its retention."""
    frame = heatmap_frame(results, metric_id, measure)
    metric = metric_from(results, metric_id)
    if frame.empty or frame["value"].isna().all():
        reason = (
            f"The pilot made no clear promise on {metric.label}, so there is no retention to map."
            if measure == "retention"
            else f"No site × channel has both production and baseline rows of {metric.label}."
        )
        return empty_chart(ctx, reason)
    valid = frame.dropna(subset=["value"])
    worst = valid.loc[valid["good"].idxmin()]
    where = f"{worst['site']} · {worst['channel']}"
    if measure == "retention":
        median = float(valid["value"].median())
        title = (
            f"The median site × channel keeps {median:.0%} of the pilot's improvement on "
            f"{metric.label}; lowest: {where} ({worst['text']})"
        )
        legend = "Share of the pilot's lift kept"
        scale = alt.Scale(scheme="blueorange", domainMid=1, reverse=True)
        number_format = ".0%"
        detail = "Each cell's unadjusted production lift divided by the pilot's adjusted lift."
    else:
        better = int((valid["good"] > 0).sum())
        title = (
            f"Production beats baseline on {metric.label} in {better} of {len(valid)} site × "
            f"channel cells; weakest: {where} ({worst['text']})"
        )
        legend = "Improvement vs baseline (positive = better)"
        scale = alt.Scale(scheme="blueorange", domainMid=0, reverse=True)
        number_format = "+.0%"
        detail = (
            "Unadjusted improvement vs baseline in each cell (Welch; positive = better, "
            f"{metric.direction} {metric.label} is better); blue is better."
        )
    # A domain symmetric about the middle makes a cell's depth linear in its distance from it,
    # even when every cell lies on one side; white text where the fill is deep.
    mid = 1.0 if measure == "retention" else 0.0
    reach = float((frame["value"] - mid).abs().max()) or 1.0
    scale = alt.Scale(
        scheme="blueorange",
        domain=[mid - reach, mid + reach],
        domainMid=mid,
        reverse=scale.reverse,
    )
    frame["dark"] = (frame["value"] - mid).abs() / reach > 0.6
    sites = sorted(frame["site"].unique())
    channels = sorted(frame["channel"].unique())
    ctx = replace(ctx, ci_level=1 - _alpha(results), method="welch", n=int(frame["n"].sum()))
    base = alt.Chart(frame).encode(
        x=alt.X(
            "channel:N", title="Channel", sort=channels, axis=alt.Axis(labelAngle=0, orient="top")
        ),
        y=alt.Y("site:N", title="Site", sort=sites),
    )
    cells = base.mark_rect(stroke="white", strokeWidth=1).encode(
        color=alt.Color(
            "value:Q",
            scale=scale,
            title=legend,
            legend=alt.Legend(format=number_format, orient="right"),
        ),
        tooltip=[
            alt.Tooltip("site:N", title="Site"),
            alt.Tooltip("channel:N", title="Channel"),
            alt.Tooltip("value:Q", title=legend, format=number_format),
            alt.Tooltip("n:Q", title="Rows (production and baseline)", format=","),
        ],
    )
    text = base.mark_text(fontSize=12).encode(
        text="text:N",
        color=alt.condition(alt.datum.dark, alt.value("white"), alt.value(INK)),
    )
    chart = alt.layer(cells, text).properties(
        width=min(WIDTH, 110 * len(channels)), height=alt.Step(28)
    )
    return _framed(chart, title, ctx, detail)


def site_verdict_title(results: Results, metric_id: str) -> str:
    """'Minutes saved: 4 of 12 sites are ready to scale; 3 need fixing first, 5 are inconclusive'."""
    metric = metric_from(results, metric_id)
    verdicts = [s for s in results.site_verdicts if s.metric == metric_id]
    count = {k: sum(s.verdict == k for s in verdicts) for k in VERDICT_LABELS}
    n, k = len(verdicts), count["scale"]
    head = f"{metric.label}: {k} of {n} {_plural(n, 'site', 'sites')} {_plural(k, 'is', 'are')} ready to scale"
    parts = []
    if count["fix_first"]:
        parts.append(
            f"{count['fix_first']} {_plural(count['fix_first'], 'needs', 'need')} fixing first"
        )
    if count["do_not_scale"]:
        c = count["do_not_scale"]
        parts.append(f"{c} {_plural(c, 'shows', 'show')} no meaningful effect")
    if count["need_more_data"]:
        c = count["need_more_data"]
        parts.append(f"{c} {_plural(c, 'is', 'are')} inconclusive")
    return head + ("; " + ", ".join(parts) if parts else "")


def site_verdict_chart(results: Results, metric_id: str, ctx: ChartContext) -> AnyChart:
    """Each site's adjusted production lift with its interval, coloured by the site's verdict."""
    verdicts = [s for s in results.site_verdicts if s.metric == metric_id]
    if not verdicts:
        return empty_chart(ctx, f"No site has a production effect on {metric_id} yet.")
    metric = metric_from(results, metric_id)
    frame = pd.DataFrame(
        [
            {
                "site": s.site,
                "verdict": VERDICT_LABELS[s.verdict],
                "lift": _finite(metric.sign * s.estimate),
                "low": _finite(min(metric.sign * s.ci[0], metric.sign * s.ci[1])),
                "high": _finite(max(metric.sign * s.ci[0], metric.sign * s.ci[1])),
                "good": _finite(metric.sign * s.estimate),
                "change": _finite(s.estimate),
                "text": pct(metric.sign * s.estimate),
            }
            for s in verdicts
        ]
    )
    order = frame.sort_values("good", ascending=False, na_position="last")["site"].tolist()
    site_rows = [
        e
        for e in results.effects
        if e.metric == metric_id and e.slice_type == "site" and e.adjusted
    ]
    methods = ", ".join(dict.fromkeys(e.method for e in site_rows)) or ctx.method
    ctx = replace(ctx, ci_level=1 - _alpha(results), method=methods)
    x_title = "Improvement vs its own counterfactual (positive = better)"
    y = alt.Y("site:N", sort=order, title=None)
    colour = alt.Color("verdict:N", scale=_verdict_colour(), title="Site verdict")
    shape = alt.Shape("verdict:N", scale=_verdict_shape(), title="Site verdict")
    base = alt.Chart().encode(y=y)
    interval = base.mark_rule(strokeWidth=3).encode(
        x=alt.X("low:Q", title=x_title, axis=alt.Axis(format=LIFT_AXIS_FORMAT)),
        x2="high:Q",
        color=colour,
    )
    point = base.mark_point(filled=True, size=150, opacity=1).encode(
        x=alt.X("lift:Q", title=x_title),
        color=colour,
        shape=shape,
        tooltip=[
            alt.Tooltip("site:N", title="Site"),
            alt.Tooltip("verdict:N", title="Verdict"),
            alt.Tooltip("lift:Q", title="Improvement", format="+.1%"),
            alt.Tooltip("low:Q", title="from", format="+.1%"),
            alt.Tooltip("high:Q", title="to", format="+.1%"),
            alt.Tooltip("change:Q", title=f"Change in {metric.label}", format="+.1%"),
        ],
    )
    threshold = (
        alt.Chart().mark_rule(color=INK, strokeDash=[6, 4]).encode(x=alt.datum(metric.min_effect))
    )
    chart = alt.layer(_zero_rule(), threshold, interval, point, data=frame).properties(
        width=WIDTH - 80, height=alt.Step(30)
    )
    detail = (
        "Each site against its own counterfactual in one model (production × site), Holm across "
        f"sites; dashed: the smallest improvement worth scaling ({pct(metric.min_effect, digits=0)})."
    )
    return _framed(chart, site_verdict_title(results, metric_id), ctx, detail)
