"""The board pack as a 16:9 PDF, one page a slide (a long table continues on the next)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from analytics.present.pack_pptx import SLIDE_H_IN, SLIDE_W_IN, _fit, _png_size
from analytics.present.slides import Slide, _text

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


@dataclass(frozen=True)
class _Page:
    """The canvas and the fixed measures of every page (points)."""

    canvas: Any
    regular: str
    bold: str
    width: float
    height: float
    margin: float
    styles: dict[str, Any]

    def paragraphs(self, text: str, style: str) -> list[Any]:
        from reportlab.platypus import Paragraph

        return [
            Paragraph(escape(_text(part)), self.styles[style])
            for part in text.split("\n")
            if part.strip()
        ]

    def heading(self, title: str) -> float:
        """Draw a slide's title; returns the top of the space below it."""
        self.canvas.setFont(self.bold, 22)
        self.canvas.drawString(self.margin, self.height - self.margin - 16, _text(title))
        return self.height - self.margin - 34


def to_pdf(slides: list[Slide]) -> bytes:
    """The slides as a 16:9 PDF, one page each (a long table continues on the next). The speaker
    notes stay in the PPTX: printed, they doubled the pack with dense pages."""
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfgen.canvas import Canvas

    regular, bold = _pdf_fonts()
    width, height = SLIDE_W_IN * 72, SLIDE_H_IN * 72
    cell_style = ParagraphStyle("cell", fontName=regular, fontSize=10, leading=12.5)
    styles = {
        "body": ParagraphStyle("body", fontName=regular, fontSize=16, leading=21),
        "title": ParagraphStyle("title", fontName=regular, fontSize=15, leading=19, spaceAfter=7),
        "cell": cell_style,
        "head": ParagraphStyle("head", parent=cell_style, fontName=bold),
    }
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height), pageCompression=1)
    canvas.setTitle("Scalegate board pack")
    canvas.setAuthor("Scalegate")
    page = _Page(canvas, regular, bold, width, height, 0.45 * 72, styles)
    for k, slide in enumerate(slides):
        if k == 0:
            _pdf_title_page(page, slide)
        else:
            _pdf_page(page, slide)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _pdf_title_page(page: _Page, slide: Slide) -> None:
    from reportlab.platypus import Frame

    page.canvas.setFont(page.bold, 28)
    page.canvas.drawString(page.margin, page.height - 1.1 * 72, _text(slide.title))
    story = page.paragraphs("\n".join(slide.lines), "title")
    Frame(page.margin, 0.5 * 72, page.width - 2 * page.margin, page.height - 1.8 * 72).addFromList(
        story, page.canvas
    )


def _pdf_page(page: _Page, slide: Slide) -> None:
    from reportlab.lib.utils import ImageReader
    from reportlab.platypus import Frame

    margin, width = page.margin, page.width
    top = page.heading(slide.title)
    if slide.png:
        box_w, box_h = width - 2 * margin, top - margin * 0.6
        box_h *= 2 / 3 if slide.lines else 1  # lines under a chart keep a third of the page
        w, h = _fit(_png_size(slide.png), box_w, box_h)
        image = ImageReader(io.BytesIO(slide.png))
        page.canvas.drawImage(image, margin + (box_w - w) / 2, top - h, w, h)
        top -= h + 10
    if slide.table:
        top = _pdf_table(page, slide, top)
    if slide.lines:
        story = page.paragraphs("\n".join(slide.lines), "body")
        frame = Frame(margin, margin, width - 2 * margin, top - margin)
        frame.addFromList(story, page.canvas)


def _pdf_table(page: _Page, slide: Slide, top: float) -> float:
    """Draw a slide's table from `top`, continuing on new pages; returns the top left below it."""
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Table, TableStyle

    assert slide.table is not None
    margin, inner = page.margin, page.width - 2 * page.margin
    weights = slide.widths or (1.0,) * len(slide.table[0])
    col_w = [inner * w / sum(weights) for w in weights]
    data = [
        [Paragraph(escape(_text(v)), page.styles["head" if i == 0 else "cell"]) for v in row]
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
        _, h = part.wrapOn(page.canvas, inner, top - margin)
        if h > top - margin:
            pieces = part.split(inner, top - margin)
            if len(pieces) > 1:
                part, pending = pieces[0], pieces[1:] + pending
                _, h = part.wrapOn(page.canvas, inner, top - margin)
        part.drawOn(page.canvas, margin, top - h)
        top -= h + 14
        if pending:
            page.canvas.showPage()
            top = page.heading(f"{slide.title} (continued)")
    return top
