"""The decision log: go / fix first / no-go, with its owner, date, rationale, the readiness answers
and a frozen snapshot of the verdicts it was taken on, in DuckDB's `decisions` table.

A snapshot is plain JSON written once and never recomputed, so a decision can later be set
beside today's numbers to show what has changed since.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Literal, cast, get_args

import pandas as pd

from analytics.core import fmt
from analytics.core.errors import ScalegateError
from analytics.decide.results import Results, clean
from analytics.decide.signs import sign_of
from analytics.decide.verdict import VERDICT_LABELS
from analytics.engine.aggregate import Filters
from analytics.present.view_state import filters_from_dict
from analytics.store.database import Store

DecisionKind = Literal["go", "fix_first", "no_go"]
DECISION_KINDS: tuple[DecisionKind, ...] = get_args(DecisionKind)
DECISION_LABELS: dict[str, str] = {"go": "Go", "fix_first": "Fix first", "no_go": "No-go"}


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """One recorded decision, as stored."""

    id: int
    dataset_id: int
    decided_at: datetime
    decision: DecisionKind
    owner: str
    rationale: str
    answers: dict[str, Any]
    snapshot: dict[str, Any]

    @property
    def label(self) -> str:
        return DECISION_LABELS[self.decision]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "dataset_id": self.dataset_id,
            "decided_at": self.decided_at.isoformat(timespec="seconds"),
            "decision": self.decision,
            "owner": self.owner,
            "rationale": self.rationale,
            "answers": self.answers,
            "snapshot": self.snapshot,
        }


def snapshot_of(results: Results) -> dict[str, Any]:
    """What a decision freezes: the verdicts, per-site verdicts, value at scale, the dataset and
    the filters, settings and catalog they were computed under. JSON-ready (NaN as null)."""
    full = results.to_dict()
    return clean(
        {
            "meta": full["meta"],
            "dataset": full["dataset"],
            "verdicts": full["verdicts"],
            "site_verdicts": full["site_verdicts"],
            "value_at_scale": full["value_at_scale"],
            "retention": [r for r in full["retention"] if r["slice_type"] == "overall"],
        }
    )


# Insert one decision; the id is taken under the store's write lock.
_INSERT = (
    "INSERT INTO decisions VALUES ($id, $dataset_id, $decided_at, $decision, $owner, $rationale, "
    "$answers, $snapshot)"
)
# Every decision, newest first; optionally only those of one dataset.
_SELECT = (
    "SELECT id, dataset_id, decided_at, decision, owner, rationale, answers, snapshot "
    "FROM decisions WHERE $dataset_id IS NULL OR dataset_id = $dataset_id "
    "ORDER BY decided_at DESC, id DESC"
)


def record_decision(
    store: Store,
    dataset_id: int,
    *,
    decision: str,
    owner: str,
    rationale: str,
    results: Results,
    answers: Mapping[str, Any] | None = None,
    decided_on: date | datetime | None = None,
) -> DecisionRecord:
    """Store a decision with a frozen snapshot of `results`. Raises ScalegateError when the
    decision, owner or dataset is not usable."""
    if decision not in DECISION_KINDS:
        raise ScalegateError(
            f"A decision is one of {', '.join(DECISION_LABELS.values())}, not {decision!r}."
        )
    owner = owner.strip()
    if not owner:
        raise ScalegateError("A decision needs an owner: type who owns the outcome.")
    if results.meta.get("dataset_id") != dataset_id:
        raise ScalegateError("These results belong to another dataset: refresh the page.")
    when = decided_on or datetime.now()
    if not isinstance(when, datetime):
        when = datetime.combine(when, time(0, 0))
    snapshot = snapshot_of(results)
    answers_doc = clean(dict(answers or {}))
    with store.transaction() as cur:
        found = cur.execute(
            "SELECT count(*) FROM datasets WHERE id = $id", {"id": dataset_id}
        ).fetchone()
        if not found or not found[0]:
            raise ScalegateError("This dataset no longer exists: pick another one.")
        row = cur.execute("SELECT coalesce(max(id), 0) + 1 FROM decisions").fetchone()
        new_id = int(row[0]) if row else 1
        cur.execute(
            _INSERT,
            {
                "id": new_id,
                "dataset_id": dataset_id,
                "decided_at": when,
                "decision": decision,
                "owner": owner,
                "rationale": rationale.strip(),
                "answers": json.dumps(answers_doc, allow_nan=False),
                "snapshot": json.dumps(snapshot, allow_nan=False),
            },
        )
    return DecisionRecord(
        new_id,
        dataset_id,
        when,
        cast(DecisionKind, decision),
        owner,
        rationale.strip(),
        answers_doc,
        snapshot,
    )


def list_decisions(store: Store, dataset_id: int | None = None) -> tuple[DecisionRecord, ...]:
    """Recorded decisions, newest first (of one dataset, or of all)."""
    rows = store.cursor().execute(_SELECT, {"dataset_id": dataset_id}).fetchall()
    return tuple(
        DecisionRecord(
            id=int(r[0]),
            dataset_id=int(r[1]),
            decided_at=r[2],
            decision=cast(DecisionKind, r[3]),
            owner=r[4],
            rationale=r[5] or "",
            answers=json.loads(r[6]) if r[6] else {},
            snapshot=json.loads(r[7]) if r[7] else {},
        )
        for r in rows
    )


def get_decision(store: Store, decision_id: int) -> DecisionRecord:
    for record in list_decisions(store):
        if record.id == decision_id:
            return record
    raise ScalegateError(f"There is no decision number {decision_id}.")


def snapshot_filters(snapshot: Mapping[str, Any]) -> Filters:
    """The filters a snapshot was computed under, to recompute today's numbers the same way."""
    return filters_from_dict(snapshot.get("meta", {}).get("filters", {}) or {})


@dataclass(frozen=True, slots=True)
class VerdictChange:
    """One outcome metric then (in the snapshot) and now."""

    metric: str
    label: str
    verdict_then: str | None
    verdict_now: str | None
    lift_then: float
    lift_now: float
    ci_then: tuple[float, float]
    ci_now: tuple[float, float]
    sign: int = 1  # +1 where higher is better, -1 where lower is

    @property
    def changed(self) -> bool:
        return self.verdict_then != self.verdict_now


def _num(x: Any) -> float:
    return float(x) if isinstance(x, int | float) and math.isfinite(x) else math.nan


def _pair(x: Any) -> tuple[float, float]:
    if isinstance(x, list | tuple) and len(x) == 2:
        return _num(x[0]), _num(x[1])
    return math.nan, math.nan


def compare_snapshot(snapshot: Mapping[str, Any], results: Results) -> tuple[VerdictChange, ...]:
    """Each outcome metric's verdict and lift in the snapshot beside today's: the snapshot's
    metrics first in their order, then metrics that are new today."""
    then = {v["metric"]: v for v in snapshot.get("verdicts", [])}
    now = {v.metric: v for v in results.verdicts}
    order = list(then) + [m for m in now if m not in then]
    catalog = {**(snapshot.get("meta", {}).get("catalog") or {}), **results.meta.get("catalog", {})}
    changes = []
    for metric in order:
        t, n = then.get(metric), now.get(metric)
        changes.append(
            VerdictChange(
                metric=metric,
                label=(n.label if n else t.get("label")) or metric,
                verdict_then=t["verdict"] if t else None,
                verdict_now=n.verdict if n else None,
                lift_then=_num(t.get("estimate")) if t else math.nan,
                lift_now=n.estimate if n else math.nan,
                ci_then=_pair(t.get("ci")) if t else (math.nan, math.nan),
                ci_now=(float(n.ci[0]), float(n.ci[1])) if n else (math.nan, math.nan),
                sign=sign_of(catalog, metric),
            )
        )
    return tuple(changes)


def changes_frame(changes: tuple[VerdictChange, ...]) -> pd.DataFrame:
    """The comparison as a table a reader scans: verdicts in words, the improvement (positive =
    better) beside the raw change, then and now, with today's verdict interval."""

    def label(v: str | None) -> str:
        return VERDICT_LABELS.get(v, "—") if v else "— (not in this view)"

    columns = ["Metric", "Better when", "Verdict then", "Verdict now", "Changed"]
    columns += ["Improvement then", "Change then", "Improvement now", "Change now"]
    columns += ["Improvement interval now"]
    return pd.DataFrame(
        [
            {
                "Metric": c.label,
                "Better when": "higher" if c.sign > 0 else "lower",
                "Verdict then": label(c.verdict_then),
                "Verdict now": label(c.verdict_now),
                "Changed": "yes" if c.changed else "no",
                "Improvement then": fmt.pct(c.sign * c.lift_then),
                "Change then": fmt.pct(c.lift_then),
                "Improvement now": fmt.pct(c.sign * c.lift_now),
                "Change now": fmt.pct(c.lift_now),
                "Improvement interval now": fmt.pct_interval(
                    [c.sign * c.ci_now[0], c.sign * c.ci_now[1]]
                ),
            }
            for c in changes
        ],
        columns=columns,
    )
