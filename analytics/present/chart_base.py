"""What every chart shares: the theme, the colours and shapes, the chart context (title, subtitle,
footnote with n, level, method, version and hash), the frame around a chart and the empty chart."""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import altair as alt

from analytics.core import fmt
from analytics.core.catalog import Catalog, Metric
from analytics.decide.results import Results
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
