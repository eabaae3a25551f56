"""Real exports through the Data page (Streamlit AppTest): a file with a title block and
'Before AI' / 'Rolled out' loads with no manual mapping and every panel then manages it; a
one-phase file shows one banner on every page, and no page prints a broken sentence; the Home
page says how many metrics were guessed until a person confirms them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics.core.catalog import read_catalog  # noqa: E402
from analytics.store.database import open_store  # noqa: E402
from ui.coverage_banner import what_can_be_judged  # noqa: E402
from ui.pages import PAGES  # noqa: E402

TIMEOUT = 120


def titled_export(phases: tuple[str, ...] = ("Before AI", "Pilot", "Rolled out")) -> bytes:
    """A weekly helpdesk export as a tool writes it: a title, a note, a blank line, then the
    table, with the phase in "Deployment stage" and the date in "Week commencing"."""
    lines = [
        "Helpdesk weekly KPI export",
        "Generated 03/06/2024, all regions",
        "",
        "Week commencing,Deployment stage,Region,Contact channel,Handle time (min),CSAT",
    ]
    for week in range(24):
        day, month = 1 + (week * 7) % 28, 1 + week * 7 // 28
        phase = phases[min(len(phases) - 1, week * len(phases) // 24)]
        for region in ("North", "South", "East"):
            for channel in ("Phone", "Live chat"):
                aht = 10 - (week % 5) * 0.3 + (region == "East")
                lines.append(
                    f"{day:02d}/{month:02d}/2024,{phase},{region},{channel},{aht:.2f},{3 + week % 3}"
                )
    return ("\r\n".join(lines) + "\r\n").encode()


def app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)


def upload_and_load(at: AppTest, name: str, data: bytes) -> None:
    at.switch_page(PAGES["data"]).run()
    at.file_uploader(key="data_upload_0").set_value((name, data, "text/csv")).run()
    assert not at.exception, [e.message for e in at.exception]
    at.button(key="data_load_button").click().run()
    assert not at.exception, [e.message for e in at.exception]


def test_a_titled_export_loads_with_no_manual_mapping_and_the_panels_follow(own_db):
    at = app().run()  # the sample first: dataset 1
    at.switch_page(PAGES["data"]).run()
    at.file_uploader(key="data_upload_0").set_value(("kpis.csv", titled_export(), "text/csv"))
    at.run()
    roles = at.dataframe[0].value
    assert dict(zip(roles["Column"], roles["Role"], strict=True)) == {
        "Week commencing": "date",
        "Deployment stage": "phase",
        "Region": "site",
        "Contact channel": "channel",
        "Handle time (min)": "metric",
        "CSAT": "metric",
    }
    explained = dict(zip(roles["Column"], roles["What Scalegate sees"], strict=True))
    assert explained["Deployment stage"].startswith("which stage each row belongs to")
    phases = at.dataframe[1].value
    assert dict(zip(phases["Value in the file"], phases["Phase"], strict=True)) == {
        "Before AI": "baseline",
        "Pilot": "pilot",
        "Rolled out": "production",
    }
    at.button(key="data_load_button").click().run()
    assert not at.exception and not at.error
    warnings = " ".join(w.value for w in at.warning)
    assert "look like a title or notes" in warnings and "--" not in warnings
    store = open_store(own_db)
    new = store.datasets()[0]
    assert (new.id, new.name, new.rows) == (2, "kpis", 24 * 6)
    assert store.report(new.id)["phases"] == {"baseline": 48, "pilot": 48, "production": 48}
    # Every panel of the Data page now manages the new dataset.
    at.switch_page(PAGES["data"]).run()
    assert at.selectbox(key="data_manage_dataset").value == 2
    assert any(c.value.startswith("Catalog of kpis:") for c in at.caption)
    assert at.session_state["f_dataset"] == 2


def test_a_one_phase_file_shows_its_banner_on_every_page(own_db):
    at = app().run()
    upload_and_load(at, "before.csv", titled_export(("Before AI",)))
    expected = what_can_be_judged({"baseline": 144})
    for page in PAGES.values():
        at.switch_page(page).run()
        assert not at.exception, (page, [e.message for e in at.exception])
        banners = [i.value for i in at.info if i.value == expected]
        assert len(banners) == 1, page
        shown = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
        assert "no in " not in shown and "(: " not in shown, page


def test_the_banner_says_what_can_and_cannot_be_judged() -> None:
    assert what_can_be_judged({"baseline": 5, "pilot": 2, "production": 3}) is None
    assert what_can_be_judged({"baseline": 5, "pilot": 0, "production": 3}) is None
    no_production = what_can_be_judged({"baseline": 5, "pilot": 2, "production": 0})
    assert no_production is not None and no_production.startswith(
        "This dataset has no production rows."
    )
    no_baseline = what_can_be_judged({"baseline": 0, "pilot": 2, "production": 3})
    assert no_baseline is not None and "pilot and production rows but no baseline" in no_baseline
    assert "only baseline rows" in (what_can_be_judged({"baseline": 5}) or "")


def test_the_guessed_metrics_notice_shows_until_they_are_confirmed(own_db):
    at = app().run()
    upload_and_load(at, "kpis.csv", titled_export())
    at.switch_page(PAGES["home"]).run()
    assert "2 metrics were guessed: check them" in [w.value for w in at.warning]
    at.switch_page(PAGES["data"]).run()
    at.button(key="data_catalog_confirm_guesses").click().run()
    assert not at.exception
    store = open_store(own_db)
    assert not any(m.guessed for m in read_catalog(store.cursor(), 2).metrics)
    at.switch_page(PAGES["home"]).run()
    assert not any("guessed" in w.value for w in at.warning)


@pytest.mark.parametrize("value", ["Before AI", "Rolled out"])
def test_phase_words_of_the_export_read_as_phases(value: str) -> None:
    from analytics.ingest.load import Source, detect

    detection = detect([Source.from_bytes("k.csv", titled_export())])
    assert (
        detection.phase_values[value]
        == {"Before AI": "baseline", "Rolled out": "production"}[value]
    )
