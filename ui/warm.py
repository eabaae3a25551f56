"""Warm-up: what every session needs, done once per server process, off the request path.

The first session used to pay for the imports (pandas, scipy, statsmodels: 2-4 s on a busy
2-core machine) and for the analysis of the default dataset. Two steps:

- `prepare()`, which `python -m ui.serve` runs before the server binds its port: the first
  page's imports, the store, and the default view's Home analysis (exactly the cache entry the
  first session's Home asks for: the analysis without the forecasts; cache_resource entries do
  not need Streamlit's runtime). So the health check answers only once a session can be served
  at once, and the first session waits about as long as any later one.
- `start()`, a background thread: the same (a cache hit after `prepare()`), then — once a
  script run has ended and none is under way (app.py reports its runs), or after
  FIRST_PAGE_WAIT seconds — the full analysis and the other pages' imports (charts, Altair). A session that arrives early waits only for the piece it needs
  (Python's import locks, Streamlit's per-entry compute lock).

app.py also calls `start()` after each run, which does the work once in a process started by
plain `streamlit run app.py` (without `prepare()`).
"""

from __future__ import annotations

import importlib
import logging
import threading
import time

# The first page's imports, in the order it needs them; then what only the other pages use.
FIRST_PAGE = (
    "pandas",
    "ui.sidebar",
    "ui.cached",
    "ui.context",
    "ui.show",
    "analytics.decide.analysis",
    "analytics.engine.adjusted",
    "ui.coverage_banner",
    "ui.notices",
    "ui.monitor_panel",
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
FIRST_PAGE_WAIT = 8.0  # seconds the rest of the warm-up waits for a visitor's page to be drawn
_runs = threading.Condition()
_active = [0, 0.0]  # script runs under way in this process, when the last one ended
_log = logging.getLogger("scalegate.warm")


def prepare() -> None:
    """Before the server binds its port: the first page's imports and the default view's Home
    analysis, on this thread. A failure only means the first session does the work."""
    began = time.perf_counter()
    _quiet()
    try:
        _import(FIRST_PAGE)
        default_view(full=False)
    except Exception:  # noqa: BLE001 - the first session will compute it and say why
        _log.warning("warm-up before serving stopped early", exc_info=True)
    _log.info("ready to serve after %.2f s", time.perf_counter() - began)


def _quiet() -> None:
    """Cached calls made outside any session (and decorators run before the runtime exists)
    make Streamlit warn; here that is expected."""
    for name in (
        "streamlit.runtime.scriptrunner_utils.script_run_context",
        "streamlit.runtime.caching.cache_data_api",
    ):
        logging.getLogger(name).setLevel(logging.ERROR)


def run_began() -> None:
    """app.py, as a script run starts."""
    with _runs:
        _active[0] += 1


def run_ended() -> None:
    """app.py, as a script run ends (also by a rerun or an error)."""
    with _runs:
        _active[0] = max(0, int(_active[0]) - 1)
        _active[1] = time.monotonic()
        _runs.notify_all()


def _after_next_page(since: float) -> None:
    """Wait until a script run has ended after `since` and none is under way (at most
    FIRST_PAGE_WAIT seconds, and then still until no run is under way, at most as long again):
    Python runs one thread at a time, so the rest of the warm-up would slow down the page a
    visitor is waiting for (the first Home, or Home on a dataset just loaded, which asked for
    the analysis done just before). On a busy machine the first visitor's run can start late."""
    with _runs:
        _runs.wait_for(lambda: _active[0] == 0 and _active[1] > since, FIRST_PAGE_WAIT)
        _runs.wait_for(lambda: _active[0] == 0, FIRST_PAGE_WAIT)


def start(*, analysis: bool = True) -> bool:
    """Start the warm-up thread once per process; False when it was started already.
    app.py calls it at the end of every run (for a server started without ui.serve)."""
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


def default_view(dataset_id: int | None = None, *, full: bool = True) -> None:
    """Open the store (loading the sample into an empty one, as the first session would) and
    analyse a dataset (by default the first) under the view a session opening it starts with:
    no filters, the catalog's grain, volume and running cost, as the sidebar sets them up.
    Home's analysis first; then, with `full`, the other pages' (with the forecasts)."""
    from analytics.core.catalog import read_catalog
    from analytics.present.ui_state import catalog_to_json, filters_to_json
    from ui import cached
    from ui.handover import default_inputs

    _quiet()

    db, store = cached.db_path(), cached.store()
    datasets = [d for d in store.datasets() if dataset_id in (None, d.id)]
    if not datasets:
        return
    info = datasets[0]
    catalog = read_catalog(store.cursor(), info.id)
    cached.options(db, info.id, info.sha256)
    effective, filters = default_inputs(catalog)
    keys = (db, info.id, info.sha256, info.name, catalog_to_json(effective))
    # Every argument as ui/context.py passes it: Streamlit keys its cache on the arguments as
    # given, so a default left out would make another entry.
    cached.results(*keys, filters_to_json(filters), False, False)  # what Home shows
    if not full:
        return
    _after_next_page(time.monotonic())  # let a visitor who is already here see Home first
    cached.results(*keys, filters_to_json(filters), False, True)  # Home's, completed
    cached.results(*keys, filters_to_json(filters), True, True)  # with the forecasts
