"""The pilot-to-production gap in words, for the Sites & Channels page (issue 14)."""

from __future__ import annotations

from typing import Any


def gap_caption(found: Any, metric: str) -> str | None:
    """Why production falls short of the pilot for one outcome, in one or two sentences: the
    named largest factor (or that the causes cannot be ranked) and the share of production the
    pilot cannot speak for. None when the results carry no decomposition of it."""
    row = next((g for g in getattr(found, "gaps", ()) if g.metric == metric), None)
    if row is None:
        return None
    d = row.gap
    text = f"Pilot to production, taken apart: {d.sentence}"
    if d.not_comparable_share > 0:
        text += (
            f" {d.not_comparable_share:.0%} of production runs under conditions the pilot never "
            "saw and is not comparable with the pilot (left out of the factors)."
        )
    return text
