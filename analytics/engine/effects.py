"""Result types of the adjusted model: effects, ratios, slice effects, trend, counterfactual.

Frozen dataclasses with plain fields; undefined numbers are NaN and a ``note`` says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Ratio:
    """A ratio of two estimates with its Fieller interval (infinite bounds when unbounded)."""

    estimate: float
    ci_low: float
    ci_high: float
    note: str = ""


@dataclass(frozen=True, slots=True)
class Effect:
    """One adjusted effect (a coefficient or a difference of two) with its adjusted lift.

    ``lift = estimate / counterfactual_mean`` where ``counterfactual_mean = treated_mean -
    estimate`` is what the treated rows would have averaged without the AI, per the model.
    """

    name: str
    estimate: float
    se: float
    df: float
    ci_low: float
    ci_high: float
    p_value: float
    lift: float
    lift_se: float
    lift_ci_low: float
    lift_ci_high: float
    counterfactual_mean: float
    treated_mean: float
    n_treated: int
    n_sites: int
    method: str
    assumption: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class AdjustedFit:
    """The adjusted model for one metric: pilot and production effects, their difference and the
    lift retention (production lift / pilot lift)."""

    method: str
    assumption: str
    pilot: Effect | None
    production: Effect | None
    production_vs_pilot: Effect | None
    retention: Ratio | None
    n_rows: int
    n_cells: int
    n_clusters: int
    concurrent_periods: int
    note: str = ""


@dataclass(frozen=True, slots=True)
class SliceEffect:
    """A site's (or channel's) own production effect from the shared model."""

    slice_type: str
    name: str
    effect: Effect
    retention: Ratio | None
    p_holm: float


@dataclass(frozen=True, slots=True)
class Trend:
    """Slope per period of the production period means."""

    slope: float
    ci_low: float
    ci_high: float
    p_value: float
    periods: int
    note: str = ""


@dataclass(frozen=True, slots=True)
class Counterfactual:
    """Forecast of the pre-AI series over the production periods.

    ``points`` holds ``(period, observed, predicted, lo, hi)`` with ``period`` an ISO date string:
    baseline periods first (predicted, lo, hi NaN), then every production period with the
    forecast and its prediction interval.
    """

    method: str
    baseline_periods: int
    cumulative_effect: float
    ci_low: float
    ci_high: float
    points: tuple[tuple[str, float, float, float, float], ...]
    note: str = ""


def _join(notes: Sequence[str]) -> str:
    seen: list[str] = []
    for note in notes:
        if note and note not in seen:
            seen.append(note)
    return " ".join(seen)
