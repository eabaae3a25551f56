"""The three sections of issue 14 that look for why production falls short outside the gap
itself: the load curve, data quality against the effect and adoption (one call from the
analysis; each section's own module computes it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from analytics.core.catalog import Catalog
from analytics.decide.load_report import day_volumes, load_section
from analytics.decide.results import MetricVerdict
from analytics.decide.site_links_report import adoption_metric, adoption_section, quality_rows
from analytics.engine.aggregate import Filters, data_quality_from_days
from analytics.engine.panel import Panels
from analytics.engine.quality import quality_table


def _dense(cells: pd.DataFrame, floor: float = 0.5) -> list[str]:
    """Metrics recorded on at least ``floor`` of the best-recorded one's rows: a metric
    recorded on a few cases by design says nothing about a site's recording."""
    counts = cells.groupby("metric")["n"].sum()
    return [str(m) for m, n in counts.items() if n >= floor * counts.max()]


def why_sections(
    rejected_by_site: Mapping[str, int],
    catalog: Catalog,
    filters: Filters,
    cells: pd.DataFrame,
    verdicts: Sequence[MetricVerdict],
    days: pd.DataFrame,
    panels: Panels | None,
    day_ids: Sequence[str],
) -> dict[str, Any]:
    """Results fields load_curve, data_quality and adoption, at the verdicts' level (``days``:
    the analysis' day cells, whose volume column the load curve reads; ``panels``: the
    analysis' panels of ``cells``, prepared once; ``day_ids``: the metrics of ``days``' sums
    columns, which give the data quality; ``rejected_by_site``: the load's rows set aside by
    site). No query: an analysis made before its load is committed gives the same."""
    level = verdicts[0].ci_level if verdicts else 1 - catalog.settings.alpha
    if cells.empty:
        return {}
    present = set(cells["metric"].unique())
    outcomes = [m for m in catalog.outcomes if m.id in present]
    adopt = adoption_metric(catalog)
    processes = [m for m in catalog.processes if m.id in present and m != adopt]
    quality = data_quality_from_days(days, day_ids, _dense(cells))
    table = quality_table(quality, dict(rejected_by_site)) if not quality.empty else quality
    return {
        "load_curve": load_section(
            cells,
            day_volumes(days, filters.grain),
            outcomes + processes,
            level,
            bool(days.attrs.get("weighted")),
            panels,
        ),  # fmt: skip
        "data_quality": quality_rows(cells, outcomes, table, level, panels),
        "adoption": adoption_section(cells, catalog, outcomes, level, panels),
    }
