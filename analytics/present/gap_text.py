"""The pilot-to-production gap in words, for the Sites & Channels page, the Decision page and
the board pack (issue 14): one sentence function each, so the three never differ."""

from __future__ import annotations

from typing import Any

import pandas as pd

from analytics.core import fmt


def _row(found: Any, section: str, metric: str) -> Any:
    return next((r for r in getattr(found, section, ()) if r.metric == metric), None)


def why_sentence(found: Any, metric: str) -> str | None:
    """The named largest factor (only when its interval clears the next one's), or that the
    causes cannot be ranked on this data. None when the results carry no decomposition."""
    row = _row(found, "gaps", metric)
    return f"Pilot to production, taken apart: {row.gap.sentence}" if row else None


def gap_caption(found: Any, metric: str) -> str | None:
    """Why production falls short of the pilot for one outcome, in one or two sentences: the
    named largest factor (or that the causes cannot be ranked) and the share of production the
    pilot cannot speak for. None when the results carry no decomposition of it."""
    text = why_sentence(found, metric)
    if text is None:
        return None
    d = _row(found, "gaps", metric).gap
    if d.not_comparable_share > 0:
        text += (
            f" {d.not_comparable_share:.0%} of production runs under conditions the pilot never "
            "saw and is not comparable with the pilot (left out of the factors)."
        )
    return text


def representativeness_sentence(found: Any, metric: str) -> str | None:
    """The pilot re-weighted to production's mix and what it is silent on; None without it."""
    row = _row(found, "representativeness", metric)
    return row.sentence if row else None


def mix_table(found: Any, metric: str) -> pd.DataFrame | None:
    """The pilot's conditions against production's: one row per site, channel and load level
    (shares of rows, or of the weight column's total). None without a representativeness row."""
    row = _row(found, "representativeness", metric)
    if row is None:
        return None
    names = {"site": "Site", "channel": "Channel", "load": "Load"}
    return pd.DataFrame(
        [
            {
                "Condition": names[m.dimension],
                "Value": m.level,
                "Pilot": fmt.pct(m.pilot_share, signed=False, digits=0),
                "Production": fmt.pct(m.production_share, signed=False, digits=0),
            }
            for m in row.rep.mix
        ]
    )
