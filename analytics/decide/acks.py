"""Alert acknowledgements: the part of the decision log that says who saw an alert raised by
`watch` and what was done about it (table `alert_acks`, schema step 5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from analytics.core.errors import ScalegateError
from analytics.store.database import Store


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """One acknowledgement of one alert of one decision."""

    id: int
    decision_id: int
    alert_key: str
    acknowledged_at: datetime
    who: str
    action: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "who": self.who,
            "action": self.action,
            "at": self.acknowledged_at.isoformat(timespec="seconds"),
        }


# Every acknowledgement of a decision's alerts, oldest first.
_SELECT = (
    "SELECT id, decision_id, alert_key, acknowledged_at, who, action FROM alert_acks "
    "WHERE decision_id = $d ORDER BY acknowledged_at, id"
)


def acknowledge(
    store: Store, decision_id: int, alert_key: str, *, who: str, action: str
) -> Acknowledgement:
    """Record that `who` acknowledged an alert and did `action`. Raises ScalegateError when
    the name or the action is empty or the decision does not exist."""
    who, action = who.strip(), action.strip()
    if not who:
        raise ScalegateError("Say who acknowledges the alert: type a name.")
    if not action:
        raise ScalegateError("Say what was done about the alert, in a line.")
    with store.transaction() as cur:
        found = cur.execute(
            "SELECT count(*) FROM decisions WHERE id = $d", {"d": decision_id}
        ).fetchone()
        if not found or not found[0]:
            raise ScalegateError(f"There is no decision number {decision_id}.")
        row = cur.execute("SELECT coalesce(max(id), 0) + 1 FROM alert_acks").fetchone()
        new_id = int(row[0]) if row else 1
        when = datetime.now()
        cur.execute(
            "INSERT INTO alert_acks VALUES ($id, $d, $key, $at, $who, $action)",
            {"id": new_id, "d": decision_id, "key": alert_key, "at": when, "who": who,
             "action": action},
        )  # fmt: skip
    return Acknowledgement(new_id, decision_id, alert_key, when, who, action)


def acknowledgements(store: Store, decision_id: int) -> dict[str, Acknowledgement]:
    """The latest acknowledgement of each alert key of a decision."""
    rows = store.cursor().execute(_SELECT, {"d": decision_id}).fetchall()
    return {r[2]: Acknowledgement(int(r[0]), int(r[1]), r[2], r[3], r[4], r[5]) for r in rows}
