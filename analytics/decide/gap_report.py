"""The gap between pilot and production taken apart, as results.json carries it (one row per
outcome; engine/gap.py computes it, METHODS.md explains it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from analytics.engine.gap import LABELS, GapDecomposition, decompose, peaks_for
from analytics.engine.panel import Panel, prepare_panel


@dataclass(frozen=True, slots=True)
class GapRow:
    """One outcome's decomposition, in the metric's own units."""

    metric: str
    gap: GapDecomposition

    def to_dict(self) -> dict[str, Any]:
        d = self.gap
        return {
            "metric": self.metric,
            "level": d.level,
            "pilot_effect": d.pilot,
            "production_effect": d.production,
            "comparable_effect": d.comparable,
            "gap": d.gap,
            "not_comparable": {"share": d.not_comparable_share, "effect": d.not_comparable},
            "shares": [
                {
                    "factor": s.factor,
                    "label": LABELS[s.factor],
                    "estimate": s.value,
                    "se": s.se,
                    "ci": list(s.ci),
                    "df": s.df,
                    "order_range": [s.low, s.high],
                }
                for s in d.shares
            ],
            "waterfall": [{"factor": f, "step": v} for f, v in d.waterfall],
            "sentence": d.sentence,
        }


def gap_row(
    metric: str,
    cells: pd.DataFrame,
    sign: int,
    level: float,
    calendar: Sequence[str] = (),
    panel: Panel | None = None,
) -> GapRow | None:
    """The decomposition of one outcome's cells, peak periods from the user's ``calendar`` when
    given (core/peaks.py); None when there is nothing to take apart. ``panel``: the cells'
    panel when it is already prepared."""
    panel = prepare_panel(cells) if panel is None else panel
    if panel is None:
        return None
    d = decompose(panel, peaks_for(panel, calendar), level=level, sign=sign)
    return GapRow(metric, d) if d is not None else None
