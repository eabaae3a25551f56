"""The adjusted fits of one metric (overall, by site, by channel), the rollout estimates in their
place, and the effect rows and raw means the results and the verdict evidence are read from."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from analytics.decide.results import EffectRow
from analytics.decide.rollout import MetricRollout, as_effect
from analytics.engine.adjusted import fit_adjusted
from analytics.engine.aggregate import pool_cells
from analytics.engine.cells import PreparedCells, prepare_cells
from analytics.engine.effects import AdjustedFit, Effect, SliceEffect
from analytics.engine.quantiles import two_sided_t
from analytics.engine.slices import fit_slice_effects

NAN = float("nan")


@dataclass(frozen=True, slots=True)
class MetricFit:
    """The adjusted fits of one metric: overall, by site, by channel."""

    overall: AdjustedFit
    sites: tuple[SliceEffect, ...]
    channels: tuple[SliceEffect, ...]


def _pair(a: float, b: float) -> tuple[float, float]:
    return (float(a), float(b))


def _quantile(alpha: float, df: float) -> float:
    if not math.isfinite(df) or df <= 0:
        return NAN
    return two_sided_t(alpha, df)


def _lift_interval(effect: Effect | None, alpha: float) -> tuple[float, float, float]:
    """An effect's adjusted lift with its interval at level 1 − alpha (from its own se and df)."""
    if effect is None or not math.isfinite(effect.lift_se):
        return NAN, NAN, NAN
    q = _quantile(alpha, effect.df)
    return effect.lift, effect.lift - q * effect.lift_se, effect.lift + q * effect.lift_se


class _Means:
    """Raw row counts and means per (metric, phase) or (metric, phase, slice), for lookups."""

    def __init__(self, cells: pd.DataFrame, key: str | None = None) -> None:
        keys = ["metric", "phase", *([key] if key else [])]
        self._table: dict[tuple[str, ...], tuple[int, float]] = {}
        if cells.empty:
            return
        pooled = pool_cells(cells, keys)
        for *names, n, mean in pooled[[*keys, "n", "mean"]].itertuples(index=False, name=None):
            self._table[tuple(names)] = (int(n), float(mean))

    def get(self, metric: str, phase: str, name: str | None = None) -> tuple[int, float]:
        key = (metric, phase) if name is None else (metric, phase, name)
        return self._table.get(key, (0, NAN))


def _adjusted_row(
    metric: str,
    comparison: str,
    effect: Effect | None,
    a: tuple[int, float],
    b: tuple[int, float],
    slice_type: str = "overall",
    slice_name: str | None = None,
    p_adjusted: float = NAN,
) -> EffectRow | None:
    if effect is None or not math.isfinite(effect.estimate):
        return None
    return EffectRow(
        metric=metric,
        comparison=comparison,
        slice_type=slice_type,
        slice=slice_name,
        adjusted=True,
        method=effect.method,
        n_a=a[0],
        n_b=b[0],
        mean_a=a[1],
        mean_b=b[1],
        diff=effect.estimate,
        diff_ci=_pair(effect.ci_low, effect.ci_high),
        lift=effect.lift,
        lift_ci=_pair(effect.lift_ci_low, effect.lift_ci_high),
        p_value=effect.p_value,
        p_adjusted=effect.p_value if math.isnan(p_adjusted) else p_adjusted,
    )


def _unadjusted_rows(table: pd.DataFrame) -> list[EffectRow]:
    columns = {c: table[c].tolist() for c in table.columns}
    rows = []
    for i, slice_type in enumerate(columns["slice_type"]):
        if slice_type == "overall":
            name: Any = None
        elif slice_type == "site":
            name = columns["site"][i]
        elif slice_type == "channel":
            name = columns["channel"][i]
        else:
            name = (columns["site"][i], columns["channel"][i])
        rows.append(
            EffectRow(
                metric=columns["metric"][i],
                comparison=columns["comparison"][i],
                slice_type=slice_type,
                slice=name,
                adjusted=False,
                method="welch",
                n_a=int(columns["n_a"][i]),
                n_b=int(columns["n_b"][i]),
                mean_a=float(columns["mean_a"][i]),
                mean_b=float(columns["mean_b"][i]),
                diff=float(columns["diff"][i]),
                diff_ci=_pair(columns["diff_ci_low"][i], columns["diff_ci_high"][i]),
                lift=float(columns["lift"][i]),
                lift_ci=_pair(columns["lift_ci_low"][i], columns["lift_ci_high"][i]),
                p_value=float(columns["p_value"][i]),
                p_adjusted=float(columns["p_adjusted"][i]),
            )
        )
    return rows


def fit_metric(
    cells: pd.DataFrame,
    alpha: float,
    prepared: PreparedCells | None = None,
    *,
    sites: bool = True,
    channels: bool = True,
) -> MetricFit:
    """The adjusted model of one metric, overall and with production × site / × channel
    (``sites``/``channels`` False: those slices are not fitted, for a caller that has the
    rollout's own in their place)."""
    prepared = prepared if prepared is not None else prepare_cells(cells)
    overall = fit_adjusted(prepared, alpha=alpha)
    by_site = tuple(fit_slice_effects(prepared, by="site", alpha=alpha)) if sites else ()
    by_channel = (
        tuple(fit_slice_effects(prepared, by="channel", alpha=alpha))
        if channels and cells["channel"].nunique() > 1
        else ()
    )
    return MetricFit(overall, by_site, by_channel)


def with_rollout(fit: MetricFit, roll: MetricRollout | None, alpha: float) -> MetricFit:
    """The fit with the imputation estimates in place of the two-way model's production, site
    and channel effects (the two-way numbers stay as "what the usual model says"); the pilot
    effect stays what the pilot team's own report says."""
    if roll is None:
        return fit
    prod = roll.production
    production = as_effect(prod, "production", alpha) if prod.identified else None
    overall = replace(
        fit.overall,
        production=production,
        production_vs_pilot=roll.production_vs_pilot,
        retention=roll.retention,  # from the imputation estimates (decide/retention.py)
        method=production.method if production else fit.overall.method,
        assumption=production.assumption if production else fit.overall.assumption,
        note=fit.overall.note
        if production
        else " ".join(x for x in (fit.overall.note, prod.note) if x),
    )

    def slices(tests, old):
        kept = {t.name: t.retention for t in tests}  # the imputation estimates' retention
        return tuple(
            SliceEffect(
                t.slice_type,
                t.name,
                as_effect(t.estimate, t.name, alpha),
                kept.get(t.name),
                t.p_family,
            )  # fmt: skip
            for t in tests
        )

    return MetricFit(
        overall,
        slices(roll.sites, fit.sites) if roll.sites else fit.sites,
        slices(roll.channels, fit.channels) if roll.channels else fit.channels,
    )
