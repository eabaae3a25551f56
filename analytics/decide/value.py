"""Value at scale: money only from inputs a person gave, and a total that cannot mislead.

Per outcome with a value per unit and an annual volume (catalog, Decision inputs or CLI flags;
there are no defaults): annual value = improvement per case x value per unit x cases a year,
from the pilot effect (promised) and the production effect (delivered), with the delivered
interval at the verdict's level (Bonferroni across the outcome family, as the verdicts) and on
the verdict's basis: the estimator's own interval (with 1–4 live sites the placebo test's
critical value times the robust standard error, never a t quantile the verdict did not use).

The total counts only outcomes whose verdict is *scale* and that the catalog marks as separate
benefits (`adds_to_total = true`); every other outcome is listed with why it is not counted.
The running cost is netted once, from the total. The total's interval comes from the joint
site-clustered covariance of the counted effects (their site scores stacked, see
`analytics.engine.influence`); where an effect has no site scores (few sites: cell-level
errors) the intervals are added as if the outcomes moved together, an upper bound, and the
total says so. "Delivers X% of the promise" is given only when both sides count the same
outcomes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from analytics.core.catalog import Catalog, Metric
from analytics.core.metric_words import CURRENCIES
from analytics.decide.results import MetricVerdict, ValueRow, clean
from analytics.engine.effects import AdjustedFit
from analytics.engine.influence import Scores, stacked_variance
from analytics.engine.quantiles import two_sided_t
from analytics.engine.staggered import RolloutEstimate

NAN = float("nan")
VOLUME_NEEDED = (
    "the annual volume: cases a year at full scale (sidebar, the catalog's annual_volume or "
    "--annual-volume)"
)
VALUE_NEEDED = (
    "a value per unit for at least one outcome (the catalog on the Data page, the catalog "
    "file's value_per_unit or --value-per-unit METRIC=AMOUNT)"
)
COVARIANCE = "site-clustered covariance of the counted outcomes (site scores stacked)"
UPPER_BOUND = (
    "intervals added as if the counted outcomes moved together (an upper bound: at least one "
    "has too few sites for a clustered covariance)"
)
_WHY = {
    "fix_first": "fix first",
    "do_not_scale": "no meaningful effect",
    "need_more_data": "inconclusive",
}


@dataclass(frozen=True, slots=True)
class ValueTotal:
    """The total value a year of the outcomes that count, net of the running cost once."""

    currency: str
    ci_level: float
    counted: tuple[str, ...]
    not_counted: tuple[tuple[str, str], ...]  # (metric, why it is not counted)
    delivered: float
    delivered_ci: tuple[float, float]
    run_cost: float
    net: float
    net_ci: tuple[float, float]
    promised: float  # over promised_counted: outcomes the pilot alone would have scaled
    promised_counted: tuple[str, ...]
    share_of_promise: float | None  # only when both sides count the same outcomes
    interval_method: str
    needs: tuple[str, ...]  # inputs still missing before any money can be shown

    @property
    def priced(self) -> bool:
        return not self.needs

    def to_dict(self) -> dict[str, Any]:
        d = {f: getattr(self, f) for f in self.__slots__}
        d["not_counted"] = [{"metric": m, "why": why} for m, why in self.not_counted]
        return clean(d)


def currency_of(catalog: Catalog) -> str:
    """The catalog's currency, else the one money unit its metrics share, else ''."""
    if catalog.settings.currency:
        return catalog.settings.currency
    units = {m.unit.strip().upper() for m in catalog.metrics}  # "eur" and "EUR" are one
    units &= set(CURRENCIES)
    return units.pop() if len(units) == 1 else ""


def money_needs(catalog: Catalog) -> tuple[str, ...]:
    """What value at scale still needs before it can show an amount (empty: nothing)."""
    needs = []
    if catalog.settings.annual_volume is None:
        needs.append(VOLUME_NEEDED)
    if not any(m.value_per_unit is not None for m in catalog.outcomes):
        needs.append(VALUE_NEEDED)
    return tuple(needs)


def verdict_alpha(catalog: Catalog) -> float:
    """The alpha of a verdict's interval: Bonferroni across the catalog's outcomes."""
    return catalog.settings.alpha / max(len(catalog.outcomes), 1)


def _scale(metric: Metric, catalog: Catalog) -> float | None:
    volume = catalog.settings.annual_volume
    if volume is None or metric.value_per_unit is None:
        return None
    return metric.sign * metric.value_per_unit * volume


def metric_value(
    metric: Metric,
    fit: AdjustedFit,
    catalog: Catalog,
    estimate: RolloutEstimate | None = None,
) -> ValueRow | None:
    """One outcome's value a year at full scale, or None where an input was not given. With the
    verdict's estimate, the delivered interval is that estimate's own at the verdict's level."""
    scale = _scale(metric, catalog)
    if scale is None or metric.kind != "outcome":
        return None
    alpha = verdict_alpha(catalog)
    pilot, production = fit.pilot, fit.production
    delivered, ci = NAN, (NAN, NAN)
    if production is not None and math.isfinite(production.estimate):
        delivered = scale * production.estimate
        q = two_sided_t(alpha, production.df) if production.df > 0 else NAN
        half = q * production.se
        lo, hi = sorted((delivered - abs(scale) * half, delivered + abs(scale) * half))
        ci = (lo, hi)
        if estimate is not None and estimate.identified:
            ci = tuple(sorted(scale * x for x in estimate.ci(1 - alpha)))  # the verdict's basis
    return ValueRow(
        metric=metric.id,
        promised=scale * pilot.estimate if pilot is not None else NAN,
        delivered=delivered,
        delivered_ci=ci,
        run_cost=NAN,  # netted once, from the total: never from each outcome
        net=NAN,
        ci_level=1 - alpha,
        currency=currency_of(catalog),
    )


def _why_not(metric: Metric, verdict: str, catalog: Catalog, priced: bool) -> str:
    reasons = []
    if not priced:
        reasons.append("no value per unit given")
    if verdict != "scale":
        reasons.append(_WHY.get(verdict, verdict))
    if metric.overlaps:
        names = ", ".join(catalog.get(m).label for m in metric.overlaps if m in catalog.ids)
        reasons.append(f"overlaps with {names}")
    elif not metric.adds_to_total:
        reasons.append("not marked as a separate benefit (adds_to_total)")
    return "; ".join(reasons)


def value_total(
    rows: Sequence[ValueRow],
    verdicts: Sequence[MetricVerdict],
    catalog: Catalog,
    scores: Mapping[str, Scores],
    methods: Mapping[str, str],
) -> ValueTotal:
    """The total of the outcomes that count, with its interval at the verdicts' level.

    `scores`: per metric, site -> psi of its production effect (sum of squares = its clustered
    variance, in the effect's own units); `methods`: each production effect's method.
    """
    alpha, currency = verdict_alpha(catalog), currency_of(catalog)
    by_metric = {r.metric: r for r in rows}
    counted, promised_counted, not_counted = [], [], []
    for v in verdicts:
        metric = catalog.get(v.metric)
        row = by_metric.get(v.metric)
        priced = row is not None and math.isfinite(row.delivered)
        adds = metric.adds_to_total and not metric.overlaps
        if priced and adds and v.verdict == "scale":
            counted.append(v.metric)
        else:
            not_counted.append((v.metric, _why_not(metric, v.verdict, catalog, priced)))
        if row is not None and adds and v.pilot_verdict == "scale" and math.isfinite(row.promised):
            promised_counted.append(v.metric)
    run_cost = catalog.settings.run_cost_per_year
    delivered = sum(by_metric[m].delivered for m in counted) if counted else NAN
    promised = sum(by_metric[m].promised for m in promised_counted) if promised_counted else NAN
    ci, method = _total_interval(counted, by_metric, catalog, scores, methods, alpha)
    same = bool(counted) and set(counted) == set(promised_counted) and promised > 0
    return ValueTotal(
        currency=currency,
        ci_level=1 - alpha,
        counted=tuple(counted),
        not_counted=tuple(not_counted),
        delivered=delivered,
        delivered_ci=ci,
        run_cost=run_cost,
        net=delivered - run_cost,
        net_ci=(ci[0] - run_cost, ci[1] - run_cost),
        promised=promised,
        promised_counted=tuple(promised_counted),
        share_of_promise=delivered / promised if same else None,
        interval_method=method if counted else "",
        needs=money_needs(catalog),
    )


def _total_interval(
    counted: Sequence[str],
    rows: Mapping[str, ValueRow],
    catalog: Catalog,
    scores: Mapping[str, Scores],
    methods: Mapping[str, str],
    alpha: float,
) -> tuple[tuple[float, float], str]:
    if not counted:
        return (NAN, NAN), ""
    delivered = sum(rows[m].delivered for m in counted)
    clustered = all(methods.get(m, "").endswith("cluster_site") and scores.get(m) for m in counted)
    if clustered:
        weights = {m: _scale(catalog.get(m), catalog) or 0.0 for m in counted}
        sites = {s for m in counted for s in scores[m]}
        q = two_sided_t(alpha, len(sites) - 1) if len(sites) >= 2 else NAN
        half = q * math.sqrt(stacked_variance(dict(scores), weights))
        return (delivered - half, delivered + half), COVARIANCE
    half = sum((rows[m].delivered_ci[1] - rows[m].delivered_ci[0]) / 2 for m in counted)
    return (delivered - half, delivered + half), UPPER_BOUND
