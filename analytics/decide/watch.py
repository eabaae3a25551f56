"""After the decision: recompute, compare with the latest recorded decision and the guardrails,
and raise an alert only when production has really slipped.

The decision's effect is recomputed with today's method (analyse) on the data window the
decision saw (its snapshot's filters, up to the last date it held), so a decision recorded under
an older method never reads as a decline by itself; the snapshot's own estimate is only shown.
Per outcome, while comparison sites remain, per-period production effects come from them
(engine/monitor.py) and two CUSUM alarms watch them against the decision-time effect and the
threshold; when none is left, the outcome's level is watched against its decision-time level,
labelled not causal. Sites, guardrails and the data's arrival and quality are watched beside.
The year's false-alarm budget, settings.alpha, is shared: half to the outcomes, a quarter to
the sites, a quarter to the guardrails (Bonferroni within each share).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analytics import __version__
from analytics.core.catalog import Catalog, Metric, read_catalog
from analytics.core.errors import ScalegateError
from analytics.decide import watch_data
from analytics.decide.acks import acknowledgements
from analytics.decide.analysis import analyse
from analytics.decide.decisions import DecisionRecord, list_decisions, snapshot_filters
from analytics.decide.results import Results
from analytics.decide.watch_report import (
    BAND_LEVEL,
    Alert,
    GuardrailWatch,
    OutcomeWatch,
    Point,
    WatchReport,
)
from analytics.engine import monitor
from analytics.engine.aggregate import cells_from_days, summarise_days
from analytics.store import history
from analytics.store.database import Store

HORIZON = {"week": 52, "month": 12}
SHARES = {"outcomes": 0.5, "sites": 0.25, "guardrails": 0.25}
RECENT = 4  # periods averaged for the "now" of an alert's sentence
Z_BAND = float(stats.norm.ppf(0.5 + BAND_LEVEL / 2))
NAN = float("nan")


@dataclass(frozen=True, slots=True)
class _Cells:
    """The watched data at the monitoring grain: per metric, a layout, y and v."""

    grain: str
    periods: pd.DatetimeIndex
    sites: tuple[str, ...]
    post: np.ndarray  # (P,) bool: periods after the decision's data
    by_metric: dict[str, tuple[monitor.Layout, np.ndarray, np.ndarray]]


def latest_decision(store: Store, dataset_id: int) -> DecisionRecord:
    found = list_decisions(store, dataset_id)
    if not found:
        raise ScalegateError(
            "No decision is recorded for this dataset yet: record one on the Decision page, "
            "then watch production against it."
        )
    return found[0]


def window_end(decision: DecisionRecord) -> date:
    """The last day of data the decision saw."""
    held = (decision.snapshot.get("dataset") or {}).get("date_max")
    return date.fromisoformat(held) if held else decision.decided_at.date()


def grain_of(days: pd.DataFrame) -> str:
    """The monitoring cadence from the data's own: weeks for daily or weekly data, else months."""
    dates = np.sort(pd.to_datetime(days["date"].dropna().unique()))
    if len(dates) < 2:
        return "week"
    gap = float(np.median(np.diff(dates).astype("timedelta64[D]").astype(float)))
    return "week" if gap <= 7 else "month"


def _variances(cells: pd.DataFrame) -> np.ndarray:
    """s²/n of each cell mean; one-row cells take the metric's pooled s²."""
    n = cells["n"].to_numpy(float)
    m2 = cells["m2"].to_numpy(float)
    pooled = m2.sum() / max(n.sum() - len(n), 1.0)
    s2 = np.where(n > 1, m2 / np.maximum(n - 1, 1), pooled)
    return s2 / np.maximum(n, 1)


def _cells(days: pd.DataFrame, ids: list[str], end: date) -> _Cells:
    grain = grain_of(days)
    cells = cells_from_days(days, ids, grain, dims=("site",))
    periods = pd.DatetimeIndex(sorted(cells["period"].dropna().unique()))
    sites = tuple(sorted(cells["site"].unique()))
    site_code = {s: i for i, s in enumerate(sites)}
    by_metric = {}
    for metric, g in cells.dropna(subset=["period"]).groupby("metric", observed=True):
        layout = monitor.Layout(
            site=g["site"].map(site_code).to_numpy(int),
            period=periods.get_indexer(g["period"]),
            treated=(g["phase"] == "production").to_numpy(),
            untreated=(g["phase"] == "baseline").to_numpy(),
            rows=g["n"].to_numpy(float),
            n_sites=len(sites),
            n_periods=len(periods),
        )
        by_metric[str(metric)] = (
            layout,
            g["mean"].to_numpy(float)[:, None],
            _variances(g)[:, None],
        )
    post = np.asarray(periods > pd.Timestamp(end))
    return _Cells(grain, periods, sites, post, by_metric)


def _se_from_ci(ci: tuple[float, float], level: float) -> float:
    lo, hi = ci
    q = stats.norm.ppf(0.5 + level / 2)
    return (hi - lo) / (2 * q) if np.isfinite(lo) and np.isfinite(hi) else NAN


def _points(
    periods: pd.DatetimeIndex,
    post: np.ndarray,
    value: np.ndarray,
    var: np.ndarray,
    stat: np.ndarray | None,
) -> tuple[Point, ...]:
    out, t = [], 0
    for i, period in enumerate(periods):
        cus = NAN
        if post[i] and stat is not None:
            cus, t = float(stat[t]), t + 1
        if not np.isfinite(value[i]):
            continue
        half = Z_BAND * float(np.sqrt(var[i]))
        v = float(value[i])
        out.append(Point(period.date(), v, v - half, v + half, bool(post[i]), cus))
    return tuple(out)


def _first(periods: pd.DatetimeIndex, post: np.ndarray, alarm: monitor.Alarm) -> date | None:
    index = int(alarm.first.reshape(-1)[0])
    return periods[np.flatnonzero(post)[index]].date() if index >= 0 else None


def _recent(lift: np.ndarray) -> float:
    finite = lift[np.isfinite(lift)]
    return float(np.mean(finite[-RECENT:])) if finite.size else NAN


@dataclass(frozen=True, slots=True)
class _Then:
    """The decision-time numbers, recomputed with today's method."""

    results: Results
    alpha: float

    def reference(self, metric: Metric) -> tuple[float, float, str]:
        """The decision-time improvement lift, its standard error and its method."""
        v = next((v for v in self.results.verdicts if v.metric == metric.id), None)
        if v is None:
            return NAN, NAN, ""
        return metric.sign * v.estimate, _se_from_ci(v.ci, v.ci_level), v.method

    def site_reference(self, metric: Metric, site: str) -> tuple[float, float]:
        for s in self.results.site_verdicts:
            if s.metric == metric.id and s.site == site:
                return metric.sign * s.estimate, _se_from_ci(s.ci, 1 - self.alpha)
        return NAN, NAN


def _outcome(
    metric: Metric, data: _Cells, then: _Then, catalog: Catalog, alpha: float, snap: float
) -> tuple[OutcomeWatch, list[Alert], monitor.Fit | None]:
    layout, y, v = data.by_metric[metric.id]
    horizon = HORIZON[data.grain]
    last = layout.period.max()
    controls = int(len(set(layout.site[layout.untreated & (layout.period == last)])))
    if controls == 0:
        return (*_level_outcome(metric, data, alpha, snap), None)
    f = monitor.fit(layout)
    ce = monitor.cell_effects(f, y, v)
    stream = monitor.period_stream(f, ce, v, metric.sign)
    ref, se, method = then.reference(metric)
    lift, var = stream.lift[:, 0], stream.var[:, 0]
    alarms = monitor.effect_alarms(
        stream.lift[data.post], stream.var[data.post], stream.mean_cov,
        np.array([ref]), np.array([se**2]), min_effect=metric.min_effect, alpha=alpha,
        horizon=horizon,
    )  # fmt: skip
    watch = OutcomeWatch(
        metric.id, metric.label, "causal", controls, ref,
        (ref - Z_BAND * se, ref + Z_BAND * se), method, snap, metric.min_effect,
        alarms.decline.h,
        _points(data.periods, data.post, lift, var, alarms.decline.statistic[:, 0]),
    )  # fmt: skip
    return watch, _effect_alerts(metric, data, alarms, lift[data.post], ref, catalog), f


def _effect_alerts(
    metric: Metric,
    data: _Cells,
    alarms: monitor.EffectAlarms,
    post_lift: np.ndarray,
    ref: float,
    catalog: Catalog,
) -> list[Alert]:
    below = alarms.below is not None and bool(alarms.below.crossed[0])
    if not (alarms.decline.crossed[0] or below):
        return []
    now = _recent(post_lift)
    retention = now / ref if ref > 0 else NAN
    kept = f"keeping {retention:.0%} of it" if np.isfinite(retention) else "lower than then"
    chosen = alarms.below if below and alarms.below is not None else alarms.decline
    if below or now < metric.min_effect:
        kind, what = "effect_below_threshold", f"below the {metric.min_effect:.0%} threshold"
    elif retention < catalog.settings.retention_floor:
        kind = "retention_below_floor"
        what = (
            f"keeping {retention:.0%} of it, under the {catalog.settings.retention_floor:.0%} floor"
        )
    else:
        kind, what = "effect_declined", kept
    since = _first(data.periods, data.post, chosen)
    message = (
        f"{metric.label}: the production improvement has fallen since the decision, "
        f"{now:+.1%} over the latest periods against {ref:+.1%} when decided ({what}); "
        f"first significant in the period of {since}."
    )
    peak = float(np.nanmax(chosen.statistic[:, 0]))
    return [Alert(kind, metric.id, None, since, message, True, peak, chosen.h)]


def _level_outcome(
    metric: Metric, data: _Cells, alpha: float, snap: float
) -> tuple[OutcomeWatch, list[Alert]]:
    """No comparison site left: the production level against its decision-time level."""
    layout, y, v = data.by_metric[metric.id]
    production = replace(layout, untreated=layout.treated)
    tau2 = monitor.cell_effects(monitor.fit(production), y, v).tau2
    mean, var = monitor.level_stream(production, y, v, tau2)
    before = np.flatnonzero(~data.post & np.isfinite(mean[:, 0]))[-8:]
    note = "No comparison site is left: this watches the outcome's level, which is not causal."
    if not len(before):
        before = np.flatnonzero(np.isfinite(mean[:, 0]))[:1]
    level = float(np.mean(mean[before, 0]))
    level_var = float(np.mean(var[before, 0])) / len(before)
    lift = metric.sign * (mean[:, 0] / level - 1)
    lvar = var[:, 0] / level**2
    alarms = monitor.effect_alarms(
        lift[data.post, None], lvar[data.post, None], 0.0, np.zeros(1),
        np.array([level_var / level**2]), min_effect=metric.min_effect, alpha=alpha,
        horizon=HORIZON[data.grain], with_threshold=False,
    )  # fmt: skip
    watch = OutcomeWatch(
        metric.id, metric.label, "level", 0, 0.0, (NAN, NAN), "level_vs_decision_time", snap,
        metric.min_effect, alarms.decline.h,
        _points(data.periods, data.post, lift, lvar, alarms.decline.statistic[:, 0]), note,
    )  # fmt: skip
    if not alarms.decline.crossed[0]:
        return watch, []
    since = _first(data.periods, data.post, alarms.decline)
    now = _recent(lift[data.post])
    message = (
        f"{metric.label}: production is {now:+.1%} against its level when decided "
        f"(better is positive), a significant slip since the period of {since}; no comparison "
        "site is left, so this is not a causal estimate."
    )
    peak = float(np.nanmax(alarms.decline.statistic[:, 0]))
    return watch, [
        Alert(
            "outcome_level_declined", metric.id, None, since, message, False, peak, alarms.decline.h
        )
    ]


def _own_reference(lift: np.ndarray, var: np.ndarray) -> tuple[float, float]:
    """A site's decision-time improvement from its own periods before the decision, where its
    verdict has no interval (a placebo test with too few comparison sites gives none): the mean
    of its per-period lifts and the standard error of that mean (periods taken as independent)."""
    keep = np.isfinite(lift) & np.isfinite(var)
    k = int(keep.sum())
    if k == 0:
        return NAN, NAN
    return float(lift[keep].mean()), float(np.sqrt(var[keep].sum()) / k)


def _site_alerts(
    metric: Metric, data: _Cells, f: monitor.Fit, then: _Then, alpha: float
) -> list[Alert]:
    layout, y, v = data.by_metric[metric.id]
    ce = monitor.cell_effects(f, y, v)
    lift, var = monitor.site_streams(f, ce, metric.sign)
    refs = [then.site_reference(metric, s) for s in data.sites]
    before = ~data.post
    for i, (r, se) in enumerate(refs):
        if not (np.isfinite(r) and np.isfinite(se)):  # a site verdict without an interval
            refs[i] = _own_reference(lift[before][:, i, 0], var[before][:, i, 0])
    watched = [i for i, (r, se) in enumerate(refs) if np.isfinite(r) and np.isfinite(se)]
    if not watched:
        return []
    ref = np.array([[refs[i][0]] for i in watched])
    ref_var = np.array([[refs[i][1] ** 2] for i in watched])
    alarm = monitor.site_alarms(
        lift[data.post][:, watched], var[data.post][:, watched], ref, ref_var,
        min_effect=metric.min_effect, alpha=alpha, horizon=HORIZON[data.grain],
    )  # fmt: skip
    out = []
    for j, i in enumerate(watched):
        if not alarm.crossed[j, 0]:
            continue
        site = data.sites[i]
        first = int(alarm.first[j, 0])
        since = data.periods[np.flatnonzero(data.post)[first]].date()
        now = _recent(lift[data.post][:, i, 0])
        message = (
            f"{metric.label} at {site}: the site's improvement is {now:+.1%} over its latest "
            f"periods against {refs[i][0]:+.1%} when decided, significantly worse since the "
            f"period of {since}."
        )
        peak = float(np.nanmax(alarm.statistic[:, j, 0]))
        out.append(Alert("site_worse", metric.id, site, since, message, True, peak, alarm.h))
    return out


def _guardrail(metric: Metric, data: _Cells, alpha: float) -> tuple[GuardrailWatch, list[Alert]]:
    layout, y, v = data.by_metric[metric.id]
    production = replace(layout, untreated=layout.treated)
    tau2 = monitor.cell_effects(monitor.fit(production), y, v).tau2
    mean, var = monitor.level_stream(production, y, v, tau2)
    assert metric.guardrail is not None
    alarm = monitor.guardrail_alarm(
        mean[data.post], var[data.post], limit=metric.guardrail,
        higher=metric.direction == "higher", alpha=alpha, horizon=HORIZON[data.grain],
    )  # fmt: skip
    watch = GuardrailWatch(
        metric.id, metric.label, metric.guardrail, metric.direction, alarm.h,
        _points(data.periods, data.post, mean[:, 0], var[:, 0], alarm.statistic[:, 0]),
    )  # fmt: skip
    if not alarm.crossed[0]:
        return watch, []
    since = _first(data.periods, data.post, alarm)
    now = _recent(mean[data.post, 0])
    side = "at least" if metric.direction == "higher" else "at most"
    message = (
        f"Guardrail {metric.label} is breached: {now:.4g} in production over the latest "
        f"periods, where it must be {side} {metric.guardrail:.4g}; significant since the "
        f"period of {since}."
    )
    peak = float(np.nanmax(alarm.statistic[:, 0]))
    return watch, [Alert("guardrail_breach", metric.id, None, since, message, False, peak, alarm.h)]


def watch(
    store: Store,
    dataset: int | str | None = None,
    *,
    as_of: date | None = None,
    catalog: Catalog | None = None,
) -> WatchReport:
    """Compare production since the latest decision with that decision and the guardrails."""
    info = store.dataset(dataset)
    decision = latest_decision(store, info.id)
    catalog = catalog or read_catalog(store.cursor(), info.id)
    end = window_end(decision)
    filters = snapshot_filters(decision.snapshot)
    to = min(filters.date_to, end) if filters.date_to else end
    then = _Then(
        analyse(store, info.id, catalog, replace(filters, date_to=to), with_counterfactual=False),
        catalog.settings.alpha,
    )
    watched = [m for m in catalog.metrics if m.kind == "outcome" or m.guardrail is not None]
    ids = [m.id for m in watched]
    days = summarise_days(store.cursor(), info.id, ids, replace(filters, date_to=None, metrics=()))
    data = _cells(days, ids, end)
    return _assemble(store, info, decision, catalog, then, data, days, watched, as_of, end)


def _metric_checks(
    decision: DecisionRecord, catalog: Catalog, then: _Then, data: _Cells, watched: list[Metric]
) -> tuple[list[OutcomeWatch], list[GuardrailWatch], list[Alert]]:
    """Every outcome (with its sites) and every guardrail, each with its share of alpha."""
    alpha = catalog.settings.alpha
    outcomes = [m for m in catalog.outcomes if m.id in data.by_metric]
    guards = [m for m in watched if m.guardrail is not None and m.id in data.by_metric]
    snapshot = {v["metric"]: v.get("estimate") for v in decision.snapshot.get("verdicts", [])}
    alerts: list[Alert] = []
    outcome_watches, guard_watches = [], []
    for m in outcomes:
        snap = snapshot.get(m.id)
        snap_imp = m.sign * snap if isinstance(snap, int | float) else NAN
        share = alpha * SHARES["outcomes"] / len(outcomes)
        w, found, f = _outcome(m, data, then, catalog, share, snap_imp)
        outcome_watches.append(w)
        alerts += found
        if f is not None:
            alerts += _site_alerts(m, data, f, then, alpha * SHARES["sites"] / len(outcomes))
    for m in guards:
        g, found = _guardrail(m, data, alpha * SHARES["guardrails"] / len(guards))
        guard_watches.append(g)
        alerts += found
    return outcome_watches, guard_watches, alerts


def _data_alerts(
    store: Store, dataset_id: int, days: pd.DataFrame, watched: list[Metric], as_of: date,
    end: date, grain: str,
) -> list[Alert]:  # fmt: skip
    """Rows that stopped arriving, missing values and rows set aside that rose."""
    findings = watch_data.stopped(days, as_of, grain)
    findings += watch_data.missing_values(
        days, [(m.id, m.label, k) for k, m in enumerate(watched)], end
    )
    findings += watch_data.rejected_rows(history.loads_of(store.cursor(), dataset_id), end)
    return [Alert(x.kind, x.metric, x.site, x.since, x.message, False) for x in findings]


def _assemble(
    store: Store,
    info: Any,
    decision: DecisionRecord,
    catalog: Catalog,
    then: _Then,
    data: _Cells,
    days: pd.DataFrame,
    watched: list[Metric],
    as_of: date | None,
    end: date,
) -> WatchReport:
    outcome_watches, guard_watches, alerts = _metric_checks(decision, catalog, then, data, watched)
    as_of = as_of or date.today()
    alerts += _data_alerts(store, info.id, days, watched, as_of, end, data.grain)
    acks = acknowledgements(store, decision.id)
    alerts = [
        replace(a, acknowledged=acks[a.key].to_dict()) if a.key in acks else a for a in alerts
    ]
    dated = days["date"].dropna()
    after = pd.to_datetime(days["date"]) > pd.Timestamp(end)
    return WatchReport(
        meta={
            "version": __version__,
            "created_at": pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds"),
            "dataset_id": info.id,
            "dataset_name": info.name,
            "fingerprint": info.sha256,
            "as_of": as_of.isoformat(),
            "grain": data.grain,
            "horizon": HORIZON[data.grain],
            "alpha": catalog.settings.alpha,
            "periods_since_decision": int(data.post.sum()),
        },
        decision={
            "id": decision.id,
            "decision": decision.decision,
            "owner": decision.owner,
            "decided_at": decision.decided_at.isoformat(timespec="seconds"),
            "data_until": end.isoformat(),
        },
        alerts=tuple(alerts),
        outcomes=tuple(outcome_watches),
        guardrails=tuple(guard_watches),
        data={
            "date_max": pd.Timestamp(dated.max()).date().isoformat() if len(dated) else None,
            "rows_since_decision": int(days.loc[after, "rows"].sum()),
        },
    )


def since_decision(store: Store, dataset_id: int) -> WatchReport | None:
    """The watch for the board pack's "since the decision" slides; None without a decision."""
    if not list_decisions(store, dataset_id):
        return None
    return watch(store, dataset_id)
