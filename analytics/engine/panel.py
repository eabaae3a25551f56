"""One metric's cells as a rollout panel: what the staggered-rollout estimators read.

Cells are pooled over nothing but their own keys: one panel cell per (phase, site, channel,
period) with its weight total W (column ``w`` when the cells carry weights, else the row count
``n``), its weighted mean and the within-cell sums the heteroskedasticity-robust variance needs
(Σw², Σw²(y−ȳ), Σw²(y−ȳ)²: for unweighted rows n, 0 and m2). Every site gets its go-live: the
first period in which it has any non-baseline row (for the pilot site, its first pilot period),
and event time counts periods from it. Cells without a date form one period.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

PHASE_CODES = {"baseline": 0, "pilot": 1, "production": 2}
NEVER = np.iinfo(np.int64).max // 4  # go-live of a site that never leaves the baseline


@dataclass(frozen=True, slots=True, eq=False)
class Panel:
    """Cells as arrays. ``site``, ``channel`` and ``period`` index ``sites``, ``channels`` and
    ``periods``; ``t`` is the period's step index (months or the data's own step); ``start``
    holds each site's go-live step (NEVER for sites always on the baseline)."""

    sites: tuple[str, ...]
    channels: tuple[str, ...]
    periods: tuple[str, ...]
    phase: np.ndarray
    site: np.ndarray
    channel: np.ndarray
    period: np.ndarray
    t: np.ndarray
    w: np.ndarray
    n: np.ndarray
    mean: np.ndarray
    s2: np.ndarray
    q1: np.ndarray
    q2: np.ndarray
    start: np.ndarray
    has_dates: bool
    # Work shared by the estimators (first stage, linear estimates): fits of these means, so a
    # panel made from this one with other means (dataclasses.replace) must pass cache={}.
    cache: dict = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.w)

    @property
    def baseline(self) -> np.ndarray:
        return self.phase == 0

    def treated(self, phase: str) -> np.ndarray:
        return self.phase == PHASE_CODES[phase]

    @property
    def event_time(self) -> np.ndarray:
        """Periods since the cell's site went live (negative before it; huge for never)."""
        start = self.start[self.site]
        return np.where(start >= NEVER, -NEVER, self.t - start)

    def sites_with_baseline(self) -> np.ndarray:
        """Which sites have baseline rows: only they identify anything and count as clusters."""
        return np.bincount(self.site[self.baseline], minlength=len(self.sites)) > 0

    def with_starts(self, select: np.ndarray) -> Panel:
        """The same cells with each site's go-live at its first selected non-baseline period
        (production's go-live, not the pilot's, when ``select`` is the production cells);
        NEVER for sites with none. The cache is shared: nothing in it depends on go-lives."""
        start = np.full(len(self.sites), NEVER, dtype=np.int64)
        live = select & ~self.baseline
        np.minimum.at(start, self.site[live], self.t[live])
        return Panel(
            self.sites, self.channels, self.periods, self.phase, self.site, self.channel,
            self.period, self.t, self.w, self.n, self.mean, self.s2, self.q1, self.q2, start,
            self.has_dates, self.cache,
        )  # fmt: skip

    def subset(self, keep: np.ndarray) -> Panel:
        """The same panel restricted to some cells (levels and go-lives unchanged)."""
        arrays = {
            f: getattr(self, f)[keep]
            for f in ("phase", "site", "channel", "period", "t", "w", "n", "mean", "s2", "q1", "q2")
        }
        return Panel(
            self.sites, self.channels, self.periods, **arrays, start=self.start,
            has_dates=self.has_dates,
        )  # fmt: skip


def _column(cells: pd.DataFrame, name: str, default: np.ndarray) -> np.ndarray:
    if name not in cells.columns:
        return default
    col = cells[name]
    if isinstance(col.dtype, np.dtype) and col.dtype.kind in "fiu":  # plain numbers: as they are
        return col.to_numpy(float)
    return pd.to_numeric(col, errors="coerce").to_numpy(float, na_value=np.nan)


def _phases(col: pd.Series) -> np.ndarray:
    """Phase codes (NaN for anything else), each distinct value read once."""
    codes, uniques = pd.factorize(col, use_na_sentinel=False)
    known = [PHASE_CODES.get(str(u).strip().lower(), np.nan) for u in uniques]
    return np.asarray(known, dtype=float)[codes]


def _levels(col: pd.Series, ok: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    """Codes and sorted levels of the kept rows' values as text (factorize(sort=True) of
    ``col.astype(str)[ok]``), each distinct value converted once."""
    text_dtype = isinstance(col.dtype, pd.StringDtype) or col.dtype == object
    codes, uniques = pd.factorize(col)
    if not text_dtype or (codes < 0).any():  # read as astype(str) reads it
        kept, levels = pd.factorize(col.astype(str)[ok], sort=True)
        return np.asarray(kept, dtype=np.int64), tuple(str(x) for x in levels)
    text = [str(u) for u in uniques]
    names = sorted({text[i] for i in np.unique(codes[ok])})
    at = {name: i for i, name in enumerate(names)}
    lookup = np.array([at.get(t, -1) for t in text], dtype=np.int64)
    return lookup[codes[ok]], tuple(names)


def _steps(periods: pd.DatetimeIndex) -> np.ndarray:
    """Step index of sorted distinct periods: months for month starts, else the smallest gap."""
    from analytics.engine.cells import _period_steps  # one definition of a period step

    steps = _period_steps(periods).astype(np.int64)
    gap = int(np.gcd.reduce(np.diff(steps))) if len(steps) > 1 else 1
    return steps // max(gap, 1)  # yearly or quarterly data: one step per period


def prepare_panel(cells: pd.DataFrame) -> Panel | None:
    """One metric's cells (columns phase, site, channel, period, n, mean, m2 [, w, s2, q1, q2])
    as a Panel; None when no usable cell remains."""
    if cells is None or cells.empty or not {"phase", "n", "mean"} <= set(cells.columns):
        return None
    phase = _phases(cells["phase"])
    n = _column(cells, "n", np.zeros(len(cells)))
    w = _column(cells, "w", n)
    mean = _column(cells, "mean", np.full(len(cells), np.nan))
    m2 = np.nan_to_num(_column(cells, "m2", np.zeros(len(cells))), nan=0.0).clip(min=0.0)
    s2 = _column(cells, "s2", n)
    q1 = np.nan_to_num(_column(cells, "q1", np.zeros(len(cells))), nan=0.0)
    q2 = np.nan_to_num(_column(cells, "q2", m2), nan=0.0).clip(min=0.0)
    period = pd.to_datetime(cells["period"], errors="coerce") if "period" in cells else None
    has_dates = period is not None and bool(period.notna().any())
    ok = ~np.isnan(phase) & (n >= 1) & (w > 0) & np.isfinite(mean)
    if has_dates:
        ok &= period.notna().to_numpy()
    if not ok.any():
        return None
    site_col = cells["site"] if "site" in cells else pd.Series("all", cells.index)
    chan_col = cells["channel"] if "channel" in cells else pd.Series("all", cells.index)
    site_codes, sites = _levels(site_col, ok)
    chan_codes, channels = _levels(chan_col, ok)
    if has_dates:
        per = period[ok]
        if getattr(per.dt, "tz", None) is not None:
            per = per.dt.tz_localize(None)
        per_codes, uniques = pd.factorize(per, sort=True)
        unique = pd.DatetimeIndex(uniques)
        steps = _steps(unique)[per_codes]
        names = tuple(str(p.date()) for p in unique)
    else:
        per_codes = np.zeros(int(ok.sum()), dtype=np.int64)
        steps = np.zeros(int(ok.sum()), dtype=np.int64)
        names = ("all",)
    ph = phase[ok].astype(np.int64)
    site_codes = np.asarray(site_codes, dtype=np.int64)
    start = np.full(len(sites), NEVER, dtype=np.int64)
    live = ph != 0
    np.minimum.at(start, site_codes[live], steps[live])
    return Panel(
        sites=sites,
        channels=channels,
        periods=names,
        phase=ph,
        site=site_codes,
        channel=np.asarray(chan_codes, dtype=np.int64),
        period=np.asarray(per_codes, dtype=np.int64),
        t=np.asarray(steps, dtype=np.int64),
        w=w[ok],
        n=n[ok],
        mean=mean[ok],
        s2=np.nan_to_num(s2[ok], nan=0.0),
        q1=q1[ok],
        q2=q2[ok],
        start=start,
        has_dates=has_dates,
    )


class Panels:
    """Each metric's panel of one analysis, prepared once from its cells and read by the
    rollout, the gap, representativeness and the why sections alike; it lives as long as the
    analysis that made it (nothing in it outlives that dataset and those filters)."""

    def __init__(self, by_metric: Mapping[str, pd.DataFrame]) -> None:
        self._cells = by_metric
        self._made: dict[str, Panel | None] = {}

    def get(self, metric: str) -> Panel | None:
        if metric not in self._made:
            cells = self._cells.get(metric)
            self._made[metric] = prepare_panel(cells) if cells is not None else None
        return self._made[metric]
