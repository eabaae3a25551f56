"""The verdict's sentences and the export's cells at the edges `make mutmut` found untested: rule 5
for weekly rows (more weeks or more sites), the few-sites sentence at its floor, the names of
the worse sites, rows needed when the interval already touches the threshold, and each kind of
spreadsheet cell. Every number is worked by hand in the comment beside it.
"""

from __future__ import annotations

import io
import time
from datetime import datetime

import numpy as np
import openpyxl
import pandas as pd
import pytest
from test_verdict import SETTINGS, evidence

from analytics.core.catalog import Metric
from analytics.decide.verdict import decide, few_sites_reason, rows_needed
from analytics.engine.placebo import PlaceboTest
from analytics.present import export

QUARTER = Metric(id="saved", label="Minutes saved", direction="higher", min_effect=0.25)


# -- rule 5 on weekly rows: more weeks at these sites, or more sites over these weeks ------------


def test_rule5_for_weekly_rows_says_weeks_or_sites() -> None:
    # est 0.08 ≥ δ 0.05, half-width 0.10: rule 4 needs a half-width below 0.08, a factor
    # (0.10/0.08)² = 1.5625 more data: 10 weeks -> 15.625 (6 more), 4 sites -> 6.25 (3 more).
    e = evidence(lift=0.08, lift_low=-0.02, lift_high=0.18, n_rows=40, n_sites=4, dataset_sites=4)
    d = decide(evidence(**_weekly(e, periods=10)), SETTINGS)
    assert d.verdict == "need_more_data"
    assert d.reasons[0].endswith(
        "none. About 6 more weeks of production at its 4 sites, or about 3 more sites over "
        "the same 10 weeks, would settle it."
    )


def test_rule5_for_weekly_rows_at_one_site_of_a_slice() -> None:
    # One week at one site (Lyon's own verdict): 1 × 1.5625 − 1 = 0.5625, so 1 more of each.
    e = evidence(phase="Lyon", lift=0.08, lift_low=-0.02, lift_high=0.18, n_rows=40, n_sites=1)
    d = decide(evidence(**_weekly(e, periods=1) | {"dataset_sites": 1}), SETTINGS)
    assert d.reasons[0].endswith(
        "none. About 1 more week of Lyon at its 1 site, or about 1 more site over the same "
        "1 week, would settle it."
    )


def test_rule5_for_weekly_rows_without_a_count_of_weeks_invents_none() -> None:
    # Weekly rows whose number of weeks is unknown (0): no "about N more weeks" is made up.
    e = evidence(lift=0.08, lift_low=-0.02, lift_high=0.18, n_rows=40, n_sites=4, dataset_sites=4)
    d = decide(evidence(**_weekly(e, periods=0)), SETTINGS)
    assert d.verdict == "need_more_data"
    assert d.reasons[0].endswith("too wide to tell a worthwhile improvement from none.")


def test_rule5_for_weekly_rows_already_settled_asks_for_nothing_more() -> None:
    # The interval touching δ (see below): 0 more weeks and 0 more sites, so no sentence at all.
    e = evidence(QUARTER, lift=0.1875, lift_low=0.125, lift_high=0.25, n_rows=40, n_sites=4)
    d = decide(evidence(**_weekly(e, periods=10)), SETTINGS)
    assert d.reasons[0].endswith("too wide to tell a worthwhile improvement from none.")


def _weekly(e, periods: int) -> dict:
    fields = {k: getattr(e, k) for k in e.__slots__}
    return fields | {"periods": periods, "period_unit": "week"}


def test_an_interval_touching_the_threshold_needs_no_more_rows() -> None:
    # δ 0.25, estimate 0.1875, interval 0.125 to 0.25: the top equals δ (rule 2 needs it below),
    # the half-width 0.0625 already equals δ − estimate: 0 more rows, and no sentence asking.
    d = decide(
        evidence(QUARTER, lift=0.1875, lift_low=0.125, lift_high=0.25, n_rows=1000), SETTINGS
    )
    assert (d.verdict, d.rows_needed) == ("need_more_data", 0)
    assert d.reasons[0].endswith("from none.")


def test_rows_needed_at_an_estimate_equal_to_the_threshold() -> None:
    # est = δ = 0.25 is rule 4's side: half-width 0.5 must fall to 0.25, 4× the data: 300 more.
    assert rows_needed(100, 0.25, -0.25, 0.75, 0.25) == 300
    assert rows_needed(0, 0.10, 0.0, 0.20, 0.05) is None  # no rows: undefined, not a count


def test_the_numbers_sentence_gives_the_improvement_its_interval_and_the_raw_change() -> None:
    # Cost per case fell 10% (interval -13% to -7%): lower is better, so the improvement is
    # +10% (+7% to +13%), above δ 5% with the whole interval above 0: rule 4, scale.
    cost = Metric(id="cost", label="Cost per case", direction="lower", min_effect=0.05)
    d = decide(evidence(cost, lift=-0.10, lift_low=-0.13, lift_high=-0.07), SETTINGS)
    assert (d.metric, d.verdict, d.estimate, d.ci_low, d.ci_high, d.ci_level, d.method) == (
        "cost",
        "scale",
        -0.10,
        -0.13,
        -0.07,
        0.99,
        "twfe_cluster_site",
    )
    assert d.reasons[1] == (
        "The production improvement is +10.0% (99% interval +7.0% to +13.0%; Cost per case: "
        "change -10.0%), against a threshold of 5%."
    )


# -- rule 3's sentence names the sites -----------------------------------------------------------


@pytest.mark.parametrize(
    ("sites", "said"),
    [
        (("Lyon",), "Lyon is significantly worse than its own counterfactual"),
        (("Lyon", "Porto", "Aarhus"), "Lyon, Porto and Aarhus are significantly worse than their"),
    ],
)
def test_rule3_names_every_worse_site(sites: tuple[str, ...], said: str) -> None:
    d = decide(evidence(worse_slices=sites), SETTINGS)
    assert d.verdict == "fix_first"
    assert d.reasons[0].startswith("Fix first: " + said)


# -- rule 1 with few sites: the placebo test's floor against the level ---------------------------


def test_the_few_sites_sentence_gives_rank_floor_level_and_sites_to_add() -> None:
    # 3 placebo assignments: floor 1/4 = 0.25 > α 0.05. Reaching 1/20 takes 19 placebos,
    # 16 more, one comparison site each per live site: 32 for 2 live sites. |t| 3.0 ≥ 2.5: rank 2.
    test = PlaceboTest(t_real=2.5, placebo_t=(1.0, 3.0, 0.5), assignments=3)
    e = evidence(placebo=test, treated_sites=2, ci_level=0.95)
    assert few_sites_reason(e) == (
        "Rank 2 of 4: 2 live site(s) cannot tell the AI apart from site-to-site variation (the "
        "smallest p-value 3 placebo comparison(s) can give is 0.25, above the 0.05 this verdict "
        "needs); with 32 more comparison site(s) they could."
    )
    assert decide(e, SETTINGS).reasons == (few_sites_reason(e),)


def test_a_floor_exactly_at_the_level_can_decide() -> None:
    # 19 assignments: floor 1/20 = 0.05, the level itself; 18: 1/19 = 0.0526, one short.
    at = PlaceboTest(t_real=2.5, placebo_t=(1.0,) * 19, assignments=19)
    assert few_sites_reason(evidence(placebo=at, treated_sites=1, ci_level=0.95)) == ""
    short = PlaceboTest(t_real=2.5, placebo_t=(1.0,) * 18, assignments=18)
    reason = few_sites_reason(evidence(placebo=short, treated_sites=1, ci_level=0.95))
    assert reason.endswith("can give is 0.053, above the 0.05 this verdict needs); with 1 more "
                           "comparison site(s) they could.")  # fmt: skip


def test_no_placebo_at_all_is_said_in_full() -> None:
    test = PlaceboTest(t_real=2.5, placebo_t=(), assignments=0)
    assert few_sites_reason(evidence(placebo=test, treated_sites=3, ci_level=0.975)) == (
        "3 live site(s) cannot be tested against site-to-site variation: no site still on the "
        "baseline shares their go-live periods, so no placebo comparison exists. Keeping some "
        "sites on the baseline for longer would give one."
    )


# -- spreadsheet cells: each kind of value --------------------------------------------------------


def _csv_column(values: list) -> list[str]:
    data = export.to_csv_bytes(pd.DataFrame({"v": pd.Series(values, dtype=object)}))
    assert data.startswith(b"\xef\xbb\xbfv\r\n")  # the BOM Excel needs, CRLF, no index column
    return data.decode("utf-8-sig").split("\r\n")[1:-1]


def test_missing_values_are_empty_cells_not_words() -> None:
    assert _csv_column([None, pd.NaT, "x"]) == ['""', '""', "x"]


def test_numpy_numbers_stay_numbers() -> None:
    frame = pd.DataFrame({"v": pd.Series([np.float32(0.5), np.int16(-3)], dtype=object)})
    book = openpyxl.load_workbook(io.BytesIO(export.to_xlsx_bytes({"t": frame})))
    assert [r[0] for r in book["t"].iter_rows(values_only=True)] == ["v", 0.5, -3]
    written = _csv_column([np.float32(0.5), np.int16(-3)])
    assert [float(x) for x in written] == [0.5, -3.0]  # numbers, the minus not neutralised


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch):
    """The machine's own time zone set to New York, so 'local' and 'UTC' differ."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_moments_are_written_in_utc_whatever_the_machine_zone(new_york: None) -> None:
    # 11:00 in Paris on 3 February (UTC+1) is 10:00 UTC; a naive time is written as it is.
    aware = pd.Timestamp("2025-02-03 11:00", tz="Europe/Paris")
    naive = pd.Timestamp("2025-02-03 11:00")
    assert _csv_column([aware, naive]) == ["2025-02-03 10:00:00", "2025-02-03 11:00:00"]
    frame = pd.DataFrame({"v": pd.Series([aware, naive], dtype=object)})
    book = openpyxl.load_workbook(io.BytesIO(export.to_xlsx_bytes({"t": frame})))
    cells = [r[0] for r in book["t"].iter_rows(values_only=True)]
    assert cells == ["v", datetime(2025, 2, 3, 10, 0), datetime(2025, 2, 3, 11, 0)]


def test_an_empty_table_keeps_its_neutralised_header() -> None:
    assert export.to_csv_bytes(pd.DataFrame({"=a": [], "b": []})) == b"\xef\xbb\xbf'=a,b\r\n"
