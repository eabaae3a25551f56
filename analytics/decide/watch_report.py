"""What `watch` found, as frozen results: the alerts, and per outcome and guardrail the
per-period series since the decision. JSON as in docs/alerts.schema.json (NaN as null)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from analytics.decide.results import clean

AlertKind = str  # one of ALERT_KINDS
ALERT_KINDS = (
    "guardrail_breach",
    "effect_below_threshold",
    "retention_below_floor",
    "effect_declined",
    "outcome_level_declined",
    "site_worse",
    "data_stopped",
    "site_stopped",
    "quality_dropped",
)
BAND_LEVEL = 0.95  # the per-period bands: pointwise 95% intervals


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert: a stable key (kind, metric, site), its sentence, and whether it is causal."""

    kind: AlertKind
    metric: str | None
    site: str | None
    since: date | None  # the first period in which the alarm crossed its threshold
    message: str
    causal: bool
    statistic: float = float("nan")
    threshold: float = float("nan")
    acknowledged: dict[str, Any] | None = None  # who, action, at

    @property
    def key(self) -> str:
        return ":".join((self.kind, self.metric or "", self.site or ""))

    @property
    def open(self) -> bool:
        return self.acknowledged is None

    def to_dict(self) -> dict[str, Any]:
        return clean(
            {
                "key": self.key,
                "kind": self.kind,
                "metric": self.metric,
                "site": self.site,
                "since": self.since.isoformat() if self.since else None,
                "message": self.message,
                "causal": self.causal,
                "statistic": self.statistic,
                "threshold": self.threshold,
                "acknowledged": self.acknowledged,
            }
        )


@dataclass(frozen=True, slots=True)
class Point:
    """One period of a watched series: its value with a pointwise 95% band, and the CUSUM."""

    period: date
    value: float
    low: float
    high: float
    after_decision: bool
    cusum: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        return clean(
            {
                "period": self.period.isoformat(),
                "value": self.value,
                "ci": [self.low, self.high],
                "after_decision": self.after_decision,
                "cusum": self.cusum,
            }
        )


@dataclass(frozen=True, slots=True)
class OutcomeWatch:
    """An outcome since the decision: causal per-period lifts while comparison sites remain,
    else its level against the decision-time level (not causal)."""

    metric: str
    label: str
    mode: str  # causal | level
    comparison_sites: int  # sites without the AI in the latest period
    reference: float  # decision-time improvement, recomputed with today's method (or 0: level)
    reference_ci: tuple[float, float]
    reference_method: str
    snapshot_estimate: float  # what the decision recorded (shown, never compared)
    min_effect: float
    cusum_threshold: float
    points: tuple[Point, ...]
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return clean(
            {
                "metric": self.metric,
                "label": self.label,
                "mode": self.mode,
                "causal": self.mode == "causal",
                "comparison_sites": self.comparison_sites,
                "reference": self.reference,
                "reference_ci": list(self.reference_ci),
                "reference_method": self.reference_method,
                "snapshot_estimate": self.snapshot_estimate,
                "min_effect": self.min_effect,
                "cusum_threshold": self.cusum_threshold,
                "band_level": BAND_LEVEL,
                "points": [p.to_dict() for p in self.points],
                "note": self.note,
            }
        )


@dataclass(frozen=True, slots=True)
class GuardrailWatch:
    """A guardrail's production mean per period against its limit."""

    metric: str
    label: str
    limit: float
    direction: str  # higher: the mean must stay >= limit; lower: <= limit
    cusum_threshold: float
    points: tuple[Point, ...]

    def to_dict(self) -> dict[str, Any]:
        return clean(
            {
                "metric": self.metric,
                "label": self.label,
                "limit": self.limit,
                "direction": self.direction,
                "cusum_threshold": self.cusum_threshold,
                "band_level": BAND_LEVEL,
                "points": [p.to_dict() for p in self.points],
            }
        )


@dataclass(frozen=True, slots=True)
class WatchReport:
    """Everything one `watch` found; `alerts` holds open and acknowledged alerts alike."""

    meta: dict[str, Any]
    decision: dict[str, Any]
    alerts: tuple[Alert, ...]
    outcomes: tuple[OutcomeWatch, ...]
    guardrails: tuple[GuardrailWatch, ...]
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def open_alerts(self) -> tuple[Alert, ...]:
        return tuple(a for a in self.alerts if a.open)

    @property
    def nothing_yet(self) -> bool:
        """No production period since the decision: nothing holds or slips yet."""
        return int(self.meta.get("periods_since_decision") or 0) == 0

    @property
    def status(self) -> str:
        return "alert" if self.open_alerts else "hold"

    def lines(self) -> list[str]:
        """One line per alert (acknowledged ones marked), or one line saying all holds."""
        if not self.alerts and self.nothing_yet:
            return [
                f"Nothing to watch yet: no {self.meta.get('grain', 'period')} of production since "
                f"the decision of {self.decision['decided_at'][:10]} (data to "
                f"{self.decision.get('data_until')}); add the next period's file and watch again."
            ]
        if not self.alerts:
            return [f"All hold since the decision of {self.decision['decided_at'][:10]}."]
        out = []
        for a in self.alerts:
            mark = "" if a.open else f" [acknowledged by {a.acknowledged['who']}]"  # type: ignore[index]
            out.append(f"ALERT {a.kind}: {a.message}{mark}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return clean(
            {
                "meta": self.meta,
                "decision": self.decision,
                "status": self.status,
                "alerts": [a.to_dict() for a in self.alerts],
                "outcomes": [o.to_dict() for o in self.outcomes],
                "guardrails": [g.to_dict() for g in self.guardrails],
                "data": self.data,
            }
        )
