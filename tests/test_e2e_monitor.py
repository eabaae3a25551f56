"""End to end in a real browser: a rollout with a go decision and two production weeks, served
by `streamlit run app.py`; a third week is added through the Data page, and the Monitor page
follows: one more week of production, and the slip the week carries raised as an alert.

Skipped (with the reason) only when /usr/bin/chromium is absent; `make test` installs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import rollout_rows as rr
from decided import decide_on_history
from test_e2e_browser import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    no_exception,
    open_page,
    settle,
    shot,
)

from analytics.ingest.append import append_files
from analytics.ingest.load import Source
from analytics.store.database import Store
from bench.dashboard import serve

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Chromium is not installed at /usr/bin/chromium: run `make browser` "
        "(apt-get install -y chromium) to run the browser tests.",
    ),
]


def _decided(path: Path) -> None:
    decide_on_history(path, owner="Ana Lima", rationale="-")
    store = Store(path)
    append_files(store, "Rollout", [Source.from_bytes("w1-2.csv", rr.weeks(36, 37))])
    store.close()


@pytest.fixture(scope="module")
def monitor_server(tmp_path_factory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("e2e_monitor")
    _decided(folder / "scalegate.duckdb")
    with serve(folder / "scalegate.duckdb", folder / "server.log") as url:
        yield url


def test_a_week_added_on_the_data_page_updates_the_monitor(monitor_server, tmp_path):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.set_default_timeout(180_000)
        page.goto(monitor_server)
        settle(page)
        no_exception(page, "home")
        open_page(page, "Monitor")
        page.get_by_text("2 weeks of production", exact=False).wait_for()
        assert page.get_by_text("the production improvement has fallen").count() == 0

        open_page(page, "Data")
        week = tmp_path / "week3.csv"
        week.write_bytes(rr.weeks(38, 38, effect=0.0))  # the AI stopped cutting cost
        uploads = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
        uploads.nth(1).set_input_files(str(week))  # the second: "Add this week's file to…"
        settle(page)
        page.get_by_role("button", name="Add to the dataset").click()
        page.get_by_text("over 7 days (2025-09-29 to 2025-10-05) to dataset Rollout").wait_for()
        settle(page)
        no_exception(page, "append")
        shot(page, "append_week")

        open_page(page, "Monitor")
        page.get_by_text("3 weeks of production", exact=False).wait_for()
        alert = page.get_by_text("Cost per case (EUR): the production improvement has fallen")
        alert.first.wait_for()
        no_exception(page, "monitor")
        shot(page, "monitor")
        browser.close()
