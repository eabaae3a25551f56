"""Download buttons for charts, tables and the board pack. Files are built only when clicked
(deferred callables), so drawing a page never pays for rendering a PDF."""

from __future__ import annotations

from typing import Any

import streamlit as st

from analytics.decide.decisions import list_decisions
from analytics.decide.readiness import QUESTIONS
from analytics.decide.results import Results
from analytics.present import export
from analytics.present.ui_state import filters_from_dict, filters_to_json
from ui import cached
from ui.cached import to_json
from ui.context import Context
from ui.show import downloads

MIME = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}


def chart_downloads(figure: Any, name: str, key: str, title: str = "Chart") -> None:
    """PNG, SVG and PDF of a chart, exactly as drawn on the page."""

    def build(fmt: str):
        return lambda: export.chart_bytes(figure, fmt)  # type: ignore[arg-type]

    downloads(
        [
            (f"{title} ({fmt.upper()})", build(fmt), f"scalegate_{name}.{fmt}", MIME[fmt])
            for fmt in ("png", "svg", "pdf")
        ],
        key=key,
    )


def table_downloads(results: Results, key: str) -> None:
    """The verdicts as CSV, and every results table as one XLSX workbook."""
    downloads(
        [
            (
                "Verdicts (CSV)",
                lambda: export.to_csv_bytes(export.tables(results)["verdicts"]),
                "scalegate_verdicts.csv",
                MIME["csv"],
            ),
            (
                "All tables (XLSX)",
                lambda: export.to_xlsx_bytes(export.tables(results)),
                "scalegate_results.xlsx",
                MIME["xlsx"],
            ),
        ],
        key=key,
    )


def latest_decision(ctx: Context) -> tuple[dict[str, Any] | None, list[tuple[str, str]] | None]:
    """The latest recorded decision and its readiness answers, as the board pack takes them."""
    assert ctx.info is not None
    past = list_decisions(ctx.store, ctx.info.id)
    if not past:
        return None, None
    last = past[0]
    decision = {
        "decision": last.label,
        "owner": last.owner,
        "decided_at": f"{last.decided_at:%Y-%m-%d}",
        "rationale": last.rationale,
    }
    answers = [(question, str(last.answers.get(k, ""))) for k, question, _ in QUESTIONS]
    return decision, answers


def results_filters_json(results: Results) -> str:
    """The filters a Results was computed under, as the cache key form."""
    return filters_to_json(filters_from_dict(results.meta.get("filters") or {}))


def pack_downloads(ctx: Context, results: Results, key: str) -> None:
    """The board pack, PowerPoint and PDF, each one click; built once for both."""
    assert ctx.catalog is not None and ctx.info is not None
    decision, readiness = latest_decision(ctx)
    db, dataset_id, sha = ctx.db, ctx.info.id, ctx.info.sha256
    name, catalog_json = ctx.info.name, ctx.catalog_json
    filters_json = results_filters_json(results)

    def pack(index: int):
        # Both buttons share one cached build: the second click is instant.
        return lambda: cached.pack(
            db,
            dataset_id,
            sha,
            name,
            catalog_json,
            filters_json,
            to_json(decision),
            to_json(readiness),
        )[index]

    downloads(
        [
            ("Board pack (PowerPoint)", pack(0), "scalegate_board_pack.pptx", MIME["pptx"]),
            ("Board pack (PDF)", pack(1), "scalegate_board_pack.pdf", MIME["pdf"]),
        ],
        key=key,
    )
    st.caption(
        "The pack holds the scorecard, value at scale, pilot against production, the sites "
        "ready now, the readiness answers and the latest decision."
        + ("" if decision else " No decision is recorded yet: record one on the Decision page.")
    )
