"""The load curve: does the AI's effect hold as volume grows? (issue 14, item 3)

Volume is a site-period's weight total (the weight column of aggregated rows: cases, contacts)
or its row count, all phases together; the *central* load of a period is that volume summed over
every site. The effect of each production cell is the imputation estimator's cell effect
ȳ_c − ẑ_cᵀθ̂ (imputation.py: site + period levels fitted on the baseline cells). The slope is a
weighted least-squares fit (weights W_c) of those cell effects on log volume, once against the
site-period's own volume and once against the central load: the change in the effect when volume
is multiplied by e (× ln 2 per doubling).

Its interval clusters by site (t on G − 1) where production holds at least ``FEW_SITES`` sites,
like the verdict; with fewer it clusters by site-period (t on U − 1), allowing shocks shared by a
site's channels in a period but not shocks lasting across periods. The cell effects are taken as
given: the first stage's own error is not added (it moves every slope by little when the
baseline holds many cells, and not at all when volume is unrelated to the fitted levels).

The volume multiple observed: for a site, its largest production-period volume over its mean
volume per period before its go-live; centrally, the largest total over the periods holding
production cells against the mean total of the periods before any go-live. Nothing beyond the
largest multiple is observed, whatever the slope says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from statsmodels.regression.linear_model import WLS
from statsmodels.tools.tools import add_constant

from analytics.engine.imputation import fit_first_stage
from analytics.engine.panel import Panel
from analytics.engine.quantiles import two_sided_t
from analytics.engine.staggered import FEW_SITES

NAN = float("nan")


@dataclass(frozen=True, slots=True)
class LoadSlope:
    """The effect's slope on log volume (metric units per unit of log volume)."""

    axis: str  # "site" (the site-period's own volume) or "central" (all sites' volume)
    slope: float
    se: float
    ci: tuple[float, float]
    level: float
    df: float
    clusters: str  # "site" or "site_period"
    groups: int
    cells: int

    @property
    def per_doubling(self) -> float:
        return self.slope * math.log(2)


@dataclass(frozen=True, slots=True)
class Multiples:
    """The highest volume multiple production reached against the baseline volume."""

    central: float  # NaN when no period precedes every go-live
    by_site: tuple[tuple[str, float], ...]

    @property
    def highest(self) -> float:
        """The central multiple when known (the load on the whole operation), else the
        largest site's."""
        if math.isfinite(self.central):
            return self.central
        finite = [m for _, m in self.by_site if math.isfinite(m)]
        return max(finite) if finite else NAN


@dataclass(frozen=True, slots=True)
class LoadCurve:
    """One metric's load curve: both slopes, the multiples, and its points for a chart."""

    site: LoadSlope | None
    central: LoadSlope | None
    multiples: Multiples
    points: tuple[tuple[str, str, str, float, float], ...]  # (site, period, phase, volume, mean)


def volume_frame(cells: pd.DataFrame) -> pd.DataFrame:
    """Volume per (site, period), all phases and channels together: the ``volume`` column of
    volume cells (decide/load_report.day_volumes), else the weight total (``w``) or rows (``n``)
    of metric cells, the largest over metrics."""
    if cells.empty:
        return pd.DataFrame(columns=["site", "period", "volume"])
    if "volume" not in cells:
        cells = cells.assign(volume=cells["w"] if "w" in cells else cells["n"])
    frame = cells.assign(volume=pd.to_numeric(cells["volume"], errors="coerce").astype(float))
    keys = ["metric", "site", "period"] if "metric" in cells else ["site", "period"]
    per = frame.groupby(keys, dropna=False)["volume"].sum().reset_index()
    return per.groupby(["site", "period"], dropna=False)["volume"].max().reset_index()


def volume_grid(panel: Panel, volumes: pd.DataFrame) -> np.ndarray:
    """Volume per (site, period) of the panel as a sites × periods array (0 where none)."""
    grid = np.zeros((len(panel.sites), len(panel.periods)))
    dates = pd.to_datetime(volumes["period"], errors="coerce")
    codes, uniques = pd.factorize(dates, use_na_sentinel=False)
    names = np.array([str(d.date()) if pd.notna(d) else "all" for d in uniques], dtype=object)
    period = pd.Index(panel.periods).get_indexer(names)[codes] if len(names) else codes
    site = pd.Index(panel.sites).get_indexer(volumes["site"].astype(str))
    v = volumes["volume"].to_numpy(float)
    ok = (site >= 0) & (period >= 0) & np.isfinite(v)
    np.add.at(grid, (site[ok], period[ok]), v[ok])  # in row order, as a loop would add them
    return grid


def multiples(panel: Panel, grid: np.ndarray) -> Multiples:
    """The highest production volume per period against the baseline volume per period."""
    prod = panel.treated("production")
    steps = np.zeros(len(panel.periods), dtype=np.int64)
    steps[panel.period] = panel.t
    by_site = []
    for s, name in enumerate(panel.sites):
        live = np.unique(panel.period[prod & (panel.site == s)])
        before = (steps < panel.start[s]) & (grid[s] > 0)
        if len(live) and before.any():
            by_site.append((name, float(grid[s, live].max() / grid[s, before].mean())))
    total = grid.sum(0)
    quiet = (steps < panel.start.min()) & (total > 0)
    live_periods = np.unique(panel.period[prod])
    central = (
        float(total[live_periods].max() / total[quiet].mean())
        if quiet.any() and len(live_periods)
        else NAN
    )
    return Multiples(central, tuple(by_site))


def _slope(
    effect: np.ndarray, volume: np.ndarray, w: np.ndarray, groups: np.ndarray, kind: str,
    axis: str, level: float,
) -> LoadSlope | None:  # fmt: skip
    """WLS of cell effects on log volume, clustered by ``groups``; None when volume does not
    vary or there are fewer than two groups."""
    x = np.log(volume)
    x = x - np.average(x, weights=w)  # centred: the same slope, a better-conditioned fit
    codes = np.unique(groups, return_inverse=True)[1]
    g = int(codes.max()) + 1 if len(codes) else 0
    if len(x) < 3 or np.ptp(x) <= 0 or g < 2:
        return None
    fit = WLS(effect, add_constant(x), weights=w).fit(
        cov_type="cluster", cov_kwds={"groups": codes}
    )
    slope, se = float(fit.params[1]), float(fit.bse[1])
    df = float(g - 1)
    q = two_sided_t(1 - level, df)
    return LoadSlope(axis, slope, se, (slope - q * se, slope + q * se), level, df, kind, g, len(x))


def load_curve(panel: Panel, grid: np.ndarray, level: float) -> LoadCurve:
    """The load curve of one metric (see the module docstring)."""
    first = fit_first_stage(panel)
    on = panel.treated("production") & first.covered & (grid[panel.site, panel.period] > 0)
    # Cells in one order (site, period, channel), whatever order the database returned them in.
    prod = np.flatnonzero(on)[np.lexsort((panel.channel[on], panel.period[on], panel.site[on]))]
    effect = (panel.mean - first.fitted)[prod]
    site, period, w = panel.site[prod], panel.period[prod], panel.w[prod]
    sites = len(np.unique(site))
    if sites >= FEW_SITES:
        groups, kind = site, "site"
    else:
        groups, kind = site * len(panel.periods) + period, "site_period"
    own = grid[site, period]
    central = grid.sum(0)[period]
    points = tuple(
        (panel.sites[s], panel.periods[p], ph, float(grid[s, p]), float(m))
        for s, p, ph, m in _site_period_means(panel)
        if grid[s, p] > 0
    )
    return LoadCurve(
        site=_slope(effect, own, w, groups, kind, "site", level) if prod.any() else None,
        central=_slope(effect, central, w, groups, kind, "central", level) if prod.any() else None,
        multiples=multiples(panel, grid),
        points=points,
    )


def _site_period_means(panel: Panel) -> list[tuple[int, int, str, float]]:
    """The metric's W-weighted mean per (site, period, phase): what the chart draws."""
    names = {0: "baseline", 1: "pilot", 2: "production"}
    key = (panel.site * len(panel.periods) + panel.period) * 3 + panel.phase
    uniq, inv = np.unique(key, return_inverse=True)
    w = np.bincount(inv, weights=panel.w)
    m = np.bincount(inv, weights=panel.w * panel.mean) / w
    out = []
    for k, mean in zip(uniq, m, strict=True):
        sp, ph = divmod(int(k), 3)
        s, p = divmod(sp, len(panel.periods))
        out.append((s, p, names[ph], float(mean)))
    return out
