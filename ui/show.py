"""Small drawing helpers shared by the pages: verdict badges, charts, captions, empty states.

Nothing here renders HTML: every text a user or a file supplied goes through Streamlit's own
elements, which escape HTML, and through ui.text.plain wherever Streamlit reads it as Markdown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from analytics.core import fmt
from analytics.core.fmt import term
from analytics.decide.verdict import VERDICT_LABELS
from analytics.present.ui_state import catalog_sentence, interval_sentence, value_lines
from ui.context import Context
from ui.pages import PAGES
from ui.text import plain

# One colour and icon per verdict, everywhere. "No meaningful effect" (we know it is small) and
# "inconclusive" (we do not know yet) never share a colour, an icon or a word.
VERDICT_STYLE: dict[str, tuple[str, str]] = {
    "scale": ("green", ":material/check_circle:"),
    "fix_first": ("orange", ":material/build:"),
    "do_not_scale": ("red", ":material/block:"),
    "need_more_data": ("blue", ":material/hourglass_top:"),
}


def rule_level(found: Any) -> float:
    """The interval level of per-metric and per-site charts: 1 − alpha."""
    return 1 - float(found.meta.get("settings", {}).get("alpha", 0.05))


def verdict_badge(verdict: str, prefix: str = "") -> None:
    color, icon = VERDICT_STYLE[verdict]
    st.badge(prefix + VERDICT_LABELS[verdict], icon=icon, color=color)  # type: ignore[arg-type]


def verdict_text(verdict: str) -> str:
    """A verdict with its icon, for tables and captions."""
    return f"{VERDICT_STYLE[verdict][1]} {VERDICT_LABELS[verdict]}"


def chart(figure: Any, key: str | None = None, method: str = "") -> None:
    """Draw an Altair chart as the export draws it (the engine's theme, not Streamlit's), with
    a link to the Methods section that explains it when its method is given."""
    # "content": the chart's own width, as exported; stretching a concatenated chart clips it.
    st.altair_chart(figure, theme=None, width="content", key=key)
    if method:
        st.page_link(
            PAGES["methods"],
            label=f"How this is computed: Methods, section {fmt.method_section(method)}",
            icon=":material/menu_book:",
        )


def interval_caption(found: Any) -> None:
    """The level of the verdicts' intervals, in words, once per view."""
    st.caption(plain(interval_sentence(found)), help=term("bonferroni"))


def level_caption(level: float, what: str) -> None:
    """The level of a chart's own intervals (an event study's, a wave's), in words."""
    st.caption(f"{fmt.level(level)} intervals for {what}.", help=term("interval"))


def site_interval_caption(found: Any) -> None:
    """The level of per-site and per-channel intervals, in words."""
    st.caption(
        f"{fmt.level(rule_level(found))} intervals for each site or channel, against its own "
        "counterfactual; a site is called significantly worse only after Holm's correction "
        "for judging many sites at once.",
        help=term("holm"),
    )


def catalog_caption(found: Any) -> None:
    st.caption(plain(catalog_sentence(found)))


def value_block(found: Any) -> None:
    """Value at scale in words: the counted total and what is not counted, or what is needed."""
    headline, not_counted = value_lines(found)
    total = found.value_total
    if total is None or total.needs:
        st.info(plain(headline), icon=":material/payments:")
        return
    st.markdown(plain(headline), help=term("value"))
    for line in not_counted:
        st.caption(plain(line))


def need_dataset(ctx: Context) -> None:
    """Stop the page with directions when there is nothing to analyse yet."""
    if ctx.ready:
        return
    st.info("There is no dataset to analyse yet. Load the bundled sample or your own file.")
    st.page_link(PAGES["data"], label="Go to Data to load a file", icon=":material/upload:")
    st.page_link(PAGES["home"], label="Load the sample from Home", icon=":material/home:")
    st.stop()


def notes(found: Any) -> None:
    """The engine's notes on what it could not estimate, folded away."""
    if found.notes:
        with st.expander(f"Notes on this analysis ({len(found.notes)})"):
            for note in found.notes:
                st.markdown(f"- {plain(note)}")


def downloads(items: list[tuple[str, Callable[[], bytes], str, str]], key: str) -> None:
    """A row of download buttons, each building its file only when clicked."""
    columns = st.columns(len(items))
    for col, (label, build, file_name, mime) in zip(columns, items, strict=True):
        col.download_button(
            label,
            data=build,
            file_name=file_name,
            mime=mime,
            key=f"{key}_{file_name}",
            on_click="ignore",
            icon=":material/download:",
        )
