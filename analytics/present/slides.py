"""One slide of the board pack, and the rendering of its chart (PNG, and SVG for the files)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from analytics.present.chart_base import AnyChart
from analytics.present.export import chart_bytes, chart_png_svg

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
