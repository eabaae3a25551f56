"""One analysis of one dataset: cells from DuckDB, inference on cells, verdicts, value at scale.

This is the single entry point the pages, the CLI and the board pack call, so all three show the
same numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from analytics import __version__
from analytics.core.catalog import Catalog, Metric
from analytics.decide import value as value_mod
from analytics.decide.gap_report import GapRow, gap_row
from analytics.decide.results import (
    CounterfactualRow,
    EffectRow,
    MetricVerdict,
    Results,
    RetentionRow,
    RolloutRow,
    SiteVerdict,
    TrendRow,
    ValueRow,
)
from analytics.decide.rollout import (
    MetricRollout,
    analyse_rollout,
    as_effect,
    correct_family,
    still_growing,
    warnings_for,
    worse_slices,
)
from analytics.decide.rollout_report import (
    breakdown_sentence,
    rollout_row,
    site_interval,
    verdict_breakdown,
)
from analytics.decide.verdict import Decision, Evidence, decide
from analytics.decide.volumes import with_volumes
from analytics.engine import influence, stats
from analytics.engine.aggregate import (
    Filters,
    cells_from_days,
    count_rejected,
    pool_cells,
    summarise_cells,
    summarise_days,
    summary_from_days,
)
from analytics.engine.cadence import PhaseExtent, phase_extent
from analytics.engine.compare import compare_all
from analytics.store.database import Store

NAN = float("nan")


@dataclass(frozen=True, slots=True)
class MetricFit:
    """The adjusted fits of one metric: overall, by site, by channel."""

    overall: stats.AdjustedFit
    sites: tuple[stats.SliceEffect, ...]
    channels: tuple[stats.SliceEffect, ...]


def _pair(a: float, b: float) -> tuple[float, float]:
    return (float(a), float(b))


def _quantile(alpha: float, df: float) -> float:
    if not math.isfinite(df) or df <= 0:
        return NAN
    return stats.two_sided_t(alpha, df)


def _lift_interval(effect: stats.Effect | None, alpha: float) -> tuple[float, float, float]:
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
    effect: stats.Effect | None,
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
    cells: pd.DataFrame, alpha: float, prepared: stats.PreparedCells | None = None
) -> MetricFit:
    """The adjusted model of one metric, overall and with production × site / × channel."""
    prepared = prepared if prepared is not None else stats.prepare_cells(cells)
    overall = stats.fit_adjusted(prepared, alpha=alpha)
    sites = tuple(stats.fit_slice_effects(prepared, by="site", alpha=alpha))
    channels = (
        tuple(stats.fit_slice_effects(prepared, by="channel", alpha=alpha))
        if cells["channel"].nunique() > 1
        else ()
    )
    return MetricFit(overall, sites, channels)


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
            stats.SliceEffect(
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


def _significantly_worse(metric: Metric, slices: tuple[stats.SliceEffect, ...], alpha: float):
    return tuple(
        s
        for s in slices
        if math.isfinite(s.p_holm) and s.p_holm < alpha and metric.sign * s.effect.estimate < 0
    )


def _worse_summary(metric: Metric, worse: tuple[stats.SliceEffect, ...], total: int) -> str:
    if total == 0:
        return "No site has production rows yet."
    if not worse:
        return f"No site of {total} is significantly worse than before the AI on {metric.label}."
    names = ", ".join(s.name for s in worse)
    return f"{len(worse)} of {total} sites are worse than before the AI on {metric.label}: {names}."


def _guardrails(
    catalog: Catalog, means: _Means, outcome: Metric, site: str | None = None
) -> tuple[str, ...]:
    """Guardrails guarding `outcome` whose production mean is on the wrong side of its limit."""
    breached = []
    for guard in catalog.metrics:
        if guard.id == outcome.id or not guard.guards_metric(outcome.id):
            continue
        _, mean = means.get(guard.id, "production", site)
        if guard.guardrail_breached(mean):
            side = "at least" if guard.direction == "higher" else "at most"
            breached.append(
                f"{guard.label} is {mean:.4g} in production, where it must be {side} "
                f"{guard.guardrail:.4g}"
            )
    return tuple(breached)


def _production_evidence(
    metric: Metric,
    fit: MetricFit,
    roll: MetricRollout | None,
    catalog: Catalog,
    means: _Means,
    n_sites_dataset: int,
    level: float,
    extent: PhaseExtent | None = None,
) -> Evidence:
    """What the production verdict is decided on: the imputation estimate at the verdict's
    level, its few-sites test, the family's rule-3 flags, retention and guardrails."""
    alpha = catalog.settings.alpha
    production = fit.overall.production
    n_prod, _ = means.get(metric.id, "production")
    if roll is not None:
        # Only sites with baseline rows count (rule 1) and are clusters; a rollout with no live
        # row left to compare (every site live at once) has no estimate, and its note says why.
        est = roll.production
        lift, (lo, hi) = est.lift, est.lift_ci(level)
        worse = tuple(s.name for s in worse_slices(roll, metric.sign, alpha))
        n_sites, dataset_sites = roll.production_sites, est.clusters
    else:
        lift, lo, hi = _lift_interval(production, 1 - level)
        worse = tuple(s.name for s in _significantly_worse(metric, fit.sites, alpha))
        n_sites = production.n_sites if production else 0
        dataset_sites = n_sites_dataset
        est = None
    retention = fit.overall.retention
    return Evidence(
        metric=metric,
        phase="production",
        lift=lift,
        lift_low=lo,
        lift_high=hi,
        ci_level=level,
        method=production.method if production else fit.overall.method,
        n_rows=n_prod,
        n_sites=n_sites,
        dataset_sites=dataset_sites,
        worse_slices=worse,
        retention=retention.estimate if retention else None,
        retention_high=retention.ci_high if retention else None,
        breached=_guardrails(catalog, means, metric),
        note=(production.note if production else fit.overall.note),
        placebo=est.placebo if est is not None else None,
        still_growing=still_growing(roll, metric.sign) if roll is not None else "",
        treated_sites=est.treated_sites if est is not None else 0,
        periods=extent.periods if extent else 0,
        period_unit=extent.unit if extent else "",
    )


def _site_verdicts(
    metric: Metric, roll: MetricRollout, catalog: Catalog, site_means: _Means
) -> list[SiteVerdict]:
    """Per-site verdicts: rule 1 on the site's production rows, the few-sites test (one live
    site: the placebo test) at level 1 − alpha, rules 2-5."""
    settings = catalog.settings
    alpha = settings.alpha
    worse = {s.name for s in worse_slices(roll, metric.sign, alpha)}
    out = []
    for s in roll.sites:
        lift, lo, hi = site_interval(s, alpha)
        decision = decide(
            Evidence(
                metric=metric,
                phase=s.name,
                lift=lift,
                lift_low=lo,
                lift_high=hi,
                ci_level=1 - alpha,
                method=s.estimate.method,
                n_rows=s.estimate.rows_selected,
                check_site_count=False,
                worse_slices=(s.name,) if s.name in worse else (),
                breached=_guardrails(catalog, site_means, metric, s.name),
                note=s.estimate.note,
                placebo=s.estimate.placebo,
                treated_sites=s.estimate.treated_sites,
            ),
            settings,
        )
        out.append(
            SiteVerdict(metric.id, s.name, decision.verdict, lift, _pair(lo, hi), decision.reasons)
        )
    return out


def _decide_metric(
    metric: Metric,
    fit: MetricFit,
    roll: MetricRollout | None,
    catalog: Catalog,
    means: _Means,
    site_means: _Means,
    n_sites_dataset: int,
    family: int,
    extent: PhaseExtent | None = None,
) -> tuple[MetricVerdict, list[SiteVerdict]]:
    settings = catalog.settings
    alpha = settings.alpha
    bonferroni = alpha / max(family, 1)
    level = 1 - bonferroni
    production, pilot = fit.overall.production, fit.overall.pilot
    evidence = _production_evidence(
        metric, fit, roll, catalog, means, n_sites_dataset, level, extent
    )
    production_decision = decide(evidence, settings)
    lift, lo, hi = evidence.lift, evidence.lift_low, evidence.lift_high
    worse_sites = tuple(s for s in fit.sites if s.name in evidence.worse_slices)
    retention = fit.overall.retention
    # What the pilot alone would have said: the pilot team's own report (HC-robust), labelled.
    p_lift, p_lo, p_hi = _lift_interval(pilot, bonferroni)
    n_pilot, _ = means.get(metric.id, "pilot")
    pilot_decision: Decision = decide(
        Evidence(
            metric=metric,
            phase="pilot",
            lift=p_lift,
            lift_low=p_lo,
            lift_high=p_hi,
            ci_level=level,
            method=pilot.method if pilot else fit.overall.method,
            n_rows=n_pilot,
            check_site_count=False,
            note=(pilot.note if pilot else "There is no pilot to judge."),
        ),
        settings,
    )
    warnings = warnings_for(roll) if roll is not None else ()
    broke = verdict_breakdown(metric, roll, level) if roll is not None else None
    holds = breakdown_sentence(metric, broke, settings.grain)
    verdict = MetricVerdict(
        metric=metric.id,
        label=metric.label,
        verdict=production_decision.verdict,
        estimate=lift,
        ci=_pair(lo, hi),
        ci_level=level,
        method=production_decision.method,
        assumption=production.assumption if production else fit.overall.assumption,
        pilot_verdict=pilot_decision.verdict,
        pilot_estimate=p_lift,
        pilot_ci=_pair(p_lo, p_hi),
        pilot_reasons=pilot_decision.reasons,
        reasons=production_decision.reasons,
        rows_needed=production_decision.rows_needed,
        retention=retention.estimate if retention else None,
        worse_summary=_worse_summary(metric, worse_sites, len(fit.sites)),
        mde=(
            stats.mde(production.lift_se, production.df, alpha=bonferroni)
            if production is not None
            else NAN
        ),
        warnings=warnings + ((holds,) if holds else ()),
    )
    if roll is not None and roll.sites:
        return verdict, _site_verdicts(metric, roll, catalog, site_means)
    return verdict, []


def _live_sites(cells: pd.DataFrame) -> list[str]:
    """Sites with both production and baseline rows: the sites a forecast speaks for."""
    if "site" not in cells.columns:
        return []
    prod = set(cells.loc[cells["phase"] == "production", "site"])
    base = set(cells.loc[cells["phase"] == "baseline", "site"])
    return sorted(prod & base)


def _outcome_rollouts(
    catalog: Catalog, by_metric: dict[str, pd.DataFrame], alpha: float
) -> dict[str, MetricRollout]:
    """The rollout evidence of every outcome, with rule 3's flags corrected across them all."""
    rolls = {}
    for metric in catalog.outcomes:
        group = by_metric.get(metric.id)
        if group is not None and not group.empty:
            roll = analyse_rollout(group, alpha)
            if roll is not None:
                rolls[metric.id] = roll
    return correct_family(rolls)


_BLAS_LIMITED = False


def _limit_blas_threads() -> None:
    """One BLAS thread for the process, once.

    The models are small dense solves; on 2 cores OpenBLAS's threads only contend (measured on
    the sample: 10.1 s with its default threads, 2.4 s with one).
    """
    global _BLAS_LIMITED
    if not _BLAS_LIMITED:
        threadpool_limits(limits=1, user_api="blas")
        _BLAS_LIMITED = True


def analyse(
    store: Store,
    dataset_id: int,
    catalog: Catalog,
    filters: Filters | None = None,
    *,
    with_counterfactual: bool = True,
) -> Results:
    """Analyse a stored dataset under the catalog and filters."""
    _limit_blas_threads()
    with stats.shared_layouts():  # metrics with cells in the same places share design work
        return _analyse(store, dataset_id, catalog, filters, with_counterfactual)


def _analyse(
    store: Store,
    dataset_id: int,
    catalog: Catalog,
    filters: Filters | None,
    with_counterfactual: bool,
) -> Results:
    settings = catalog.settings
    filters = filters or Filters(grain=settings.grain)
    cur = store.cursor()
    info = next(d for d in store.datasets() if d.id == dataset_id)
    shown = [m for m in catalog.metrics if not filters.metrics or m.id in filters.metrics]
    # The verdict family is every outcome of the catalog, whatever is shown (DESIGN.md).
    needed = {m.id for m in shown} | {m.id for m in catalog.outcomes}
    needed |= {m.id for m in catalog.metrics if m.guardrail is not None}
    ids = [m.id for m in catalog.metrics if m.id in needed]
    # One scan: day cells, from which months, weeks and the summary are merged.
    days = summarise_days(cur, dataset_id, ids, filters)
    summary = summary_from_days(days, count_rejected(cur, dataset_id))
    # Aggregated rows: "more data" is said in the data's periods and sites (verdict rule 5).
    extent = phase_extent(days, "production") if summary.weighted else None
    cells = cells_from_days(days, ids, filters.grain)
    if cells.empty:
        cells = cells.assign(n=cells["n"].astype("int64"))
    alpha = settings.alpha
    table = compare_all(cells[cells["metric"].isin([m.id for m in shown])], alpha)
    effects: list[EffectRow] = _unadjusted_rows(table) if not table.empty else []
    means, site_means, channel_means = (
        _Means(cells),
        _Means(cells, "site"),
        _Means(cells, "channel"),
    )
    family = len(catalog.outcomes)
    retention: list[RetentionRow] = []
    verdicts: list[MetricVerdict] = []
    site_verdicts: list[SiteVerdict] = []
    values: list[ValueRow] = []
    counterfactuals: list[CounterfactualRow] = []
    trends: list[TrendRow] = []
    notes: list[str] = []
    scores: dict[str, influence.Scores] = {}  # production site scores of the priced outcomes
    methods: dict[str, str] = {}
    by_metric = {
        m: g.drop(columns="metric").reset_index(drop=True) for m, g in cells.groupby("metric")
    } if not cells.empty else {}  # fmt: skip
    weekly: pd.DataFrame | None = None
    rolls = _outcome_rollouts(catalog, by_metric, alpha)
    rollouts: list[RolloutRow] = []
    gaps: list[GapRow] = []
    for metric in catalog.metrics:
        group = by_metric.get(metric.id)
        if metric.id not in needed:
            continue
        if group is None or group.empty:
            notes.append(f"{metric.label} has no values under these filters.")
            continue
        prepared = stats.prepare_cells(group)  # cleaned once, shared by every model below
        fit = fit_metric(group, alpha, prepared)
        usual = fit.overall.production  # the two-way model: "what the usual model says"
        roll = (
            rolls.get(metric.id)
            if metric.kind == "outcome"
            else analyse_rollout(group, alpha, with_slices=False)
        )
        fit = with_rollout(fit, roll, alpha)
        if fit.overall.note:
            notes.append(f"{metric.label}: {fit.overall.note}")
        is_shown = metric in shown
        if is_shown:
            mid = metric.id
            raw = {p: means.get(mid, p) for p in ("baseline", "pilot", "production")}
            o = fit.overall
            for comparison, effect, a, b in (
                ("pilot_vs_baseline", o.pilot, raw["pilot"], raw["baseline"]),
                ("production_vs_baseline", o.production, raw["production"], raw["baseline"]),
                ("production_vs_pilot", o.production_vs_pilot, raw["production"], raw["pilot"]),
            ):
                row = _adjusted_row(mid, comparison, effect, a, b)
                if row:
                    effects.append(row)
            for slice_type, slices, slice_means in (
                ("site", fit.sites, site_means),
                ("channel", fit.channels, channel_means),
            ):
                for s in slices:
                    row = _adjusted_row(
                        mid,
                        "production_vs_baseline",
                        s.effect,
                        slice_means.get(mid, "production", s.name),
                        slice_means.get(mid, "baseline", s.name),
                        slice_type,
                        s.name,
                        s.p_holm,
                    )
                    if row:
                        effects.append(row)
                    if s.retention is not None:
                        retention.append(
                            RetentionRow(
                                mid,
                                slice_type,
                                s.name,
                                s.retention.estimate,
                                _pair(s.retention.ci_low, s.retention.ci_high),
                                s.retention.note,
                            )
                        )
            if o.retention is not None:
                retention.insert(
                    0,
                    RetentionRow(
                        mid,
                        "overall",
                        None,
                        o.retention.estimate,
                        _pair(o.retention.ci_low, o.retention.ci_high),
                        o.retention.note,
                    ),
                )
            trend = stats.production_trend(prepared, alpha=alpha)
            trends.append(
                TrendRow(
                    mid,
                    trend.slope,
                    _pair(trend.ci_low, trend.ci_high),
                    trend.p_value,
                    trend.periods,
                    trend.note,
                )
            )
        if metric.kind != "outcome":
            continue
        verdict, per_site = _decide_metric(
            metric, fit, roll, catalog, means, site_means, len(summary.sites), family, extent
        )
        verdicts.append(verdict)
        if roll is not None:
            broke = verdict_breakdown(metric, roll, verdict.ci_level)
            rollouts.append(
                rollout_row(metric, roll, usual, fit.overall.pilot, verdict.ci_level, broke)
            )
            gap = gap_row(metric.id, group, metric.sign, verdict.ci_level)
            if gap is not None:
                gaps.append(gap)
        site_verdicts.extend(per_site)
        value = value_mod.metric_value(
            metric, fit.overall, catalog, roll.production if roll is not None else None
        )
        if value:
            values.append(value)
            # The verdict's estimator's site scores (ψ_g, Σψ² its variance) for the total.
            scores[metric.id] = (
                dict(roll.production.influence)
                if roll is not None and roll.production.influence
                else influence.site_scores(prepared)
            )
            methods[metric.id] = verdict.method
        if with_counterfactual:
            # The live sites' own history, never a pooled mean of different sites.
            live = _live_sites(group)
            own = group[group["site"].isin(live)].reset_index(drop=True) if live else group
            cf = stats.forecast_counterfactual(own, alpha=alpha)
            if not math.isfinite(cf.cumulative_effect) and filters.grain == "month":
                # Too few baseline months: weeks may hold enough periods to forecast from.
                if weekly is None:
                    outcome_ids = {m.id for m in catalog.outcomes}
                    # The forecast reads period means only: weekly cells pooled over sites
                    # and channels give the same means from far fewer cells.
                    weekly = cells_from_days(days, ids, "week", only=outcome_ids, dims=("site",))
                by_week = weekly[weekly["metric"] == metric.id].drop(columns="metric")
                if live:
                    by_week = by_week[by_week["site"].isin(live)]
                cf_weekly = stats.forecast_counterfactual(
                    by_week.reset_index(drop=True), alpha=alpha
                )
                if math.isfinite(cf_weekly.cumulative_effect):
                    cf = replace(cf_weekly, method=f"{cf_weekly.method}_weekly")
            counterfactuals.append(
                CounterfactualRow(
                    metric.id,
                    cf.method,
                    cf.baseline_periods,
                    cf.cumulative_effect,
                    _pair(cf.ci_low, cf.ci_high),
                    cf.points,  # (ISO date, observed, forecast, low, high), floats already
                    cf.note,
                )
            )
    meta = {
        "version": __version__,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "input_hashes": [info.sha256],
        "dataset_id": info.id,
        "dataset_name": info.name,
        "settings": catalog.to_dict()["settings"],
        "filters": filters.to_dict(),
        "catalog": catalog.to_dict()["metrics"],
        "catalog_source": catalog.source,
    }
    return Results(
        meta=meta,
        dataset=summary.to_dict(),
        effects=tuple(with_volumes(effects, cells) if summary.weighted else effects),
        retention=tuple(retention),
        verdicts=tuple(verdicts),
        site_verdicts=tuple(site_verdicts),
        value_at_scale=tuple(values),
        counterfactual=tuple(c for c in counterfactuals if math.isfinite(c.cumulative_effect)),
        trends=tuple(trends),
        value_total=value_mod.value_total(values, verdicts, catalog, scores, methods),
        rollouts=tuple(rollouts),
        gaps=tuple(gaps),
        notes=tuple(notes)
        + tuple(
            f"{catalog.get(c.metric).label}: {c.note}"
            for c in counterfactuals
            if not math.isfinite(c.cumulative_effect) and c.note
        ),
    )


def period_means(cells: pd.DataFrame) -> pd.DataFrame:
    """Mean per (metric, phase, period): what a time chart draws."""
    if cells.empty:
        return cells
    out = pool_cells(cells, ["metric", "phase", "period"])
    # The se of a (weighted) mean, sums.mean_variance: s / √n for unweighted rows.
    out["se"] = np.sqrt(out["q2"] / np.maximum(out["n"] - 1, 1) * out["n"] / out["w"] ** 2)
    return out


def time_series(
    store: Store, dataset_id: int, catalog: Catalog, filters: Filters | None = None
) -> pd.DataFrame:
    """Mean and standard error per (metric, phase, period) of the filtered rows, for time charts."""
    filters = filters or Filters(grain=catalog.settings.grain)
    ids = [m.id for m in catalog.metrics if not filters.metrics or m.id in filters.metrics]
    return period_means(summarise_cells(store.cursor(), dataset_id, ids, filters))
