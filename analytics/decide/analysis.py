"""One analysis of one dataset: cells from DuckDB, inference on cells, verdicts, value at scale.

This is the single entry point the pages, the CLI and the board pack call, so all three show the
same numbers. `_analyse` is a short pipeline: scan the cells once (`_scan`), then for each metric
fit it (decide/metric_fit.py), write its effect, retention and trend rows, decide its verdict
from the evidence (decide/evidence.py), its rollout, gap, value and counterfactual rows, and
assemble the results.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from analytics import __version__
from analytics.core.catalog import Catalog, Metric
from analytics.decide import value as value_mod
from analytics.decide.evidence import _decide_metric, _live_sites
from analytics.decide.gap_report import GapRow, gap_row
from analytics.decide.metric_fit import (
    MetricFit,
    _adjusted_row,
    _Means,
    _pair,
    _unadjusted_rows,
    fit_metric,
    with_rollout,
)
from analytics.decide.representativeness_report import (
    RepresentativenessRow,
    representativeness_row,
)
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
from analytics.decide.rollout import MetricRollout, analyse_rollout, correct_family
from analytics.decide.rollout_report import rollout_row, verdict_breakdown
from analytics.decide.site_links_report import adoption_metric
from analytics.decide.volumes import with_volumes
from analytics.decide.why_sections import why_sections
from analytics.engine import influence
from analytics.engine.aggregate import (
    Filters,
    cells_from_days,
    pool_cells,
    summarise_cells,
    summarise_days,
    summary_from_days,
)
from analytics.engine.cadence import PhaseExtent, phase_extent
from analytics.engine.cells import PreparedCells, prepare_cells
from analytics.engine.compare import compare_all
from analytics.engine.design import shared_layouts
from analytics.engine.effects import Counterfactual
from analytics.engine.panel import Panels
from analytics.engine.placebo import shared_plans
from analytics.engine.trend import forecast_counterfactual, production_trend
from analytics.store.database import DatasetInfo, Store


def _outcome_rollouts(
    catalog: Catalog, by_metric: dict[str, pd.DataFrame], alpha: float, panels: Panels
) -> dict[str, MetricRollout]:
    """The rollout evidence of every outcome, with rule 3's flags corrected across them all."""
    rolls = {}
    for metric in catalog.outcomes:
        group = by_metric.get(metric.id)
        if group is not None and not group.empty:
            roll = analyse_rollout(group, alpha, panel=panels.get(metric.id))
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


@dataclass(frozen=True)
class Stored:
    """All an analysis reads from the store: the dataset's row, its day cells under the filters
    (read_days) and its rows set aside by site (from the load's report). Everything after is
    computed from these, so an analysis can also run on a load not yet committed."""

    info: DatasetInfo
    days: pd.DataFrame
    rejected_by_site: Mapping[str, int]


def analyse(
    store: Store,
    dataset_id: int,
    catalog: Catalog,
    filters: Filters | None = None,
    *,
    with_counterfactual: bool = True,
) -> Results:
    """Analyse a stored dataset under the catalog and filters."""
    filters = filters or Filters(grain=catalog.settings.grain)
    stored = read_stored(store, dataset_id, catalog, filters)
    return analyse_stored(stored, catalog, filters, with_counterfactual=with_counterfactual)


def read_stored(store: Store, dataset_id: int, catalog: Catalog, filters: Filters) -> Stored:
    """All an analysis of a stored dataset reads from the store."""
    info = next(d for d in store.datasets() if d.id == dataset_id)
    days = read_days(store.cursor(), dataset_id, catalog, filters)
    rejected = store.report(dataset_id).get("rejected_by_site") or {}
    return Stored(info, days, rejected)


def read_days(
    cur: duckdb.DuckDBPyConnection, table_id: int, catalog: Catalog, filters: Filters
) -> pd.DataFrame:
    """The day cells an analysis reads, of the cells table of `table_id`."""
    return summarise_days(cur, table_id, _needed_ids(catalog, filters), filters)


def analyse_stored(
    stored: Stored, catalog: Catalog, filters: Filters, *, with_counterfactual: bool = True
) -> Results:
    """The analysis of what was read from the store (no further query)."""
    return answer_first(stored, catalog, filters, with_counterfactual=with_counterfactual)[1]()


def answer_first(
    stored: Stored, catalog: Catalog, filters: Filters, *, with_counterfactual: bool = True
) -> tuple[Results, Callable[[], Results]]:
    """The answer (every field but the why sections: gaps, representativeness, load curve, data
    quality, adoption), and the function that completes it into the whole analysis from the
    same fits (computed once, however often it is called). Home shows the answer alone, so it
    need not wait for the why sections; the pages that show them complete it."""
    _limit_blas_threads()
    # Metrics with cells in the same places share design work and placebo fits.
    with shared_layouts(), shared_plans():
        scan, rows = _analyse(stored, catalog, filters, with_counterfactual)
        answer = _results(stored, scan, rows)
    return answer, _once(lambda: _completed(answer, stored, scan, rows))


def _once(make: Callable[[], Results]) -> Callable[[], Results]:
    """`make`, called once: later calls (from any thread) return its result."""
    lock, made = threading.Lock(), []

    def get() -> Results:
        with lock:
            if not made:
                made.append(make())
        return made[0]

    return get


def relabelled(results: Results, dataset_id: int, name: str, sha256: str) -> Results:
    """The same results under a dataset's id, name and content hash (an analysis made on a load
    before it was committed, under its staging tables)."""
    meta = {**results.meta, "dataset_id": dataset_id, "dataset_name": name}
    return replace(results, meta={**meta, "input_hashes": [sha256]})


@dataclass
class _Scan:
    """What one scan of the dataset gives every metric's step: the filters, the metrics shown
    and needed, the day cells and the period cells (per metric), the raw means, the rollouts."""

    catalog: Catalog
    filters: Filters
    shown: list[Metric]
    needed: set[str]
    ids: list[str]
    days: pd.DataFrame
    summary: Any
    extent: PhaseExtent | None
    cells: pd.DataFrame
    by_metric: dict[str, pd.DataFrame]
    rolls: dict[str, MetricRollout]
    means: _Means
    site_means: _Means
    channel_means: _Means
    panels: Panels  # each metric's rollout panel, prepared once
    weekly: pd.DataFrame | None = None  # weekly cells, made once when a forecast needs them

    @property
    def alpha(self) -> float:
        return self.catalog.settings.alpha


@dataclass
class _Rows:
    """The rows of the results, gathered metric by metric."""

    effects: list[EffectRow]
    retention: list[RetentionRow] = field(default_factory=list)
    verdicts: list[MetricVerdict] = field(default_factory=list)
    site_verdicts: list[SiteVerdict] = field(default_factory=list)
    values: list[ValueRow] = field(default_factory=list)
    counterfactuals: list[CounterfactualRow] = field(default_factory=list)
    trends: list[TrendRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    scores: dict[str, influence.Scores] = field(default_factory=dict)  # priced outcomes' sites
    methods: dict[str, str] = field(default_factory=dict)
    rollouts: list[RolloutRow] = field(default_factory=list)
    judged: list[tuple[_Fitted, float]] = field(default_factory=list)  # outcomes with a rollout


@dataclass(frozen=True)
class _Fitted:
    """One metric's cells and fits: the verdict's fit, the usual two-way production effect."""

    metric: Metric
    group: pd.DataFrame
    prepared: PreparedCells
    fit: MetricFit
    usual: Any
    roll: MetricRollout | None


def _analyse(
    stored: Stored, catalog: Catalog, filters: Filters, with_counterfactual: bool
) -> tuple[_Scan, _Rows]:
    scan = _scan(stored, catalog, filters)
    table = compare_all(
        scan.cells[scan.cells["metric"].isin([m.id for m in scan.shown])], scan.alpha
    )
    rows = _Rows(effects=_unadjusted_rows(table) if not table.empty else [])
    for metric in catalog.metrics:
        if metric.id not in scan.needed:
            continue
        fitted = _fit(scan, rows, metric)
        if fitted is None:
            continue
        if metric in scan.shown:
            _shown_rows(scan, rows, fitted)
        if metric.kind == "outcome":
            _outcome_rows(scan, rows, fitted, with_counterfactual)
    return scan, rows


def _shown(catalog: Catalog, filters: Filters) -> list[Metric]:
    return [m for m in catalog.metrics if not filters.metrics or m.id in filters.metrics]


def _needed_ids(catalog: Catalog, filters: Filters) -> list[str]:
    """The metrics an analysis reads: those shown, and every outcome, guardrail and the
    adoption metric (the verdict family is every outcome, whatever is shown: DESIGN.md)."""
    needed = {m.id for m in _shown(catalog, filters)} | {m.id for m in catalog.outcomes}
    needed |= {m.id for m in catalog.metrics if m.guardrail is not None}
    needed |= {m.id for m in (adoption_metric(catalog),) if m is not None}  # issue 14
    return [m.id for m in catalog.metrics if m.id in needed]


def _scan(stored: Stored, catalog: Catalog, filters: Filters) -> _Scan:
    """One scan: day cells, from which months, weeks and the summary are merged."""
    shown = _shown(catalog, filters)
    ids = _needed_ids(catalog, filters)
    needed = set(ids)
    days = stored.days
    summary = summary_from_days(days, stored.info.rejected)
    # Aggregated rows: "more data" is said in the data's periods and sites (verdict rule 5).
    extent = phase_extent(days, "production") if summary.weighted else None
    cells = cells_from_days(days, ids, filters.grain)
    if cells.empty:
        cells = cells.assign(n=cells["n"].astype("int64"))
    by_metric = {
        m: g.drop(columns="metric").reset_index(drop=True) for m, g in cells.groupby("metric")
    } if not cells.empty else {}  # fmt: skip
    panels = Panels(by_metric)
    rolls = _outcome_rollouts(catalog, by_metric, catalog.settings.alpha, panels)
    return _Scan(
        catalog, filters, shown, needed, ids, days, summary, extent, cells, by_metric, rolls,
        _Means(cells), _Means(cells, "site"), _Means(cells, "channel"), panels,
    )  # fmt: skip


def _fit(scan: _Scan, rows: _Rows, metric: Metric) -> _Fitted | None:
    """The metric's fits (the rollout estimate in place of the two-way one), or None with a note
    when the filters leave it no values."""
    group = scan.by_metric.get(metric.id)
    if group is None or group.empty:
        rows.notes.append(f"{metric.label} has no values under these filters.")
        return None
    prepared = prepare_cells(group)  # cleaned once, shared by every model below
    roll = (
        scan.rolls.get(metric.id)
        if metric.kind == "outcome"
        else analyse_rollout(group, scan.alpha, with_slices=False, panel=scan.panels.get(metric.id))
    )
    # The two-way slices that the rollout's own replace (with_rollout) are not fitted at all.
    fit = fit_metric(
        group, scan.alpha, prepared, sites=not (roll and roll.sites),
        channels=not (roll and roll.channels),
    )  # fmt: skip
    usual = fit.overall.production  # the two-way model: "what the usual model says"
    fit = with_rollout(fit, roll, scan.alpha)
    if fit.overall.note:
        rows.notes.append(f"{metric.label}: {fit.overall.note}")
    return _Fitted(metric, group, prepared, fit, usual, roll)


def _shown_rows(scan: _Scan, rows: _Rows, fitted: _Fitted) -> None:
    """The adjusted effect rows, retention rows and trend row of a metric on show."""
    mid, o = fitted.metric.id, fitted.fit.overall
    raw = {p: scan.means.get(mid, p) for p in ("baseline", "pilot", "production")}
    for comparison, effect, a, b in (
        ("pilot_vs_baseline", o.pilot, raw["pilot"], raw["baseline"]),
        ("production_vs_baseline", o.production, raw["production"], raw["baseline"]),
        ("production_vs_pilot", o.production_vs_pilot, raw["production"], raw["pilot"]),
    ):
        row = _adjusted_row(mid, comparison, effect, a, b)
        if row:
            rows.effects.append(row)
    _slice_rows(scan, rows, fitted)
    if o.retention is not None:
        rows.retention.insert(
            0,
            RetentionRow(
                mid, "overall", None, o.retention.estimate,
                _pair(o.retention.ci_low, o.retention.ci_high), o.retention.note,
            ),
        )  # fmt: skip
    trend = production_trend(fitted.prepared, alpha=scan.alpha)
    rows.trends.append(
        TrendRow(
            mid, trend.slope, _pair(trend.ci_low, trend.ci_high), trend.p_value, trend.periods,
            trend.note,
        )
    )  # fmt: skip


def _slice_rows(scan: _Scan, rows: _Rows, fitted: _Fitted) -> None:
    """Each site's and channel's production effect row and retention row."""
    mid = fitted.metric.id
    for slice_type, slices, slice_means in (
        ("site", fitted.fit.sites, scan.site_means),
        ("channel", fitted.fit.channels, scan.channel_means),
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
                rows.effects.append(row)
            if s.retention is not None:
                rows.retention.append(
                    RetentionRow(
                        mid, slice_type, s.name, s.retention.estimate,
                        _pair(s.retention.ci_low, s.retention.ci_high), s.retention.note,
                    )
                )  # fmt: skip


def _outcome_rows(scan: _Scan, rows: _Rows, fitted: _Fitted, with_counterfactual: bool) -> None:
    """An outcome's verdict and site verdicts, rollout and gap rows, value and counterfactual."""
    metric, fit, roll = fitted.metric, fitted.fit, fitted.roll
    verdict, per_site = _decide_metric(
        metric, fit, roll, scan.catalog, scan.means, scan.site_means, len(scan.summary.sites),
        len(scan.catalog.outcomes), scan.extent,
    )  # fmt: skip
    rows.verdicts.append(verdict)
    if roll is not None:
        broke = verdict_breakdown(metric, roll, verdict.ci_level)
        rows.rollouts.append(
            rollout_row(metric, roll, fitted.usual, fit.overall.pilot, verdict.ci_level, broke)
        )
        rows.judged.append((fitted, verdict.ci_level))  # its gap and representativeness: later
    rows.site_verdicts.extend(per_site)
    value = value_mod.metric_value(
        metric, fit.overall, scan.catalog, roll.production if roll is not None else None
    )
    if value:
        rows.values.append(value)
        # The verdict's estimator's site scores (ψ_g, Σψ² its variance) for the total.
        rows.scores[metric.id] = (
            dict(roll.production.influence)
            if roll is not None and roll.production.influence
            else influence.site_scores(fitted.prepared)
        )
        rows.methods[metric.id] = verdict.method
    if with_counterfactual:
        cf = _counterfactual(scan, metric, fitted.group)
        rows.counterfactuals.append(
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


def _counterfactual(scan: _Scan, metric: Metric, group: pd.DataFrame) -> Counterfactual:
    """The forecast of the live sites' own history, from weeks when months are too few."""
    # The live sites' own history, never a pooled mean of different sites.
    live = _live_sites(group)
    own = group[group["site"].isin(live)].reset_index(drop=True) if live else group
    cf = forecast_counterfactual(own, alpha=scan.alpha)
    if math.isfinite(cf.cumulative_effect) or scan.filters.grain != "month":
        return cf
    # Too few baseline months: weeks may hold enough periods to forecast from.
    if scan.weekly is None:
        outcome_ids = {m.id for m in scan.catalog.outcomes}
        # The forecast reads period means only: weekly cells pooled over sites and channels
        # give the same means from far fewer cells.
        scan.weekly = cells_from_days(scan.days, scan.ids, "week", only=outcome_ids, dims=("site",))
    by_week = scan.weekly[scan.weekly["metric"] == metric.id].drop(columns="metric")
    if live:
        by_week = by_week[by_week["site"].isin(live)]
    cf_weekly = forecast_counterfactual(by_week.reset_index(drop=True), alpha=scan.alpha)
    if math.isfinite(cf_weekly.cumulative_effect):
        return replace(cf_weekly, method=f"{cf_weekly.method}_weekly")
    return cf


def _results(stored: Stored, scan: _Scan, rows: _Rows) -> Results:
    catalog, info = scan.catalog, stored.info
    meta = {
        "version": __version__,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "input_hashes": [info.sha256],
        "dataset_id": info.id,
        "dataset_name": info.name,
        "settings": catalog.to_dict()["settings"],
        "filters": scan.filters.to_dict(),
        "catalog": catalog.to_dict()["metrics"],
        "catalog_source": catalog.source,
    }
    effects = rows.effects
    missed = [c for c in rows.counterfactuals if not math.isfinite(c.cumulative_effect)]
    return Results(
        meta=meta,
        dataset=scan.summary.to_dict(),
        effects=tuple(with_volumes(effects, scan.cells) if scan.summary.weighted else effects),
        retention=tuple(rows.retention),
        verdicts=tuple(rows.verdicts),
        site_verdicts=tuple(rows.site_verdicts),
        value_at_scale=tuple(rows.values),
        counterfactual=tuple(c for c in rows.counterfactuals if math.isfinite(c.cumulative_effect)),
        trends=tuple(rows.trends),
        value_total=value_mod.value_total(
            rows.values, rows.verdicts, catalog, rows.scores, rows.methods
        ),
        rollouts=tuple(rows.rollouts),
        notes=tuple(rows.notes)
        + tuple(f"{catalog.get(c.metric).label}: {c.note}" for c in missed if c.note),
    )


def _completed(answer: Results, stored: Stored, scan: _Scan, rows: _Rows) -> Results:
    """The answer with its why sections: each judged outcome's gap and representativeness
    rows, then the load curve, data quality and adoption."""
    _limit_blas_threads()
    gaps: list[GapRow] = []
    reps: list[RepresentativenessRow] = []
    with shared_layouts(), shared_plans():
        peaks = scan.catalog.settings.peak_periods
        for fitted, level in rows.judged:
            metric = fitted.metric
            panel = scan.panels.get(metric.id)  # one panel for the gap and representativeness
            gap = gap_row(metric.id, fitted.group, metric.sign, level, peaks, panel)
            if gap is not None:
                gaps.append(gap)
            rep = representativeness_row(metric.id, fitted.group, metric.sign, level, peaks, panel)
            if rep is not None:
                reps.append(rep)
        why = _why(stored, scan, rows)
    return replace(answer, gaps=tuple(gaps), representativeness=tuple(reps), **why)


def _why(stored: Stored, scan: _Scan, rows: _Rows) -> dict[str, Any]:
    """The why sections, from the analysis' own day cells and panels (no further query)."""
    return why_sections(
        stored.rejected_by_site, scan.catalog, scan.filters, scan.cells, rows.verdicts,
        scan.days, scan.panels, scan.ids,
    )  # fmt: skip


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
