"""The decision log (analytics.decide.decisions) and the readiness evidence (analytics.decide.readiness).

Data: a small staggered rollout written here (4 sites, 2 channels, January to June 2024; pilot
at North in March; production at North and South from April, East from May; West stays on
baseline), loaded through the real ingest into an in-memory store.
"""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from analytics.core.catalog import read_catalog
from analytics.core.errors import ScalegateError
from analytics.decide.analysis import analyse
from analytics.decide.decisions import (
    DECISION_KINDS,
    changes_frame,
    compare_snapshot,
    get_decision,
    list_decisions,
    record_decision,
    snapshot_filters,
    snapshot_of,
)
from analytics.decide.readiness import QUESTIONS, assess, readiness, well_recorded
from analytics.engine.aggregate import Filters
from analytics.ingest.load import Source, load_files
from analytics.store.database import Store

GO_LIVE = {"North": date(2024, 4, 1), "South": date(2024, 4, 1), "East": date(2024, 5, 1)}


def small_csv(seed: int = 7, cost_effect: float = 0.85) -> bytes:
    """A wide CSV: date, phase, site, channel, two outcome metrics; two rows per cell and day."""
    rng = np.random.default_rng(seed)
    rows = []
    for day in pd.date_range("2024-01-01", "2024-06-30", freq="D"):
        for site in ("North", "South", "East", "West"):
            live = site in GO_LIVE and day.date() >= GO_LIVE[site]
            pilot = site == "North" and date(2024, 3, 1) <= day.date() < date(2024, 4, 1)
            phase = "production" if live else "pilot" if pilot else "baseline"
            ai = phase != "baseline"
            for channel in ("phone", "web"):
                for _ in range(2):
                    cost = rng.normal(40, 6) * (cost_effect if ai else 1.0)
                    minutes = rng.normal(20, 4) + (3.0 if ai else 0.0)
                    rows.append((day.date().isoformat(), phase, site, channel, cost, minutes))
    frame = pd.DataFrame(
        rows, columns=["date", "phase", "site", "channel", "Cost per case (EUR)", "Minutes saved"]
    )
    buffer = io.StringIO()
    frame.round(3).to_csv(buffer, index=False)
    return buffer.getvalue().encode()


@pytest.fixture(scope="module")
def loaded() -> tuple[Store, int]:
    store = Store(":memory:")
    result = load_files(store, [Source.from_bytes("small.csv", small_csv())], name="Small")
    return store, result.dataset_id


@pytest.fixture(scope="module")
def found(loaded):
    store, dataset_id = loaded
    return analyse(store, dataset_id, read_catalog(store.cursor(), dataset_id), Filters())


def fresh() -> tuple[Store, int]:
    store = Store(":memory:")
    return store, load_files(store, [Source.from_bytes("small.csv", small_csv())]).dataset_id


def test_the_small_rollout_gets_a_verdict_for_each_outcome(found):
    assert [v.metric for v in found.verdicts] == ["cost_per_case_eur", "minutes_saved"]


def test_a_decision_is_stored_with_its_owner_date_answers_and_frozen_verdicts(found):
    store, dataset_id = fresh()
    results = analyse(store, dataset_id, read_catalog(store.cursor(), dataset_id), Filters())
    record = record_decision(
        store,
        dataset_id,
        decision="fix_first",
        owner="  Ana Lima ",
        rationale="Porto first.",
        results=results,
        answers={"owner": "Ana Lima", "support": "Ops on call"},
        decided_on=date(2025, 2, 3),
    )
    (stored,) = list_decisions(store, dataset_id)
    assert stored == record
    assert (stored.id, stored.owner, stored.decision, stored.label) == (
        1,
        "Ana Lima",
        "fix_first",
        "Fix first",
    )
    assert stored.decided_at == datetime(2025, 2, 3)
    assert stored.answers == {"owner": "Ana Lima", "support": "Ops on call"}
    assert [v["metric"] for v in stored.snapshot["verdicts"]] == [
        v.metric for v in results.verdicts
    ]
    assert stored.snapshot["verdicts"] == results.to_dict()["verdicts"]
    assert stored.snapshot["meta"]["dataset_id"] == dataset_id
    json.dumps(stored.snapshot, allow_nan=False)  # NaN was written as null
    assert get_decision(store, record.id) == record


def test_decisions_are_listed_newest_first_and_numbered_in_order(found):
    store, dataset_id = fresh()
    results = analyse(store, dataset_id, read_catalog(store.cursor(), dataset_id), Filters())
    for day, kind in ((date(2025, 1, 1), "no_go"), (date(2025, 3, 1), "go")):
        record_decision(
            store,
            dataset_id,
            decision=kind,
            owner="Ben",
            rationale="",
            results=results,
            decided_on=day,
        )
    listed = list_decisions(store)
    assert [(d.id, d.decision) for d in listed] == [(2, "go"), (1, "no_go")]
    assert list_decisions(store, dataset_id + 1) == ()


@pytest.mark.parametrize(
    ("changes", "sentence"),
    [
        ({"decision": "maybe"}, "A decision is one of Go, Fix first, No-go"),
        ({"owner": "   "}, "A decision needs an owner"),
        ({"dataset_id": 99}, "These results belong to another dataset"),
    ],
)
def test_a_decision_that_cannot_be_recorded_says_why_and_stores_nothing(
    loaded, found, changes, sentence
):
    store, dataset_id = loaded
    call = {"decision": "go", "owner": "Ana", "rationale": "", "dataset_id": dataset_id} | changes
    before = list_decisions(store)
    with pytest.raises(ScalegateError, match=sentence):
        record_decision(store, call.pop("dataset_id"), results=found, **call)
    assert list_decisions(store) == before


def test_deleting_a_dataset_deletes_its_decisions():
    store, dataset_id = fresh()
    results = analyse(store, dataset_id, read_catalog(store.cursor(), dataset_id), Filters())
    record_decision(store, dataset_id, decision="go", owner="A", rationale="", results=results)
    store.delete(dataset_id)
    assert list_decisions(store) == ()
    with pytest.raises(ScalegateError, match="no longer exists"):
        record_decision(store, dataset_id, decision="go", owner="A", rationale="", results=results)


def test_a_snapshot_compared_with_the_same_numbers_shows_no_change(found):
    changes = compare_snapshot(snapshot_of(found), found)
    assert [c.changed for c in changes] == [False, False]
    assert all(c.lift_then == pytest.approx(c.lift_now) for c in changes)


def test_a_snapshot_compared_with_new_numbers_shows_what_changed(loaded, found):
    store, dataset_id = loaded
    catalog = read_catalog(store.cursor(), dataset_id)
    strict = replace(catalog, metrics=tuple(replace(m, min_effect=5.0) for m in catalog.metrics))
    today = analyse(store, dataset_id, strict, Filters())
    snapshot = snapshot_of(found)
    snapshot["verdicts"] = snapshot["verdicts"][:1]  # as if minutes_saved were new since
    # Three live sites and one comparison site: no placebo assignment exists, so every verdict
    # of this small rollout is inconclusive today; say the decision was taken on "scale".
    snapshot["verdicts"][0] = {**snapshot["verdicts"][0], "verdict": "scale"}
    changes = compare_snapshot(snapshot, today)
    assert [c.metric for c in changes] == ["cost_per_case_eur", "minutes_saved"]
    first, new = changes
    assert first.verdict_then == "scale"
    assert first.verdict_now == "need_more_data" and first.changed
    assert new.verdict_then is None and new.verdict_now is not None
    frame = changes_frame(changes)
    assert list(frame["Changed"]) == ["yes", "yes"]
    assert frame.loc[1, "Verdict then"] == "— (not in this view)"


def test_a_snapshot_stays_frozen_when_the_data_is_replaced():
    store, dataset_id = fresh()
    results = analyse(store, dataset_id, read_catalog(store.cursor(), dataset_id), Filters())
    record = record_decision(
        store, dataset_id, decision="go", owner="A", rationale="", results=results
    )
    replaced = load_files(
        store, [Source.from_bytes("v2.csv", small_csv(seed=8, cost_effect=1.0))], replace=dataset_id
    )
    assert replaced.dataset_id == dataset_id
    (stored,) = list_decisions(store, dataset_id)
    assert stored.snapshot == record.snapshot


def test_snapshot_filters_reproduce_the_filters_of_the_snapshot(loaded):
    store, dataset_id = loaded
    filters = Filters(
        date_from=date(2024, 2, 1), sites=("North", "South"), channels=("web",), grain="week"
    )
    results = analyse(store, dataset_id, read_catalog(store.cursor(), dataset_id), filters)
    assert snapshot_filters(snapshot_of(results)) == filters


def test_every_decision_kind_has_a_label():
    assert DECISION_KINDS == ("go", "fix_first", "no_go")


# -- readiness ----------------------------------------------------------------------------------


def test_readiness_asks_every_question_in_order_with_evidence(loaded, found):
    store, dataset_id = loaded
    catalog = read_catalog(store.cursor(), dataset_id)
    items = readiness(store, dataset_id, catalog, Filters(), found)
    assert [i.key for i in items] == [q[0] for q in QUESTIONS]
    assert all(i.evidence and i.question and i.ask for i in items)
    by_key = {i.key: i for i in items}
    assert by_key["owner"].signal == "unknown"
    assert by_key["pipeline"].signal == "good"  # no missing values, no gaps, nothing rejected
    assert "0 of 2,912 rows (0.0%) were rejected at load." in by_key["pipeline"].evidence
    assert by_key["scale"].evidence[0].startswith("Production volume ran from")


def test_readiness_names_the_owner_of_the_last_decision(loaded, found):
    store, dataset_id = loaded
    catalog = read_catalog(store.cursor(), dataset_id)
    past = (
        record_decision(
            store, dataset_id, decision="go", owner="Chloé", rationale="", results=found
        ),
    )
    items = readiness(store, dataset_id, catalog, Filters(), found, past)
    owner = next(i for i in items if i.key == "owner")
    assert owner.signal == "good" and "named Chloé as owner" in owner.evidence[0]


def test_readiness_flags_a_site_whose_feed_has_gaps(found, loaded):
    store, dataset_id = loaded
    catalog = read_catalog(store.cursor(), dataset_id)
    quality = pd.DataFrame(
        {
            "site": ["East", "North"],
            "rows": [700, 728],
            "missing_share": [0.12, 0.0],
            "days_missing": [9, 0],
        }
    )
    items = assess(
        found,
        catalog,
        series=pd.DataFrame(columns=["metric", "phase", "period", "n"]),
        quality=quality,
    )
    pipeline = next(i for i in items if i.key == "pipeline")
    assert pipeline.signal == "concern"
    assert "East: 12.0% of values missing and 9 days without data." in pipeline.evidence


def test_readiness_prices_the_counted_total_net_of_the_running_cost_once():
    """On the ten-site staggered panel (where both outcomes scale): only the outcome marked as a
    separate benefit is counted, and the running cost comes off the total once."""
    from test_analysis import staggered_rows, store_rows

    store, catalog = store_rows(staggered_rows())
    cost = replace(catalog.get("cost"), value_per_unit=1.0, adds_to_total=True)
    saved = replace(catalog.get("saved"), value_per_unit=0.5)
    settings = replace(catalog.settings, annual_volume=10_000.0, run_cost_per_year=5_000.0)
    priced = replace(catalog.with_metric(cost).with_metric(saved), settings=settings)
    results = analyse(store, 1, priced, Filters())
    money = next(i for i in readiness(store, 1, priced, Filters(), results) if i.key == "money")
    total = results.value_total
    assert results.verdict("cost").verdict == results.verdict("saved").verdict == "scale"
    # Minutes saved also scales and is priced, but is not marked as a separate benefit.
    assert total.counted == ("cost",)
    value = next(v for v in results.value_at_scale if v.metric == "cost")
    assert total.net == pytest.approx(value.delivered - 5_000.0)
    assert money.evidence[0].startswith("Counted (cost): ")
    assert money.signal == ("good" if total.net_ci[0] > 0 else "concern")


def test_readiness_says_what_value_at_scale_needs(loaded):
    store, dataset_id = loaded
    catalog = read_catalog(store.cursor(), dataset_id)
    assert catalog.settings.annual_volume is None  # no default volume
    results = analyse(store, dataset_id, catalog, Filters())
    assert results.value_at_scale == ()
    money = next(
        i for i in readiness(store, dataset_id, catalog, Filters(), results) if i.key == "money"
    )
    assert money.signal == "unknown"
    assert money.evidence[0].startswith("Nothing is priced yet: value at scale needs the annual")
    assert "Cost per case (EUR), Minutes saved could be priced" in money.evidence[0]


def test_a_sparsely_recorded_metric_is_not_counted_as_a_broken_feed():
    series = pd.DataFrame(
        {
            "metric": ["cost", "revenue"],
            "phase": ["baseline"] * 2,
            "period": [None] * 2,
            "n": [1000, 15],
        }
    )
    assert well_recorded(series, rows=1000) == ("cost",)
