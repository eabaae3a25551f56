"""Each site's (or channel's) own production effect from the shared model, Holm across slices."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pandas as pd

from analytics.engine.cells import _BASELINE, _PILOT, _PRODUCTION, PreparedCells, prepare_cells
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
from analytics.engine.wls import _fit


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
    channel_fe = by == "channel"

    # Same model choice as fit_adjusted: two-way FE unless production is identified only by trend.
    overall: TreatSpec = {"production": ("production", None, None)}
    if has_pilot:
        overall["pilot"] = ("pilot", None, None)
    modes = _modes(prep)
    mode: Mode = modes[0]
    for m in modes:
        if _identified(prep, overall, m, channel_fe).get("production"):
            mode = m
            break

    slice_values = df.site if by == "site" else df.channel
    levels = prep.sites if by == "site" else prep.channels
    names = [levels[c] for c in np.unique(slice_values[phase == _PRODUCTION])]
    treat: TreatSpec = {}
    if has_pilot:
        treat["pilot"] = ("pilot", None, None)
    for name in names:
        treat[f"production:{by}[{name}]"] = ("production", by, name)
    fit = _fit(prep, treat, mode, channel_fe)
    method = f"{mode}_hc1_cells"

    pilot_form: tuple[np.ndarray, np.ndarray] | None = None
    pilot_ok = False
    if has_pilot and fit.identified.get("pilot"):
        cq = np.zeros(len(fit.beta))
        cq[fit.column("pilot")] = 1.0
        dq = _counterfactual_row(fit, "pilot")
        pilot_form = (cq, dq)
        pe = _effect(fit, "pilot", cq, dq, "hc1_cells", alpha, *_treated(df, phase == _PILOT))
        pilot_ok = math.isfinite(pe.lift_ci_low) and (pe.lift_ci_low > 0 or pe.lift_ci_high < 0)

    effects: list[tuple[str, Effect, Ratio | None]] = []
    for name in names:
        col = f"production:{by}[{name}]"
        mask = (phase == _PRODUCTION) & (slice_values == levels.index(name))
        mean, rows, sites = _treated(df, mask)
        if not fit.identified.get(col):
            note = (
                f"This {by}'s production effect cannot be separated from its own {by} and the "
                "period effects (for example, it has no rows before going live), so no estimate "
                "is reported."
            )
            effects.append((name, _empty_effect(name, method, mean, rows, sites, note), None))
            continue
        c = np.zeros(len(fit.beta))
        c[fit.column(col)] = 1.0
        d = _counterfactual_row(fit, col)
        eff = _effect(fit, name, c, d, "hc1_cells", alpha, mean, rows, sites)
        ret = None
        if pilot_form is not None and pilot_ok:
            ret = _retention(fit, (c, d), pilot_form, "hc1_cells", alpha)
        effects.append((name, eff, ret))
    p_holm = holm([e.p_value for _, e, _ in effects])
    return [
        SliceEffect(by, name, eff, ret, float(ph))
        for (name, eff, ret), ph in zip(effects, p_holm, strict=True)
    ]
