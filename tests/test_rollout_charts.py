"""The ramp-up chart and the rollout rows of results.json draw the engine's numbers."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from test_analysis import staggered_rows, store_rows

from analytics.decide.analysis import analyse
from analytics.present import rollout_charts
from analytics.present.charts import context_from

SCHEMA = json.loads((Path(__file__).parent.parent / "docs" / "results.schema.json").read_text())


@pytest.fixture(scope="module")
def results():
    store, catalog = store_rows(staggered_rows())
    return analyse(store, 1, catalog)


def _values(chart) -> list[dict]:
    (values,) = chart.to_dict()["datasets"].values()  # one frame: the horizons
    return values


def test_the_ramp_chart_draws_each_horizon_with_its_interval(results) -> None:
    row = results.rollout("cost")
    chart = rollout_charts.event_study_chart(results, "cost", context_from(results))
    values = _values(chart)
    assert [v["label"] for v in values] == [str(h.horizon) for h in row.event_study]
    for v, h in zip(values, row.event_study, strict=True):
        assert v["estimate"] == pytest.approx(h.estimate, rel=1e-12)
        # The axis is the headline's scale: the change in % with its interval.
        assert v["change"] == pytest.approx(100 * h.lift, rel=1e-12)
        assert (v["low"], v["high"]) == pytest.approx([100 * x for x in h.lift_ci], rel=1e-12)
        assert v["rows"] == h.rows
    # The AI cuts cost by 10 from the first month on, at every horizon.
    assert all(-12 < h.estimate < -8 for h in row.event_study)
    assert rollout_charts.event_study_title(results, "cost") == (
        f"The effect on {results.verdict('cost').label} holds steady in the periods after go-live"
    )


def test_a_metric_without_judged_periods_says_so(results) -> None:
    empty = replace(results, rollouts=())
    title = rollout_charts.event_study_title(empty, "cost")
    assert title.startswith(f"No production period of {results.verdict('cost').label}")
    chart = rollout_charts.event_study_chart(empty, "cost", context_from(results)).to_dict()
    assert "No data for this view" in json.dumps(chart)


def test_rollout_rows_validate_and_carry_the_influence_scores(results) -> None:
    doc = results.to_dict()
    jsonschema.validate(doc, SCHEMA)
    row = next(r for r in doc["rollouts"] if r["metric"] == "cost")
    psi = row["influence"]
    assert set(psi) <= {f"S{k}" for k in range(10)}
    # The clustered path's standard error is the root of the summed squared scores.
    assert sum(v * v for v in psi.values()) ** 0.5 == pytest.approx(row["estimator"]["se"])
    assert row["usual"]["method"] == "twfe_cluster_site"
    assert row["coverage"]["share"] == pytest.approx(1.0)  # S8, S9 are never live
    assert "usual model" in rollout_charts.usual_model_text(results, "cost")
