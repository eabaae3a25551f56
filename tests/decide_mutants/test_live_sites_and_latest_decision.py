"""Two things read from the stored data itself: the few-sites reason counts the sites that went
live (three of the four in the small rollout of the page tests), and the latest decision of a
dataset is its own, not the latest of the database."""

from __future__ import annotations

import io
from datetime import datetime

import pandas as pd
import pytest
from test_pages import small_csv

from analytics.core.catalog import read_catalog
from analytics.core.errors import ScalegateError
from analytics.decide.analysis import analyse
from analytics.decide.decisions import record_decision
from analytics.decide.watch import latest_decision
from analytics.ingest.load import Source, load_files
from analytics.store.database import Store


def test_the_few_sites_reason_counts_the_sites_that_went_live() -> None:
    rows = pd.read_csv(io.BytesIO(small_csv()))
    live = rows.loc[rows["phase"] == "production", "site"].nunique()
    assert live == 3  # North, South from April, East from May; West stays on the baseline
    store = Store(":memory:")
    ds = load_files(store, [Source.from_bytes("rollout.csv", small_csv())]).dataset_id
    found = analyse(store, ds, read_catalog(store.cursor(), ds))
    for verdict in found.verdicts:
        assert verdict.verdict == "need_more_data"
        assert verdict.reasons[0].startswith(
            f"Rank 1 of 12: {live} live site(s) cannot tell the AI apart from site-to-site "
            "variation"
        ), verdict.reasons


def test_the_latest_decision_is_the_datasets_own() -> None:
    store = Store(":memory:")
    first = load_files(store, [Source.from_bytes("a.csv", small_csv())]).dataset_id
    second = load_files(
        store, [Source.from_bytes("b.csv", small_csv(("A", "B", "C", "D")))]
    ).dataset_id
    for ds, when in ((first, datetime(2025, 1, 6)), (second, datetime(2025, 2, 3))):
        found = analyse(store, ds, read_catalog(store.cursor(), ds))
        record_decision(store, ds, decision="go", owner="CFO", rationale="-", results=found,
                        decided_on=when)  # fmt: skip
    assert latest_decision(store, first).dataset_id == first  # not the later one of `second`
    assert latest_decision(store, second).dataset_id == second
    third = load_files(store, [Source.from_bytes("c.csv", small_csv(("X", "Y", "Z", "W")))])
    with pytest.raises(
        ScalegateError,
        match=r"^No decision is recorded for this dataset yet: record one on the Decision page, "
        r"then watch production against it\.$",
    ):
        latest_decision(store, third.dataset_id)


def test_the_pack_watches_only_a_dataset_with_a_decision_of_its_own() -> None:
    from analytics.decide.watch import since_decision, watch

    store = Store(":memory:")
    first = load_files(store, [Source.from_bytes("a.csv", small_csv())]).dataset_id
    second = load_files(
        store, [Source.from_bytes("b.csv", small_csv(("A", "B", "C", "D")))]
    ).dataset_id
    assert since_decision(store, first) is None  # nothing decided yet
    found = analyse(store, second, read_catalog(store.cursor(), second))
    record_decision(store, second, decision="go", owner="CFO", rationale="-", results=found)
    assert since_decision(store, first) is None  # the decision is on the other dataset
    report = since_decision(store, second)
    assert report is not None
    expected = watch(store, second).to_dict()
    got = report.to_dict()
    for document in (expected, got):
        document["meta"].pop("created_at")
    assert got == expected and got["meta"]["dataset_id"] == second
