"""One banner on every page when a dataset cannot answer every question: without production
rows nothing can be said about scaling, without a baseline nothing about the AI's effect.

app.py calls `coverage_banner()` once, after the sidebar, so every page shows the same words.
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from analytics.core.errors import ScalegateError
from ui.context import current


def what_can_be_judged(phases: Mapping[str, int]) -> str | None:
    """The banner's sentence for a dataset's rows per phase; None when every phase is there
    (or only the pilot is missing: production is then judged against the baseline alone)."""
    has = {p for p, n in phases.items() if n}
    if {"baseline", "production"} <= has:
        return None
    if not has:
        return None
    if has == {"baseline"}:
        return (
            "This dataset holds only baseline rows (work without the AI). It describes the "
            "starting point; nothing about the AI can be judged until pilot or production "
            "rows are loaded."
        )
    if "baseline" not in has:
        shown = " and ".join(p for p in ("pilot", "production") if p in has)
        return (
            f"This dataset has {shown} rows but no baseline (work without the AI). "
            + ("Pilot and production can be compared with each other, but " if len(has) > 1 else "")
            + "no effect of the AI can be measured, so no verdict on scaling can be given "
            "until baseline rows are loaded."
        )
    return (
        "This dataset has no production rows. It shows what the pilot did against the "
        "baseline, but not whether production keeps the pilot's gains: no verdict on scaling "
        "can be given until production rows are loaded."
    )


def coverage_banner() -> None:
    """Show the banner for the dataset in view, if it needs one."""
    try:
        ctx = current()
    except ScalegateError:  # no context: a page file run on its own
        return
    if not ctx.ready or ctx.info is None:
        return
    message = what_can_be_judged(ctx.store.report(ctx.info.id).get("phases", {}))
    if message:
        st.info(message, icon=":material/info:")
