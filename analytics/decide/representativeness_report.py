"""How representative the pilot was of production, as results.json carries it (one row per
outcome; engine/representativeness.py computes it, METHODS.md explains it)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from analytics.core import fmt
from analytics.engine.panel import Panel, prepare_panel
from analytics.engine.representativeness import Representativeness, represent


@dataclass(frozen=True, slots=True)
class RepresentativenessRow:
    """One outcome's pilot against production's mix; numbers in the metric's own units, the
    sentence in improvement terms (``sign``: +1 higher is better, −1 lower)."""

    metric: str
    rep: Representativeness
    sign: int

    @property
    def sentence(self) -> str:
        return representativeness_sentence(self.rep, self.sign)

    def to_dict(self) -> dict[str, Any]:
        r = self.rep
        return {
            "metric": self.metric,
            "level": r.level,
            "mix": [
                {
                    "dimension": m.dimension,
                    "level": m.level,
                    "pilot_share": m.pilot_share,
                    "production_share": m.production_share,
                }
                for m in r.mix
            ],
            "pilot_effect": r.pilot_effect,
            "pilot_lift": r.pilot_lift,
            "reweighted_by": list(r.by),
            "reweighted_effect": r.reweighted_effect,
            "reweighted_ci": list(r.reweighted_ci),
            "reweighted_lift": r.reweighted_lift,
            "reweighted_lift_ci": list(r.reweighted_lift_ci),
            "df": r.df,
            "covered_share": r.covered_share,
            "silent": list(r.silent),
            "sentence": self.sentence,
        }


def _join(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def representativeness_sentence(r: Representativeness, sign: int) -> str:
    """The pilot re-weighted to production's mix, and what it is silent on, in one sentence."""
    silent = f" {_join(r.silent)[0].upper()}{_join(r.silent)[1:]}." if r.silent else ""
    if not math.isfinite(r.reweighted_effect):
        return f"The pilot ran under none of production's conditions.{silent}"
    lo, hi = sorted(sign * x for x in r.reweighted_ci)
    by = _join([{"load": "load (peak or normal periods)"}.get(d, d + "s") for d in r.by])
    covered = (
        "all of production"
        if r.covered_share >= 1 - 1e-12
        else f"{fmt.pct(r.covered_share, signed=False, digits=0)} of production"
    )
    return (
        f"Re-weighted to production's mix of {by}, the pilot's effect is "
        f"{sign * r.reweighted_effect:+.3g} ({fmt.level(r.level)} interval {lo:+.3g} to "
        f"{hi:+.3g}; improvement in the metric's units), against {sign * r.pilot_effect:+.3g} "
        f"as the pilot ran; it speaks for {covered}.{silent}"
    )


def representativeness_row(
    metric: str,
    cells: pd.DataFrame,
    sign: int,
    level: float,
    calendar: Sequence[str] = (),
    panel: Panel | None = None,
) -> RepresentativenessRow | None:
    """One outcome's representativeness; None without pilot or production cells. ``panel``:
    the cells' panel when it is already prepared."""
    panel = prepare_panel(cells) if panel is None else panel
    if panel is None:
        return None
    r = represent(panel, calendar, level=level)
    return RepresentativenessRow(metric, r, sign) if r is not None else None
