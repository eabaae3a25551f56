"""Data quality and adoption against each site's effect, as results.json carries them (issue 14,
items 4 and 5; engine/quality.py and engine/adoption.py compute, METHODS.md explains)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from analytics.core.catalog import Catalog, Metric
from analytics.decide.results import clean
from analytics.engine.adoption import DoseResponse, dose_response
from analytics.engine.panel import Panels, prepare_panel
from analytics.engine.quality import MEASURES, QualityAgainstEffect, against_effect
from analytics.engine.site_links import production_means, site_effects
from analytics.ingest.vocab import is_adoption_name

NO_ADOPTION = "The data has no adoption column (a usage share such as 'handled by AI')."


@dataclass(frozen=True, slots=True)
class QualityRow:
    """One outcome's sites: quality measures beside the effect, and the tests."""

    metric: str
    found: QualityAgainstEffect

    def to_dict(self) -> dict[str, Any]:
        f = self.found
        names = (*MEASURES, "effect_improvement")
        return clean(
            {
                "metric": self.metric,
                "level": f.level,
                "sites": [
                    {"site": s, **dict(zip(names, row, strict=True))}
                    for s, row in zip(f.sites, f.table, strict=True)
                ],
                "tests": [
                    {
                        "measure": q.measure,
                        "r": q.test.r,
                        "p_value": q.test.p,
                        "p_holm": q.p_holm,
                        "exact": q.test.exact,
                        "orderings": q.test.orderings,
                    }
                    for q in f.links
                ],
                "sentence": f.sentence,
            }
        )


@dataclass(frozen=True, slots=True)
class AdoptionSection:
    """The dose-response of every outcome on the adoption column, or why there is none."""

    column: str | None
    rows: tuple[tuple[str, DoseResponse], ...]

    @property
    def sentence(self) -> str:
        return NO_ADOPTION if self.column is None else ""

    def to_dict(self) -> dict[str, Any]:
        if self.column is None:
            return {"sentence": NO_ADOPTION}
        return clean(
            {
                "column": self.column,
                "outcomes": [
                    {
                        "metric": metric,
                        "level": d.level,
                        "sites": [
                            {"site": s, "adoption": a, "effect_improvement": e}
                            for s, a, e in zip(d.sites, d.adoption, d.effect, strict=True)
                        ],
                        "slope": d.slope,
                        "se": d.se,
                        "ci": d.ci,
                        "p_value": d.test.p,
                        "exact": d.test.exact,
                        "orderings": d.test.orderings,
                        "sentence": d.sentence,
                    }
                    for metric, d in self.rows
                ],
            }
        )


def adoption_metric(catalog: Catalog) -> Metric | None:
    """The usage-share column: the one the catalog names (settings.adoption), else the first
    metric whose name reads as one."""
    named = catalog.settings.adoption
    if named:
        return next((m for m in catalog.metrics if named in (m.id, m.label)), None)
    return next((m for m in catalog.metrics if is_adoption_name(m.id)), None)


def _panel(cells: pd.DataFrame, metric: str, panels: Panels | None = None):
    if panels is not None:  # the analysis' own, prepared once
        return panels.get(metric)
    return prepare_panel(cells[cells["metric"] == metric].drop(columns="metric"))


def quality_rows(
    cells: pd.DataFrame,
    outcomes: Sequence[Metric],
    quality: pd.DataFrame,
    level: float,
    panels: Panels | None = None,
) -> tuple[QualityRow, ...]:
    """Per outcome, the sites' quality measures (quality: engine.quality.quality_table)."""
    out = []
    for m in outcomes:
        panel = _panel(cells, m.id, panels)
        effects = site_effects(panel) if panel is not None else {}
        if effects and not quality.empty:
            out.append(QualityRow(m.id, against_effect(quality, effects, m.sign, level)))
    return tuple(out)


def adoption_section(
    cells: pd.DataFrame,
    catalog: Catalog,
    outcomes: Sequence[Metric],
    level: float,
    panels: Panels | None = None,
) -> AdoptionSection:
    column = adoption_metric(catalog)
    if column is None:
        return AdoptionSection(None, ())
    panel = _panel(cells, column.id, panels)
    shares = production_means(panel) if panel is not None else {}
    rows = []
    for m in outcomes:
        if m.id == column.id:
            continue
        p = _panel(cells, m.id, panels)
        if p is not None and shares:
            rows.append((m.id, dose_response(shares, site_effects(p), m.sign, level)))
    return AdoptionSection(column.id, tuple(rows))
