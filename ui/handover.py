"""Analyses made before a page asks for them, handed to the cache that asks.

Home shows the answer of an analysis without its why sections (decide/analysis.answer_first);
the pages that show them complete the same analysis instead of making it again. So whoever
makes Home's answer leaves its completion here, and the cache's `results` `take`s the answer
(Home) or the completed analysis (the other pages without forecasts), under the dataset's id
and name, only if the content, the catalog and the filters are those it was made with.
Whatever does not match is analysed as usual.

On a load, Home's answer is made before Load is pressed. The staged pass
(analytics/ingest/staged.py) runs while the person reviews the detected columns. Once its day
cells exist, `home_ahead` reads them on the staged transaction and analyses them under the
view a session opens a new dataset with (no filters, the catalog's grain, no volume or cost
given): exactly Home's analysis, whose numbers depend only on the day cells, the catalog and
the filters. After Load commits, `offer` leaves that computation for the dataset.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import duckdb

from analytics.core.catalog import Catalog
from analytics.decide.analysis import Stored, answer_first, read_days, relabelled
from analytics.decide.results import Results
from analytics.engine.aggregate import Filters
from analytics.ingest.report import ValidationReport
from analytics.present.ui_state import View, catalog_to_json, filters_to_json
from analytics.store.database import DatasetInfo, obs_table_name

WAIT = 120.0  # seconds a page waits for an analysis under way before doing its own
_KEEP = 8  # offers kept (one per load of this process that is not yet shown)
_offers: dict[tuple[str, int], Future[Any]] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Ahead:
    """An analysis made ahead, with what it was made of: its answer, and the function that
    completes it (once)."""

    sha256: str
    catalog_json: str
    filters_json: str
    answer: Results
    complete: Callable[[], Results]


def default_inputs(catalog: Catalog) -> tuple[Catalog, Filters]:
    """The catalog and filters a session opening a dataset starts with, as the sidebar sets
    them up: no filters, the catalog's grain, a volume or cost not given stays not given."""
    s = catalog.settings
    volume = None if s.annual_volume is None else float(s.annual_volume)
    settings = replace(s, annual_volume=volume, run_cost_per_year=float(s.run_cost_per_year))
    return replace(catalog, settings=settings), View().filters(s.grain)


def home_ahead(
    catalog: Catalog,
) -> Callable[[duckdb.DuckDBPyConnection, int, ValidationReport, str], Callable[[], Ahead]]:
    """The staged pass's work ahead: read the staged day cells, then analyse them."""

    def read(
        cur: duckdb.DuckDBPyConnection, table_id: int, report: ValidationReport, digest: str
    ) -> Callable[[], Ahead]:
        effective, filters = default_inputs(catalog)
        info = DatasetInfo(
            table_id, "", "", digest, report.rows_loaded, report.rows_rejected,
            datetime.now(), obs_table_name(table_id),
        )  # fmt: skip
        # As the stored report reads back (JSON: a site's name is always text there).
        as_stored = json.loads(json.dumps(report.to_dict()))
        stored = Stored(info, read_days(cur, table_id, effective, filters),
                        as_stored.get("rejected_by_site") or {})  # fmt: skip
        keys = (digest, catalog_to_json(effective), filters_to_json(filters))
        return lambda: Ahead(*keys, *answer_first(stored, effective, filters,
                                                  with_counterfactual=False))  # fmt: skip

    return read


def offer(db: str, dataset_id: int, ahead: Future[Any]) -> None:
    """Leave the analysis under way for a dataset just committed (the oldest offers go)."""
    with _lock:
        _offers[(db, dataset_id)] = ahead
        while len(_offers) > _KEEP:
            _offers.pop(next(iter(_offers)))


def keep(db: str, dataset_id: int, ahead: Ahead) -> None:
    """Leave an analysis already made (its answer shown, its completion not yet asked for)."""
    done: Future[Any] = Future()
    done.set_result(ahead)
    offer(db, dataset_id, done)


# What a page asks the cache for: (db, dataset id, sha256, name, catalog JSON, filters JSON).
Asked = tuple[str, int, str, str, str, str]


def take(asked: Asked, *, why: bool = False) -> Results | None:
    """The offered analysis, when it was made of the content, catalog and filters `asked` for
    (waiting for it if it is still running): its answer, or with `why` the completed analysis
    (handed over once); None otherwise."""
    db, dataset_id, sha256, name, catalog_json, filters_json = asked
    with _lock:
        ahead = _offers.get((db, dataset_id))
    if ahead is None:
        return None
    try:
        found = ahead.result(timeout=WAIT)
    except Exception:  # noqa: BLE001 - it failed or took too long: the caller analyses
        found = None
    made_of = (sha256, catalog_json, filters_json)
    if (
        not isinstance(found, Ahead)
        or (found.sha256, found.catalog_json, found.filters_json) != made_of
    ):
        return None
    if not why:
        return relabelled(found.answer, dataset_id, name, sha256)
    with _lock:
        if _offers.get((db, dataset_id)) is ahead:
            del _offers[(db, dataset_id)]
    return relabelled(found.complete(), dataset_id, name, sha256)
