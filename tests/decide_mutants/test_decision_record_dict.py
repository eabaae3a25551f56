"""A decision record as JSON: every stored field under its own name, the time to the second."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from analytics.core.errors import ScalegateError
from analytics.decide.decisions import DecisionRecord, get_decision
from analytics.store.database import Store


def test_a_record_reads_back_field_by_field() -> None:
    record = DecisionRecord(
        id=7,
        dataset_id=3,
        decided_at=datetime(2025, 2, 3, 10, 4, 5, 987654),
        decision="fix_first",
        owner="@cfo",
        rationale="Two sites worse on handle time.",
        answers={"owner": "yes"},
        snapshot={"verdicts": [{"metric": "aht"}]},
    )
    out = record.to_dict()
    assert out == {
        "id": 7,
        "dataset_id": 3,
        "decided_at": "2025-02-03T10:04:05",
        "decision": "fix_first",
        "owner": "@cfo",
        "rationale": "Two sites worse on handle time.",
        "answers": {"owner": "yes"},
        "snapshot": {"verdicts": [{"metric": "aht"}]},
    }
    assert json.loads(json.dumps(out)) == out
    assert record.label == "Fix first"


def test_asking_for_a_decision_that_is_not_there_says_which(store: Store) -> None:
    with pytest.raises(ScalegateError, match=r"^There is no decision number 42\.$"):
        get_decision(store, 42)
