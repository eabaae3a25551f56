"""The board pack: the same slides as a PPTX (python-pptx) and a PDF (reportlab).

Slides: title (the outcomes that justify scaling, the money they deliver with its interval when
inputs were given, the data window and filters, the catalog, the intervals in words), verdict
scorecard, the verdicts in numbers, value at scale, pilot against production for each outcome,
which sites are ready, the worst sites and channels, readiness and the latest decision. Speaker
notes carry the verdicts' own plain-language reasons, in the PPTX only: the PDF is what a reader
prints, so it holds the slides alone. Every chart is built by `analytics.present.charts` and
rendered once, so the pack, the files beside it and the page show the same picture; every number
is printed by the one formatter (analytics.core.fmt), the improvement (positive = better) first.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from analytics.core import fmt
from analytics.core.catalog import Catalog
from analytics.decide.results import MetricVerdict, Results
from analytics.decide.rollout import significantly_worse
from analytics.decide.verdict import VERDICT_LABELS
from analytics.decide.watch_report import WatchReport
from analytics.present import charts, rollout_charts, why_text
from analytics.present.charts import ChartContext
from analytics.present.monitor_charts import outcome_watch_chart
from analytics.present.pack_pdf import to_pdf
from analytics.present.pack_pptx import to_pptx
from analytics.present.pack_why import why_slide
from analytics.present.slides import Slide, render
from analytics.present.ui_state import catalog_sentence as ui_catalog_sentence
from analytics.present.ui_state import interval_sentence as ui_interval_sentence
from analytics.present.ui_state import value_lines as ui_value_lines

PPTX_NAME = "scalegate_board_pack.pptx"
PDF_NAME = "scalegate_board_pack.pdf"
NOT_ANSWERED = "not answered yet"
NO_DECISION = "No decision recorded."
WORST_SLICES = 10
TABLE_ROWS = 10  # data rows of a table on one slide
# -- what the pack says --------------------------------------------------------------------------


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "metric"


def _improvement_interval(sign: int, ci: Sequence[float]) -> str:
    return fmt.pct_interval((sign * ci[0], sign * ci[1]))


def _sign(results: Results, metric_id: str, catalog: Catalog | None = None) -> int:
    return charts.metric_from(results, metric_id, catalog).sign


def title_lines(results: Results, ctx: ChartContext) -> tuple[str, ...]:
    """Slide 1: the answer a CFO signs on, in the order they read it."""
    scaling = [v for v in results.verdicts if v.verdict == "scale"]
    if scaling:
        named = "; ".join(
            f"{v.label} ({fmt.pct(_sign(results, v.metric) * v.estimate)}, interval "
            f"{_improvement_interval(_sign(results, v.metric), v.ci)})"
            for v in scaling
        )
        outcomes = f"Justify scaling: {named}."
    else:
        outcomes = "No outcome justifies scaling yet."
    value, _ = ui_value_lines(results)
    created = str(results.meta.get("created_at", ""))[:10]
    return (
        charts.scorecard_title(results) + ".",
        outcomes,
        value,
        f"Data: {ctx.subtitle}.",
        ui_interval_sentence(results) + " " + ui_catalog_sentence(results),
        f"{ctx.n:,} rows · prepared {created} · Scalegate {ctx.version} · data "
        f"{ctx.data_hash[:8] or 'n/a'}",
    )


def _verdict_notes(results: Results) -> str:
    parts = []
    for v in results.verdicts:
        parts.append(
            f"{v.label}: {VERDICT_LABELS[v.verdict]}. "
            + " ".join(v.reasons)
            + f" The pilot alone said {VERDICT_LABELS[v.pilot_verdict]}: "
            + " ".join(v.pilot_reasons)
        )
    return "\n\n".join(parts) or "No outcome metric has been judged yet."


def verdict_table(results: Results) -> list[list[str]]:
    """Header and one row per outcome: the improvement (positive = better) beside the raw
    change, the verdict's own interval at its level."""
    rows = [
        [
            "Outcome",
            "Verdict",
            "Better when",
            "Improvement",
            "Change",
            "Interval (improvement)",
            "Pilot alone said",
            "Pilot improvement",
            "Pilot change",
            "Retention",
        ]
    ]
    for v in results.verdicts:
        sign = _sign(results, v.metric)
        retention = fmt.pct(v.retention, signed=False, digits=0) if v.retention is not None else "—"
        rows.append(
            [
                v.label,
                VERDICT_LABELS[v.verdict],
                "higher" if sign > 0 else "lower",
                fmt.pct(sign * v.estimate),
                fmt.pct(v.estimate),
                f"{_improvement_interval(sign, v.ci)} ({fmt.level(v.ci_level)})",
                VERDICT_LABELS[v.pilot_verdict],
                fmt.pct(sign * v.pilot_estimate),
                fmt.pct(v.pilot_estimate),
                retention,
            ]
        )
    return rows


def worst_slices(results: Results, catalog: Catalog) -> list[list[str]]:
    """The sites and channels where production does worst against their own counterfactual."""
    alpha = float(results.meta.get("settings", {}).get("alpha", catalog.settings.alpha))
    outcomes = {v.metric: v.label for v in results.verdicts}
    candidates = []
    for e in results.effects:
        if not (e.adjusted and e.metric in outcomes and e.slice_type in ("site", "channel")):
            continue
        if e.comparison != "production_vs_baseline" or not math.isfinite(e.lift):
            continue
        sign = _sign(results, e.metric, catalog)
        worse = significantly_worse(e.p_adjusted, sign * e.diff, alpha)  # the verdict's rule 3
        candidates.append((sign * e.lift, e, worse, sign))
    candidates.sort(key=lambda c: c[0])
    rows = [
        [
            "Outcome",
            "Where",
            "Better when",
            "Improvement",
            "Change",
            f"Interval (improvement, {fmt.level(1 - alpha)})",
            "Holm p",
            "Verdict",
        ]
    ]
    verdicts = {(s.metric, s.site): s.verdict for s in results.site_verdicts}
    for _, e, worse, sign in candidates[:WORST_SLICES]:
        site_verdict = verdicts.get((e.metric, str(e.slice))) if e.slice_type == "site" else None
        status = VERDICT_LABELS[site_verdict] if site_verdict else ""
        if worse:
            status = (status + "; " if status else "") + "significantly worse"
        p = f"{e.p_adjusted:.3f}" if math.isfinite(e.p_adjusted) else "—"
        rows.append(
            [
                outcomes[e.metric],
                f"{e.slice_type} {e.slice}",
                "higher" if sign > 0 else "lower",
                fmt.pct(sign * e.lift),
                fmt.pct(e.lift),
                _improvement_interval(sign, e.lift_ci),
                p,
                status or "—",
            ]
        )
    return rows


def _decision_lines(decision: dict[str, Any] | None) -> tuple[str, ...]:
    if not decision:
        return (NO_DECISION,)
    labels = (
        ("decision", "Decision"),
        ("owner", "Owner"),
        ("decided_at", "Recorded"),
        ("rationale", "Rationale"),
    )
    lines = []
    for key, label in labels:
        value = decision.get(key)
        if value in (None, ""):
            continue
        if key == "decision":
            # The log stores go / fix_first / no_go; a board reads "Fix first".
            value = decision.get("label") or str(value).replace("_", " ").capitalize()
        lines.append(f"{label}: {value}")
    return tuple(lines) or (NO_DECISION,)


def _readiness_table(readiness: list[tuple[str, str]] | None) -> list[list[str]] | None:
    if not readiness:
        return None
    return [["Question", "Answer"]] + [
        [str(q), str(a).strip() or NOT_ANSWERED] for q, a in readiness
    ]


def _site_notes(results: Results, metric_id: str) -> str:
    lines = []
    for s in results.site_verdicts:
        if s.metric == metric_id and s.verdict != "scale":
            lines.append(f"{s.site}: {VERDICT_LABELS[s.verdict]}. " + " ".join(s.reasons))
    verdict = results.verdict(metric_id)
    head = verdict.worse_summary if verdict else ""
    return "\n".join([head, *lines]).strip()


def _value_notes(results: Results, catalog: Catalog) -> str:
    headline, not_counted = ui_value_lines(results)
    currency = charts.currency_of(catalog, results)
    lines = [
        f"{charts.metric_from(results, r.metric, catalog).label}: promised "
        f"{fmt.money(r.promised, currency)} a year, delivered {fmt.money(r.delivered, currency)} "
        f"({fmt.level(r.ci_level)} interval {fmt.money_interval(r.delivered_ci, currency)})."
        for r in results.value_at_scale
    ]
    return "\n".join([headline, *not_counted, *lines])


def _heatmap_metric(results: Results) -> str | None:
    """The outcome whose sites need most fixing: the one to map by site and channel."""
    if not results.verdicts:
        return None
    counts = {
        v.metric: sum(
            s.metric == v.metric and s.verdict == "fix_first" for s in results.site_verdicts
        )
        for v in results.verdicts
    }
    return max(results.verdicts, key=lambda v: (counts[v.metric], v.verdict == "fix_first")).metric


def _since_slides(since: WatchReport | None) -> list[Slide]:
    """'Since the decision': the headline outcome's per-period effect, then the alerts."""
    if since is None:
        return []
    alerted = {a.metric for a in since.open_alerts}
    out = []
    if since.outcomes:
        shown = next((o for o in since.outcomes if o.metric in alerted), since.outcomes[0])
        out.append(
            Slide(
                "since_decision",
                "Since the decision",
                chart=outcome_watch_chart(shown, alerted=shown.metric in alerted),
                notes="\n".join(since.lines()),
            )
        )
    rows = [["Alert", "Since", "What", "Acknowledged"]] + [
        [
            a.kind.replace("_", " "),
            a.since.isoformat() if a.since else "—",
            a.message,
            f"{a.acknowledged['who']}: {a.acknowledged['action']}" if a.acknowledged else "open",
        ]
        for a in since.alerts
    ]
    out.append(
        Slide(
            "since_decision_alerts",
            "Since the decision: alerts",
            table=rows if len(rows) > 1 else None,
            lines=() if len(rows) > 1 else tuple(since.lines()),
            widths=(1.6, 1.1, 5.0, 2.0),
            notes="Alerts from `python -m analytics watch`: false alarms are controlled over a "
            "year of looks (docs/METHODS.md).",
        )
    )
    return out


def _why_slides(results: Results, ctx: ChartContext) -> list[Slide]:
    """One slide "Why production falls short": the gap's waterfall with the load, data-quality
    and adoption lines under it; the lines alone where no outcome could be taken apart."""
    if why := why_slide(results, ctx):
        return [Slide(**why)]
    if lines := why_text.pack_lines(results):
        return [Slide("why_load", why_text.SLIDE_TITLE, why_text.SLIDE_NOTES, lines=lines)]
    return []


def build_slides(
    results: Results,
    catalog: Catalog,
    *,
    decision: dict[str, Any] | None = None,
    readiness: list[tuple[str, str]] | None = None,
    ctx: ChartContext | None = None,
    since: WatchReport | None = None,
) -> list[Slide]:
    """The pack's slides, charts built but not yet rendered."""
    ctx = ctx or charts.context_from(results)
    slides = _opening_slides(results, catalog, ctx)
    slides += [_pilot_slide(results, v, ctx) for v in results.verdicts]
    slides += _ramp_slides(results, ctx)
    slides += _why_slides(results, ctx)
    slides += _site_slides(results, ctx)
    slides += _slice_slides(results, catalog, ctx)
    slides += _closing_slides(readiness, decision)
    slides += _since_slides(since)
    return _paginate(slides)


def _opening_slides(results: Results, catalog: Catalog, ctx: ChartContext) -> list[Slide]:
    """The title, the scorecard, the verdicts' table and the value at scale."""
    return [
        Slide(
            "title",
            f"Scale the AI? Evidence for {ctx.dataset}",
            lines=title_lines(results, ctx),
            notes="Scalegate judges, metric by metric, whether production keeps what the pilot "
            "promised, against the baseline without the AI.",
        ),
        Slide(
            "scorecard",
            "Verdict scorecard",
            notes=_verdict_notes(results),
            chart=charts.scorecard_chart(results, catalog, ctx),
        ),
        Slide(
            "verdicts",
            "The verdicts in numbers",
            notes="\n".join(f"{v.label}: {v.assumption}" for v in results.verdicts if v.assumption),
            table=verdict_table(results),
            widths=(1.9, 2.0, 0.9, 1.4, 1.0, 2.1, 1.8, 1.5, 1.0, 1.0),
        ),
        Slide(
            "value_at_scale",
            "Value at scale: promised against delivered",
            notes=_value_notes(results, catalog),
            chart=charts.value_chart(results, catalog, ctx),
        ),
    ]


def _pilot_slide(results: Results, v: MetricVerdict, ctx: ChartContext) -> Slide:
    """One metric's pilot against production, its reasons in the notes."""
    return Slide(
        f"pilot_vs_production_{_slug(v.metric)}",
        f"Pilot against production: {v.label}",
        notes=" ".join(v.reasons)
        + f"\nThe pilot alone said {VERDICT_LABELS[v.pilot_verdict]}: "
        + " ".join(v.pilot_reasons)
        + (f"\nMethod: {fmt.method_name(v.method)}. {v.assumption}" if v.assumption else ""),
        chart=charts.pilot_vs_production_chart(results, v.metric, ctx),
    )


def _site_slides(results: Results, ctx: ChartContext) -> list[Slide]:
    """A site chart where sites tell different stories or need fixing; where every site agrees
    with the metric's verdict, the scorecard already says it."""
    slides = []
    for v in results.verdicts:
        kinds = {s.verdict for s in results.site_verdicts if s.metric == v.metric}
        if len(kinds) > 1 or "fix_first" in kinds or (kinds and v.verdict == "fix_first"):
            slides.append(
                Slide(
                    f"sites_{_slug(v.metric)}",
                    f"Which sites are ready: {v.label}",
                    notes=_site_notes(results, v.metric),
                    chart=charts.site_verdict_chart(results, v.metric, ctx),
                )
            )
    return slides


def _slice_slides(results: Results, catalog: Catalog, ctx: ChartContext) -> list[Slide]:
    """The worst sites and channels, and the site-by-channel map of one metric."""
    worst = worst_slices(results, catalog)
    slides = [
        Slide(
            "worst_slices",
            "The worst sites and channels",
            notes="\n".join(v.worse_summary for v in results.verdicts if v.worse_summary),
            table=worst if len(worst) > 1 else None,
            lines=() if len(worst) > 1 else ("No site or channel effect could be estimated yet.",),
            widths=(2.0, 2.2, 0.9, 1.4, 1.0, 2.2, 0.8, 2.4),
        )
    ]
    mapped = _heatmap_metric(results)
    if mapped is not None:
        label = charts.metric_from(results, mapped, catalog).label
        slides.append(
            Slide(
                f"site_channel_{_slug(mapped)}",
                f"Site by channel: {label}",
                notes=_site_notes(results, mapped),
                chart=charts.site_heatmap(results, mapped, ctx),
            )
        )
    return slides


def _closing_slides(
    readiness: list[tuple[str, str]] | None, decision: dict[str, Any] | None
) -> list[Slide]:
    """Readiness as the team recorded it, and the latest decision."""
    table = _readiness_table(readiness)
    return [
        Slide(
            "readiness",
            "Readiness to scale",
            table=table,
            lines=() if table else (f"Readiness questions: {NOT_ANSWERED}.",),
            widths=(1.3, 1.0),
            notes="Answers as recorded by the team; Scalegate does not check them.",
        ),
        Slide(
            "decision",
            "Latest decision",
            lines=_decision_lines(decision),
            notes="The go / no-go log keeps every decision with the evidence it was taken on.",
        ),
    ]


def _ramp_slides(results: Results, ctx: charts.ChartContext) -> list[Slide]:
    """One ramp-up (event-study) slide per outcome with judged periods since go-live; the notes
    carry the verdict's warnings, the breakdown value among them."""
    out = []
    for v in results.verdicts:
        row = results.rollout(v.metric)
        if row is None or not row.event_study:
            continue
        out.append(
            Slide(
                f"since_go_live_{_slug(v.metric)}",
                f"Since go-live: {v.label}",
                notes="\n".join(v.warnings),
                chart=rollout_charts.event_study_chart(results, v.metric, ctx),
            )
        )
    return out


def _paginate(slides: list[Slide]) -> list[Slide]:
    """Tables longer than a slide holds continue on further slides, under the same header."""
    out: list[Slide] = []
    for slide in slides:
        if not slide.table or len(slide.table) <= TABLE_ROWS + 1:
            out.append(slide)
            continue
        header, body = slide.table[0], slide.table[1:]
        for k in range(0, len(body), TABLE_ROWS):
            part = k // TABLE_ROWS
            out.append(
                replace(
                    slide,
                    key=slide.key if part == 0 else f"{slide.key}_{part + 1}",
                    title=slide.title if part == 0 else f"{slide.title} (continued)",
                    table=[header, *body[k : k + TABLE_ROWS]],
                    notes=slide.notes if part == 0 else "",
                )
            )
    return out


# -- entry points --------------------------------------------------------------------------------


def pack_bytes(
    results: Results,
    catalog: Catalog,
    *,
    decision: dict[str, Any] | None = None,
    readiness: list[tuple[str, str]] | None = None,
    since: WatchReport | None = None,
) -> tuple[bytes, bytes]:
    """The board pack in memory, (pptx, pdf)."""
    slides = build_slides(results, catalog, decision=decision, readiness=readiness, since=since)
    render(slides, svg=False)
    return to_pptx(slides), to_pdf(slides)


def write_pack(
    results: Results,
    catalog: Catalog,
    out: Path,
    *,
    decision: dict[str, Any] | None = None,
    readiness: list[tuple[str, str]] | None = None,
    since: WatchReport | None = None,
) -> list[Path]:
    """Write the PPTX, the PDF and each chart as PNG and SVG into `out`; return every path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    slides = build_slides(results, catalog, decision=decision, readiness=readiness, since=since)
    render(slides, svg=True)
    written = [out / PPTX_NAME, out / PDF_NAME]
    written[0].write_bytes(to_pptx(slides))
    written[1].write_bytes(to_pdf(slides))
    charted = [s for s in slides if s.chart is not None]
    for k, slide in enumerate(charted, start=1):
        for kind in ("png", "svg"):
            path = out / f"chart_{k:02d}_{slide.key}.{kind}"
            path.write_bytes(getattr(slide, kind))
            written.append(path)
    return written
