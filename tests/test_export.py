"""Exports, each opened with an independent reader and checked against the engine's numbers.

Pillow for PNG sizes, ElementTree for SVG, pypdf for the PDF's pages and text, python-pptx for
slides, openpyxl for cells, the csv module for CSV. Results are hand-built (test_charts.py) so
the expected text can be worked out; one test times the pack on the bundled sample.
"""

from __future__ import annotations

import csv
import io
import math
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from PIL import Image
from pptx import Presentation
from pypdf import PdfReader
from test_charts import EVIL, SITES, make_catalog, make_results, sample_results

from analytics.decide.results import Results
from analytics.decide.verdict import VERDICT_LABELS
from analytics.present import charts, export, pack

SVG = "{http://www.w3.org/2000/svg}"
READINESS = [("Is a data owner named?", "Yes: J. Doe"), ("Is the rollback tested?", "")]
DECISION = {
    "decision": "fix_first",
    "owner": "CFO",
    "decided_at": "2025-02-03T10:00:00",
    "rationale": "Fix Porto before the next wave.",
}


@pytest.fixture(scope="module")
def results() -> Results:
    return make_results()


@pytest.fixture(scope="module")
def written(results: Results, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("pack")
    paths = pack.write_pack(results, make_catalog(), out, decision=DECISION, readiness=READINESS)
    return {"paths": paths, "out": out}


def svg_size(data: bytes) -> tuple[float, float]:
    root = ET.fromstring(data)
    assert root.tag == f"{SVG}svg"
    return float(root.get("width")), float(root.get("height"))


def svg_text(data: bytes) -> str:
    return " ".join("".join(t.itertext()) for t in ET.fromstring(data).iter(f"{SVG}text"))


# -- single charts -------------------------------------------------------------------------------


def test_chart_bytes_png_is_twice_the_svg(results: Results) -> None:
    chart = charts.pilot_vs_production_chart(results, "minutes_saved", charts.context_from(results))
    svg = export.chart_bytes(chart, "svg")
    png = export.chart_bytes(chart, "png")
    width, height = svg_size(svg)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.size == (2 * width, 2 * height)
    assert "Production keeps 50% of the pilot's improvement on Minutes saved" in svg_text(svg)
    pdf = PdfReader(io.BytesIO(export.chart_bytes(chart, "pdf")))
    assert len(pdf.pages) == 1
    # One Vega run for both gives the same picture as rendering each on its own.
    png2, svg2 = export.chart_png_svg(chart)
    assert svg2 == svg
    assert Image.open(io.BytesIO(png2)).size == image.size


def test_chart_bytes_refuses_unknown_format(results: Results) -> None:
    chart = charts.scorecard_chart(results, make_catalog(), charts.context_from(results))
    with pytest.raises(ValueError):
        export.chart_bytes(chart, "gif")  # type: ignore[arg-type]


# -- tables --------------------------------------------------------------------------------------


def test_tables_hold_the_engines_numbers(results: Results) -> None:
    frames = export.tables(results)
    assert set(frames) >= {"effects", "verdicts", "site_verdicts", "value_at_scale"}
    assert len(frames["effects"]) == len(results.effects)
    verdicts = frames["verdicts"].set_index("metric")
    for v in results.verdicts:
        assert verdicts.loc[v.metric, "estimate"] == v.estimate
        assert verdicts.loc[v.metric, "verdict_label"] == VERDICT_LABELS[v.verdict]
    cells = frames["effects"][frames["effects"]["slice_type"] == "site_channel"]
    assert set(zip(cells["site"], cells["channel"], strict=True)) >= {("Porto", "chat")}


def test_csv_is_inert_and_numeric(results: Results) -> None:
    data = export.to_csv_bytes(export.tables(results)["site_verdicts"])
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == len(SITES)
    sites = [r["site"] for r in rows]
    assert "'" + EVIL in sites and EVIL not in sites
    for row, (_site, verdict, lift, ci) in zip(rows, SITES, strict=True):
        assert float(row["estimate"]) == lift  # numbers stay numbers, negatives unquoted
        assert (float(row["ci_low"]), float(row["ci_high"])) == ci
        assert row["verdict_label"] == VERDICT_LABELS[verdict]
    texts = ["+1", "-x", "@SUM(A1)", "\tx", "\rx", "plain"]
    data = export.to_csv_bytes(pd.DataFrame({"a": texts, "n": [-1.5] * len(texts)}))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert [r[0] for r in rows[1:]] == ["'" + t for t in texts[:-1]] + ["plain"]
    assert {r[1] for r in rows[1:]} == {"-1.5"}


def test_xlsx_is_inert_and_numeric(results: Results) -> None:
    validation = pd.DataFrame(
        {"line": [3, 9], "reason": ["=1+1 is not a date", "ok"], "value": [-1.5, float("inf")]}
    )
    decisions = pd.DataFrame(
        {"decided_at": [pd.Timestamp("2025-02-03 11:00", tz="Europe/Paris")], "owner": ["@cfo"]}
    )
    frames = export.tables(results) | {"validation": validation, "decision log": decisions}
    book = openpyxl.load_workbook(io.BytesIO(export.to_xlsx_bytes(frames)))
    assert book.sheetnames == list(frames)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    site_rows = list(book["site_verdicts"].iter_rows(values_only=True))
    header, body = site_rows[0], site_rows[1:]
    column = {name: j for j, name in enumerate(header)}
    by_site = {row[column["site"]]: row for row in body}
    assert "'" + EVIL in by_site and EVIL not in by_site
    for site, _verdict, lift, ci in SITES:
        row = by_site["'" + site if site == EVIL else site]
        assert isinstance(row[column["estimate"]], float | int)
        assert row[column["estimate"]] == lift
        assert (row[column["ci_low"]], row[column["ci_high"]]) == ci
    value = list(book["value_at_scale"].iter_rows(values_only=True))
    assert value[1][value[0].index("delivered")] == results.value_at_scale[0].delivered
    checks = list(book["validation"].iter_rows(values_only=True))
    assert checks[1] == (3, "'=1+1 is not a date", -1.5)
    assert checks[2] == (9, "ok", None)  # infinity is no number a spreadsheet can hold
    log = list(book["decision log"].iter_rows(values_only=True))
    assert log[1][1] == "'@cfo"
    assert log[1][0] == datetime(2025, 2, 3, 10, 0)  # the same moment, in UTC


# -- the board pack ------------------------------------------------------------------------------


def test_pack_writes_every_file(written: dict[str, Any]) -> None:
    paths: list[Path] = written["paths"]
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    assert {p.name for p in paths} >= {pack.PPTX_NAME, pack.PDF_NAME}
    pngs = sorted(p for p in paths if p.suffix == ".png")
    svgs = sorted(p for p in paths if p.suffix == ".svg")
    # Scorecard, value, 4 × pilot vs production, sites of minutes saved, its heatmap.
    assert len(pngs) == len(svgs) == 8
    for png, svg in zip(pngs, svgs, strict=True):
        assert png.stem == svg.stem
        width, height = svg_size(svg.read_bytes())
        assert Image.open(png).size == (2 * width, 2 * height)


def test_pptx_slides_pictures_and_notes(written: dict[str, Any], results: Results) -> None:
    deck = Presentation(str(written["out"] / pack.PPTX_NAME))
    titles = [s.shapes.title.text for s in deck.slides]
    assert titles == [
        "Scale the AI? Evidence for Hand-built",
        "Verdict scorecard",
        "The verdicts in numbers",
        "Value at scale: promised against delivered",
        *(f"Pilot against production: {v.label}" for v in results.verdicts),
        "Which sites are ready: Minutes saved",
        "The worst sites and channels",
        "Site by channel: Minutes saved",
        "Readiness to scale",
        "Latest decision",
    ]
    pictures = [
        sum(shape.shape_type == 13 for shape in slide.shapes) for slide in deck.slides
    ]  # 13: picture
    assert sum(pictures) == 8
    for slide in deck.slides:
        for shape in slide.shapes:  # everything on the slide, nothing cut off
            assert 0 <= shape.left and shape.left + shape.width <= deck.slide_width
            assert 0 <= shape.top and shape.top + shape.height <= deck.slide_height
    slides = {s.shapes.title.text: s for s in deck.slides}
    notes = slides["Verdict scorecard"].notes_slide.notes_text_frame.text
    for v in results.verdicts:
        assert all(reason in notes for reason in v.reasons)
        assert f"{v.label}: {VERDICT_LABELS[v.verdict]}." in notes
    table = next(s for s in slides["The verdicts in numbers"].shapes if s.has_table).table
    printed = {table.cell(i, 0).text: i for i in range(1, len(table.rows))}
    for v in results.verdicts:
        i = printed[v.label]
        sign = make_catalog().get(v.metric).sign
        assert table.cell(i, 1).text == VERDICT_LABELS[v.verdict]
        # The improvement (positive = better) first, the raw change beside it.
        assert (table.cell(i, 3).text, table.cell(i, 4).text) == (
            charts.pct(sign * v.estimate),
            charts.pct(v.estimate),
        )
    readiness = next(s for s in slides["Readiness to scale"].shapes if s.has_table).table
    assert readiness.cell(2, 1).text == pack.NOT_ANSWERED
    decision = " ".join(s.text_frame.text for s in slides["Latest decision"].shapes)
    assert "Decision: Fix first" in decision and "Owner: CFO" in decision


def test_pdf_prints_the_engines_numbers(written: dict[str, Any], results: Results) -> None:
    reader = PdfReader(str(written["out"] / pack.PDF_NAME))
    deck = Presentation(str(written["out"] / pack.PPTX_NAME))
    # One page per slide: the speaker notes stay in the PPTX, out of the PDF.
    assert len(reader.pages) == len(deck.slides)
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "The pilot alone said" not in text  # a sentence only the notes carry
    for v in results.verdicts:
        assert VERDICT_LABELS[v.verdict] in text
        assert charts.pct(v.estimate) in text  # e.g. "-15.0%", the change as the table prints it
        assert charts.pct(v.pilot_estimate) in text
    assert "Porto" in text and "significantly worse" in text
    assert pack.NOT_ANSWERED in text
    assert "Rationale: Fix Porto before the next wave." in text


def test_pack_without_decision_or_readiness(results: Results) -> None:
    pptx, pdf = pack.pack_bytes(results, make_catalog())
    deck = Presentation(io.BytesIO(pptx))
    text = " ".join(
        shape.text_frame.text
        for slide in deck.slides
        for shape in slide.shapes
        if shape.has_text_frame
    )
    assert pack.NO_DECISION in text
    assert f"Readiness questions: {pack.NOT_ANSWERED}." in text
    pdf_text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert pack.NO_DECISION in pdf_text


def test_pack_of_empty_results_still_builds() -> None:
    empty = make_results(
        effects=(),
        retention=(),
        verdicts=(),
        site_verdicts=(),
        value_at_scale=(),
        counterfactual=(),
    )
    pptx, pdf = pack.pack_bytes(empty, make_catalog())
    deck = Presentation(io.BytesIO(pptx))
    assert [s.shapes.title.text for s in deck.slides][:2] == [
        "Scale the AI? Evidence for Hand-built",
        "Verdict scorecard",
    ]
    assert len(PdfReader(io.BytesIO(pdf)).pages) >= len(deck.slides)


def test_sample_pack_lists_the_sample_verdicts(tmp_path: Path) -> None:
    """(Its build time is the benchmark's: `python -m bench`, board pack rows.)"""
    results, catalog, _, _ = sample_results()
    pack.write_pack(results, catalog, tmp_path)
    deck = Presentation(str(tmp_path / pack.PPTX_NAME))
    table = next(
        s
        for slide in deck.slides
        if slide.shapes.title.text == "The verdicts in numbers"
        for s in slide.shapes
        if s.has_table
    ).table
    printed = {table.cell(i, 0).text: table.cell(i, 4).text for i in range(1, len(table.rows))}
    for v in results.verdicts:
        expected = charts.pct(v.estimate) if math.isfinite(v.estimate) else "n/a"
        assert printed[v.label] == expected  # the raw change, beside the improvement


def test_long_tables_continue_on_further_slides(results: Results) -> None:
    readiness = [(f"Question {k}?", "A long answer. " * (40 if k == 3 else 1)) for k in range(25)]
    slides = pack.build_slides(results, make_catalog(), readiness=readiness)
    pptx, pdf = pack.to_pptx(slides), pack.to_pdf(slides)  # charts left unrendered: faster
    titles = [s.shapes.title.text for s in Presentation(io.BytesIO(pptx)).slides]
    assert titles.count("Readiness to scale") == 1
    assert titles.count("Readiness to scale (continued)") == 2
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert all(f"Question {k}?" in text for k in range(25))
