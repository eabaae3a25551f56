"""Real exports in a real browser (Chromium through Playwright, as tests/test_e2e_browser.py):
a helpdesk export with a title block and 'Before AI' / 'Rolled out' loads through the Data page
with no manual mapping; the Home page says its metrics were guessed until they are confirmed; a
file with only 'Before AI' rows shows its banner on every page."""

from __future__ import annotations

from pathlib import Path

import pytest
import test_e2e_browser as e2e
from test_e2e_browser import CHROMIUM, PAGES, no_exception, open_page, settle, shot
from test_pages_exports import titled_export

from ui.coverage_banner import what_can_be_judged

# The browser tests' fixtures: a server of this module's own and a Chromium page.
server = e2e.server
browser_page = e2e.browser_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed."),
]


def _upload(page, path: Path) -> None:
    open_page(page, "Data")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(path))
    page.get_by_text("Column roles").wait_for()
    settle(page)
    no_exception(page, "mapping")


def test_a_titled_export_loads_without_mapping_and_its_guesses_clear(
    browser_page, server, tmp_path
):
    page = browser_page
    page.goto(server)
    page.get_by_text("Does the pilot's evidence justify scaling?").wait_for()
    settle(page)
    path = tmp_path / "helpdesk_kpis.csv"
    path.write_bytes(titled_export())
    _upload(page, path)
    text = page.locator('[data-testid="stMain"]').inner_text()
    assert "look like a title or notes" in text and "--" not in text
    assert "No phase column was found" not in text
    shot(page, "export_mapping")
    page.get_by_role("button", name="Load", exact=True).click()
    page.get_by_text("Loaded as dataset helpdesk_kpis.").wait_for()  # on Home, where it ends
    settle(page)
    no_exception(page, "load")
    page.get_by_text("2 metrics were guessed: check them").wait_for()
    shot(page, "export_guessed")
    open_page(page, "Data")
    assert (
        "Catalog of helpdesk_kpis: 2 metrics."
        in page.locator('[data-testid="stMain"]').inner_text()
    )
    page.get_by_role("button", name="The guesses are right: confirm them").click()
    settle(page)
    open_page(page, "Home")
    assert "were guessed" not in page.locator('[data-testid="stMain"]').inner_text()


def test_a_one_phase_export_shows_its_banner_on_every_page(browser_page, server, tmp_path):
    page = browser_page
    page.goto(server)
    settle(page)
    path = tmp_path / "before_only.csv"
    path.write_bytes(titled_export(("Before AI",)))
    _upload(page, path)
    page.get_by_role("button", name="Load", exact=True).click()
    page.get_by_text("Loaded as dataset before_only.").wait_for()
    settle(page)
    banner = what_can_be_judged({"baseline": 1})
    assert banner is not None
    for title in PAGES:
        open_page(page, title)
        main = page.locator('[data-testid="stMain"]').inner_text()
        assert main.count(banner) == 1, title
        assert "no in " not in main and "(: " not in main, title
    shot(page, "export_one_phase")
