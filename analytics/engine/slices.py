"""Each site's (or channel's) own production effect from the shared model, Holm across slices."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pandas as pd

from analytics.engine.cells import (
    _BASELINE,
    _PILOT,
    _PRODUCTION,
    PreparedCells,
    _Frame,
    prepare_cells,
)
from analytics.engine.contrasts import (
    _counterfactual_row,
    _effect,
    _empty_effect,
    _modes,
    _retention,
    _treated,
)
from analytics.engine.design import Mode, TreatSpec, _identified
from analytics.engine.effects import Effect, Ratio, SliceEffect
from analytics.engine.holm import holm
from analytics.engine.wls import _Fit, _fit


def fit_slice_effects(
    cells: pd.DataFrame | PreparedCells,
    by: Literal["site", "channel"],
    alpha: float = 0.05,
) -> list[SliceEffect]:
    """Each site's (or channel's) production effect from the same model.

    ``value ~ pilot + Σ_s production×1[slice=s] + C(site) [+ C(channel)] + C(period)`` with HC1 on
    the cells, Holm across the slices; the site-trend model replaces C(period) when the overall
    production effect is identified only there. Each slice's adjusted lift uses its own
    counterfactual mean; retention = slice production lift / pilot lift (same fit), reported only
    when the pilot's lift interval excludes 0. Slices without production rows are skipped.
    ``cells`` may be a :class:`PreparedCells` (see :func:`prepare_cells`).
    """
    if by not in ("site", "channel"):
        return []
    prep = prepare_cells(cells)
    df = prep.frame
    if df is None:
        return []
    phase = df.phase
    if not (phase == _PRODUCTION).any() or not (phase == _BASELINE).any():
        return []
    has_pilot = bool((phase == _PILOT).any())
    mode = _slice_mode(prep, has_pilot, channel_fe=by == "channel")
    slice_values = df.site if by == "site" else df.channel
    levels = prep.sites if by == "site" else prep.channels
    names = [levels[c] for c in np.unique(slice_values[phase == _PRODUCTION])]
    treat: TreatSpec = {}
    if has_pilot:
        treat["pilot"] = ("pilot", None, None)
    for name in names:
        treat[f"production:{by}[{name}]"] = ("production", by, name)
    fit = _fit(prep, treat, mode, by == "channel")
    pilot_form = _clear_pilot(fit, df, alpha) if has_pilot else None
    effects: list[tuple[str, Effect, Ratio | None]] = []
    for name in names:
        mask = (phase == _PRODUCTION) & (slice_values == levels.index(name))
        effects.append(_slice_effect(fit, by, name, _treated(df, mask), pilot_form, alpha))
    p_holm = holm([e.p_value for _, e, _ in effects])
    return [
        SliceEffect(by, name, eff, ret, float(ph))
        for (name, eff, ret), ph in zip(effects, p_holm, strict=True)
    ]


def _slice_mode(prep: PreparedCells, has_pilot: bool, channel_fe: bool) -> Mode:
    """Same model choice as fit_adjusted: two-way FE unless production is identified only by
    trend."""
    overall: TreatSpec = {"production": ("production", None, None)}
    if has_pilot:
        overall["pilot"] = ("pilot", None, None)
    modes = _modes(prep)
    for m in modes:
        if _identified(prep, overall, m, channel_fe).get("production"):
            return m
    return modes[0]


def _clear_pilot(fit: _Fit, df: _Frame, alpha: float) -> tuple[np.ndarray, np.ndarray] | None:
    """The pilot effect's linear forms (c, d) when the pilot's lift interval excludes 0 (a clear
    promise a slice's retention can be measured against), else None."""
    if not fit.identified.get("pilot"):
        return None
    cq = np.zeros(len(fit.beta))
    cq[fit.column("pilot")] = 1.0
    dq = _counterfactual_row(fit, "pilot")
    pe = _effect(fit, "pilot", cq, dq, "hc1_cells", alpha, *_treated(df, df.phase == _PILOT))
    pilot_ok = math.isfinite(pe.lift_ci_low) and (pe.lift_ci_low > 0 or pe.lift_ci_high < 0)
    return (cq, dq) if pilot_ok else None


def _slice_effect(
    fit: _Fit,
    by: str,
    name: str,
    treated: tuple[float, int, int],
    pilot_form: tuple[np.ndarray, np.ndarray] | None,
    alpha: float,
) -> tuple[str, Effect, Ratio | None]:
    """One slice's production effect and retention (None when not identified or no clear pilot)."""
    col = f"production:{by}[{name}]"
    if not fit.identified.get(col):
        note = (
            f"This {by}'s production effect cannot be separated from its own {by} and the "
            "period effects (for example, it has no rows before going live), so no estimate "
            "is reported."
        )
        return name, _empty_effect(name, f"{fit.mode}_hc1_cells", *treated, note), None
    c = np.zeros(len(fit.beta))
    c[fit.column(col)] = 1.0
    d = _counterfactual_row(fit, col)
    eff = _effect(fit, name, c, d, "hc1_cells", alpha, *treated)
    ret = None
    if pilot_form is not None:
        ret = _retention(fit, (c, d), pilot_form, "hc1_cells", alpha)
    return name, eff, ret
