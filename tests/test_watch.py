"""`watch`: production since the decision against the decision, the guardrails, the sites and
the data's arrival, on rollout exports with a planted change after the decision.

Each scenario loads 36 weeks, records a go decision on today's analysis, appends two ordinary
weeks and four weeks carrying the change, and runs the command line; alerts.json is validated
against docs/alerts.schema.json.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pandas as pd
import pytest
import rollout_rows as rr
import statsmodels.formula.api as smf
from decided import decide_on_history

from analytics.__main__ import main
from analytics.core.catalog import read_catalog
from analytics.decide.acks import acknowledge
from analytics.decide.analysis import analyse
from analytics.decide.decisions import list_decisions
from analytics.decide.watch import watch
from analytics.engine.aggregate import Filters
from analytics.ingest.append import append_files
from analytics.ingest.load import Source, load_files
from analytics.store import history
from analytics.store.database import Store

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "docs" / "alerts.schema.json").read_text())
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def decided(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with the history and a go decision taken on it."""
    path = tmp_path_factory.mktemp("watch") / "decided.duckdb"
    found = decide_on_history(path)
    assert [v.verdict for v in found.verdicts] == ["scale"]
    return path


def _scenario(decided: Path, tmp_path: Path, **change: Any) -> Path:
    db = tmp_path / "watch.duckdb"
    shutil.copyfile(decided, db)
    store = Store(db)
    append_files(store, "Rollout", [Source.from_bytes("w1-2.csv", rr.weeks(36, 37))])
    append_files(store, "Rollout", [Source.from_bytes("w3-6.csv", rr.weeks(38, 41, **change))])
    store.close()
    return db


def _watch(db: Path, out: Path, as_of: str = "2025-10-27") -> tuple[int, dict[str, Any]]:
    code = main(["watch", "--db", str(db), "--dataset", "Rollout", "--out", str(out),
                 "--as-of", as_of])  # fmt: skip
    document = json.loads((out / "alerts.json").read_text())
    jsonschema.validate(document, SCHEMA)
    return code, document


def _kinds(document: dict[str, Any]) -> list[tuple[str, str | None, str | None]]:
    return sorted((a["kind"], a["metric"], a["site"]) for a in document["alerts"])


def test_nothing_changed_holds(decided: Path, tmp_path: Path, capsys) -> None:
    code, document = _watch(_scenario(decided, tmp_path), tmp_path / "out")
    assert code == 0 and document["status"] == "hold" and document["alerts"] == []
    assert capsys.readouterr().out.startswith("All hold since the decision of")
    (outcome,) = document["outcomes"]
    assert outcome["mode"] == "causal" and outcome["comparison_sites"] == 3
    after = [p for p in outcome["points"] if p["after_decision"]]
    assert [p["period"] for p in after] == [f"2025-{d}" for d in
        ("09-15", "09-22", "09-29", "10-06", "10-13", "10-20")]  # fmt: skip
    assert all(p["cusum"] < outcome["cusum_threshold"] for p in after)


def test_a_planted_effect_decline_alerts(decided: Path, tmp_path: Path, capsys) -> None:
    code, document = _watch(_scenario(decided, tmp_path, effect=0.0), tmp_path / "out")
    assert code == 3 and document["status"] == "alert"
    assert _kinds(document) == [("effect_below_threshold", "cost_per_case_eur", None)]
    (alert,) = document["alerts"]
    assert alert["causal"] and alert["statistic"] > alert["threshold"]
    assert alert["since"] >= "2025-09-29"  # not before the change
    printed = capsys.readouterr().out.strip().splitlines()
    assert printed == [f"ALERT effect_below_threshold: {alert['message']}"]


def test_a_planted_guardrail_breach_alerts(decided: Path, tmp_path: Path) -> None:
    code, document = _watch(_scenario(decided, tmp_path, accuracy=0.7), tmp_path / "out")
    assert code == 3
    assert _kinds(document) == [("guardrail_breach", "accuracy", None)]
    (guard,) = document["guardrails"]
    last = guard["points"][-1]
    assert guard["limit"] == 0.8 and last["ci"][1] < 0.8  # the band lies below the limit


def test_a_site_turning_worse_alerts(decided: Path, tmp_path: Path) -> None:
    code, document = _watch(_scenario(decided, tmp_path, worse="P2"), tmp_path / "out")
    assert code == 3
    assert ("site_worse", "cost_per_case_eur", "P2") in _kinds(document)
    assert not [a for a in document["alerts"] if a["kind"] == "site_worse" and a["site"] != "P2"]


def test_data_that_stops_arriving_alerts(decided: Path, tmp_path: Path) -> None:
    db = _scenario(decided, tmp_path, silent="P3")
    code, document = _watch(db, tmp_path / "out")
    assert code == 3 and _kinds(document) == [("site_stopped", None, "P3")]
    code, document = _watch(db, tmp_path / "later", as_of="2025-11-10")
    assert ("data_stopped", None, None) in _kinds(document)
    code, document = _watch(db, tmp_path / "in_time", as_of="2025-11-09")
    assert ("data_stopped", None, None) not in _kinds(document)  # two weeks: not yet


def test_an_acknowledged_alert_is_kept_but_no_longer_open(decided: Path, tmp_path: Path) -> None:
    db = _scenario(decided, tmp_path, effect=0.0)
    store = Store(db)
    report = watch(store, "Rollout", as_of=pd.Timestamp("2025-10-27").date())
    (alert,) = report.alerts
    decision = list_decisions(store, report.meta["dataset_id"])[0]
    acknowledge(store, decision.id, alert.key, who="Ops lead", action="Retrained the model.")
    store.close()
    code, document = _watch(db, tmp_path / "out")
    assert code == 0 and document["status"] == "hold"
    (kept,) = document["alerts"]
    assert kept["acknowledged"]["who"] == "Ops lead"
    assert kept["acknowledged"]["action"] == "Retrained the model."


def test_a_decision_recorded_under_an_older_method_raises_no_alert(
    decided: Path, tmp_path: Path
) -> None:
    """The snapshot says +40% (what a naive before/after said); today's method, recomputed on
    the data the decision saw, is the reference, so nothing reads as a decline."""
    db = _scenario(decided, tmp_path)
    store = Store(db)
    (decision,) = list_decisions(store)
    snapshot = decision.snapshot
    snapshot["verdicts"][0]["estimate"] = -0.40
    snapshot["verdicts"][0]["method"] = "naive_before_after"
    with store.transaction() as cur:
        cur.execute("UPDATE decisions SET snapshot = $s", {"s": json.dumps(snapshot)})
    ds = store.dataset("Rollout").id
    window = Filters(date_to=pd.Timestamp("2025-09-14").date())
    today = analyse(store, ds, read_catalog(store.cursor(), ds), window).verdicts[0]
    store.close()
    code, document = _watch(db, tmp_path / "out")
    assert code == 0 and document["alerts"] == []
    (outcome,) = document["outcomes"]
    assert outcome["snapshot_estimate"] == pytest.approx(0.40)
    assert outcome["reference"] == pytest.approx(-today.estimate, rel=1e-12)
    assert outcome["reference_method"] == today.method


def test_per_period_effects_match_an_ols_imputation_on_rows(decided: Path, tmp_path: Path) -> None:
    """Each week's lift equals an independent imputation: statsmodels OLS of site-week means
    (from the rows, by pandas) on site and week dummies over baseline weeks, each production
    site-week's counterfactual predicted, effects averaged by rows, over the counterfactual."""
    db = _scenario(decided, tmp_path)
    store = Store(db)
    report = watch(store, "Rollout", as_of=pd.Timestamp("2025-10-27").date())
    rows = store.cursor().execute("SELECT * FROM obs_1").df()
    store.close()
    rows["week"] = (rows["date"] - pd.to_timedelta(rows["date"].dt.day_of_week, "D")).dt.date
    cells = rows.groupby(["site", "week", "phase"], as_index=False).agg(
        y=("cost_per_case_eur", "mean"), n=("cost_per_case_eur", "size")
    )
    base = cells[cells["phase"] == "baseline"]
    model = smf.ols("y ~ C(site) + C(week)", data=base.astype({"week": str})).fit()
    prod = cells[(cells["phase"] == "production") & cells["week"].isin(base["week"])]
    prod = prod.assign(cf=model.predict(prod.astype({"week": str})))
    expected = {
        str(week): -np.average(g["y"] - g["cf"], weights=g["n"]) / np.average(g["cf"], weights=g["n"])
        for week, g in prod.groupby("week")
    }  # fmt: skip
    got = {p.period.isoformat(): p.value for p in report.outcomes[0].points}
    assert set(got) == set(expected)
    for week, lift in expected.items():
        assert got[week] == pytest.approx(lift, rel=1e-9), week


def test_an_upgraded_schema2_database_keeps_its_decision_and_can_be_watched(
    tmp_path: Path,
) -> None:
    db = tmp_path / "schema2.duckdb"
    shutil.copyfile(FIXTURES / "schema2.duckdb", db)
    store = Store(db)
    sample = store.dataset("Sample every 25th row")
    (decision,) = list_decisions(store, sample.id)
    assert (decision.decision, decision.owner) == ("go", "Fixture CFO")
    (first,) = history.loads_of(store.cursor(), sample.id)
    assert (first.kind, first.rows_added, str(first.date_max)) == ("load", 6000, "2025-01-31")
    store.close()
    code, document = _watch_fixture(db, tmp_path / "out")
    assert code == 0 and document["decision"]["owner"] == "Fixture CFO"
    assert {o["mode"] for o in document["outcomes"]} == {"level"}  # every plant is live
    assert all(o["note"].startswith("No comparison site is left") for o in document["outcomes"])


def _watch_fixture(db: Path, out: Path) -> tuple[int, dict[str, Any]]:
    code = main(["watch", "--db", str(db), "--dataset", "Sample every 25th row", "--out",
                 str(out), "--as-of", "2025-02-10"])  # fmt: skip
    document = json.loads((out / "alerts.json").read_text())
    jsonschema.validate(document, SCHEMA)
    return code, document


def test_watch_without_a_decision_is_one_sentence(tmp_path: Path, capsys) -> None:
    db = tmp_path / "none.duckdb"
    store = Store(db)
    load_files(store, [Source.from_bytes("w.csv", rr.weeks(0, 10))], name="Rollout")
    store.close()
    assert main(["watch", "--db", str(db)]) == 2
    assert capsys.readouterr().err.strip().startswith("No decision is recorded for this dataset")


def test_the_board_pack_gains_since_the_decision_slides(decided: Path, tmp_path: Path) -> None:
    from analytics.present.pack import build_slides

    db = _scenario(decided, tmp_path, effect=0.0)
    store = Store(db)
    ds = store.dataset("Rollout").id
    catalog = read_catalog(store.cursor(), ds)
    found = analyse(store, ds, catalog)
    report = watch(store, ds, as_of=pd.Timestamp("2025-10-27").date())
    store.close()
    plain = [s.key for s in build_slides(found, catalog)]
    assert "since_decision" not in plain and "since_decision_alerts" not in plain
    slides = {s.key: s for s in build_slides(found, catalog, since=report)}
    chart = slides["since_decision"].chart.to_dict()
    assert chart["title"]["text"].startswith("Cost per case (EUR): the effect has slipped")
    table = slides["since_decision_alerts"].table
    assert table[0] == ["Alert", "Since", "What", "Acknowledged"]
    assert [row[0] for row in table[1:]] == ["effect below threshold"]
    assert table[1][2] == report.alerts[0].message and table[1][3] == "open"
