"""The old import path of the cell models, kept so that branches written against it still run.

The models now live one concern per module: cells (PreparedCells), design (designs and
identification), wls (the fit and its covariances), contrasts (effects, lifts, retention),
adjusted (fit_adjusted), slices (fit_slice_effects), trend (production_trend,
forecast_counterfactual), effects (result types), quantiles, holm, fieller, power. New code
imports those modules; nothing in this package imports this one.
"""

from __future__ import annotations

from analytics.engine.adjusted import fit_adjusted
from analytics.engine.cells import PHASES, PreparedCells, prepare_cells
from analytics.engine.contrasts import ASSUMPTIONS
from analytics.engine.design import Mode, TreatSpec, shared_layouts
from analytics.engine.effects import AdjustedFit, Counterfactual, Effect, Ratio, SliceEffect, Trend
from analytics.engine.fieller import fieller_ratio
from analytics.engine.holm import holm
from analytics.engine.power import mde, rows_needed
from analytics.engine.quantiles import NAN, two_sided_t
from analytics.engine.slices import fit_slice_effects
from analytics.engine.trend import forecast_counterfactual, production_trend

__all__ = [
    "ASSUMPTIONS", "NAN", "PHASES", "AdjustedFit", "Counterfactual", "Effect", "Mode",
    "PreparedCells", "Ratio", "SliceEffect", "Trend", "TreatSpec", "fieller_ratio",
    "fit_adjusted", "fit_slice_effects", "forecast_counterfactual", "holm", "mde",
    "prepare_cells", "production_trend", "rows_needed", "shared_layouts", "two_sided_t",
]  # fmt: skip
