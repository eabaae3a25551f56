"""The dashboard under Streamlit's AppTest, on the bundled sample: every page renders without an
exception and shows what it should, the shared filters change the numbers to exactly what the
engine computes, the URL holds the view, and the Data and Decision pages do what they say.

Every test runs against a database in a temporary folder (SCALEGATE_DB), never
data/scalegate.duckdb. Tests that change data get their own database.
"""

from __future__ import annotations

import io
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics.core.catalog import read_catalog  # noqa: E402
from analytics.core.errors import ScalegateError  # noqa: E402
from analytics.decide.analysis import analyse  # noqa: E402
from analytics.decide.decisions import list_decisions  # noqa: E402
from analytics.engine.aggregate import Filters  # noqa: E402
from analytics.ingest.read import expand_local  # noqa: E402
from analytics.present.ui_state import (  # noqa: E402
    Options,
    View,
    catalog_frame,
    catalog_from_frame,
    fit_view,
    fmt_money,
    fmt_pct,
    local_paths_allowed,
    view_from_query,
    view_to_query,
)
from analytics.store.database import open_store  # noqa: E402
from ui.pages import PAGES  # noqa: E402

APP = str(ROOT / "app.py")
TIMEOUT = 120  # a cold analysis of the 150,000-row sample on a busy 2-core machine


def app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=TIMEOUT)


def small_csv(sites: tuple[str, ...] = ("North", "South", "East", "West")) -> bytes:
    """A small staggered rollout: pilot at the first site in March, production at the first
    two from April and the third from May; the last stays on baseline."""
    rng = np.random.default_rng(3)
    live = {sites[0]: date(2024, 4, 1), sites[1]: date(2024, 4, 1), sites[2]: date(2024, 5, 1)}
    rows = []
    for day in pd.date_range("2024-01-01", "2024-06-30", freq="D"):
        for site in sites:
            pilot = site == sites[0] and date(2024, 3, 1) <= day.date() < date(2024, 4, 1)
            prod = site in live and day.date() >= live[site]
            phase = "production" if prod else "pilot" if pilot else "baseline"
            for channel in ("phone", "web"):
                ai = phase != "baseline"
                cost = rng.normal(40, 6) * (0.85 if ai else 1)
                rows.append((day.date(), phase, site, channel, cost, rng.normal(20, 4) + 3 * ai))
    frame = pd.DataFrame(
        rows, columns=["date", "phase", "site", "channel", "Cost per case (EUR)", "Minutes saved"]
    )
    out = io.StringIO()
    frame.round(3).to_csv(out, index=False)
    return out.getvalue().encode()


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory):
    """A database that starts empty, so the app loads the bundled sample on first start."""
    path = tmp_path_factory.mktemp("sample") / "scalegate.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SCALEGATE_DB", str(path))
        mp.delenv("SCALEGATE_ALLOW_LOCAL_PATHS", raising=False)
        yield path


@pytest.fixture(scope="module")
def home(sample_db) -> AppTest:
    at = app().run()
    assert not at.exception
    return at


def no_problem(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


# -- first start and the home page ---------------------------------------------------------------


def test_first_start_loads_the_sample_and_answers_first(home, sample_db):
    no_problem(home)
    (dataset,) = open_store(sample_db).datasets()
    assert dataset.name.startswith("Sample") and dataset.rows == 150_000
    assert home.title[0].value == "Does the pilot's evidence justify scaling?"
    outcomes = ["cost_per_case_eur", "minutes_saved", "error_rate", "revenue_per_case_eur"]
    outcomes.append("support_tickets")
    for metric in outcomes:
        row = home.container(key=f"home_answer_{metric}")
        assert [m.label for m in row.metric] == [
            "Pilot promised",
            "Production delivers",
            "Retention",
        ]
    badges = " ".join(m.value for m in home.markdown)
    for words in ("Scale", "Fix first", "No meaningful effect", "Inconclusive"):
        assert words in badges
    assert ":red-badge[:material/block: No meaningful effect" in badges
    assert ":blue-badge[:material/hourglass_top: Inconclusive" in badges
    status = {m.label: m.value for m in home.metric}
    assert status["Rows"] == "150,000" and status["Sites"] == "12" and status["Channels"] == "4"


EXPECTED = {
    # page: (vega-lite charts at least, metrics at least, dataframes at least)
    "home": (0, 15, 0),
    "scorecard": (1, 0, 0),
    "pilot": (2, 3, 1),
    "sites": (3, 0, 3),  # verdicts, waterfall, heatmap; worst slices, mix, quality
    "baseline": (5, 0, 0),
    "decision": (0, 0, 0),
    "data": (0, 0, 2),
    "monitor": (0, 0, 0),
}
# What the pages without charts, metrics or tables must show instead (subheaders and notices).
SHOWS = {
    "decision": ("Readiness", "Record a decision", "Decision log"),
    "monitor": (
        "No decision is recorded for this dataset yet: production is watched against one.",
    ),
}


@pytest.mark.parametrize("page", list(EXPECTED))
def test_every_page_renders_on_the_sample(sample_db, page):
    at = app().run()
    at.switch_page(PAGES[page]).run()
    no_problem(at)
    charts, metrics, frames = EXPECTED[page]
    assert len(at.get("vega_lite_chart")) >= charts
    assert len(at.metric) >= metrics
    assert len(at.dataframe) >= frames
    shown = [e.value for e in [*at.subheader, *at.info]]
    assert all(text in shown for text in SHOWS.get(page, ())), shown
    if page == "decision":
        assert [b.label for b in at.button if b.label == "Record the decision"]
    assert at.sidebar.multiselect(key="f_sites").options[:2] == ["Aarhus", "Bilbao"]


def test_the_scorecard_offers_every_download(sample_db):
    at = app().run()
    at.switch_page(PAGES["scorecard"]).run()
    labels = [b.label for b in at.download_button]
    for label in ("Chart (PNG)", "Chart (SVG)", "Chart (PDF)", "Verdicts (CSV)"):
        assert label in labels
    for label in ("All tables (XLSX)", "Board pack (PowerPoint)", "Board pack (PDF)"):
        assert label in labels
    reasons = at.container(key="scorecard_reason_minutes_saved")
    assert any("Pilot alone: Scale" in m.value for m in reasons.markdown)


def test_the_baseline_page_says_plainly_when_there_are_too_few_periods(sample_db):
    at = app()
    at.query_params["from"] = "2024-03-01"  # one baseline month (four weeks) before the AI
    at.run()
    at.switch_page(PAGES["baseline"]).run()
    no_problem(at)
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 5
    assert warnings[0] == (
        "Too few baseline periods for Cost per case (EUR): 1 month(s) before the AI started "
        "under these filters (weeks were tried too), where 6 are needed to project what would "
        "have happened without it. The chart shows only what was measured."
    )


# -- filters: the number shown is the engine's number ---------------------------------------------


def shown_delivery(at: AppTest, metric: str) -> str:
    row = at.container(key=f"home_answer_{metric}")
    return next(m.value for m in row.metric if m.label == "Production delivers")


def engine_found(db: Path, filters: Filters, **settings: float) -> Any:
    store = open_store(db)
    dataset = store.datasets()[0]
    catalog = read_catalog(store.cursor(), dataset.id)
    catalog = replace(catalog, settings=replace(catalog.settings, **settings))
    return analyse(store, dataset.id, catalog, filters), catalog


def engine_delivery(db: Path, metric: str, filters: Filters, **settings: float) -> str:
    """What production delivers according to the engine, called directly: the improvement
    (positive = better), never money (value at scale has its own panel)."""
    found, catalog = engine_found(db, filters, **settings)
    return fmt_pct(catalog.get(metric).sign * found.verdict(metric).estimate)


def test_a_site_filter_changes_the_number_to_what_the_engine_computes(sample_db):
    at = app().run()
    everywhere = shown_delivery(at, "cost_per_case_eur")
    assert everywhere == engine_delivery(sample_db, "cost_per_case_eur", Filters())
    at.sidebar.multiselect(key="f_sites").set_value(["Aarhus"]).run()
    no_problem(at)
    expected = engine_delivery(sample_db, "cost_per_case_eur", Filters(sites=("Aarhus",)))
    assert shown_delivery(at, "cost_per_case_eur") == expected != everywhere
    assert at.query_params["site"] in (["Aarhus"], "Aarhus")


def test_the_annual_volume_reprices_the_counted_total(sample_db):
    at = app().run()
    at.sidebar.number_input(key="f_volume").set_value(240_000.0).run()
    no_problem(at)
    found, _ = engine_found(sample_db, Filters(), annual_volume=240_000.0)
    total = found.value_total
    assert total.counted == ("cost_per_case_eur",)
    shown = " ".join(m.value for m in at.markdown)
    assert f"{fmt_money(total.delivered, 'EUR')} a year" in shown.replace("\\", "")
    assert at.query_params["volume"] == "240000"


def test_a_shared_link_reopens_the_same_view_on_every_page(sample_db):
    at = app()
    at.query_params.update(
        {"site": ["Lyon", "Porto"], "grain": "week", "channel": "chat", "from": "2024-02-01"}
    )
    at.run()
    no_problem(at)
    assert at.session_state["f_sites"] == ["Lyon", "Porto"]
    assert at.session_state["f_channels"] == ["chat"]
    assert at.session_state["f_grain"] == "week"
    assert at.session_state["f_dates"][0] == date(2024, 2, 1)
    at.switch_page(PAGES["sites"]).run()
    no_problem(at)
    # Navigation clears the query string; the sidebar writes the view back on every page.
    assert at.query_params["site"] == ["Lyon", "Porto"]
    assert at.query_params["grain"] == "week" and at.query_params["from"] == "2024-02-01"


def test_junk_in_a_link_is_dropped_not_shown_as_an_error(sample_db):
    at = app()
    at.query_params.update({"site": "Atlantis", "from": "soon", "dataset": "99", "grain": "hour"})
    at.run()
    no_problem(at)
    assert at.session_state["f_sites"] == []
    assert "site" not in at.query_params and at.query_params["dataset"] == "1"


# -- Data: upload, mapping, report, datasets, catalog ----------------------------------------------


def test_an_upload_is_confirmed_then_loaded_and_becomes_the_view(own_db):
    at = app().run()
    at.switch_page(PAGES["data"]).run()
    at.file_uploader(key="data_upload_0").set_value(("rollout.csv", small_csv(), "text/csv")).run()
    no_problem(at)
    roles = at.dataframe[0].value  # the detected mapping, for confirmation
    assert dict(zip(roles["Column"], roles["Role"], strict=True)) == {
        "date": "date",
        "phase": "phase",
        "site": "site",
        "channel": "channel",
        "Cost per case (EUR)": "metric",
        "Minutes saved": "metric",
    }
    at.text_input(key="data_load_name").set_value("Four sites")
    at.button(key="data_load_button").click().run()
    no_problem(at)
    assert [d.name for d in open_store(own_db).datasets()][0] == "Four sites"
    # The load ends on Home: the answer on the new dataset, and once what the load did.
    assert at.title[0].value == "Does the pilot's evidence justify scaling?"
    said = "Loaded as dataset Four sites. Rows read 1,456, loaded 1,456, set aside 0."
    assert said in [s.value for s in at.success]
    assert at.session_state["f_dataset"] == 2
    assert at.sidebar.multiselect(key="f_sites").options == ["East", "North", "South", "West"]
    assert [c.value for c in at.caption if c.value.startswith("Dataset Four sites, one of 2")]
    at.switch_page(PAGES["home"]).run()  # said once
    assert not [s.value for s in at.success if s.value.startswith("Loaded as dataset")]
    at.switch_page(PAGES["data"]).run()  # the Data page keeps the report
    assert "Loaded as dataset Four sites." in [s.value for s in at.success]
    assert at.file_uploader(key="data_upload_1").value in (None, [])  # emptied for the next


def test_a_file_without_dates_or_channels_renders_every_page(own_db):
    rng = np.random.default_rng(1)
    rows = [
        (phase, site, rng.normal(10, 2) * (0.9 if phase != "baseline" else 1))
        for site in ("A", "B", "C")
        for phase, n in (
            ("baseline", 200),
            ("pilot", 60 if site == "A" else 0),
            ("production", 150),
        )
        for _ in range(n)
    ]
    data = pd.DataFrame(rows, columns=["stage", "plant", "Handle time"]).to_csv(index=False)
    at = app().run()
    at.switch_page(PAGES["data"]).run()
    at.file_uploader(key="data_upload_0").set_value(("flat.csv", data.encode(), "text/csv")).run()
    at.button(key="data_load_button").click().run()
    no_problem(at)
    for page in PAGES.values():
        at.switch_page(page).run()
        no_problem(at)
    assert at.session_state["f_dataset"] == 2 and "f_dates" not in at.session_state
    at.switch_page(PAGES["baseline"]).run()
    assert at.warning[0].value.startswith("Handle time: the data has no dates")


def test_a_failed_upload_says_what_to_fix_and_keeps_the_stored_data(own_db):
    at = app().run()
    at.switch_page(PAGES["data"]).run()
    before = open_store(own_db).datasets()
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    at.file_uploader(key="data_upload_0").set_value(("chart.csv", png, "text/csv")).run()
    assert not at.exception
    (error,) = at.error
    assert error.value.endswith(".") and "Traceback" not in error.value
    assert open_store(own_db).datasets() == before


def test_a_mapping_correction_is_checked_before_loading(own_db):
    at = app().run()
    at.switch_page(PAGES["data"]).run()
    data = small_csv().replace(b"baseline", b"stage zero")
    at.file_uploader(key="data_upload_0").set_value(("odd.csv", data, "text/csv")).run()
    no_problem(at)
    phases = at.dataframe[1].value
    assert dict(zip(phases["Value in the file"], phases["Phase"], strict=True))["stage zero"] == (
        "(leave out)"
    )


def test_rename_refuses_an_empty_name_and_delete_leads_to_the_empty_state(own_db):
    at = app().run()
    at.switch_page(PAGES["data"]).run()
    at.text_input(key="data_rename_1").set_value("  ")
    at.button(key="data_rename_button").click().run()
    assert [e.value for e in at.error] == ["A dataset needs a name: type one."]
    at.text_input(key="data_rename_1").set_value("Plants")
    at.button(key="data_rename_button").click().run()
    no_problem(at)
    assert open_store(own_db).datasets()[0].name == "Plants"
    at.checkbox(key="data_delete_sure_1").check().run()
    at.button(key="data_delete_button").click().run()
    no_problem(at)
    assert open_store(own_db).datasets() == []
    at.switch_page(PAGES["home"]).run()
    no_problem(at)
    assert at.button(key="home_load_sample").label == "Load the sample"
    at.switch_page(PAGES["scorecard"]).run()
    assert "There is no dataset to analyse yet" in at.info[0].value


def test_a_catalog_file_prices_an_outcome_and_the_numbers_follow(own_db):
    at = app().run()
    at.switch_page(PAGES["data"]).run()
    toml = b"[metrics.revenue_per_case_eur]\nvalue_per_unit = 0.5\n\n[settings]\nalpha = 0.05\n"
    at.file_uploader(key="data_catalog_upload_1").set_value(("c.toml", toml, "application/toml"))
    at.run()
    at.button(key="data_catalog_apply").click().run()
    no_problem(at)
    store = open_store(own_db)
    assert read_catalog(store.cursor(), 1).get("revenue_per_case_eur").value_per_unit == 0.5
    at.switch_page(PAGES["home"]).run()
    no_problem(at)
    # Priced now: what production delivers is money a year, as the engine computes it.
    assert shown_delivery(at, "revenue_per_case_eur") == engine_delivery(
        own_db, "revenue_per_case_eur", Filters()
    )
    at.switch_page(PAGES["scorecard"]).run()
    no_problem(at)
    # The scorecard, the ramp-up since go-live, value at scale.
    assert len(at.get("vega_lite_chart")) == 3
    assert [b.label for b in at.download_button].count("Chart (PNG)") == 2


def test_saved_settings_rerun_the_analysis_under_the_new_thresholds(own_db):
    at = app().run()
    at.switch_page(PAGES["data"]).run()
    at.number_input(key="data_settings_1_min_sites").set_value(13)
    at.button(key="FormSubmitter:data_settings_1-Save the settings").click().run()
    no_problem(at)
    assert read_catalog(open_store(own_db).cursor(), 1).settings.min_production_sites == 13
    at.switch_page(PAGES["home"]).run()
    no_problem(at)
    # Production runs at 12 sites, fewer than the 13 now required: nothing can be judged.
    assert at.markdown[0].value == "Across 5 outcome metrics: 5 inconclusive: need more data."


def test_a_bad_catalog_file_is_refused_with_a_sentence(own_db):
    at = app().run()
    at.switch_page(PAGES["data"]).run()
    at.file_uploader(key="data_catalog_upload_1").set_value(
        ("c.toml", b"[metrics.uptime]\ndirection = 'sideways'\n", "application/toml")
    )
    at.run()
    at.button(key="data_catalog_apply").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        'In the catalog, direction of uptime must be "higher" or "lower".'
    ]


def test_local_paths_are_offered_only_when_allowed(own_db, monkeypatch, tmp_path):
    at = app().run()
    at.switch_page(PAGES["data"]).run()
    assert "data_local_path" not in [t.key for t in at.text_input]
    monkeypatch.setenv("SCALEGATE_ALLOW_LOCAL_PATHS", "1")
    (tmp_path / "north.csv").write_bytes(small_csv())
    at.run()
    at.text_input(key="data_local_path").set_value(str(tmp_path / "*.csv")).run()
    no_problem(at)
    assert any(c.value.startswith("north.csv: ") for c in at.caption)


# -- Decision ----------------------------------------------------------------------------------------


def test_a_decision_is_recorded_listed_and_compared_with_today(own_db):
    at = app().run()
    at.switch_page(PAGES["decision"]).run()
    no_problem(at)
    assert [c.key for c in at.text_area][:6] == [
        f"decision_answer_{k}"
        for k in ("owner", "pipeline", "managers", "money", "support", "scale")
    ]
    at.text_area(key="decision_answer_owner").set_value("Head of Operations")
    at.button(key="FormSubmitter:decision_form-Record the decision").click().run()
    assert [e.value for e in at.error] == ["A decision needs an owner: type who owns the outcome."]
    at.text_input(key="decision_owner").set_value("Ana Lima")
    at.radio(key="decision_kind").set_value("fix_first")
    at.text_area(key="decision_rationale").set_value("Porto, Brno and Tampere first.")
    at.button(key="FormSubmitter:decision_form-Record the decision").click().run()
    no_problem(at)
    (record,) = list_decisions(open_store(own_db))
    assert (record.owner, record.decision) == ("Ana Lima", "fix_first")
    assert record.answers["owner"] == "Head of Operations"
    assert len(record.snapshot["verdicts"]) == 5
    log, changes = (frame.value for frame in at.dataframe)
    assert list(log["Owner"]) == ["Ana Lima"] and list(log["Decision"]) == ["Fix first"]
    assert list(changes["Changed"]) == ["no"] * 5  # today's numbers are the snapshot's


# -- the view's pure helpers -----------------------------------------------------------------------


OPTIONS = Options(
    dataset_ids=(1, 2),
    sites=("Lyon", "Porto"),
    channels=("chat", "phone"),
    metrics=("cost",),
    date_min=date(2024, 1, 1),
    date_max=date(2024, 12, 31),
)


def test_a_view_round_trips_through_its_url():
    view = View(1, date(2024, 2, 1), None, ("Lyon",), (), ("cost",), "week", 1e5, 2500.5)
    query = view_to_query(view)
    assert query == {
        "dataset": "1",
        "from": "2024-02-01",
        "site": ["Lyon"],
        "metric": ["cost"],
        "grain": "week",
        "volume": "100000",
        "cost": "2500.5",
    }
    listed = {k: v if isinstance(v, list) else [v] for k, v in query.items()}
    assert view_from_query(listed) == view


def test_fitting_a_view_drops_what_the_dataset_does_not_have():
    view = View(9, date(2023, 1, 1), date(2025, 6, 1), ("Lyon", "Oz"), ("chat", "phone"))
    assert fit_view(view, OPTIONS) == View(None, None, None, ("Lyon",), (), ())
    swapped = fit_view(View(1, date(2024, 5, 1), date(2024, 3, 1)), OPTIONS)
    assert (swapped.date_from, swapped.date_to) == (date(2024, 3, 1), date(2024, 5, 1))


def test_local_paths_need_a_local_server_or_the_setting():
    assert local_paths_allowed("127.0.0.1", None) and local_paths_allowed("localhost", "")
    assert not local_paths_allowed(None, None) and not local_paths_allowed("0.0.0.0", "0")
    assert local_paths_allowed("0.0.0.0", "1")


def test_a_local_pattern_lists_its_files_or_says_none_match(tmp_path):
    (tmp_path / "b.csv").write_text("x")
    (tmp_path / "a.csv").write_text("x")
    assert [p.name for p in expand_local(str(tmp_path / "*.csv"))] == ["a.csv", "b.csv"]
    with pytest.raises(ScalegateError, match="No file matches"):
        expand_local(str(tmp_path / "*.parquet"))


def test_catalog_edits_are_checked_and_clear_guessed(sample_db, home):
    store = open_store(sample_db)
    catalog = read_catalog(store.cursor(), store.datasets()[0].id)
    catalog = catalog.with_metric(replace(catalog.get("uptime"), guessed=True))
    frame = catalog_frame(catalog)
    assert frame.loc[0, "id"] == "uptime"  # guessed metrics first
    frame.loc[0, "confirmed"] = True
    frame.loc[frame["id"] == "cost_per_case_eur", "value_per_unit"] = 2.0
    edited = catalog_from_frame(catalog, frame)
    assert not edited.get("uptime").guessed
    assert edited.get("cost_per_case_eur").value_per_unit == 2.0
    frame.loc[frame["id"] == "cost_per_case_eur", "value_per_unit"] = np.nan
    assert catalog_from_frame(edited, frame).get("cost_per_case_eur").value_per_unit is None
    frame.loc[frame["id"] == "uptime", "direction"] = "sideways"
    with pytest.raises(ScalegateError, match="direction of uptime"):
        catalog_from_frame(catalog, frame)


def test_data_page_says_what_to_do_beyond_the_upload_limit(sample_db) -> None:
    at = app().run()
    at.switch_page("app_pages/data.py").run()
    no_problem(at)
    captions = " ".join(c.value for c in at.caption)
    assert "200 MB" in captions and "python -m analytics load" in captions
