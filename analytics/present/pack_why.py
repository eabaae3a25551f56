"""The board pack's slide "Why production falls short" (issue 14): the waterfall of the gap for
one outcome, with each step's range over the orders, the Shapley shares with their intervals at
the verdict's level, the sentence naming the largest factor and the representativeness
sentence; the speaker notes carry the same sentences for every outcome. Returned as the
fields of pack.Slide, so this module needs nothing from pack.py."""

from __future__ import annotations

from typing import Any

from analytics.engine.gap import LABELS
from analytics.present import why_text
from analytics.present.charts import ChartContext, metric_from
from analytics.present.gap_charts import share_lines, waterfall_chart
from analytics.present.gap_text import representativeness_sentence, why_sentence

CANNOT_RANK = "The causes cannot be ranked on this data."


def _chosen(results: Any) -> Any:
    """The outcome to draw: the first whose largest factor can be named, else the first with
    a decomposition, in the order of the verdicts."""
    order = [v.metric for v in results.verdicts]
    gaps = sorted(results.gaps, key=lambda g: order.index(g.metric) if g.metric in order else 99)
    named = [g for g in gaps if g.gap.sentence != CANNOT_RANK]
    return (named or gaps or [None])[0]


def why_slide(results: Any, ctx: ChartContext) -> dict[str, Any] | None:
    """The slide's fields (key, title, notes, chart); None when no outcome was taken apart."""
    row = _chosen(results)
    if row is None:
        return None
    labels = {v.metric: v.label for v in results.verdicts}
    signs = {v.metric: metric_from(results, v.metric).sign for v in results.verdicts}
    notes = []
    for g in results.gaps:
        label = labels.get(g.metric, g.metric)
        notes.append(f"{label}. {why_sentence(results, g.metric)}")
        notes.append("Shapley shares: " + "; ".join(share_lines(g, signs.get(g.metric, 1))) + ".")
        if rep := representativeness_sentence(results, g.metric):
            notes.append(rep)
    extra = [rep] if (rep := representativeness_sentence(results, row.metric)) else []
    return {
        "key": "why_production_falls_short",
        "title": f"Why production falls short: {labels.get(row.metric, row.metric)}",
        "notes": "\n".join(notes)
        + "\nFactors: "
        + ", ".join(LABELS.values())
        + ". Steps in that order; the whisker is each step's range over all 24 orders.\n"
        + why_text.SLIDE_NOTES,
        "chart": waterfall_chart(results, row.metric, ctx, extra=extra),
        "lines": why_text.pack_lines(results),  # load, data quality, adoption
    }
