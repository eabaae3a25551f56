"""A watch report built by hand, written as JSON: it meets docs/alerts.schema.json (every field
under its documented name, NaN as null) and each value is the one put in; its lines read as said."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import jsonschema

from analytics.decide.watch_report import (
    BAND_LEVEL,
    Alert,
    GuardrailWatch,
    OutcomeWatch,
    Point,
    WatchReport,
)

SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "alerts.schema.json").read_text())
META = {
    "version": "1",
    "created_at": "2025-04-01T08:00:00",
    "dataset_id": 1,
    "dataset_name": "rollout.csv",
    "fingerprint": "abc",
    "as_of": "2025-04-01",
    "grain": "week",
    "horizon": 52,
    "alpha": 0.05,
    "periods_since_decision": 3,
}
DECISION = {
    "id": 2,
    "decision": "go",
    "owner": "@cfo",
    "decided_at": "2025-03-07T10:00:00",
    "data_until": "2025-03-02",
}
DATA = {"date_max": "2025-03-30", "rows_since_decision": 410}
BEFORE = Point(date(2025, 3, 3), 0.12, 0.05, 0.19, False)
AFTER = Point(date(2025, 3, 10), -0.02, -0.09, 0.05, True, cusum=1.5)
DECLINE = Alert(
    "effect_declined", "aht", None, date(2025, 3, 10), "Handle time gains fell.", True, 4.2, 3.1
)
SITE = Alert(
    "site_worse", "aht", "Lyon", None, "Lyon is worse.", False,
    acknowledged={"who": "Ops", "action": "Retrained.", "at": "2025-03-20T09:00:00"},
)  # fmt: skip
OUTCOME = OutcomeWatch(
    "aht", "Handle time", "causal", 2, 0.11, (0.04, 0.18), "staggered", 0.1, 0.05, 3.1,
    (BEFORE, AFTER), note="Two comparison sites left.",
)  # fmt: skip
GUARD = GuardrailWatch("csat", "Satisfaction", 4.2, "higher", 2.5, (AFTER,))


def _report(alerts: tuple[Alert, ...] = (DECLINE, SITE), **meta: object) -> WatchReport:
    return WatchReport(META | meta, DECISION, alerts, (OUTCOME,), (GUARD,), DATA)


def test_the_written_report_meets_its_schema_field_for_field() -> None:
    doc = _report().to_dict()
    jsonschema.validate(doc, SCHEMA)
    assert doc["status"] == "alert" and doc["meta"] == META and doc["data"] == DATA
    decline, site = doc["alerts"]
    assert decline == {
        "key": "effect_declined:aht:", "kind": "effect_declined", "metric": "aht", "site": None,
        "since": "2025-03-10", "message": "Handle time gains fell.", "causal": True,
        "statistic": 4.2, "threshold": 3.1, "acknowledged": None,
    }  # fmt: skip
    assert site["key"] == "site_worse:aht:Lyon" and site["since"] is None
    assert site["statistic"] is None and site["threshold"] is None  # NaN written as null
    assert site["acknowledged"] == {
        "who": "Ops",
        "action": "Retrained.",
        "at": "2025-03-20T09:00:00",
    }
    [outcome] = doc["outcomes"]
    assert outcome == {
        "metric": "aht", "label": "Handle time", "mode": "causal", "causal": True,
        "comparison_sites": 2, "reference": 0.11, "reference_ci": [0.04, 0.18],
        "reference_method": "staggered", "snapshot_estimate": 0.1, "min_effect": 0.05,
        "cusum_threshold": 3.1, "band_level": BAND_LEVEL, "note": "Two comparison sites left.",
        "points": [
            {"period": "2025-03-03", "value": 0.12, "ci": [0.05, 0.19], "after_decision": False,
             "cusum": None},
            {"period": "2025-03-10", "value": -0.02, "ci": [-0.09, 0.05], "after_decision": True,
             "cusum": 1.5},
        ],
    }  # fmt: skip
    assert doc["guardrails"] == [
        {
            "metric": "csat", "label": "Satisfaction", "limit": 4.2, "direction": "higher",
            "cusum_threshold": 2.5, "band_level": 0.95, "points": [outcome["points"][1]],
        }
    ]  # fmt: skip
    level = OutcomeWatch(**{k: getattr(OUTCOME, k) for k in OUTCOME.__slots__} | {"mode": "level"})
    assert level.to_dict()["causal"] is False


def test_open_alerts_set_the_status_and_acknowledged_ones_are_marked() -> None:
    report = _report()
    assert report.open_alerts == (DECLINE,)
    assert report.lines() == [
        "ALERT effect_declined: Handle time gains fell.",
        "ALERT site_worse: Lyon is worse. [acknowledged by Ops]",
    ]
    only_seen = _report((SITE,))
    assert only_seen.status == "hold" and only_seen.open_alerts == ()
    assert only_seen.to_dict()["status"] == "hold"


def test_with_no_alert_the_line_says_all_hold_or_nothing_to_watch_yet() -> None:
    assert _report(()).lines() == ["All hold since the decision of 2025-03-07."]
    assert not _report(()).nothing_yet
    quiet = _report((), periods_since_decision=0)
    assert quiet.nothing_yet
    assert quiet.lines() == [
        "Nothing to watch yet: no week of production since the decision of 2025-03-07 (data to "
        "2025-03-02); add the next period's file and watch again."
    ]
    unknown = WatchReport({"periods_since_decision": None}, DECISION, (), (), ())
    assert unknown.nothing_yet and unknown.lines()[0].startswith("Nothing to watch yet: no period ")
    assert unknown.data == {}
    assert math.isnan(Alert("data_stopped", None, None, None, "m", False).statistic)
