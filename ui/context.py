"""What every page works on: the store, the chosen dataset, its catalog and the filters.

app.py builds one Context per run from the sidebar; pages take it with `current()` and ask it
for results, which come from the cache keyed by the dataset's content and the filter values.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd
import streamlit as st

from analytics.core.catalog import Catalog
from analytics.core.errors import ScalegateError
from analytics.decide.readiness import ReadinessItem, well_recorded
from analytics.decide.results import Results
from analytics.engine.aggregate import Filters
from analytics.present.ui_state import View, catalog_to_json, filters_to_json
from analytics.store.database import DatasetInfo, Store
from ui import cached

_KEY = "app_context"


@dataclass(frozen=True)
class Context:
    """The run's store, dataset (None when there is none), catalog, view and filters."""

    db: str
    store: Store
    datasets: tuple[DatasetInfo, ...]
    info: DatasetInfo | None
    catalog: Catalog | None
    view: View
    filters: Filters

    @property
    def ready(self) -> bool:
        return self.info is not None and self.catalog is not None

    def _keys(self) -> tuple[str, int, str]:
        if self.info is None:
            raise ScalegateError("No dataset is loaded yet: load the sample or a CSV first.")
        return self.db, self.info.id, self.info.sha256

    @property
    def catalog_json(self) -> str:
        assert self.catalog is not None
        return catalog_to_json(self.catalog)

    def results(
        self, filters: Filters | None = None, *, counterfactual: bool = True, why: bool = True
    ) -> Results:
        """The analysis under the sidebar's filters (or others, e.g. a snapshot's); without
        the counterfactual forecasts when a page does not show them, and without the why
        sections too for Home's answer (faster)."""
        db, ds, sha = self._keys()
        assert self.info is not None
        with st.spinner("Analysing… (first time for these filters only)"):
            return cached.results(
                db,
                ds,
                sha,
                self.info.name,
                self.catalog_json,
                filters_to_json(filters or self.filters),
                counterfactual,
                why,
            )

    def series(self, all_metrics: bool = False) -> pd.DataFrame:
        db, ds, sha = self._keys()
        filters = replace(self.filters, metrics=()) if all_metrics else self.filters
        return cached.series(db, ds, sha, self.catalog_json, filters_to_json(filters))

    def quality(self, rows: int) -> tuple[pd.DataFrame, tuple[str, ...]]:
        """Data quality per site over the well-recorded metrics, and the sparse ones left out
        (a metric recorded on few rows by design is missing everywhere and hides real gaps)."""
        db, ds, sha = self._keys()
        assert self.catalog is not None
        dense = well_recorded(self.series(all_metrics=True), rows)
        sparse = tuple(m for m in self.catalog.ids if m not in dense)
        frame = cached.quality(db, ds, sha, dense, filters_to_json(self.filters))
        return frame, sparse

    def readiness(self, decisions_seen: int) -> tuple[ReadinessItem, ...]:
        db, ds, sha = self._keys()
        assert self.info is not None
        with st.spinner("Gathering the evidence…"):
            return cached.readiness(
                db,
                ds,
                sha,
                self.info.name,
                self.catalog_json,
                filters_to_json(self.filters),
                decisions_seen,
            )


def publish(ctx: Context) -> None:
    st.session_state[_KEY] = ctx


def current() -> Context:
    """The context app.py built for this run."""
    ctx = st.session_state.get(_KEY)
    if ctx is None:
        raise ScalegateError("Open Scalegate from its home page (app.py), not a page file.")
    return ctx
