"""What happened to each dataset after the decision: its loads and appends, and who acknowledged
which alert and what was done (schema step 5).

`loads` holds one row per load or append of a dataset: the files, the rows added, replaced and
set aside, the dates they cover, and the plan the first load used (column roles, phase values,
date format), which an append reuses so that a weekly file is read exactly as the first one was.
`alert_acks` is the part of the decision log that follows alerts: one row per acknowledgement.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import duckdb

# Created with the schema (database.py) and by the upgrade to step 5 (migrations.py).
TABLES = (
    """CREATE TABLE IF NOT EXISTS loads (
        dataset_id INTEGER NOT NULL, seq INTEGER NOT NULL, kind VARCHAR NOT NULL,
        loaded_at TIMESTAMP NOT NULL, source VARCHAR, sha256 VARCHAR, rows_added BIGINT NOT NULL,
        rows_rejected BIGINT NOT NULL, rows_replaced BIGINT NOT NULL, date_min DATE,
        date_max DATE, days_replaced INTEGER NOT NULL, plan JSON, report JSON)""",
    """CREATE TABLE IF NOT EXISTS alert_acks (
        id INTEGER NOT NULL, decision_id INTEGER NOT NULL, alert_key VARCHAR NOT NULL,
        acknowledged_at TIMESTAMP NOT NULL, who VARCHAR NOT NULL, action VARCHAR NOT NULL)""",
)


@dataclass(frozen=True, slots=True)
class LoadRecord:
    """One load or append of a dataset, as stored in `loads`."""

    dataset_id: int
    seq: int
    kind: str  # load | append
    loaded_at: datetime
    source: str
    sha256: str
    rows_added: int
    rows_rejected: int
    rows_replaced: int
    date_min: date | None
    date_max: date | None
    days_replaced: int
    plan: dict[str, Any]

    @property
    def rows_read(self) -> int:
        return self.rows_added + self.rows_rejected


# Insert one load record; seq is the next number for the dataset.
_INSERT = (
    "INSERT INTO loads SELECT $id, coalesce(max(seq), 0) + 1, $kind, $at, $source, $sha, $added, "
    "$rejected, $replaced, $lo, $hi, $days, $plan, $report FROM loads WHERE dataset_id = $id"
)


def record(
    cur: duckdb.DuckDBPyConnection,
    dataset_id: int,
    *,
    kind: str,
    source: str,
    sha256: str,
    rows_added: int,
    rows_rejected: int,
    dates: tuple[date | None, date | None],
    plan: dict[str, Any] | None,
    report: dict[str, Any] | None,
    rows_replaced: int = 0,
    days_replaced: int = 0,
) -> None:
    """Write one load record in the caller's transaction."""
    cur.execute(
        _INSERT,
        {
            "id": dataset_id,
            "kind": kind,
            "at": datetime.now(),
            "source": source,
            "sha": sha256,
            "added": rows_added,
            "rejected": rows_rejected,
            "replaced": rows_replaced,
            "lo": dates[0],
            "hi": dates[1],
            "days": days_replaced,
            "plan": json.dumps(plan) if plan is not None else None,
            "report": json.dumps(report) if report is not None else None,
        },
    )


def plan_facts(plan: Any) -> dict[str, Any]:
    """What an append must reuse from a load's plan: roles, phase values, date format."""
    return {
        "headers": list(plan.headers),
        "roles": dict(plan.roles),
        "phase_keys": {k: list(v) for k, v in plan.phase_keys.items()},
        "date_format": plan.date_format,
        "form": plan.form,
    }


def record_load(
    cur: duckdb.DuckDBPyConnection, dataset_id: int, plan: Any, report: Any, sha256: str
) -> None:
    """The hook of a fresh load (ingest/load.py): its plan and what it stored."""
    row = cur.execute(
        f"SELECT min(date), max(date) FROM obs_{int(dataset_id)}"  # noqa: S608 (name from an int)
    ).fetchone()
    record(
        cur,
        dataset_id,
        kind="load",
        source=", ".join(report.files),
        sha256=sha256,
        rows_added=report.rows_loaded,
        rows_rejected=report.rows_rejected,
        dates=(row[0], row[1]) if row else (None, None),
        plan=plan_facts(plan),
        report=None,  # the first load's report stays in datasets.report
    )


# Every load record of a dataset, oldest first.
_SELECT = (
    "SELECT dataset_id, seq, kind, loaded_at, source, sha256, rows_added, rows_rejected, "
    "rows_replaced, date_min, date_max, days_replaced, plan FROM loads "
    "WHERE dataset_id = $id ORDER BY seq"
)


def loads_of(cur: duckdb.DuckDBPyConnection, dataset_id: int) -> tuple[LoadRecord, ...]:
    rows = cur.execute(_SELECT, {"id": dataset_id}).fetchall()
    return tuple(
        LoadRecord(*r[:12], plan=json.loads(r[12]) if r[12] else {})  # type: ignore[misc]
        for r in rows
    )


def stored_plan(cur: duckdb.DuckDBPyConnection, dataset_id: int) -> dict[str, Any]:
    """The plan of the dataset's latest full load ({} for a dataset loaded before step 5)."""
    fulls = [r for r in loads_of(cur, dataset_id) if r.kind == "load"]
    return fulls[-1].plan if fulls else {}


def backfill(cur: duckdb.DuckDBPyConnection) -> None:
    """Step 5 for a file that has datasets already: one `load` record each, without a plan."""
    for dataset_id, source, sha, rows, rejected, at in cur.execute(
        "SELECT id, source, sha256, rows, rejected, loaded_at FROM datasets "
        "WHERE id NOT IN (SELECT dataset_id FROM loads) ORDER BY id"
    ).fetchall():
        span = cur.execute(
            f"SELECT min(date), max(date) FROM cells_{int(dataset_id)}"  # noqa: S608 (name from an int)
        ).fetchone()
        cur.execute(
            "INSERT INTO loads VALUES ($id, 1, 'load', $at, $source, $sha, $rows, $rejected, 0, "
            "$lo, $hi, 0, NULL, NULL)",
            {
                "id": dataset_id,
                "at": at,
                "source": source,
                "sha": sha,
                "rows": rows,
                "rejected": rejected,
                "lo": span[0] if span else None,
                "hi": span[1] if span else None,
            },
        )
