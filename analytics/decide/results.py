"""The results objects every view shows: the page, the CLI's results.json and the board pack.

Frozen dataclasses with plain fields; `to_dict` gives the JSON of DESIGN.md's contract, with
NaN and infinities written as null.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


def clean(value: Any) -> Any:
    """JSON-ready: NaN and infinities become None, tuples lists, numpy scalars Python ones."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


SliceName = str | tuple[str, str] | None


@dataclass(frozen=True, slots=True)
class EffectRow:
    metric: str
    comparison: str
    slice_type: str
    slice: SliceName
    adjusted: bool
    method: str
    n_a: int
    n_b: int
    mean_a: float
    mean_b: float
    diff: float
    diff_ci: tuple[float, float]
    lift: float
    lift_ci: tuple[float, float]
    p_value: float
    p_adjusted: float
    # Weighted (aggregated) rows: the weight totals (cases) behind each group; None otherwise.
    volume_a: float | None = None
    volume_b: float | None = None

    def to_dict(self) -> dict[str, Any]:
        d = {f: getattr(self, f) for f in self.__slots__}
        if self.volume_a is None and self.volume_b is None:
            d.pop("volume_a"), d.pop("volume_b")
        return clean(d)


@dataclass(frozen=True, slots=True)
class RetentionRow:
    metric: str
    slice_type: str
    slice: SliceName
    retention: float
    ci: tuple[float, float]
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return clean({f: getattr(self, f) for f in self.__slots__ if f != "note"})


@dataclass(frozen=True, slots=True)
class MetricVerdict:
    metric: str
    label: str
    verdict: str
    estimate: float
    ci: tuple[float, float]
    ci_level: float
    method: str
    assumption: str
    pilot_verdict: str
    pilot_estimate: float
    pilot_ci: tuple[float, float]
    pilot_reasons: tuple[str, ...]
    reasons: tuple[str, ...]
    rows_needed: int | None
    retention: float | None
    worse_summary: str
    mde: float = float(
        "nan"
    )  # smallest production lift this data would detect (80% power, verdict level)
    warnings: tuple[str, ...] = ()  # coverage, pre-trends, uneven sites (the rollouts issue)

    def to_dict(self) -> dict[str, Any]:
        keys = ("metric", "verdict", "estimate", "ci", "ci_level", "method", "pilot_verdict")
        d = {k: getattr(self, k) for k in keys}
        d |= {"reasons": list(self.reasons), "rows_needed": self.rows_needed}
        d |= {
            "label": self.label,
            "assumption": self.assumption,
            "pilot_estimate": self.pilot_estimate,
            "pilot_ci": self.pilot_ci,
            "pilot_reasons": list(self.pilot_reasons),
            "retention": self.retention,
            "summary": self.worse_summary,
            "mde": self.mde,
            "warnings": list(self.warnings),
        }
        return clean(d)


@dataclass(frozen=True, slots=True)
class SiteVerdict:
    metric: str
    site: str
    verdict: str
    estimate: float
    ci: tuple[float, float]
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return clean({f: getattr(self, f) for f in self.__slots__})


@dataclass(frozen=True, slots=True)
class ValueRow:
    metric: str
    promised: float
    delivered: float
    delivered_ci: tuple[float, float]
    run_cost: float  # null per outcome: the running cost is netted once, from the total
    net: float
    ci_level: float = float("nan")  # the verdict's level (Bonferroni), as its interval
    currency: str = ""

    def to_dict(self) -> dict[str, Any]:
        return clean({f: getattr(self, f) for f in self.__slots__})


@dataclass(frozen=True, slots=True)
class CounterfactualRow:
    metric: str
    method: str
    baseline_periods: int
    cumulative_effect: float
    ci: tuple[float, float]
    points: tuple[tuple[str, float, float, float, float], ...]
    note: str

    def to_dict(self) -> dict[str, Any]:
        keys = ("metric", "method", "baseline_periods", "cumulative_effect", "ci")
        return clean({k: getattr(self, k) for k in keys})


@dataclass(frozen=True, slots=True)
class TrendRow:
    metric: str
    slope: float
    ci: tuple[float, float]
    p_value: float
    periods: int
    note: str


@dataclass(frozen=True, slots=True)
class HorizonRow:
    """The production effect h periods after go-live (tail: h and beyond): estimate and ci in
    metric units, lift and lift_ci relative to what the same cells would have averaged without
    the AI (the verdict's scale)."""

    horizon: int
    tail: bool
    estimate: float
    ci: tuple[float, float]
    rows: int
    sites: int
    lift: float = float("nan")
    lift_ci: tuple[float, float] = (float("nan"), float("nan"))

    def to_dict(self) -> dict[str, Any]:
        return clean({f: getattr(self, f) for f in self.__slots__})


@dataclass(frozen=True, slots=True)
class WaveRow:
    """One go-live wave: its imputation effect and the group-time (Callaway & Sant'Anna)
    check, flagged when they differ by more than 2 standard errors."""

    go_live: str
    sites: tuple[str, ...]
    rows: int
    estimate: float
    ci: tuple[float, float]
    group_time: float
    group_time_ci: tuple[float, float]
    differs: bool

    def to_dict(self) -> dict[str, Any]:
        return clean({f: getattr(self, f) for f in self.__slots__})


@dataclass(frozen=True, slots=True)
class RolloutRow:
    """The staggered-rollout evidence behind one metric's production effect.

    ``estimator``: the imputation estimate (metric units and lift) with its interval at
    ``level``; ``usual``: what the two-way fixed-effects model says; ``coverage``: the share of
    production rows that can be judged; ``influence``: each site's ψ_g (the estimate's variance
    is Σ ψ_g² on the clustered path; two metrics' ψ give their covariance); ``placebo``: the
    few-sites test (rank r of S, p, floor) or None; ``pilot_alone``: what the pilot team's own
    report says and the pilot's placebo rank; ``breakdown``: the drift per period since go-live
    that would flip the verdict, beside the pre-period slope difference.
    """

    metric: str
    level: float
    estimator: dict[str, Any]
    usual: dict[str, Any]
    coverage: dict[str, Any]
    influence: dict[str, float]
    lift_influence: dict[str, float]
    placebo: dict[str, Any] | None
    event_study: tuple[HorizonRow, ...]
    pretrend: dict[str, Any] | None
    waves: tuple[WaveRow, ...]
    pilot_alone: dict[str, Any] | None
    breakdown: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        d = {f: getattr(self, f) for f in self.__slots__}
        d["event_study"] = [h.to_dict() for h in self.event_study]
        d["waves"] = [w.to_dict() for w in self.waves]
        return clean(d)


@dataclass(frozen=True, slots=True)
class Results:
    """Everything one analysis found, for one dataset, filters and catalog."""

    meta: dict[str, Any]
    dataset: dict[str, Any]
    effects: tuple[EffectRow, ...]
    retention: tuple[RetentionRow, ...]
    verdicts: tuple[MetricVerdict, ...]
    site_verdicts: tuple[SiteVerdict, ...]
    value_at_scale: tuple[ValueRow, ...]
    counterfactual: tuple[CounterfactualRow, ...]
    trends: tuple[TrendRow, ...]
    notes: tuple[str, ...]
    value_total: Any = None  # analytics.decide.value.ValueTotal, when outcomes were judged
    rollouts: tuple[RolloutRow, ...] = ()
    gaps: tuple[Any, ...] = ()  # analytics.decide.gap_report.GapRow per outcome (issue 14)
    # Issue 14, items 3-5: decide/load_report.LoadSection, site_links_report.QualityRow per
    # outcome and AdoptionSection.
    load_curve: Any = None
    data_quality: tuple[Any, ...] = ()
    adoption: Any = None
    representativeness: tuple[Any, ...] = ()  # decide.representativeness_report rows (issue 14)

    def to_dict(self) -> dict[str, Any]:
        from analytics.decide.signs import add_improvements

        return add_improvements(self._raw_dict())

    def _raw_dict(self) -> dict[str, Any]:
        return clean(
            {
                "meta": self.meta,
                "dataset": self.dataset,
                "effects": [e.to_dict() for e in self.effects],
                "retention": [r.to_dict() for r in self.retention],
                "verdicts": [v.to_dict() for v in self.verdicts],
                "site_verdicts": [s.to_dict() for s in self.site_verdicts],
                "value_at_scale": [v.to_dict() for v in self.value_at_scale],
                "counterfactual": [c.to_dict() for c in self.counterfactual],
                "value_total": self.value_total.to_dict() if self.value_total else None,
                "rollouts": [r.to_dict() for r in self.rollouts],
                "gaps": [g.to_dict() for g in self.gaps],
                "load_curve": self.load_curve.to_dict() if self.load_curve else None,
                "data_quality": [q.to_dict() for q in self.data_quality],
                "adoption": self.adoption.to_dict() if self.adoption else None,
                "representativeness": [r.to_dict() for r in self.representativeness],
            }
        )

    def effect(
        self,
        metric: str,
        comparison: str,
        *,
        adjusted: bool = True,
        slice_type: str = "overall",
        slice: SliceName = None,
    ) -> EffectRow | None:
        for e in self.effects:
            if (e.metric, e.comparison, e.adjusted, e.slice_type, e.slice) == (
                metric,
                comparison,
                adjusted,
                slice_type,
                slice,
            ):
                return e
        return None

    def verdict(self, metric: str) -> MetricVerdict | None:
        return next((v for v in self.verdicts if v.metric == metric), None)

    def rollout(self, metric: str) -> RolloutRow | None:
        return next((r for r in self.rollouts if r.metric == metric), None)
