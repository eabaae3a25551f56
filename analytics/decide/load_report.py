"""The load curve as results.json carries it, and the readiness answer to "what breaks at 10×
volume?" made from it (issue 14, item 3; engine/load_curve.py computes, METHODS.md explains)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analytics.core import fmt
from analytics.core.catalog import Metric
from analytics.core.types import Grain
from analytics.decide.results import clean
from analytics.engine.aggregate import _period
from analytics.engine.load_curve import (
    LoadCurve,
    LoadSlope,
    Multiples,
    load_curve,
    multiples,
    volume_frame,
    volume_grid,
)
from analytics.engine.panel import Panel, Panels, prepare_panel

ASKED = 10.0  # the readiness question's multiple: "what breaks at 10× volume?"
AXES = {"site": "a site's own volume", "central": "the volume of all sites together"}


def _slope_dict(s: LoadSlope | None) -> dict[str, Any] | None:
    if s is None:
        return None
    keys = ("slope", "se", "ci", "level", "df", "clusters", "groups", "cells")
    return {k: getattr(s, k) for k in keys} | {"per_doubling": s.per_doubling}


@dataclass(frozen=True, slots=True)
class LoadCurveRow:
    """One metric's slopes on log volume (metric units; sign: +1 when higher is better)."""

    metric: str
    label: str
    kind: str
    sign: int
    curve: LoadCurve

    def to_dict(self) -> dict[str, Any]:
        return clean(
            {
                "metric": self.metric,
                "kind": self.kind,
                "site": _slope_dict(self.curve.site),
                "central": _slope_dict(self.curve.central),
                "sentence": slope_sentence(self),
            }
        )


@dataclass(frozen=True, slots=True)
class LoadSection:
    """The volume multiples observed and every metric's load curve."""

    weighted: bool
    multiples: Multiples
    rows: tuple[LoadCurveRow, ...]

    def to_dict(self) -> dict[str, Any]:
        m = self.multiples
        return clean(
            {
                "volume": "weight" if self.weighted else "rows",
                "multiples": {
                    "central": m.central,
                    "by_site": dict(m.by_site),
                    "highest": m.highest,
                },
                "observed": observed_sentence(self),
                "asked": {"multiple": ASKED, "answer": asked_answer(self, ASKED)},
                "metrics": [r.to_dict() for r in self.rows],
            }
        )


def day_volumes(days: pd.DataFrame, grain: Grain) -> pd.DataFrame:
    """Volume per (phase, site, channel, period) from the day cells: their ``volume`` column,
    the weight total of aggregated rows or the rows (every row, whichever metrics it holds)."""
    frame = days[["phase", "site", "channel"]].assign(
        period=_period(days["date"], grain), volume=days["volume"].astype(float)
    )
    return frame.groupby(["phase", "site", "channel", "period"])["volume"].sum().reset_index()


def load_section(
    cells: pd.DataFrame, volumes: pd.DataFrame, metrics: Sequence[Metric], level: float,
    weighted: bool, panels: Panels | None = None,
) -> LoadSection | None:  # fmt: skip
    """The load curve of every metric with production cells, at the verdict's ``level``;
    ``volumes``: day_volumes; ``panels``: the analysis' panels, when it has them."""
    if cells.empty or volumes.empty or volumes["period"].isna().all():
        return None
    grid_frame = volume_frame(volumes)
    base = prepare_panel(volumes.assign(n=volumes["volume"], w=volumes["volume"], mean=0.0))
    if base is None or not base.has_dates:
        return None
    grids: dict[tuple, np.ndarray] = {}  # one grid per set of sites and periods (read only)

    def grid(panel: Panel) -> np.ndarray:
        key = (panel.sites, panel.periods)
        if key not in grids:
            grids[key] = volume_grid(panel, grid_frame)
        return grids[key]

    rows = []
    for m in metrics:
        panel = (
            panels.get(m.id)
            if panels is not None
            else prepare_panel(cells[cells["metric"] == m.id].drop(columns="metric"))
        )
        if panel is None or not panel.treated("production").any():
            continue
        curve = load_curve(panel, grid(panel), level)
        rows.append(LoadCurveRow(m.id, m.label, m.kind, m.sign, curve))
    return LoadSection(weighted, multiples(base, grid(base)), tuple(rows))


def slope_sentence(row: LoadCurveRow) -> str:
    """How the improvement moves per doubling of a site's volume, at the verdict's level."""
    s = row.curve.site
    if s is None:
        return f"{row.label}: volume does not vary enough in production to draw a load curve."
    per = row.sign * s.per_doubling
    lo, hi = sorted((row.sign * s.ci[0] * math.log(2), row.sign * s.ci[1] * math.log(2)))
    said = (
        "the improvement shrinks as volume grows"
        if hi < 0
        else "the improvement grows with volume"
        if lo > 0
        else "no change with volume can be shown"
    )
    return (
        f"{row.label}: {said} ({per:+.3g} in the metric's units per doubling of {AXES['site']}, "
        f"{fmt.level(s.level)} interval {lo:+.3g} to {hi:+.3g}; {_clusters(s)})."
    )


def _clusters(s: LoadSlope) -> str:
    if s.clusters == "site":
        return f"uncertainty clustered by site, {s.groups} sites"
    return (
        f"fewer than 5 live sites: uncertainty clustered by site and period ({s.groups}), "
        "shocks lasting across periods not allowed for"
    )


def observed_sentence(section: LoadSection) -> str:
    """The highest volume multiple observed, and that nothing beyond it is."""
    m = section.multiples
    if not math.isfinite(m.highest):
        return "The data holds no production period with a baseline volume to compare it with."
    where = "all sites together" if math.isfinite(m.central) else "at its busiest site"
    text = f"Production reached at most {m.highest:.2g}× the baseline volume per period ({where})"
    sites = [(s, x) for s, x in m.by_site if math.isfinite(x)]
    if sites and math.isfinite(m.central):
        site, top = max(sites, key=lambda p: p[1])
        text += f"; one site at most {top:.2g}× its own ({site})"
    return text + ". Anything beyond that is not observed."


def asked_answer(section: LoadSection, multiple: float) -> str:
    """The answer to "what happens at ``multiple``× volume?" from what was observed."""
    top = section.multiples.highest
    if not math.isfinite(top):
        return f"{multiple:g}× volume: not observed: the data holds no volume to compare with."
    if multiple > top:
        return f"{multiple:g}× volume: not observed: the data reaches {top:.2g}×."
    return f"{multiple:g}× volume: observed: the data reaches {top:.2g}×."


def scale_evidence(section: LoadSection | None) -> tuple[tuple[str, ...], str]:
    """Readiness ("what breaks at 10× volume?"): the observed multiple, the asked one, and
    each outcome's load curve; a concern when an improvement shrinks with volume."""
    if section is None:
        return ("There is no dated production data to see how volume behaves.",), "unknown"
    evidence = [observed_sentence(section), asked_answer(section, ASKED)]
    evidence += [slope_sentence(r) for r in section.rows if r.kind == "outcome"]
    falls = [r for r in section.rows if r.kind == "outcome" and _shrinks(r)]
    if falls:
        return tuple(evidence), "concern"
    top = section.multiples.highest
    return tuple(evidence), "good" if math.isfinite(top) and top >= ASKED else "unknown"


def _shrinks(row: LoadCurveRow) -> bool:
    s = row.curve.site
    return s is not None and bool(np.all(row.sign * np.asarray(s.ci) < 0))
