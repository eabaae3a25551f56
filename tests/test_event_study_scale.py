"""The event study a new user read: a wave starts at its production go-live (not the pilot
month), every horizon has its place on the axis, the pre-trend sentence never says "no period
before go-live" when periods exist, and the chart speaks the headline's scale (% change).

Independent numbers: the treated rows' mean per horizon and the counterfactual from rows
(pandas), the lift = effect / (treated mean − effect) by hand."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from test_analysis import staggered_rows, store_rows

from analytics.decide.analysis import analyse
from analytics.present import rollout_charts
from analytics.present.charts import context_from


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return staggered_rows()


@pytest.fixture(scope="module")
def results(rows):
    store, catalog = store_rows(rows)
    return analyse(store, 1, catalog)


def test_the_pilot_site_joins_its_production_wave_not_its_pilot_month(results) -> None:
    row = results.rollout("cost")
    # S0 pilots in March-May 2024 and goes live with S1-S3 in July; S4-S7 in October.
    assert [(w.go_live, w.sites) for w in row.waves] == [
        ("2024-07-01", ("S0", "S1", "S2", "S3")),
        ("2024-10-01", ("S4", "S5", "S6", "S7")),
    ]
    # Six production months for the first wave: horizons 0-5, none from the pilot's months.
    assert [h.horizon for h in row.event_study] == [0, 1, 2, 3, 4, 5]
    assert [h.sites for h in row.event_study] == [8, 8, 8, 4, 4, 4]


def test_each_horizon_carries_its_lift_on_the_verdicts_scale(results, rows) -> None:
    row = results.rollout("cost")
    month = pd.to_datetime(rows["date"]).dt.month - 1
    start = rows["site"].map(lambda s: 6 if s in ("S0", "S1", "S2", "S3") else 9)
    live = rows["phase"] == "production"
    for h in row.event_study:
        cells = rows[live & (month - start == h.horizon)]
        assert h.rows == len(cells)
        treated_mean = cells["cost"].mean()
        assert h.lift == pytest.approx(h.estimate / (treated_mean - h.estimate), rel=1e-9)
        lo, hi = h.lift_ci
        assert lo < h.lift < hi
        assert -0.13 < h.lift < -0.07  # the AI cuts about 10 of ~110


def test_the_chart_keeps_a_gap_and_says_what_it_cannot_bound(results) -> None:
    row = results.rollout("cost")
    gappy = replace(row, event_study=tuple(h for h in row.event_study if h.horizon != 2))
    unbounded = replace(
        gappy,
        event_study=tuple(
            replace(h, ci=(-np.inf, np.inf), lift_ci=(-np.inf, np.inf)) if h.horizon == 5 else h
            for h in gappy.event_study
        ),
    )
    assert rollout_charts.horizon_labels(unbounded) == ["0", "1", "2", "3", "4", "5"]
    detail = rollout_charts.event_study_detail(unbounded, "month")
    assert "No judged row at 2 period(s) since go-live." in detail
    assert "1 of 5 period(s) have no bounded interval at this level" in detail
    shown = replace(results, rollouts=(unbounded,) + results.rollouts[1:])
    spec = rollout_charts.event_study_chart(shown, "cost", context_from(results)).to_dict()
    layers = spec["layer"] if "layer" in spec else spec["vconcat"][0]["layer"]
    domains = [layer["encoding"]["x"]["scale"]["domain"] for layer in layers[1:]]
    assert domains[0] == ["0", "1", "2", "3", "4", "5"]
    y = layers[-1]["encoding"]["y"]
    assert y["field"] == "change" and "(%)" in y["title"]


def test_a_pretrend_without_p_value_never_says_there_is_no_period(results) -> None:
    row = results.rollout("cost")
    assert row.pretrend["leads"] == 4  # the second wave has 9 baseline months before go-live
    blocked = replace(
        row,
        pretrend={**row.pretrend, "p_value": float("nan"), "note": "Too few placebo sites for "
                  "this test."},
    )  # fmt: skip
    text = rollout_charts.event_study_detail(blocked, "month")
    assert "No period before go-live" not in text
    assert "Pre-trend check on 4 period(s) before go-live: no p-value (too few placebo" in text
