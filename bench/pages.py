"""Render time of every dashboard page under AppTest: `python -m bench.pages DB`.

Run in its own process with SCALEGATE_DB pointing at a database that holds the benchmark dataset
(the dashboard opens it in its process, and DuckDB lets only one process open a file).

For each page: a new AppTest session from app.py with Streamlit's data cache cleared, so the page
pays for its analysis as on a first view (`cold`), then the same page re-run in that session with
the cache warm (`warm`, what a user sees when coming back to it). Home is the default page; every
other page is reached with `switch_page`. Cold is the median of 3 when under 2 s.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import CHEAP_SECONDS, REPEATS, ROOT, report_result

TIMEOUT = 300.0


def page_files() -> list[tuple[str, str]]:
    """(name, path relative to app.py) of every page that exists, in the app's order."""
    try:
        from ui.pages import PAGES

        listed = list(PAGES.items())
    except Exception:  # the page registry may be mid-edit: fall back on the files
        listed = [
            (p.stem, f"{folder}/{p.name}")
            for folder in ("app_pages",)
            for p in sorted((ROOT / folder).glob("*.py"))
        ]
    return [(name, path) for name, path in listed if (ROOT / path).is_file()]


def _clear() -> None:
    """Forget every analysis (Streamlit's data cache and the shared results), keep the store."""
    import streamlit as st

    from ui import cached

    st.cache_data.clear()
    for fn in (cached.options, cached.results, cached.readiness):
        fn.clear()


def _session(path: str, home: str | None) -> tuple[Any, float, float, int]:
    """A new session on `path`: (app, cold seconds, warm seconds, exceptions shown)."""
    from streamlit.testing.v1 import AppTest

    _clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    if path == home:
        start = time.perf_counter()
        at.run()
        cold = time.perf_counter() - start
    else:
        # The session opens on Home; the page is then chosen, as a user would.
        at.run()
        _clear()
        at.switch_page(path)
        start = time.perf_counter()
        at.run()
        cold = time.perf_counter() - start
    start = time.perf_counter()
    at.run()
    warm = time.perf_counter() - start
    return at, cold, warm, len(at.exception)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args:
        os.environ["SCALEGATE_DB"] = str(Path(args[0]).resolve())
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    pages = page_files()
    home = next((path for name, path in pages if name == "home"), None)
    found: list[dict[str, Any]] = []
    if pages:
        _session(pages[0][1], home)  # warm-up: imports, the store, first calls
    for name, path in pages:
        colds, warms, errors = [], [], 0
        while True:
            _, cold, warm, exceptions = _session(path, home)
            colds.append(cold)
            warms.append(warm)
            errors = max(errors, exceptions)
            if colds[0] >= CHEAP_SECONDS or len(colds) >= REPEATS:
                break
        found.append(
            {
                "name": name,
                "path": path,
                "cold": statistics.median(colds),
                "cold_runs": colds,
                "warm": statistics.median(warms),
                "exceptions": errors,
            }
        )
    report_result({"pages": found})
    return 0


if __name__ == "__main__":
    sys.exit(main())
