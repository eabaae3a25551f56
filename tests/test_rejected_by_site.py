"""Rows set aside at load, per site: counted by the ingest, stored in the validation report, and
shown beside missing values and date gaps on the Sites & Channels page.

The file: four sites on a staggered rollout, then 3 rows of North with the unknown phase "tbd",
2 rows of South with "TBC", 1 row of West with no phase, and 1 line with too few columns (no
readable site). East has nothing set aside.
"""

from __future__ import annotations

import io
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics.ingest.load import Source, load_files  # noqa: E402
from analytics.present.ui_state import (  # noqa: E402
    SET_ASIDE,
    quality_table,
    rejected_summary,
    set_aside_by_site,
)
from analytics.store.database import Store, open_store  # noqa: E402
from ui.show import PAGES  # noqa: E402

SITES = ("North", "South", "East", "West")
EXPECTED = {"North": 3, "South": 2, "West": 1, "(unreadable line)": 1}


def rollout_csv() -> str:
    """Daily rows, January to June: pilot at North in March, production at North and South
    from April and East from May; West stays on baseline."""
    rng = np.random.default_rng(5)
    live = {"North": date(2024, 4, 1), "South": date(2024, 4, 1), "East": date(2024, 5, 1)}
    rows = []
    for day in pd.date_range("2024-01-01", "2024-06-30", freq="D"):
        for site in SITES:
            pilot = site == "North" and date(2024, 3, 1) <= day.date() < date(2024, 4, 1)
            prod = site in live and day.date() >= live[site]
            phase = "production" if prod else "pilot" if pilot else "baseline"
            for channel in ("phone", "web"):
                ai = phase != "baseline"
                rows.append(
                    (day.date(), phase, site, channel, rng.normal(40, 6) * (0.85 if ai else 1))
                )
    out = io.StringIO()
    pd.DataFrame(rows, columns=["date", "phase", "site", "channel", "Cost per case"]).round(
        3
    ).to_csv(out, index=False)
    return out.getvalue()


def with_bad_rows(text: str) -> str:
    return text + (
        "2024-06-30,tbd,North,web,40.1\n"
        "2024-06-30,tbd,North,phone,40.2\n"
        "2024-06-29,tbd,North,web,40.3\n"
        "2024-06-30,TBC,South,web,39.9\n"
        "2024-06-29,TBC,South,phone,39.8\n"
        "2024-06-30,,West,web,41.0\n"
        "2024-06-30,baseline,East\n"  # too few columns: DuckDB sets the line aside
    )


def load(store: Store, text: str, name: str = "rollout.csv"):
    return load_files(store, [Source.from_bytes(name, text.encode())])


# -- the ingest ---------------------------------------------------------------------------------


def test_set_aside_rows_are_counted_per_site(store: Store) -> None:
    clean = rollout_csv()
    result = load(store, with_bad_rows(clean))
    report = result.report
    assert report.rows_rejected == 7
    assert report.rejected["unknown phase value"].count == 5
    assert report.rejected["no phase"].count == 1
    assert report.rejected["wrong number of columns"].count == 1
    assert report.rejected_by_site == EXPECTED
    assert list(report.rejected_by_site) == ["North", "South", "(unreadable line)", "West"]
    assert sum(report.rejected_by_site.values()) == report.rows_rejected
    # Stored with the dataset and read back as JSON.
    assert store.report(result.dataset_id)["rejected_by_site"] == EXPECTED
    assert "Set aside by site: North 3, South 2, (unreadable line) 1, West 1." in report.to_text()


def test_a_clean_file_sets_nothing_aside_and_says_nothing_per_site(store: Store) -> None:
    report = load(store, rollout_csv()).report
    assert report.rows_rejected == 0 and report.rejected_by_site == {}
    assert report.to_dict()["rejected_by_site"] == {}
    assert "by site" not in report.to_text()


def test_a_long_file_counts_rows_without_a_metric_name_per_site(store: Store) -> None:
    text = (
        "phase,site,metric,value\n"
        "baseline,A,cost,1\n"
        "pilot,A,cost,2\n"
        "production,B,cost,3\n"
        "production,B,,4\n"
        "maybe,A,cost,5\n"
    )
    report = load(store, text).report
    assert report.rejected_by_site == {"A": 1, "B": 1}


# -- the page's helpers -------------------------------------------------------------------------


def quality_frame(sites: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "site": list(sites),
            "rows": [10] * len(sites),
            "missing_share": [0.0] * len(sites),
            "days_missing": [0] * len(sites),
        }
    )


def test_the_quality_table_shows_set_aside_rows_with_zero_where_none() -> None:
    report = {"rows_rejected": 7, "rejected_by_site": EXPECTED}
    table = quality_table(quality_frame(SITES), report)
    assert dict(zip(table["Site"], table[SET_ASIDE], strict=True)) == {
        "North": 3,
        "South": 2,
        "West": 1,
        "East": 0,
    }
    summary = rejected_summary(report, list(table["Site"]))
    assert "1 of them is not at a site listed here" in summary
    assert "not at a site" not in rejected_summary(report, [*SITES, "(unreadable line)"])


def test_a_report_from_before_the_per_site_count_shows_no_number() -> None:
    old = {"rows_rejected": 2, "rejected": {"no phase": {"count": 2, "lines": [3, 4]}}}
    assert set_aside_by_site(old) is None
    assert quality_table(quality_frame(("A",)), old)[SET_ASIDE].isna().all()
    assert "load it again" in rejected_summary(old, ["A"])
    assert set_aside_by_site({"rows_rejected": 0}) == {}
    assert quality_table(quality_frame(("A",)), {"rows_rejected": 0})[SET_ASIDE].tolist() == [0]


# -- the page -----------------------------------------------------------------------------------


def test_the_sites_page_shows_set_aside_rows_per_site(own_db) -> None:
    load(open_store(own_db), with_bad_rows(rollout_csv()))  # not empty: no sample is loaded
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page(PAGES["sites"]).run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    (table,) = [f.value for f in at.dataframe if SET_ASIDE in f.value.columns]
    shown = dict(zip(table["Site"], table[SET_ASIDE], strict=True))
    assert shown == {"North": 3, "South": 2, "East": 0, "West": 1}
    assert {"Missing values", "Days gap"} <= set(table.columns)
    captions = " ".join(c.value for c in at.caption)
    assert "7 rows were set aside at load" in captions
    assert "1 of them is not at a site listed here" in captions
