"""The data's own cadence, and gaps, readiness evidence and "more data" judged against it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from weighted_panels import RESOLUTION_CATALOG, peak_week_rows, store_weighted

from analytics.core.catalog import Metric, Settings
from analytics.decide.readiness import _pipeline
from analytics.decide.verdict import Evidence, decide
from analytics.engine.aggregate import data_quality_by_site
from analytics.engine.cadence import detect_cadence, gaps_by_site
from analytics.ingest.load import Source, load_files
from analytics.store import day_cells

HELPDESK = Path(__file__).parent / "fixtures" / "helpdesk_weekly.csv"


def _dates(site: str, start: str, periods: int, freq: str) -> pd.DataFrame:
    return pd.DataFrame({"site": site, "date": pd.date_range(start, periods=periods, freq=freq)})


@pytest.mark.parametrize(
    ("freq", "name"),
    [("D", "daily"), ("W-MON", "weekly"), ("MS", "monthly"), ("14D", "every 14 days")],
)
def test_cadence_is_the_modal_spacing_of_each_sites_dates(freq: str, name: str) -> None:
    frame = pd.concat([_dates("A", "2024-01-01", 30, freq), _dates("B", "2024-01-03", 20, freq)])
    frame = frame.drop(index=[5, 11])  # two gaps do not change the cadence
    assert detect_cadence(frame).name == name


def test_a_complete_weekly_file_has_no_gap_and_a_missing_week_is_one() -> None:
    complete = _dates("A", "2024-01-01", 52, "W-MON")
    gaps = gaps_by_site(complete).set_index("site")
    assert (gaps.loc["A", "periods_missing"], gaps.loc["A", "days_missing"]) == (0, 0)
    # Counted in days, as before the cadence, the same file had 51 × 6 = 306 "days without data".
    holed = complete.drop(index=[10, 11, 30])
    gaps = gaps_by_site(holed).set_index("site")
    assert (gaps.loc["A", "periods_missing"], gaps.loc["A", "days_missing"]) == (3, 21)
    assert gaps.loc["A", "cadence"] == "weekly"


def test_monthly_gaps_count_calendar_months() -> None:
    months = _dates("A", "2024-01-01", 12, "MS").drop(index=[3])  # April missing
    gaps = gaps_by_site(months).set_index("site")
    assert (gaps.loc["A", "periods_missing"], gaps.loc["A", "cadence"]) == (1, "monthly")


def test_daily_gaps_are_the_days_without_data_as_before() -> None:
    days = _dates("A", "2024-01-01", 40, "D").drop(index=[3, 4, 20])
    gaps = gaps_by_site(days).set_index("site")
    assert gaps.loc["A", "days_missing"] == 40 - 37


def test_the_helpdesk_export_misses_one_week_not_49_days(store) -> None:
    """helpdesk_weekly.csv has no row in the week of 29 January 2024 (checked in the file): one
    week per region, where days counted 57 − 8 = 49."""
    loaded = load_files(store, [Source.from_path(HELPDESK)])
    cur = store.cursor()
    quality = data_quality_by_site(
        cur, loaded.dataset_id, day_cells.metric_columns(cur, loaded.dataset_id)
    ).set_index("site")
    assert quality["cadence"].eq("weekly").all()
    assert quality["periods_missing"].tolist() == [1, 1, 1]
    assert quality["days_missing"].tolist() == [7, 7, 7]
    evidence, signal = _pipeline(quality.reset_index(), None)
    assert "East: 0.0% of values missing and 1 week without data." in evidence
    assert signal == "concern"


def test_a_complete_weekly_export_is_good_evidence() -> None:
    store, ds = store_weighted(peak_week_rows(), ("resolution_rate",), RESOLUTION_CATALOG)
    quality = data_quality_by_site(store.cursor(), ds, ["resolution_rate"])
    assert quality["days_missing"].eq(0).all() and quality["cadence"].eq("weekly").all()
    evidence, signal = _pipeline(quality, None)
    assert signal == "good"
    assert evidence[-1] == "No site misses more than 5.0% of values or any week of its weekly data."


def _evidence(**kw: object) -> Evidence:
    metric = Metric(id="rate", label="Resolution rate", kind="outcome", direction="higher")
    base = dict(
        metric=metric, phase="production", lift=0.04, lift_low=-0.02, lift_high=0.10,
        ci_level=0.95, method="twfe_hc1_cells", n_rows=54, n_sites=3, dataset_sites=6,
    )  # fmt: skip
    return Evidence(**(base | kw))  # type: ignore[arg-type]


def test_more_data_for_aggregated_rows_is_said_in_periods_and_sites() -> None:
    """Hand-worked: a lift of +4% with half-width 6% against δ = 5%. The estimate is below δ, so
    rule 2 would settle it at a half-width of δ − 4% = 1%: the data must grow (6/1)² = 36-fold,
    i.e. 18 weeks × 35 = 630 more weeks, or 3 sites × 35 = 105 more sites (54 rows × 35 =
    1,890 more rows)."""
    weighted = decide(_evidence(periods=18, period_unit="week"), Settings())
    plain = decide(_evidence(), Settings())
    assert weighted.verdict == plain.verdict == "need_more_data"
    assert weighted.rows_needed == plain.rows_needed == 1890
    assert plain.reasons[0].endswith("About 1,890 more production rows would settle it.")
    assert weighted.reasons[0].endswith(
        "About 630 more weeks of production at its 3 sites, or about 105 more sites over the "
        "same 18 weeks, would settle it."
    )
    assert "rows would" not in weighted.reasons[0]


def test_too_few_aggregated_rows_say_their_sites_and_periods() -> None:
    few = decide(_evidence(n_rows=12, n_sites=3, periods=4, period_unit="week"), Settings())
    assert few.reasons[0] == (
        "Only 12 production rows (3 sites over 4 weeks) of Resolution rate; at least 30 are "
        "needed to judge."
    )
