"""Warm-up: what every session needs, done once per server process, off the request path.

The first session used to pay for the imports (pandas, scipy, statsmodels: about 2 s on a
2-core machine) and for the analysis of the default dataset. `start()` does both in a
background thread: the imports of the first page, then — once Streamlit's runtime exists, so
the results land in the cache every session reads — the store and the default view's analysis
(exactly the cache entries the first session's Home asks for: the analysis without the
forecasts), then — once a first page is drawn, or after 2 s — the full analysis and the other
pages' imports (charts, Altair). The health check is never blocked by it; a session that
arrives early waits only for the piece it needs (Python's import locks, Streamlit's per-entry
compute lock).

`python -m ui.serve` starts it with the server; app.py also calls `start()` after each run,
which does the work once in a process started by plain `streamlit run app.py`.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from dataclasses import replace

# The first page's imports, in the order it needs them; then what only the other pages use.
FIRST_PAGE = (
    "pandas",
    "ui.sidebar",
    "ui.cached",
    "ui.context",
    "ui.show",
    "analytics.decide.analysis",
    "analytics.engine.adjusted",
)
OTHER_PAGES = (
    "analytics.present.charts",
    "ui.exports",
    "ui.load_panel",
    "ui.decision_panel",
)
RUNTIME_WAIT = 60.0  # seconds the thread waits for Streamlit's runtime before giving up

_started = threading.Event()
done = threading.Event()  # set when the warm-up is over (tests and the benchmark wait on it)
page_drawn = threading.Event()  # a script run has finished in this process
FIRST_PAGE_WAIT = 2.0  # seconds the rest of the warm-up waits for a first visitor's page
_log = logging.getLogger("scalegate.warm")


def start(*, analysis: bool = True) -> bool:
    """Start the warm-up thread once per process; False when it was started already.

    app.py calls it at the end of every run: that is also how the warm-up learns that a page
    has been drawn, and that the rest of its work no longer delays a first visitor."""
    page_drawn.set()
    if _started.is_set():
        return False
    _started.set()
    thread = threading.Thread(target=_run, args=(analysis,), name="scalegate-warm", daemon=True)
    thread.start()
    return True


def _run(analysis: bool) -> None:
    began = time.perf_counter()
    try:
        _import(FIRST_PAGE)
        if analysis and _wait_for_runtime():
            default_view()
        _import(OTHER_PAGES)
    except Exception:  # noqa: BLE001 - a failed warm-up only means the first session does the work
        _log.warning("warm-up stopped early", exc_info=True)
    finally:
        _log.info("warm-up done in %.2f s", time.perf_counter() - began)
        done.set()


def _import(modules: tuple[str, ...]) -> None:
    for name in modules:
        importlib.import_module(name)


def _wait_for_runtime() -> bool:
    from streamlit import runtime

    deadline = time.monotonic() + RUNTIME_WAIT
    while not runtime.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def dataset_in_background(dataset_id: int) -> None:
    """Analyse a dataset's default view on a background thread (after a load: the session
    shows the load's report while Home's answer is being computed)."""

    def run() -> None:
        try:
            default_view(dataset_id)
        except Exception:  # noqa: BLE001 - the page that asks will compute it and say why
            _log.warning("warm-up of dataset %s stopped early", dataset_id, exc_info=True)

    threading.Thread(target=run, name="scalegate-warm-dataset", daemon=True).start()


def default_view(dataset_id: int | None = None) -> None:
    """Open the store (loading the sample into an empty one, as the first session would) and
    analyse a dataset (by default the first) under the view a session opening it starts with:
    no filters, the catalog's grain, volume and running cost, as the sidebar sets them up."""
    from analytics.core.catalog import read_catalog
    from analytics.present.ui_state import View, catalog_to_json, filters_to_json
    from ui import cached

    # These cached calls run outside any session, which Streamlit would warn about.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(
        logging.ERROR
    )

    db, store = cached.db_path(), cached.store()
    datasets = [d for d in store.datasets() if dataset_id in (None, d.id)]
    if not datasets:
        return
    info = datasets[0]
    catalog = read_catalog(store.cursor(), info.id)
    cached.options(db, info.id, info.sha256)
    s = catalog.settings
    effective = replace(
        catalog,
        settings=replace(
            s, annual_volume=float(s.annual_volume), run_cost_per_year=float(s.run_cost_per_year)
        ),
    )
    filters = View(dataset_id=info.id).filters(s.grain)
    keys = (db, info.id, info.sha256, info.name, catalog_to_json(effective))
    cached.results(*keys, filters_to_json(filters), False)  # what Home shows
    # Python runs one thread at a time: let a visitor who is already here see Home first.
    page_drawn.wait(FIRST_PAGE_WAIT)
    cached.results(*keys, filters_to_json(filters), True)  # what the other pages show
