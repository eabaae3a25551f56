"""Recording a decision: one sentence for each unusable input, nothing stored; the snapshot keeps
the overall retention rows only."""

from __future__ import annotations

import pytest

from analytics.core.errors import ScalegateError
from analytics.decide.decisions import list_decisions, record_decision, snapshot_of
from analytics.decide.results import Results, RetentionRow
from analytics.store.database import Store


def _results(dataset_id: int = 1, retention: tuple = ()) -> Results:
    meta = {"dataset_id": dataset_id, "catalog": {}}
    return Results(meta, {"rows": 10}, (), retention, (), (), (), (), (), ())


@pytest.mark.parametrize(
    ("kw", "sentence"),
    [
        (
            {"decision": "maybe"},
            r"^A decision is one of Go, Fix first, No-go, not 'maybe'\.$",
        ),
        ({"owner": "  "}, r"^A decision needs an owner: type who owns the outcome\.$"),
        (
            {"results": _results(dataset_id=2)},
            r"^These results belong to another dataset: refresh the page\.$",
        ),
        ({}, r"^This dataset no longer exists: pick another one\.$"),
    ],
)
def test_an_unusable_decision_says_why_and_stores_nothing(
    store: Store, kw: dict, sentence: str
) -> None:
    args = {"decision": "go", "owner": "@cfo", "rationale": "", "results": _results()} | kw
    with pytest.raises(ScalegateError, match=sentence):
        record_decision(store, 1, **args)
    assert list_decisions(store) == ()


def test_the_snapshot_keeps_only_the_overall_retention() -> None:
    rows = (
        RetentionRow("aht", "overall", None, 0.8, (0.6, 1.0)),
        RetentionRow("aht", "site", "Lyon", 0.5, (0.1, 0.9)),
    )
    snap = snapshot_of(_results(retention=rows))
    assert snap["retention"] == [
        {
            "metric": "aht",
            "slice_type": "overall",
            "slice": None,
            "retention": 0.8,
            "ci": [0.6, 1.0],
        }
    ]
    assert set(snap) == {
        "meta",
        "dataset",
        "verdicts",
        "site_verdicts",
        "value_at_scale",
        "retention",
    }
    assert snap["dataset"] == {"rows": 10} and snap["meta"]["dataset_id"] == 1
