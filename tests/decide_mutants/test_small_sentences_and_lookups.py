"""Small sentences and lookups the rules lean on: a guardrail on a lower-is-better measure is
breached above its limit and says "at most", a dataset without production rows says so, a
decision number that does not exist is named, and a .ndjson log is JSON Lines."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics.core.catalog import Catalog, Metric
from analytics.core.errors import ScalegateError
from analytics.decide.decision_export import format_of
from analytics.decide.decisions import get_decision
from analytics.decide.evidence import _guardrails, _worse_summary
from analytics.decide.metric_fit import _Means
from analytics.store.database import Store

OUTCOME = Metric("cost", "Cost per case", direction="lower")
LATENCY = Metric("latency", "Latency (s)", kind="process", direction="lower", guardrail=2.0)
ACCURACY = Metric("accuracy", "Accuracy", kind="process", direction="higher", guardrail=0.8)


def _means(latency: float, accuracy: float) -> _Means:
    cells = pd.DataFrame(
        {
            "metric": ["latency", "accuracy"],
            "phase": ["production", "production"],
            "n": [50, 50],
            "mean": [latency, accuracy],
            "m2": [1.0, 1.0],
        }
    )
    return _Means(cells)


def test_each_guardrail_says_its_own_side() -> None:
    catalog = Catalog((OUTCOME, LATENCY, ACCURACY))
    assert _guardrails(catalog, _means(2.5, 0.7), OUTCOME) == (
        "Latency (s) is 2.5 in production, where it must be at most 2",
        "Accuracy is 0.7 in production, where it must be at least 0.8",
    )
    assert _guardrails(catalog, _means(1.5, 0.9), OUTCOME) == ()


def test_no_production_rows_and_no_such_decision_are_sentences() -> None:
    assert _worse_summary(OUTCOME, (), 0) == "No site has production rows yet."
    assert _worse_summary(OUTCOME, (), 4) == (
        "No site of 4 is significantly worse than before the AI on Cost per case."
    )
    with pytest.raises(ScalegateError, match=r"^There is no decision number 7\.$"):
        get_decision(Store(":memory:"), 7)


def test_a_decision_log_is_read_by_its_extension() -> None:
    assert [format_of(f"log{s}") for s in (".jsonl", ".NDJSON", ".json", ".csv")] == [
        "jsonl",
        "jsonl",
        "jsonl",
        "csv",
    ]
    with pytest.raises(ScalegateError, match=r"^log\.txt: a decision log is a \.jsonl"):
        format_of("log.txt")
