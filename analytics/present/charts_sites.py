"""Charts by site: the site x channel heatmap and the per-site verdicts."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

import altair as alt
import pandas as pd

from analytics.core.catalog import Metric
from analytics.decide.results import Results, SiteVerdict
from analytics.decide.verdict import VERDICT_LABELS
from analytics.present.chart_base import (
    INK,
    LIFT_AXIS_FORMAT,
    WIDTH,
    AnyChart,
    ChartContext,
    _alpha,
    _finite,
    _framed,
    _plural,
    _verdict_colour,
    _verdict_shape,
    _zero_rule,
    empty_chart,
    metric_from,
    pct,
)


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


def _heatmap_words(frame: pd.DataFrame, metric: Metric, measure: str) -> tuple[str, str, str, str]:
    """The heatmap's title (the finding), legend, number format and detail line."""
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
        number_format = ".0%"
        detail = "Each cell's unadjusted production lift divided by the pilot's adjusted lift."
    else:
        better = int((valid["good"] > 0).sum())
        title = (
            f"Production beats baseline on {metric.label} in {better} of {len(valid)} site × "
            f"channel cells; weakest: {where} ({worst['text']})"
        )
        legend = "Improvement vs baseline (positive = better)"
        number_format = "+.0%"
        detail = (
            "Unadjusted improvement vs baseline in each cell (Welch; positive = better, "
            f"{metric.direction} {metric.label} is better); blue is better."
        )
    return title, legend, number_format, detail


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
    title, legend, number_format, detail = _heatmap_words(frame, metric, measure)
    # A domain symmetric about the middle makes a cell's depth linear in its distance from it,
    # even when every cell lies on one side; white text where the fill is deep.
    mid = 1.0 if measure == "retention" else 0.0
    reach = float((frame["value"] - mid).abs().max()) or 1.0
    scale = alt.Scale(
        scheme="blueorange", domain=[mid - reach, mid + reach], domainMid=mid, reverse=True
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


def _site_frame(verdicts: list[SiteVerdict], metric: Metric) -> pd.DataFrame:
    """One row per site verdict: the improvement and its interval (positive = better)."""
    return pd.DataFrame(
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


def site_verdict_chart(results: Results, metric_id: str, ctx: ChartContext) -> AnyChart:
    """Each site's adjusted production lift with its interval, coloured by the site's verdict."""
    verdicts = [s for s in results.site_verdicts if s.metric == metric_id]
    if not verdicts:
        return empty_chart(ctx, f"No site has a production effect on {metric_id} yet.")
    metric = metric_from(results, metric_id)
    frame = _site_frame(verdicts, metric)
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
    ctx, unbounded = _drawn_intervals(frame, ctx)
    return _framed(chart, site_verdict_title(results, metric_id), ctx, detail + unbounded)


def _drawn_intervals(frame: pd.DataFrame, ctx: ChartContext) -> tuple[ChartContext, str]:
    """The context with no interval level when no site's interval is drawn, and the words for
    the sites drawn without one (an interval the test could not bound: a site judged alone by
    the placebo test against too few comparison sites)."""
    drawn = int(frame[["low", "high"]].notna().all(axis=1).sum())
    if drawn == len(frame):
        return ctx, ""
    if drawn == 0:
        return replace(ctx, ci_level=float("nan")), (
            " No interval is drawn: no site's interval could be bounded (a site judged alone, "
            "against too few comparison sites)."
        )
    missing = len(frame) - drawn
    return ctx, (
        f" {missing} of {len(frame)} sites show their point only: their interval could not be "
        "bounded."
    )
