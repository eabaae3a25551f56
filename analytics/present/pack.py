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

import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from analytics.core import fmt
from analytics.core.catalog import Catalog
from analytics.decide.results import Results
from analytics.decide.verdict import VERDICT_LABELS
from analytics.decide.watch_report import WatchReport
from analytics.present import charts, rollout_charts
from analytics.present.charts import AnyChart, ChartContext
from analytics.present.export import chart_bytes, chart_png_svg
from analytics.present.monitor_charts import outcome_watch_chart
from analytics.present.pack_why import why_slide
from analytics.present.ui_state import catalog_sentence as ui_catalog_sentence
from analytics.present.ui_state import interval_sentence as ui_interval_sentence
from analytics.present.ui_state import value_lines as ui_value_lines

PPTX_NAME = "scalegate_board_pack.pptx"
PDF_NAME = "scalegate_board_pack.pdf"
NOT_ANSWERED = "not answered yet"
NO_DECISION = "No decision recorded."
WORST_SLICES = 10
TABLE_ROWS = 10  # data rows of a table on one slide
# Characters XML 1.0 cannot hold (a PPTX is XML); a file's site name might carry one.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _text(value: Any) -> str:
    return _CONTROL.sub("", str(value))


@dataclass(slots=True)
class Slide:
    """One slide: a title, then a chart, a table or lines of text; notes for the speaker."""

    key: str
    title: str
    notes: str = ""
    chart: AnyChart | None = None
    table: list[list[str]] | None = None
    lines: tuple[str, ...] = ()
    png: bytes = b""
    svg: bytes = b""
    widths: tuple[float, ...] = field(default=())  # relative column widths of the table


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
        lo, hi = sorted((sign * e.lift_ci[0], sign * e.lift_ci[1]))
        worse = math.isfinite(e.p_adjusted) and e.p_adjusted < alpha and hi < 0
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
    slides = [
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
    for v in results.verdicts:
        slides.append(
            Slide(
                f"pilot_vs_production_{_slug(v.metric)}",
                f"Pilot against production: {v.label}",
                notes=" ".join(v.reasons)
                + f"\nThe pilot alone said {VERDICT_LABELS[v.pilot_verdict]}: "
                + " ".join(v.pilot_reasons)
                + (
                    f"\nMethod: {fmt.method_name(v.method)}. {v.assumption}" if v.assumption else ""
                ),
                chart=charts.pilot_vs_production_chart(results, v.metric, ctx),
            )
        )
    slides.extend(_ramp_slides(results, ctx))
    if why := why_slide(results, ctx):
        slides.append(Slide(**why))
    for v in results.verdicts:
        # A site chart where sites tell different stories or need fixing; where every site
        # agrees with the metric's verdict, the scorecard already says it.
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
    worst = worst_slices(results, catalog)
    slides.append(
        Slide(
            "worst_slices",
            "The worst sites and channels",
            notes="\n".join(v.worse_summary for v in results.verdicts if v.worse_summary),
            table=worst if len(worst) > 1 else None,
            lines=() if len(worst) > 1 else ("No site or channel effect could be estimated yet.",),
            widths=(2.0, 2.2, 0.9, 1.4, 1.0, 2.2, 0.8, 2.4),
        )
    )
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
    table = _readiness_table(readiness)
    slides.append(
        Slide(
            "readiness",
            "Readiness to scale",
            table=table,
            lines=() if table else (f"Readiness questions: {NOT_ANSWERED}.",),
            widths=(1.3, 1.0),
            notes="Answers as recorded by the team; Scalegate does not check them.",
        )
    )
    slides.append(
        Slide(
            "decision",
            "Latest decision",
            lines=_decision_lines(decision),
            notes="The go / no-go log keeps every decision with the evidence it was taken on.",
        )
    )
    slides += _since_slides(since)
    return _paginate(slides)


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


def render(slides: list[Slide], *, svg: bool) -> None:
    """Render every chart once: PNG for the slides, and SVG for the files beside them.

    Sequential on purpose: vl-convert runs one JavaScript engine, so threads gain nothing.
    """
    for slide in slides:
        if slide.chart is None:
            continue
        if svg:
            slide.png, slide.svg = chart_png_svg(slide.chart)
        else:
            slide.png = chart_bytes(slide.chart, "png")


# -- PPTX ----------------------------------------------------------------------------------------

SLIDE_W_IN, SLIDE_H_IN = 13.333, 7.5


def _png_size(data: bytes) -> tuple[int, int]:
    # PNG header: width and height are big-endian at bytes 16-24.
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _fit(size: tuple[int, int], box_w: float, box_h: float) -> tuple[float, float]:
    w, h = size
    scale = min(box_w / w, box_h / h)
    return w * scale, h * scale


def to_pptx(slides: list[Slide]) -> bytes:
    """The slides as a 16:9 PowerPoint file with speaker notes."""
    from pptx import Presentation
    from pptx.util import Emu, Inches, Pt

    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(SLIDE_W_IN), Inches(SLIDE_H_IN)
    margin = Inches(0.45)
    content_w = prs.slide_width - 2 * margin

    def style(text_frame: Any, size: int, bold: bool = False) -> None:
        for paragraph in text_frame.paragraphs:
            for run in paragraph.runs:
                run.font.size, run.font.bold, run.font.name = Pt(size), bold, "Arial"

    for k, slide_spec in enumerate(slides):
        layout = prs.slide_layouts[0 if k == 0 else 5]
        slide = prs.slides.add_slide(layout)
        title = slide.shapes.title
        title.text = _text(slide_spec.title)
        if k == 0:
            title.left, title.top, title.width, title.height = (
                margin,
                Inches(0.4),
                content_w,
                Inches(1.0),
            )
            style(title.text_frame, 32, bold=True)
            subtitle = slide.placeholders[1]
            subtitle.left, subtitle.top, subtitle.width, subtitle.height = (
                margin,
                Inches(1.5),
                content_w,
                Inches(5.7),
            )
            subtitle.text = "\n".join(_text(line) for line in slide_spec.lines)
            subtitle.text_frame.word_wrap = True
            for paragraph in subtitle.text_frame.paragraphs:
                paragraph.alignment = 1  # left: a page of sentences reads from the left edge
            style(subtitle.text_frame, 16)
        else:
            title.left, title.top, title.width, title.height = (
                margin,
                Inches(0.25),
                content_w,
                Inches(0.8),
            )
            style(title.text_frame, 26, bold=True)
            top = Inches(1.15)
            box_w, box_h = content_w, prs.slide_height - top - Inches(0.3)
            if slide_spec.png:
                w, h = _fit(_png_size(slide_spec.png), box_w, box_h)
                left = margin + (box_w - int(w)) // 2
                slide.shapes.add_picture(
                    io.BytesIO(slide_spec.png), left, top, Emu(int(w)), Emu(int(h))
                )
            if slide_spec.table:
                rows, cols = len(slide_spec.table), len(slide_spec.table[0])
                height = min(box_h, Inches(0.4) * rows)
                shape = slide.shapes.add_table(rows, cols, margin, top, content_w, height)
                weights = slide_spec.widths or (1.0,) * cols
                for j, weight in enumerate(weights):
                    shape.table.columns[j].width = Emu(int(content_w * weight / sum(weights)))
                for i, row in enumerate(slide_spec.table):
                    for j, value in enumerate(row):
                        cell = shape.table.cell(i, j)
                        cell.text = _text(value)
                        style(cell.text_frame, 12 if rows <= 8 else 10, bold=i == 0)
            if slide_spec.lines:
                box = slide.shapes.add_textbox(margin, top, content_w, box_h)
                box.text_frame.word_wrap = True
                box.text_frame.text = "\n".join(_text(line) for line in slide_spec.lines)
                style(box.text_frame, 20)
        if slide_spec.notes:
            slide.notes_slide.notes_text_frame.text = _text(slide_spec.notes)
    buffer = io.BytesIO()
    prs.save(buffer)
    return buffer.getvalue()


# -- PDF -----------------------------------------------------------------------------------------

_FONT_FILES = (
    (
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    ),
    (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    ),
)


def _pdf_fonts() -> tuple[str, str]:
    """A regular and a bold TrueType font, embedded so any reader shows the same text.

    Liberation Sans where installed (metrics of Arial, as in the charts), else DejaVu Sans, else
    the Vera fonts that ship with reportlab itself.
    """
    from reportlab import rl_config
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "SG-Regular" in pdfmetrics.getRegisteredFontNames():
        return "SG-Regular", "SG-Bold"
    candidates = [pair for pair in _FONT_FILES if all(Path(p).is_file() for p in pair)]
    vera = [
        Path(d) / "Vera.ttf" for d in rl_config.TTFSearchPath if (Path(d) / "Vera.ttf").is_file()
    ]
    if vera:
        candidates.append((str(vera[0]), str(vera[0].with_name("VeraBd.ttf"))))
    for regular, bold in candidates:
        try:
            pdfmetrics.registerFont(TTFont("SG-Regular", regular))
            pdfmetrics.registerFont(TTFont("SG-Bold", bold))
            return "SG-Regular", "SG-Bold"
        except Exception:  # noqa: BLE001 - an unreadable font file: try the next one
            continue
    return "Helvetica", "Helvetica-Bold"


def to_pdf(slides: list[Slide]) -> bytes:
    """The slides as a 16:9 PDF, one page each (a long table continues on the next). The speaker
    notes stay in the PPTX: printed, they doubled the pack with dense pages."""
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import Frame, Paragraph, Table, TableStyle

    regular, bold = _pdf_fonts()
    width, height = SLIDE_W_IN * 72, SLIDE_H_IN * 72
    margin = 0.45 * 72
    body = ParagraphStyle("body", fontName=regular, fontSize=16, leading=21)
    title_style = ParagraphStyle("title", fontName=regular, fontSize=15, leading=19, spaceAfter=7)
    cell_style = ParagraphStyle("cell", fontName=regular, fontSize=10, leading=12.5)
    head_style = ParagraphStyle("head", parent=cell_style, fontName=bold)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height), pageCompression=1)
    canvas.setTitle("Scalegate board pack")
    canvas.setAuthor("Scalegate")

    def paragraphs(text: str, style: ParagraphStyle) -> list[Paragraph]:
        return [Paragraph(escape(_text(part)), style) for part in text.split("\n") if part.strip()]

    for k, slide in enumerate(slides):
        if k == 0:
            canvas.setFont(bold, 28)
            canvas.drawString(margin, height - 1.1 * 72, _text(slide.title))
            story = paragraphs("\n".join(slide.lines), title_style)
            Frame(margin, 0.5 * 72, width - 2 * margin, height - 1.8 * 72).addFromList(
                story, canvas
            )
            canvas.showPage()
            continue
        canvas.setFont(bold, 22)
        canvas.drawString(margin, height - margin - 16, _text(slide.title))
        top = height - margin - 34
        if slide.png:
            box_w, box_h = width - 2 * margin, top - margin * 0.6
            w, h = _fit(_png_size(slide.png), box_w, box_h)
            image = ImageReader(io.BytesIO(slide.png))
            canvas.drawImage(image, margin + (box_w - w) / 2, top - h, w, h)
            top -= h + 10
        if slide.table:
            weights = slide.widths or (1.0,) * len(slide.table[0])
            col_w = [(width - 2 * margin) * w / sum(weights) for w in weights]
            data = [
                [Paragraph(escape(_text(v)), head_style if i == 0 else cell_style) for v in row]
                for i, row in enumerate(slide.table)
            ]
            table = Table(data, colWidths=col_w, repeatRows=1)
            table.setStyle(
                TableStyle(
                    [
                        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E8E8E8")),
                        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#BBBBBB")),
                        ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ]
                )
            )
            pending = [table]
            while pending:
                # Rows that wrap into more height than the page holds continue on the next page.
                part = pending.pop(0)
                _, h = part.wrapOn(canvas, width - 2 * margin, top - margin)
                if h > top - margin:
                    pieces = part.split(width - 2 * margin, top - margin)
                    if len(pieces) > 1:
                        part, pending = pieces[0], pieces[1:] + pending
                        _, h = part.wrapOn(canvas, width - 2 * margin, top - margin)
                part.drawOn(canvas, margin, top - h)
                top -= h + 14
                if pending:
                    canvas.showPage()
                    canvas.setFont(bold, 22)
                    canvas.drawString(
                        margin, height - margin - 16, _text(f"{slide.title} (continued)")
                    )
                    top = height - margin - 34
        if slide.lines:
            story = paragraphs("\n".join(slide.lines), body)
            frame = Frame(margin, margin, width - 2 * margin, top - margin)
            frame.addFromList(story, canvas)
            top = margin + 60
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


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
