"""One person at the dashboard, in headless Chromium, for the load test (bench/load_test.py).

`python -m bench.browser_session clicker URL ROUNDS [SITE]` opens the dashboard (filtered to one
site when SITE is given, as a shared link would) and clicks through every page in the sidebar
ROUNDS times, timing each click until the page's run has finished and every chart on it has
drawn. `python -m bench.browser_session loader URL FILE` opens the Data page, reads FILE by its
local path and loads it. Each reports one JSON line (bench.common.report_result): its timings,
with wall-clock stamps so the parent can tell which clicks overlapped the load, and its errors.
"""

from __future__ import annotations

import sys
import time
import traceback
from typing import Any
from urllib.parse import quote

from bench.common import report_result
from bench.dashboard import CHROMIUM, CHROMIUM_ARGS
from bench.page_state import done, heading_of, text_done
from ui.pages import REGISTRY

TIMEOUT_MS = 180_000
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'


def _browser(playwright: Any) -> Any:
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    return browser, page


def _open(page: Any, url: str) -> None:
    """The first page of a session, fully drawn."""
    page.goto(url)
    page.locator(IDLE).wait_for()
    page.locator('[data-testid="stSidebarNav"]').wait_for()


def _errors(page: Any, where: str) -> list[str]:
    boxes = page.locator(ERRORS)
    return [f"{where}: {' '.join(text.split())[:200]}" for text in boxes.all_inner_texts()]


def _line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]


def _click(page: Any, title: str) -> float:
    """Seconds from clicking a page's link to that page shown, its run over and its charts
    drawn (bench/page_state.py: the page's own heading tells it from the page before)."""
    start = time.perf_counter()
    page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
    page.wait_for_function(f"() => {done(heading_of(title))}", polling=50, timeout=TIMEOUT_MS)
    return time.perf_counter() - start


def clicker(url: str, rounds: int, site: str | None) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    clicks: list[dict[str, Any]] = []
    errors: list[str] = []
    # Start on Home, then every other page in the sidebar's order, ending on Home again.
    order = [p.title for p in REGISTRY[1:]] + [REGISTRY[0].title]
    with sync_playwright() as p:
        browser, page = _browser(p)
        try:
            _open(page, f"{url}/?dataset=1" + (f"&site={quote(site)}" if site else ""))
            errors += _errors(page, "Home (first)")
            for round_ in range(rounds):
                for title in order:
                    at = time.time()
                    try:
                        seconds = _click(page, title)
                    except Exception as exc:  # a timeout or a crash is an error of the run
                        errors.append(f"{title}: {type(exc).__name__}: {_line(exc)}")
                        continue
                    clicks.append({"page": title, "round": round_, "at": at, "seconds": seconds})
                    errors += _errors(page, title)
        finally:
            browser.close()
    return {"site": site, "clicks": clicks, "errors": errors}


def loader(url: str, path: str) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    found: dict[str, Any] = {}
    with sync_playwright() as p:
        browser, page = _browser(p)
        try:
            _open(page, url)
            _click(page, "Data")
            page.locator('input[aria-label="…or a path or pattern on this machine"]').fill(path)
            page.keyboard.press("Enter")
            # The columns detected: the roles table is shown and the run is over.
            page.wait_for_function(
                f"() => {text_done('Column roles')}", polling=50, timeout=TIMEOUT_MS
            )
            load = page.get_by_role("button", name="Load", exact=True)
            found["start"] = time.time()
            start = time.perf_counter()
            load.click()
            page.get_by_text("Loaded as dataset").wait_for(timeout=TIMEOUT_MS * 3)
            found["seconds"] = time.perf_counter() - start
            found["end"] = time.time()
            errors += _errors(page, "Data (load)")
        except Exception as exc:
            errors.append(f"load: {type(exc).__name__}: {_line(exc)}")
        finally:
            browser.close()
    return {**found, "errors": errors}


def main(argv: list[str]) -> int:
    try:
        if argv[0] == "clicker":
            site = argv[3] if len(argv) > 3 and argv[3] else None
            report_result(clicker(argv[1], int(argv[2]), site))
        else:
            report_result(loader(argv[1], argv[2]))
    except Exception:
        traceback.print_exc()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
