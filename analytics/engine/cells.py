"""One metric's cells validated and encoded once (PreparedCells), for every model fitted on them.

Cells: one row per (phase, site, channel, period) with ``n``, ``mean``, ``m2`` and for weighted
rows the sums of engine/sums.py. Phases, sites, channels and periods become integer codes into
sorted levels; the period index t counts months (month starts) or steps of the smallest gap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.core.types import PHASES
from analytics.engine import sums

_BASELINE, _PILOT, _PRODUCTION = range(3)


def _period_steps(unique: pd.DatetimeIndex) -> np.ndarray:
    """Integer period index of sorted distinct periods: months since the first month for month
    starts, else steps of the smallest gap (7 days for weeks)."""
    values = np.asarray(unique.values)
    one_day = np.timedelta64(1, "D")
    gaps = np.diff(values) / one_day
    months = values.astype("datetime64[M]")
    month_starts = bool((months.astype("datetime64[D]") == values.astype("datetime64[D]")).all())
    if month_starts and (len(gaps) == 0 or gaps.min() >= 28):
        idx = months.astype(np.int64) - months[0].astype(np.int64)
    else:
        step = 1.0 if len(gaps) == 0 else float(gaps.min())
        if step >= 7 and step % 7 == 0:
            step = 7.0
        idx = np.round((values - values[0]) / one_day / step)
    return np.asarray(idx, dtype=float)


def _fast_labels(dtype: object) -> bool:
    """Whether str() of a column's distinct values equals str() of each of its values, so labels
    can be made once per distinct value (strings, integers, booleans). Object, float and other
    columns may hold distinct values that compare equal (1 and 1.0, 0.0 and -0.0) yet print
    differently; they are converted value by value."""
    return isinstance(dtype, pd.StringDtype) or (
        (pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype))
        and not pd.api.types.is_object_dtype(dtype)
    )


def _encode(values: pd.Series, label: Callable[[object], str], na: str) -> tuple[np.ndarray, list]:
    """Codes (>= 0) into a list of labels: label(v) of each value, `na` for missing values."""
    if _fast_labels(values.dtype):
        codes, uniques = pd.factorize(values)
        labels = [label(v) for v in uniques] + [na]
        return np.where(codes < 0, len(labels) - 1, codes), labels
    text = values.astype(object).where(values.notna(), na).map(label)
    codes, uniques = pd.factorize(text.to_numpy(object))
    return codes, list(uniques)


def _relabel(codes: np.ndarray, labels: list) -> tuple[np.ndarray, tuple[str, ...]]:
    """Codes into the sorted distinct labels that occur (equal labels merged)."""
    present = np.flatnonzero(np.bincount(codes, minlength=len(labels)))
    levels = tuple(sorted({labels[c] for c in present}))
    position = {v: i for i, v in enumerate(levels)}
    lookup = np.full(len(labels), -1, dtype=np.intp)
    for c in present:
        lookup[c] = position[labels[c]]
    return lookup[codes], levels


@dataclass(frozen=True, slots=True, eq=False)
class _Frame:
    """Cells as arrays. phase indexes PHASES; site, channel and period index the sorted levels
    of the PreparedCells they come from (period: 0 everywhere when there are no dates; channel:
    -1 when pooled over channels); t is the period index; n holds whole numbers (rows), w the
    weight totals (n for unweighted rows) and m2, s2, q1, q2 the other sums of engine/sums.py."""

    phase: np.ndarray
    site: np.ndarray
    channel: np.ndarray
    period: np.ndarray
    t: np.ndarray
    n: np.ndarray
    mean: np.ndarray
    m2: np.ndarray
    w: np.ndarray
    s2: np.ndarray
    q1: np.ndarray
    q2: np.ndarray

    def __len__(self) -> int:
        return len(self.n)


def _period_column(cells: pd.DataFrame) -> np.ndarray:
    """The cells' periods as naive datetime64 (NaT where missing or without a period column)."""
    if "period" not in cells.columns:
        return np.full(len(cells), np.datetime64("NaT"), "datetime64[ns]")
    period = pd.to_datetime(cells["period"], errors="coerce")
    if getattr(period.dt, "tz", None) is not None:
        period = period.dt.tz_localize(None)
    return period.to_numpy()


class PreparedCells:
    """One metric's cells validated and encoded once, for every model fitted on them.

    Every public function of this module accepts either the cells DataFrame or a PreparedCells
    made by :func:`prepare_cells`; passing the prepared object lets the functions share the
    cleaning, the pooled cells, the designs and the fits instead of redoing them per call. The
    results are the same either way. The arrays are read-only: a PreparedCells is a snapshot of
    the cells at the time it was made.
    """

    __slots__ = (
        "notes", "has_dates", "sites", "channels", "periods", "period_names", "frame", "_cache",
    )  # fmt: skip

    def __init__(self, cells: pd.DataFrame) -> None:
        self.notes: list[str] = []
        self.has_dates = False
        self.sites: tuple[str, ...] = ()
        self.channels: tuple[str, ...] = ()
        self.periods = pd.DatetimeIndex([])
        self.period_names: tuple[str, ...] = ()
        self.frame: _Frame | None = None
        self._cache: dict[object, object] = {}
        self._prepare(cells)

    def _prepare(self, cells: pd.DataFrame) -> None:
        """Validate and normalise cells; frame stays None when they are unusable."""
        if not isinstance(cells, pd.DataFrame) or cells.empty:
            self.notes.append("There are no cells to analyse.")
            return
        missing = [c for c in ("phase", "n", "mean") if c not in cells.columns]
        if missing:
            self.notes.append(f"The cells lack the column(s) {', '.join(missing)}.")
            return
        usable = self._usable(cells)
        if usable is None:
            return
        keep, phase, mean, sums_ = usable
        period_values = _period_column(cells)[keep]
        dated = ~np.isnat(period_values)
        self.has_dates = bool(dated.any())
        if self.has_dates and not dated.all():
            dropped = int(sums_[0][~dated].sum())
            self.notes.append(
                f"{dropped} row(s) without a date were left out of the time-based analysis."
            )
            keep, period_values = keep[dated], period_values[dated]
            sums_ = tuple(a[dated] for a in sums_)
        site, self.sites = self._levels(cells, "site", keep)
        channel, self.channels = self._levels(cells, "channel", keep)
        period_code, t = self._periods(period_values, len(keep))
        n_int, m2, w, s2, q1, q2 = sums_
        arrays = (
            phase[keep], site, channel, period_code, t, n_int, mean[keep], np.asarray(m2, float),
            w, s2, q1, np.asarray(q2, float),
        )  # fmt: skip
        for a in arrays:
            a.setflags(write=False)
        self.frame = _Frame(*arrays)

    def _usable(
        self, cells: pd.DataFrame
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, ...]] | None:
        """(indices of the usable cells, phase codes and means of all cells, and the usable
        cells' n, m2, w, s2, q1, q2), or None with a note when no cell is usable."""
        codes, labels = _encode(cells["phase"], lambda v: str(v).strip().lower(), "nan")
        phase_of = np.array([PHASES.index(v) if v in PHASES else -1 for v in labels], np.int8)
        phase = phase_of[codes]
        n, w, mean, m2, s2, q1, q2 = sums.arrays(
            cells if "m2" in cells.columns else cells.assign(m2=0.0)
        )
        ok = (phase >= 0) & (n >= 1) & np.isfinite(mean) & (w > 0)
        if not ok.all():
            self.notes.append(
                f"{int((~ok).sum())} cell(s) without a known phase, rows or mean were left out."
            )
        if not ok.any():
            self.notes.append("No usable cells remain.")
            return None
        n_int = np.round(n[ok]).astype(np.int64)
        m2, q2 = (np.where(np.isnan(a[ok]), 0.0, a[ok]).clip(min=0.0) for a in (m2, q2))
        sums_ = (n_int, m2, w[ok], s2[ok], np.nan_to_num(q1[ok], nan=0.0), q2)
        return np.flatnonzero(ok), phase, mean, sums_

    def _periods(self, period_values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
        """Each cell's period code (into the periods sorted as text) and period index t; sets
        periods and period_names. Without dates: code 0 and t NaN everywhere."""
        if not self.has_dates:
            return np.zeros(size, dtype=np.intp), np.full(size, np.nan)
        pcodes, uniques = pd.factorize(period_values, sort=True)
        unique = pd.DatetimeIndex(uniques)
        names = [str(v) for v in unique]
        order = sorted(range(len(names)), key=names.__getitem__)  # levels sort as text
        rank = np.empty(len(order), dtype=np.intp)
        rank[order] = np.arange(len(order))
        self.periods = unique[order]
        self.period_names = tuple(names[i] for i in order)
        return rank[pcodes], _period_steps(unique)[pcodes]

    @staticmethod
    def _levels(cells: pd.DataFrame, col: str, keep: np.ndarray) -> tuple[np.ndarray, tuple]:
        if col not in cells.columns:
            return np.zeros(len(keep), dtype=np.intp), ("all",)
        codes, labels = _encode(cells[col], str, "(none)")
        return _relabel(codes[keep], labels)

    @property
    def usable(self) -> bool:
        return self.frame is not None

    def period_values(self, frame: _Frame) -> np.ndarray:
        """The period (datetime64) of each cell of a frame made from these cells."""
        return np.asarray(self.periods)[frame.period]


def prepare_cells(cells: pd.DataFrame | PreparedCells) -> PreparedCells:
    """Validate and encode one metric's cells once; pass the result to the fitting functions."""
    return cells if isinstance(cells, PreparedCells) else PreparedCells(cells)
