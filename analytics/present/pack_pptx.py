"""The board pack as a 16:9 PowerPoint file with speaker notes."""

from __future__ import annotations

import io
from typing import Any

from analytics.present.slides import Slide, _text

SLIDE_W_IN, SLIDE_H_IN = 13.333, 7.5


def _png_size(data: bytes) -> tuple[int, int]:
    # PNG header: width and height are big-endian at bytes 16-24.
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _fit(size: tuple[int, int], box_w: float, box_h: float) -> tuple[float, float]:
    w, h = size
    scale = min(box_w / w, box_h / h)
    return w * scale, h * scale


def _style(text_frame: Any, size: int, bold: bool = False) -> None:
    from pptx.util import Pt

    for paragraph in text_frame.paragraphs:
        for run in paragraph.runs:
            run.font.size, run.font.bold, run.font.name = Pt(size), bold, "Arial"


def to_pptx(slides: list[Slide]) -> bytes:
    """The slides as a 16:9 PowerPoint file with speaker notes."""
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(SLIDE_W_IN), Inches(SLIDE_H_IN)
    for k, slide_spec in enumerate(slides):
        slide = prs.slides.add_slide(prs.slide_layouts[0 if k == 0 else 5])
        slide.shapes.title.text = _text(slide_spec.title)
        if k == 0:
            _title_slide(prs, slide, slide_spec)
        else:
            _content_slide(prs, slide, slide_spec)
        if slide_spec.notes:
            slide.notes_slide.notes_text_frame.text = _text(slide_spec.notes)
    buffer = io.BytesIO()
    prs.save(buffer)
    return buffer.getvalue()


def _title_slide(prs: Any, slide: Any, spec: Slide) -> None:
    """The first slide: a large title and a page of sentences, read from the left edge."""
    from pptx.util import Inches

    margin = Inches(0.45)
    content_w = prs.slide_width - 2 * margin
    title = slide.shapes.title
    title.left, title.top, title.width, title.height = (
        margin,
        Inches(0.4),
        content_w,
        Inches(1.0),
    )
    _style(title.text_frame, 32, bold=True)
    subtitle = slide.placeholders[1]
    subtitle.left, subtitle.top, subtitle.width, subtitle.height = (
        margin,
        Inches(1.5),
        content_w,
        Inches(5.7),
    )
    subtitle.text = "\n".join(_text(line) for line in spec.lines)
    subtitle.text_frame.word_wrap = True
    for paragraph in subtitle.text_frame.paragraphs:
        paragraph.alignment = 1  # left: a page of sentences reads from the left edge
    _style(subtitle.text_frame, 16)


def _content_slide(prs: Any, slide: Any, spec: Slide) -> None:
    """A slide with a title, then its chart, table or lines."""
    from pptx.util import Emu, Inches

    margin = Inches(0.45)
    content_w = prs.slide_width - 2 * margin
    title = slide.shapes.title
    title.left, title.top, title.width, title.height = (
        margin,
        Inches(0.25),
        content_w,
        Inches(0.8),
    )
    _style(title.text_frame, 26, bold=True)
    top = Inches(1.15)
    box_w, box_h = content_w, prs.slide_height - top - Inches(0.3)
    size = 20
    if spec.png:
        # A chart with lines under it keeps two thirds of the height for the chart.
        chart_h = box_h * (2 / 3 if spec.lines else 1)
        w, h = _fit(_png_size(spec.png), box_w, chart_h)
        left = margin + (box_w - int(w)) // 2
        slide.shapes.add_picture(io.BytesIO(spec.png), left, top, Emu(int(w)), Emu(int(h)))
        top, box_h, size = top + int(h), box_h - int(h), 12
    if spec.table:
        _table(slide, spec, (margin, top, content_w, box_h))
    if spec.lines:
        box = slide.shapes.add_textbox(margin, top, content_w, box_h)
        box.text_frame.word_wrap = True
        box.text_frame.text = "\n".join(_text(line) for line in spec.lines)
        _style(box.text_frame, size)


def _table(slide: Any, spec: Slide, box: tuple[Any, Any, Any, Any]) -> None:
    from pptx.util import Emu, Inches

    assert spec.table is not None
    margin, top, content_w, box_h = box
    rows, cols = len(spec.table), len(spec.table[0])
    height = min(box_h, Inches(0.4) * rows)
    shape = slide.shapes.add_table(rows, cols, margin, top, content_w, height)
    weights = spec.widths or (1.0,) * cols
    for j, weight in enumerate(weights):
        shape.table.columns[j].width = Emu(int(content_w * weight / sum(weights)))
    for i, row in enumerate(spec.table):
        for j, value in enumerate(row):
            cell = shape.table.cell(i, j)
            cell.text = _text(value)
            _style(cell.text_frame, 12 if rows <= 8 else 10, bold=i == 0)
