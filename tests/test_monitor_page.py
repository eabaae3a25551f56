"""The Monitor page, Home's alert banner and the Data page's append, under AppTest, on a rollout
with a go decision and production weeks appended after it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import rollout_rows as rr
from decided import decide_on_history
from streamlit.testing.v1 import AppTest

from analytics.core.catalog import read_catalog
from analytics.decide.analysis import analyse
from analytics.decide.decisions import record_decision
from analytics.ingest.append import append_files
from analytics.ingest.load import Source, load_files
from analytics.store.database import Store, open_store
from ui.pages import PAGES

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


@pytest.fixture(scope="module")
def decided(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("monitor") / "decided.duckdb"
    decide_on_history(path)
    store = Store(path)
    append_files(store, "Rollout", [Source.from_bytes("w1-2.csv", rr.weeks(36, 37))])
    store.close()
    return path


@pytest.fixture
def db(decided: Path, own_db: Path) -> Path:
    shutil.copyfile(decided, own_db)
    return own_db


def _monitor() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.switch_page(PAGES["monitor"]).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _slip(db: Path) -> None:
    store = Store(db)
    append_files(store, "Rollout", [Source.from_bytes("w3-6.csv", rr.weeks(38, 41, effect=0.0))])
    store.close()


def test_the_monitor_draws_each_outcome_and_guardrail_and_lists_alerts(db: Path) -> None:
    at = _monitor()
    assert at.title[0].value == "Monitor"
    charts = at.get("vega_lite_chart")
    assert len(charts) == 2  # cost per case (outcome) and accuracy (guardrail)
    titles = [c.proto.spec for c in charts]
    assert "Cost per case (EUR): the effect holds since the decision" in titles[0]
    assert "Causal: from 3 comparison sites without the AI." in titles[0]
    assert "Guardrail Accuracy holds" in titles[1]
    # data to 2025-09-28 checked today: nothing arrived for weeks, which is an alert itself
    kinds = [e.value for e in at.error]
    assert any(k.startswith("No rows have arrived since 2025-09-28") for k in kinds)


def test_a_slip_shows_first_on_home_and_is_acknowledged_on_the_monitor(db: Path) -> None:
    _slip(db)
    home = AppTest.from_file(APP, default_timeout=180).run()
    assert not home.exception
    first = home.error[0].value
    assert first.startswith("Cost per case (EUR): the production improvement has fallen")
    at = _monitor()
    assert "has slipped since the decision" in at.get("vega_lite_chart")[0].proto.spec
    k = next(i for i, e in enumerate(at.error) if e.value == first)
    at.text_input(key=f"monitor_ack_who_{k}").set_value("Ops lead")
    at.text_input(key=f"monitor_ack_action_{k}").set_value("Retrained the model on the new cases.")
    at.button(key=f"FormSubmitter:monitor_ack_{k}-Acknowledge").click().run()
    assert not at.exception
    assert first in [i.value for i in at.info]  # kept, no longer an open alert
    assert any(
        c.value.startswith("Acknowledged by Ops lead") and "Retrained the model" in c.value
        for c in at.caption
    )
    home = AppTest.from_file(APP, default_timeout=180).run()
    assert first not in [e.value for e in home.error]


def test_the_monitor_says_so_when_no_decision_is_recorded(own_db: Path) -> None:
    store = Store(own_db)
    load_files(store, [Source.from_bytes("w.csv", rr.weeks(0, 12))], name="Rollout")
    store.close()
    at = _monitor()
    assert at.info[0].value.startswith("No decision is recorded for this dataset yet")


def test_the_data_page_adds_a_week_and_the_monitor_follows(db: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.switch_page(PAGES["data"]).run()
    at.file_uploader(key="data_append_file_0").set_value(
        ("week3.csv", rr.weeks(38, 38), "text/csv")
    ).run()
    at.button(key="data_append_button").click().run()
    assert not at.exception
    assert any(
        s.value.startswith("Added") and "over 7 days (2025-09-29 to 2025-10-05)" in s.value
        for s in at.success
    )
    assert open_store(db).dataset("Rollout").rows > 0
    at.switch_page(PAGES["monitor"]).run()
    assert "3 weeks of production" in " ".join(c.value for c in at.caption)


def test_no_week_since_the_decision_says_there_is_nothing_to_watch_yet(own_db: Path) -> None:
    """A new user saw 'the effect holds' with 0 weeks since the decision, and a raw method
    code ('imputation_placebo') in the caption."""
    store = Store(own_db)
    ds = load_files(
        store, [Source.from_bytes("history.csv", rr.history())], name="Rollout",
        catalog_text=rr.CATALOG,
    ).dataset_id  # fmt: skip
    found = analyse(store, ds, read_catalog(store.cursor(), ds))
    record_decision(store, ds, decision="go", owner="CFO", rationale="Cost holds.", results=found)
    store.close()
    at = _monitor()
    assert "0 weeks of production" in at.caption[0].value
    specs = [c.proto.spec for c in at.get("vega_lite_chart")]
    assert "Cost per case (EUR): nothing to watch yet, no period since the decision" in specs[0]
    assert "the effect holds" not in specs[0]
    assert "Guardrail Accuracy has nothing to watch yet" in specs[1]
    assert not any(s.value.startswith("All hold") for s in at.success)
    captions = " ".join(c.value for c in at.caption)
    assert "against what they would have done without the AI" in captions
    assert "imputation_" not in captions and "cluster_site" not in captions
