"""End to end in a real browser: `streamlit run app.py` on a free port, driven by Debian's
Chromium through Playwright. Upload a CSV, confirm its mapping, open every page, record a
decision; any Streamlit exception box fails the test. Screenshots go to tests/artifacts/.

Skipped (with the reason) only when /usr/bin/chromium is absent; `make test` installs it.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.dashboard import CHROMIUM, CHROMIUM_ARGS, serve
from ui.pages import REGISTRY

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
# Page title in the sidebar -> file name of its screenshot.
PAGES = {p.title: Path(p.path).stem for p in REGISTRY}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Chromium is not installed at /usr/bin/chromium: run `make browser` "
        "(apt-get install -y chromium) to run the browser tests.",
    ),
]


def rollout_csv() -> bytes:
    """Five sites, two channels, daily rows from January to June 2024: baseline everywhere, a
    pilot at Oslo in March, production at Oslo and Bergen from April and Malmo from May."""
    rng = np.random.default_rng(11)
    live = {"Oslo": date(2024, 4, 1), "Bergen": date(2024, 4, 1), "Malmo": date(2024, 5, 1)}
    rows = []
    for day in pd.date_range("2024-01-01", "2024-06-30", freq="D"):
        for site in ("Oslo", "Bergen", "Malmo", "Turku", "Aalborg"):
            pilot = site == "Oslo" and date(2024, 3, 1) <= day.date() < date(2024, 4, 1)
            prod = site in live and day.date() >= live[site]
            phase = "production" if prod else "pilot" if pilot else "baseline"
            for channel in ("phone", "chat"):
                ai = phase != "baseline"
                rows.append(
                    (
                        day.date(),
                        phase,
                        site,
                        channel,
                        rng.normal(40, 6) * (0.85 if ai else 1),
                        rng.normal(20, 4) + 3 * ai,
                    )
                )
    frame = pd.DataFrame(
        rows, columns=["date", "phase", "site", "channel", "Cost per case (EUR)", "Minutes saved"]
    )
    out = io.StringIO()
    frame.round(3).to_csv(out, index=False)
    return out.getvalue().encode()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    """The dashboard on its own port and its own database, as `make run` starts it."""
    folder = tmp_path_factory.mktemp("e2e")
    with serve(folder / "scalegate.duckdb", folder / "server.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser_page(server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.set_default_timeout(180_000)
        yield page
        browser.close()


def settle(page, quiet: float = 1.0, timeout: float = 240) -> None:
    """Wait until the script run has finished (the app root says `notRunning`, as Streamlit's
    own browser tests check) and stayed finished for `quiet` seconds."""
    deadline = time.monotonic() + timeout
    calm_since = None
    idle = '[data-testid="stApp"][data-test-script-state="notRunning"]'
    while time.monotonic() < deadline:
        running = page.locator(idle).count() == 0
        if running:
            calm_since = None
        elif calm_since is None:
            calm_since = time.monotonic()
        elif time.monotonic() - calm_since >= quiet:
            return
        time.sleep(0.25)
    raise AssertionError("The page was still running after the timeout.")


def no_exception(page, where: str) -> None:
    boxes = page.locator('[data-testid="stException"]')
    assert boxes.count() == 0, f"{where}: " + " | ".join(boxes.all_inner_texts())


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def open_page(page, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
    settle(page)
    if page.locator('[data-testid="stVegaLiteChart"]').count():
        page.locator(".vega-embed").first.wait_for(state="visible")
        time.sleep(2)  # let Vega draw before the screenshot
    no_exception(page, title)


def test_upload_confirm_every_page_and_a_decision(browser_page, server, tmp_path):
    page = browser_page
    page.goto(server)
    page.get_by_text("Does the pilot's evidence justify scaling?").wait_for()
    settle(page)
    no_exception(page, "first start")
    assert "dataset=1" in page.url  # the sample, loaded on first start; the view is in the URL

    # Upload a CSV, see the detected mapping, load it.
    open_page(page, "Data")
    csv = tmp_path / "rollout.csv"
    csv.write_bytes(rollout_csv())
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(csv))
    page.get_by_text("Column roles").wait_for()
    page.get_by_text("Phase values").wait_for()
    settle(page)
    no_exception(page, "mapping")
    shot(page, "mapping")
    page.get_by_label("Dataset name").fill("Nordic rollout")
    page.get_by_label("Dataset name").press("Enter")
    settle(page)
    page.get_by_role("button", name="Load", exact=True).click()
    page.get_by_text("Loaded as dataset Nordic rollout.").wait_for()
    settle(page)
    no_exception(page, "load")
    shot(page, "loaded")

    # Every page, reached through the sidebar in the same session, on the new dataset.
    for title, name in PAGES.items():
        open_page(page, title)
        assert "dataset=2" in page.url, f"{title} lost the view from its URL: {page.url}"
        shot(page, name)

    # Downloads are built when clicked, in the server: a chart and the board pack.
    open_page(page, "Scorecard")
    with page.expect_download() as png:
        page.get_by_role("button", name="Chart (PNG)").first.click()
    assert Path(png.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with page.expect_download() as pack:
        page.get_by_role("button", name="Board pack (PowerPoint)").click()
    assert pack.value.suggested_filename == "scalegate_board_pack.pptx"
    assert Path(pack.value.path()).read_bytes()[:2] == b"PK"  # a zip, as every .pptx is
    no_exception(page, "downloads")

    # Record a decision.
    open_page(page, "Decision")
    page.get_by_label("Owner", exact=True).fill("Ana Lima")
    page.get_by_label("Rationale").fill("Bergen first, then the rest.")
    page.get_by_role("button", name="Record the decision").click()
    page.get_by_text("Recorded: Go, owned by Ana Lima").wait_for()
    settle(page)
    no_exception(page, "decision")
    shot(page, "decision_recorded")


def test_a_shared_link_opens_the_same_view_in_a_new_session(browser_page, server):
    page = browser_page
    page.goto(f"{server}/sites_channels?dataset=1&site=Lyon&site=Porto&grain=week")
    page.get_by_text("Sites & Channels").first.wait_for()
    settle(page)
    no_exception(page, "shared link")
    assert "site=Lyon" in page.url and "site=Porto" in page.url and "grain=week" in page.url
    sites = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').first
    assert "Lyon" in sites.inner_text() and "Porto" in sites.inner_text()
    shot(page, "shared_link")


# -- names written as Markdown stay text in the browser -------------------------------------------

EVIL_SITES = (
    "![x](http://tracker.example/i.png)",
    "[click](http://evil.example)",
    ":material/home: North",
    "Bergen -> www.evil.example",
    "Malmo",
)
EVIL_COST = "Cost $x^2$ :red[boom] **b**"
EVIL_DATASET = "![d](http://tracker.example/d.png) :red[set]"

# What rendered Markdown would have made of them: a link or image to the outside, colour, LaTeX,
# an icon, the Streamlit logo, bold. Charts and dataframes draw text as text and are left out.
ACTIVE_MARKDOWN = """() => {
    const md = '[data-testid="stMarkdownContainer"]';
    const grab = (sel) => [...document.querySelectorAll(sel)].map((e) => e.outerHTML);
    return {
        links: grab('a[href*="evil.example"], a[href*="tracker.example"]'),
        images: grab('img[src*="tracker.example"], img[alt="Streamlit logo"]'),
        markup: grab(`${md} :is(.stMarkdownColoredText, .stMarkdownColoredBackground, .katex)`),
        icons: grab(`${md} span[role="img"][aria-label="home icon"]`),
        bold: [...document.querySelectorAll(`${md} strong`)]
            .map((e) => e.textContent)
            .filter((t) => t === "b"),
        text: document.body.innerText.replaceAll("\\u2060", ""),
    };
}"""


def evil_csv() -> bytes:
    """rollout_csv's design, with site and metric names that are Markdown."""
    frame = pd.read_csv(io.BytesIO(rollout_csv()))
    sites = dict(zip(("Oslo", "Bergen", "Malmo", "Turku", "Aalborg"), EVIL_SITES, strict=False))
    frame["site"] = frame["site"].map(lambda s: sites.get(s, s))
    frame = frame.rename(columns={"Cost per case (EUR)": EVIL_COST})
    return frame.to_csv(index=False).encode()


def inert(page, where: str) -> str:
    found = page.evaluate(ACTIVE_MARKDOWN)
    text = found.pop("text")
    assert found == {"links": [], "images": [], "markup": [], "icons": [], "bold": []}, where
    return text


def test_names_written_as_markdown_show_as_typed(browser_page, server, tmp_path):
    page = browser_page
    page.goto(server)
    settle(page)
    open_page(page, "Data")
    csv = tmp_path / "evil.csv"
    csv.write_bytes(evil_csv())
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(csv))
    page.get_by_text("Column roles").wait_for()
    settle(page)
    page.get_by_label("Dataset name").fill(EVIL_DATASET)
    page.get_by_label("Dataset name").press("Enter")
    settle(page)
    page.get_by_role("button", name="Load", exact=True).click()
    page.get_by_text("Loaded as dataset").wait_for()  # on Home, what the load did
    settle(page)
    no_exception(page, "load")
    assert f"Loaded as dataset {EVIL_DATASET}." in inert(page, "load")
    seen = ""
    for title, name in PAGES.items():
        open_page(page, title)
        seen += inert(page, title)
        if name in ("home", "sites_channels"):
            shot(page, f"markdown_names_{name}")
    assert EVIL_COST in seen and f"Dataset {EVIL_DATASET}, one of" in seen
    assert any(site in seen for site in EVIL_SITES[:4])  # the ready / must-fix lists


# -- a typed date, then a click on a page link (the click used to be lost) -----------------------


def test_a_click_on_a_page_right_after_typing_a_date_opens_that_page(browser_page, server):
    """The date field commits when it loses focus, which the press on a page link causes: the
    click must open the page, on the new date (it used to rerun the old page instead)."""
    page = browser_page
    page.goto(f"{server}/?dataset=1")
    page.get_by_text("Does the pilot's evidence justify scaling?").wait_for()
    settle(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    day = sidebar.get_by_role("spinbutton", name="day, Dates start date")
    day.click()
    page.keyboard.type("15")
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Scorecard", exact=True).click()
    page.locator("h1", has_text="Scorecard").wait_for()
    settle(page)
    assert "/scorecard?" in page.url and "from=2024-01-15" in page.url, page.url
    no_exception(page, "date then page")

    # On the page itself, Apply takes a typed date (no rerun on the keystrokes before it).
    day.click()
    page.keyboard.type("10")
    sidebar.get_by_role("button", name="Apply dates").click()
    page.wait_for_url("**/scorecard?*from=2024-01-10*")
    settle(page)
    assert page.locator("h1").first.inner_text() == "Scorecard"
    no_exception(page, "apply dates")
