"""Inference on cell statistics: Welch comparisons, the adjusted model, retention, power.

Statistics never see raw rows. Every function here takes *cells* for one metric: a DataFrame with
one row per (phase, site, channel, period) and columns ``phase``, ``site``, ``channel``,
``period`` (period start; all NaT when the data has no dates), ``n`` (rows in the cell), ``mean``
(the cell's weighted mean) and ``m2``, and for weighted rows the sums ``w``, ``s2``, ``q1``,
``q2`` of engine/sums.py (absent: unweighted rows, w = 1).

The adjusted model ``value ~ pilot + production + C(site) + C(period)`` is fitted as weighted
least squares on the cell means with weights W (the cell's weight total; n for unweighted rows),
which reproduces the row-level ``WLS(weights=w)`` point estimate exactly because every regressor
is constant within a cell. Its covariances are built from the cells so that they equal the
row-level ones:

* cluster-robust by site: the score of a cell is x_c W_c r_c (r_c the residual of its mean),
  summed per site; the small-sample factor G/(G-1) (N-1)/(N-K) uses the *row* count N;
* HC1: meat = sum_c x_c x_c' (Q2_c + 2 r_c Q1_c + S2_c r_c^2), i.e. Σ w_i² e_i² over the cell's
  rows (m2_c + n_c r_c² when unweighted), scaled by N/(N-K) with N rows.

Results are frozen dataclasses with plain fields; nothing raises on degenerate input: undefined
numbers are NaN and a ``note`` says why in plain words.

Every model function also accepts a :class:`PreparedCells` (``prepare_cells(cells)``): the cells
cleaned and encoded once as integer codes and arrays, which then shares its pooled cells,
designs and fits between fit_adjusted, fit_slice_effects, production_trend and
forecast_counterfactual. The numbers are the same as from the DataFrame; only the work is shared.
"""

from __future__ import annotations

import functools
import hashlib
import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd
from scipy import special as spc
from scipy import stats as sps
from statsmodels.regression.linear_model import WLS
from statsmodels.tools.tools import add_constant

from analytics.engine import sums

NAN = float("nan")
PHASES = ("baseline", "pilot", "production")
_BASELINE, _PILOT, _PRODUCTION = range(3)

ASSUMPTIONS: dict[str, str] = {
    "twfe_cluster_site": (
        "Without the AI every site would have followed the same ups and downs over time as the "
        "sites still on the old way of working (shared period effects); uncertainty allows for "
        "shocks shared across a site's periods."
    ),
    "twfe_hc1_cells": (
        "Without the AI every site would have followed the same ups and downs over time as the "
        "sites still on the old way of working (shared period effects); too few sites carry this "
        "effect for site-clustered errors, so shocks shared across a site's periods are not "
        "accounted for."
    ),
    "site_trend_cluster_site": (
        "The pre-launch trend would have continued and nothing else changed at go-live; "
        "uncertainty allows for shocks shared across a site's periods."
    ),
    "site_trend_hc1_cells": (
        "The pre-launch trend would have continued and nothing else changed at go-live; shocks "
        "shared across a site's periods are not accounted for."
    ),
    "site_fe_cluster_site": (
        "The data has no dates, so nothing that changed over time is controlled for: sites differ "
        "by a constant and nothing else changed between phases; uncertainty allows for shocks "
        "shared within a site."
    ),
    "site_fe_hc1_cells": (
        "The data has no dates, so nothing that changed over time is controlled for: sites differ "
        "by a constant and nothing else changed between phases; shocks shared within a site are "
        "not accounted for."
    ),
}


# --------------------------------------------------------------------------------------------
# Result types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GroupStats:
    """Sufficient statistics of a group of rows: count, (weighted) mean, m2 = Σ w (y − ȳ)², and
    for weighted rows the weight total w and q2 = Σ w² (y − ȳ)² (None: unweighted, w = 1)."""

    n: int
    mean: float
    m2: float
    w: float | None = None
    q2: float | None = None

    @property
    def var_mean(self) -> float:
        """Squared standard error of the mean (sums.mean_variance): n/(n−1) Q2/W², which is
        s²/n for unweighted rows; NaN below 2 rows."""
        if self.w is None or self.q2 is None:
            return self.var / self.n if self.n >= 2 else NAN
        if self.n < 2 or not (math.isfinite(self.q2) and self.w > 0):
            return NAN
        return float(sums.mean_variance(np.array(self.n), np.array(self.w), np.array(self.q2)))

    @property
    def var(self) -> float:
        """Sample variance (n - 1 in the denominator); NaN below 2 rows."""
        if self.n < 2 or not math.isfinite(self.m2):
            return NAN
        return max(self.m2, 0.0) / (self.n - 1)

    @property
    def sd(self) -> float:
        v = self.var
        return math.sqrt(v) if math.isfinite(v) else NAN

    @property
    def se(self) -> float:
        """Standard error of the mean."""
        return self.sd / math.sqrt(self.n) if self.n >= 1 else NAN


@dataclass(frozen=True, slots=True)
class Comparison:
    """Welch comparison of group a against group b: diff = mean_a - mean_b, lift = diff / mean_b."""

    n_a: int
    n_b: int
    mean_a: float
    mean_b: float
    diff: float
    diff_ci_low: float
    diff_ci_high: float
    lift: float
    lift_ci_low: float
    lift_ci_high: float
    p_value: float
    df: float
    note: str = ""


@dataclass(frozen=True, slots=True)
class Ratio:
    """A ratio of two estimates with its Fieller interval (infinite bounds when unbounded)."""

    estimate: float
    ci_low: float
    ci_high: float
    note: str = ""


@dataclass(frozen=True, slots=True)
class Effect:
    """One adjusted effect (a coefficient or a difference of two) with its adjusted lift.

    ``lift = estimate / counterfactual_mean`` where ``counterfactual_mean = treated_mean -
    estimate`` is what the treated rows would have averaged without the AI, per the model.
    """

    name: str
    estimate: float
    se: float
    df: float
    ci_low: float
    ci_high: float
    p_value: float
    lift: float
    lift_se: float
    lift_ci_low: float
    lift_ci_high: float
    counterfactual_mean: float
    treated_mean: float
    n_treated: int
    n_sites: int
    method: str
    assumption: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class AdjustedFit:
    """The adjusted model for one metric: pilot and production effects, their difference and the
    lift retention (production lift / pilot lift)."""

    method: str
    assumption: str
    pilot: Effect | None
    production: Effect | None
    production_vs_pilot: Effect | None
    retention: Ratio | None
    n_rows: int
    n_cells: int
    n_clusters: int
    concurrent_periods: int
    note: str = ""


@dataclass(frozen=True, slots=True)
class SliceEffect:
    """A site's (or channel's) own production effect from the shared model."""

    slice_type: str
    name: str
    effect: Effect
    retention: Ratio | None
    p_holm: float


@dataclass(frozen=True, slots=True)
class Trend:
    """Slope per period of the production period means."""

    slope: float
    ci_low: float
    ci_high: float
    p_value: float
    periods: int
    note: str = ""


@dataclass(frozen=True, slots=True)
class Counterfactual:
    """Forecast of the pre-AI series over the production periods.

    ``points`` holds ``(period, observed, predicted, lo, hi)`` with ``period`` an ISO date string:
    baseline periods first (predicted, lo, hi NaN), then every production period with the
    forecast and its prediction interval.
    """

    method: str
    baseline_periods: int
    cumulative_effect: float
    ci_low: float
    ci_high: float
    points: tuple[tuple[str, float, float, float, float], ...]
    note: str = ""


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def _tq(alpha: float, df: float) -> float:
    """Two-sided critical value: t quantile, or normal when df is infinite.

    Calls the special functions behind ``scipy.stats.t.ppf`` / ``norm.ppf`` directly (same
    numbers, without the distribution machinery's per-call overhead)."""
    if not (0 < alpha < 1) or not (df > 0):
        return NAN
    if math.isinf(df):
        return float(spc.ndtri(1 - alpha / 2))
    return float(spc.stdtrit(df, 1 - alpha / 2))


two_sided_t = _tq  # public name for callers outside this module


def _p_two_sided(t: float, df: float) -> float:
    """2 × ``scipy.stats.t.sf(|t|, df)`` (normal when df is infinite), via the special functions."""
    if not math.isfinite(t) or not (df > 0):
        return NAN
    if math.isinf(df):
        return float(2 * spc.ndtr(-abs(t)))
    return float(2 * spc.stdtr(df, -abs(t)))


def _join(notes: Sequence[str]) -> str:
    seen: list[str] = []
    for note in notes:
        if note and note not in seen:
            seen.append(note)
    return " ".join(seen)


# --------------------------------------------------------------------------------------------
# Pooling and Welch
# --------------------------------------------------------------------------------------------


def pool(cells: pd.DataFrame) -> GroupStats:
    """Merge cells into one group with Chan's parallel formula.

    mean = Σ n_c mean_c / N (accumulated as offsets from the first cell's mean) and
    m2 = Σ m2_c + Σ n_c (mean_c - mean)², never Σx² - (Σx)²/N.
    """
    if cells is None or len(cells) == 0 or not {"n", "mean"} <= set(cells.columns):
        return GroupStats(0, NAN, NAN)
    if "m2" not in cells.columns:
        cells = cells.assign(m2=0.0)
    weighted = "w" in cells.columns
    n, w, mean, m2, s2, q1, q2 = sums.arrays(cells)
    ok = np.isfinite(n) & (n >= 1) & np.isfinite(mean) & (w > 0)
    if not ok.any():
        return GroupStats(0, NAN, NAN)
    m2, q2 = (np.nan_to_num(a, nan=0.0).clip(min=0.0) for a in (m2, q2))
    pooled = [float(a[0]) for a in sums.pool(np.zeros(int(ok.sum()), np.intp), 1, *(
        a[ok] for a in (n, w, mean, m2, s2, q1, q2)
    ))]  # fmt: skip
    total, big_w, group_mean, group_m2, _, _, group_q2 = pooled
    if not weighted:
        return GroupStats(int(round(total)), group_mean, group_m2)
    return GroupStats(int(round(total)), group_mean, group_m2, big_w, group_q2)


def welch_compare(a: GroupStats, b: GroupStats, alpha: float = 0.05) -> Comparison:
    """Welch's t test of a against b with Satterthwaite df and a delta-method lift CI.

    diff = mean_a - mean_b; lift = diff / mean_b with
    var(lift) ≈ va/mean_b² + mean_a² vb/mean_b⁴ (independent groups, va the squared standard
    error of mean_a: GroupStats.var_mean); the lift CI uses the same t quantile as the diff CI.
    Equal to ``scipy.stats.ttest_ind_from_stats(..., equal_var=False)`` for unweighted rows; for
    weighted rows each group's se is that of the row-level ``WLS(y, 1, weights=w)`` with HC1,
    and the Satterthwaite df use row counts.
    """
    diff = a.mean - b.mean if a.n >= 1 and b.n >= 1 else NAN
    lift = diff / b.mean if math.isfinite(diff) and b.mean != 0 else NAN

    def result(note: str, **kw: float) -> Comparison:
        fields = {
            "diff_ci_low": NAN,
            "diff_ci_high": NAN,
            "lift_ci_low": NAN,
            "lift_ci_high": NAN,
            "p_value": NAN,
            "df": NAN,
        } | kw
        return Comparison(a.n, b.n, a.mean, b.mean, diff, lift=lift, note=note, **fields)

    if a.n < 2 or b.n < 2:
        return result("Each group needs at least 2 rows to measure its spread.")
    va, vb = a.var_mean, b.var_mean
    if not (math.isfinite(va) and math.isfinite(vb)):
        return result("The spread of a group could not be computed.")
    if va + vb <= 0:
        return result("Every value is identical within both groups, so no interval can be given.")
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (a.n - 1) + vb**2 / (b.n - 1))
    q = _tq(alpha, df)
    p = _p_two_sided(diff / se, df)
    note = ""
    lift_lo = lift_hi = NAN
    if b.mean == 0:
        note = "The comparison group averages 0, so a relative lift is undefined."
    else:
        lift_se = math.sqrt(va / b.mean**2 + a.mean**2 * vb / b.mean**4)
        lift_lo, lift_hi = lift - q * lift_se, lift + q * lift_se
    return result(
        note,
        diff_ci_low=diff - q * se,
        diff_ci_high=diff + q * se,
        lift_ci_low=lift_lo,
        lift_ci_high=lift_hi,
        p_value=p,
        df=df,
    )


def holm(p: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values; NaN entries stay NaN and do not count as tests."""
    arr = np.asarray(list(p), dtype=float)
    out = np.full(arr.shape, np.nan)
    ok = np.isfinite(arr)
    m = int(ok.sum())
    if m:
        vals = arr[ok]
        order = np.argsort(vals, kind="mergesort")
        adjusted = np.maximum.accumulate((m - np.arange(m)) * vals[order]).clip(max=1.0)
        res = np.empty(m)
        res[order] = adjusted
        out[ok] = res
    return out.tolist()


# --------------------------------------------------------------------------------------------
# Ratios
# --------------------------------------------------------------------------------------------


def fieller_ratio(
    num: float,
    den: float,
    var_num: float,
    var_den: float,
    cov: float,
    df: float,
    alpha: float = 0.05,
) -> Ratio:
    """Fieller's interval for num / den.

    The interval is every R with (num - R·den)² ≤ q² (var_num - 2R·cov + R²·var_den), q the t
    quantile on df (normal when df is infinite). It is bounded only when the denominator is
    itself clearly away from 0 (den² > q² var_den); otherwise the bounds are ±inf.
    """
    values = (num, den, var_num, var_den, cov)
    if not all(math.isfinite(v) for v in values) or var_num < 0 or var_den < 0:
        return Ratio(NAN, NAN, NAN, "The ratio needs finite estimates and variances.")
    if den == 0:
        return Ratio(NAN, -math.inf, math.inf, "The denominator is 0, so the ratio is undefined.")
    q = _tq(alpha, df)
    if not math.isfinite(q):
        return Ratio(num / den, NAN, NAN, "No degrees of freedom are left for an interval.")
    q2 = q * q
    a = den * den - q2 * var_den
    b = num * den - q2 * cov
    c = num * num - q2 * var_num
    if a <= 0:
        return Ratio(
            num / den,
            -math.inf,
            math.inf,
            "The denominator is not clearly different from 0, so the ratio's interval is "
            "unbounded.",
        )
    disc = max(b * b - a * c, 0.0)
    root = math.sqrt(disc)
    return Ratio(num / den, (b - root) / a, (b + root) / a)


# --------------------------------------------------------------------------------------------
# Cells: cleaning, period index, design
# --------------------------------------------------------------------------------------------


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
        notes = self.notes
        if not isinstance(cells, pd.DataFrame) or cells.empty:
            notes.append("There are no cells to analyse.")
            return
        missing = [c for c in ("phase", "n", "mean") if c not in cells.columns]
        if missing:
            notes.append(f"The cells lack the column(s) {', '.join(missing)}.")
            return
        codes, labels = _encode(cells["phase"], lambda v: str(v).strip().lower(), "nan")
        phase_of = np.array([PHASES.index(v) if v in PHASES else -1 for v in labels], np.int8)
        phase = phase_of[codes]
        n, w, mean, m2, s2, q1, q2 = sums.arrays(
            cells if "m2" in cells.columns else cells.assign(m2=0.0)
        )
        ok = (phase >= 0) & (n >= 1) & np.isfinite(mean) & (w > 0)
        if not ok.all():
            notes.append(
                f"{int((~ok).sum())} cell(s) without a known phase, rows or mean were left out."
            )
        if not ok.any():
            notes.append("No usable cells remain.")
            return
        n_int = np.round(n[ok]).astype(np.int64)
        m2, q2 = (np.where(np.isnan(a[ok]), 0.0, a[ok]).clip(min=0.0) for a in (m2, q2))
        w, s2, q1 = w[ok], s2[ok], np.nan_to_num(q1[ok], nan=0.0)
        if "period" in cells.columns:
            period = pd.to_datetime(cells["period"], errors="coerce")
            if getattr(period.dt, "tz", None) is not None:
                period = period.dt.tz_localize(None)
            period_values = period.to_numpy()[ok]
        else:
            period_values = np.full(int(ok.sum()), np.datetime64("NaT"), "datetime64[ns]")
        dated = ~np.isnat(period_values)
        keep = np.flatnonzero(ok)
        self.has_dates = has_dates = bool(dated.any())
        if has_dates and not dated.all():
            dropped = int(n_int[~dated].sum())
            notes.append(
                f"{dropped} row(s) without a date were left out of the time-based analysis."
            )
            keep, n_int, m2 = keep[dated], n_int[dated], m2[dated]
            w, s2, q1, q2 = w[dated], s2[dated], q1[dated], q2[dated]
            period_values = period_values[dated]
        site, self.sites = self._levels(cells, "site", keep)
        channel, self.channels = self._levels(cells, "channel", keep)
        if has_dates:
            pcodes, uniques = pd.factorize(period_values, sort=True)
            unique = pd.DatetimeIndex(uniques)
            names = [str(v) for v in unique]
            order = sorted(range(len(names)), key=names.__getitem__)  # levels sort as text
            rank = np.empty(len(order), dtype=np.intp)
            rank[order] = np.arange(len(order))
            self.periods = unique[order]
            self.period_names = tuple(names[i] for i in order)
            period_code = rank[pcodes]
            t = _period_steps(unique)[pcodes]
        else:
            period_code = np.zeros(len(keep), dtype=np.intp)
            t = np.full(len(keep), np.nan)
        arrays = (
            phase[keep], site, channel, period_code, t, n_int, mean[keep], np.asarray(m2, float),
            w, s2, q1, np.asarray(q2, float),
        )  # fmt: skip
        for a in arrays:
            a.setflags(write=False)
        self.frame = _Frame(*arrays)

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


Mode = Literal["twfe", "site_trend", "site_fe"]


@dataclass
class _Fit:
    """Internal: a full-rank cell fit and its two covariance matrices (w: the cells' weights,
    their weight totals W; n_rows: rows)."""

    mode: str
    names: list[str]
    X: np.ndarray
    w: np.ndarray
    beta: np.ndarray
    v_hc1: np.ndarray
    v_cluster: np.ndarray | None
    df_hc1: float
    df_cluster: float
    identified: dict[str, bool]
    n_rows: int
    n_cells: int
    n_clusters: int

    def column(self, name: str) -> int:
        return self.names.index(name)


_ROW_HASH = np.random.default_rng(20240601).integers(1, 2**63, size=4096, dtype=np.uint64) | 1


def _row_hash_weights(k: int) -> np.ndarray:
    """k independent random odd 64-bit multipliers (fixed seeds), one per design column."""
    if k > len(_ROW_HASH):
        return np.random.default_rng(k).integers(1, 2**63, size=k, dtype=np.uint64) | 1
    return _ROW_HASH[:k]


def _unique_rows(X: np.ndarray) -> np.ndarray:
    """Distinct rows of a design in order of first appearance (many cells share a design row),
    as ``X[~pd.DataFrame(X).duplicated()]``.

    Rows are grouped by a hash of their bits (-0.0 read as 0.0), then every row is checked
    against its group's first row; on a hash collision or a NaN, pandas decides instead."""
    m, k = X.shape
    if m < 2:
        return X
    bits = np.ascontiguousarray(X + 0.0, dtype=float).view(np.uint64)
    bits = (bits ^ (bits >> np.uint64(31))) * np.uint64(0x9E3779B97F4A7C15)
    bits ^= bits >> np.uint64(29)
    h = (bits * _row_hash_weights(k)).sum(axis=1, dtype=np.uint64)
    codes, uniques = pd.factorize(h)
    if len(uniques) == m:
        return X
    first = np.unique(codes, return_index=True)[1]
    if not (X == X[first][codes]).all():
        return X[~pd.DataFrame(X).duplicated().to_numpy()]
    return X[first]


def _identify(
    X: np.ndarray, treat_idx: list[int], unique: np.ndarray | None = None
) -> tuple[dict[int, bool], list[int]]:
    """Which treatment coefficients are identified, and a full-rank set of columns.

    A coefficient is identified (estimable) when its unit vector lies in the row space of the
    design, i.e. its column is not a combination of the other columns. The basis keeps the
    intercept, then nuisance columns, then identified treatments, then any other treatment that
    adds rank; it spans the same column space, so identified coefficients are unchanged.
    ``unique`` may pass the distinct rows of X when they are known.
    """
    unique = _unique_rows(X) if unique is None else unique
    scale = np.linalg.norm(unique, axis=0)
    scale[scale == 0] = 1.0
    us = unique / scale
    r_mat = np.linalg.qr(us, mode="r") if us.shape[0] > us.shape[1] else us
    _, s, vt = np.linalg.svd(r_mat, full_matrices=False)
    tol = (s.max() if s.size else 0.0) * max(us.shape) * np.finfo(float).eps
    rank = int((s > tol).sum())
    vr = vt[:rank].T
    identified = {j: bool((vr[j] ** 2).sum() > 1 - 1e-8) for j in treat_idx}
    treat_set = set(treat_idx)
    nuisance = [j for j in range(X.shape[1]) if j not in treat_set]
    order = (
        nuisance
        + [j for j in treat_idx if identified[j]]
        + [j for j in treat_idx if not identified[j]]
    )
    # Greedy Gram-Schmidt on the columns of R: X = QR, so the columns of R have exactly the
    # linear relations (and norms) of the columns of X, in K dimensions instead of one per cell.
    basis: list[int] = []
    q = np.zeros((r_mat.shape[0], r_mat.shape[1]))
    for j in order:
        v = r_mat[:, j].copy()
        k = len(basis)
        for _ in range(2):
            v -= q[:, :k] @ (q[:, :k].T @ v)
        norm = float(np.linalg.norm(v))
        if norm > 1e-9:
            q[:, k] = v / norm
            basis.append(j)
    for j in treat_idx:
        if identified[j] and j not in basis:
            identified[j] = False
    return identified, basis


# A treatment column: name -> (phase, slice column or None, slice value or None).
TreatSpec = dict[str, tuple[str, str | None, str | None]]


def _design(
    prep: PreparedCells, frame: _Frame, treat: TreatSpec, mode: Mode, channel_fe: bool
) -> tuple[np.ndarray, list[str]]:
    """Cell design: intercept, treatments, site [, channel] dummies (first level dropped), then
    period dummies (twfe) or the period index t (site_trend)."""
    m = len(frame)
    dummies: list[tuple[np.ndarray, tuple[str, ...], str]] = [(frame.site, prep.sites, "site")]
    if channel_fe:
        dummies.append((frame.channel, prep.channels, "channel"))
    if mode == "twfe":
        dummies.append((frame.period, prep.period_names, "period"))
    k = 1 + len(treat) + sum(len(levels) - 1 for _, levels, _ in dummies)
    k += mode == "site_trend"
    X = np.zeros((m, k))
    X[:, 0] = 1.0
    names = ["Intercept"]
    for j, (name, (ph, by, value)) in enumerate(treat.items(), start=1):
        col = frame.phase == PHASES.index(ph)
        if by is not None:
            levels = prep.sites if by == "site" else prep.channels
            codes = frame.site if by == "site" else frame.channel
            col = col & (codes == levels.index(value)) if value in levels else col & False
        X[:, j] = col
        names.append(name)
    off = 1 + len(treat)
    rows = np.arange(m)
    for codes, levels, prefix in dummies:
        sel = codes >= 1
        X[rows[sel], off + codes[sel] - 1] = 1.0
        names += [f"{prefix}[{level}]" for level in levels[1:]]
        off += len(levels) - 1
    if mode == "site_trend":
        X[:, off] = frame.t
        names.append("t")
    return X, names


def _collapse(frame: _Frame, with_channel: bool, sizes: tuple[int, int, int]) -> _Frame:
    """Merge cells that share a design row exactly (sums.pool). WLS coefficients, HC1 and the
    site-clustered covariance are unchanged: a group's Q2 + 2 r Q1 + S2 r² is the sum of its
    cells'. Groups are (phase, site, period [, channel]) in order of first appearance."""
    n_sites, n_channels, n_periods = sizes
    key = (frame.phase.astype(np.int64) * n_sites + frame.site) * n_periods + frame.period
    if with_channel:
        key = key * n_channels + frame.channel
    inv, uniques = pd.factorize(key)
    groups = len(uniques)
    if groups == len(frame):
        return frame if with_channel else replace(frame, channel=np.full(groups, -1))
    first = np.unique(inv, return_index=True)[1]
    n, w, mean, m2, s2, q1, q2 = sums.pool(
        inv, groups, frame.n.astype(float), frame.w, frame.mean, frame.m2, frame.s2, frame.q1,
        frame.q2,
    )  # fmt: skip
    return _Frame(
        frame.phase[first],
        frame.site[first],
        frame.channel[first] if with_channel else np.full(groups, -1),
        frame.period[first],
        frame.t[first],
        np.round(n).astype(np.int64),
        mean,
        m2,
        w,
        s2,
        q1,
        q2,
    )


@dataclass(frozen=True, slots=True, eq=False)
class _Design:
    """A collapsed frame, its full design, and which treatments it identifies."""

    frame: _Frame
    X: np.ndarray
    names: list[str]
    ident: dict[int, bool]
    basis: list[int]
    full_rank: bool  # the basis columns are linearly independent (checked again, defensively)
    n_cells: int


def _treat_key(treat: TreatSpec, mode: Mode, channel_fe: bool) -> tuple:
    return (tuple(treat.items()), mode, channel_fe)


_SHARED_LAYOUTS: ContextVar[dict[tuple, tuple] | None] = ContextVar(
    "scalegate_shared_layouts", default=None
)


@contextmanager
def shared_layouts() -> Iterator[None]:
    """Within this block, models whose design matrices are equal share the work that depends on
    the design alone: which treatments it identifies, the full-rank basis, the rank check.

    The metrics of one dataset usually have cells in the same places, hence equal designs; an
    analysis of ten metrics then identifies each design once instead of ten times. The shared
    work is keyed by a hash of the design's bytes and checked for equality, so the numbers are
    exactly those without sharing. The store lives only as long as the block.
    """
    token = _SHARED_LAYOUTS.set({})
    try:
        yield
    finally:
        _SHARED_LAYOUTS.reset(token)


def _layout(x_all: np.ndarray, treat_idx: list[int]) -> tuple[dict[int, bool], list[int], bool]:
    """(identified treatments, basis, full rank) of a design."""
    shared = _SHARED_LAYOUTS.get()
    key = None
    if shared is not None:
        digest = hashlib.blake2b(np.ascontiguousarray(x_all).tobytes(), digest_size=16).digest()
        key = (x_all.shape, digest, tuple(treat_idx))
        hit = shared.get(key)
        if hit is not None and np.array_equal(hit[0], x_all):
            ident, basis, full_rank = hit[1:]
            return dict(ident), list(basis), full_rank
    unique = _unique_rows(x_all)
    ident, basis = _identify(x_all, treat_idx, unique)
    cols = sorted(basis)
    full_rank = bool(np.linalg.matrix_rank(_unique_rows(unique[:, cols])) == len(cols))
    if key is not None and shared is not None:
        shared[key] = (x_all, dict(ident), list(basis), full_rank)
    return ident, basis, full_rank


def _design_for(prep: PreparedCells, treat: TreatSpec, mode: Mode, channel_fe: bool) -> _Design:
    key = ("design", *_treat_key(treat, mode, channel_fe))
    hit = prep._cache.get(key)
    if hit is None:
        frame = prep.frame
        assert frame is not None
        uses_channel = channel_fe or any(by == "channel" for _, by, _ in treat.values())
        sizes = (len(prep.sites), len(prep.channels), max(len(prep.period_names), 1))
        ckey = ("collapse", uses_channel)
        collapsed = prep._cache.get(ckey)
        if collapsed is None:
            collapsed = prep._cache[ckey] = _collapse(frame, uses_channel, sizes)
        x_all, names = _design(prep, collapsed, treat, mode, channel_fe)
        ident, basis, full_rank = _layout(x_all, [names.index(t) for t in treat])
        hit = prep._cache[key] = _Design(
            collapsed, x_all, names, ident, basis, full_rank, len(frame)
        )
    return hit  # type: ignore[return-value]


def _identified(
    prep: PreparedCells, treat: TreatSpec, mode: Mode, channel_fe: bool
) -> dict[str, bool]:
    """Which treatment coefficients the design identifies, without fitting. (The distinct design
    rows of the pooled cells are those of the cells, in the same order.)"""
    d = _design_for(prep, treat, mode, channel_fe)
    return {d.names[j]: ok for j, ok in d.ident.items()}


def _wls(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least squares as ``statsmodels.WLS(y, X, weights=w).fit()`` computes it (the
    pseudo-inverse of the whitened design): coefficients and normalized_cov_params."""
    sw = np.sqrt(w)
    wexog = sw[:, None] * X
    u, s, vt = np.linalg.svd(wexog, False)
    cutoff = 1e-15 * np.maximum.reduce(s)
    s_inv = np.where(s > cutoff, 1.0 / np.where(s > cutoff, s, 1.0), 0.0)
    pinv = np.dot(np.transpose(vt), np.multiply(s_inv[:, np.newaxis], np.transpose(u)))
    return np.dot(pinv, y * sw), np.dot(pinv, np.transpose(pinv))


def _fit(prep: PreparedCells, treat: TreatSpec, mode: Mode, channel_fe: bool) -> _Fit:
    """WLS on cell means with weights n, plus HC1 and site-cluster covariances from cells."""
    key = ("fit", *_treat_key(treat, mode, channel_fe))
    hit = prep._cache.get(key)
    if hit is None:
        hit = prep._cache[key] = _fit_design(_design_for(prep, treat, mode, channel_fe), mode)
    return hit  # type: ignore[return-value]


def _fit_design(design: _Design, mode: Mode) -> _Fit:
    df, x_all, names = design.frame, design.X, design.names
    basis = sorted(design.basis)
    X = x_all[:, basis]
    bnames = [names[j] for j in basis]
    identified = {names[j]: ok for j, ok in design.ident.items()}

    n = df.n.astype(float)
    w = df.w
    y = df.mean
    n_rows, k = int(n.sum()), X.shape[1]
    n_cells = design.n_cells
    sites = df.site
    n_clusters = int(np.count_nonzero(np.bincount(sites)))
    nan_v = np.full((k, k), np.nan)
    if not design.full_rank or bnames[0] != "Intercept":
        # Defensive: never report coefficients from a singular design.
        return _Fit(mode, bnames, X, w, np.full(k, np.nan), nan_v, None, NAN, NAN,
                    dict.fromkeys(identified, False), n_rows, n_cells, n_clusters)  # fmt: skip
    ref = float(np.average(y, weights=w))
    yc = y - ref
    beta_c, bread = _wls(X, yc, w)
    r = yc - X @ beta_c
    beta = beta_c.copy()
    beta[0] += ref
    df_resid = n_rows - k
    if df_resid > 0:
        # Σ w_i² e_i² over each cell's rows, e_i = (y_i − ȳ_c) + r_c.
        meat = (X * (df.q2 + 2 * r * df.q1 + df.s2 * r**2)[:, None]).T @ X
        v_hc1 = n_rows / df_resid * bread @ meat @ bread
    else:
        v_hc1 = nan_v
    v_cluster = None
    if n_clusters >= 2 and df_resid > 0:
        members = np.zeros((int(sites.max()) + 1, len(sites)))
        members[sites, np.arange(len(sites))] = 1.0
        scores = members @ (X * (w * r)[:, None])  # per site: the sum of its cells' scores
        meat = scores.T @ scores
        factor = n_clusters / (n_clusters - 1) * (n_rows - 1) / df_resid
        v_cluster = factor * bread @ meat @ bread
    return _Fit(
        mode,
        bnames,
        X,
        w,
        beta,
        (v_hc1 + v_hc1.T) / 2,
        None if v_cluster is None else (v_cluster + v_cluster.T) / 2,
        float(df_resid) if df_resid > 0 else NAN,
        float(n_clusters - 1) if n_clusters >= 2 else NAN,
        identified,
        n_rows,
        n_cells,
        n_clusters,
    )


def _counterfactual_row(fit: _Fit, col: str) -> np.ndarray:
    """W-weighted average design row of the treated cells with the treatment dummy set to 0."""
    j = fit.column(col)
    mask = fit.X[:, j] == 1.0
    w = fit.w[mask]
    a = (w @ fit.X[mask]) / w.sum()
    a[j] = 0.0
    return a


def _effect(
    fit: _Fit,
    name: str,
    c: np.ndarray,
    d: np.ndarray,
    cov: str,
    ci_alpha: float,
    treated_mean: float,
    n_treated: int,
    n_sites: int,
    note: str = "",
) -> Effect:
    """Effect cᵀβ with lift cᵀβ / dᵀβ (d: the counterfactual's linear form), delta-method CIs."""
    method = f"{fit.mode}_{cov}"
    assumption = ASSUMPTIONS[method]
    v = fit.v_cluster if cov == "cluster_site" else fit.v_hc1
    df = fit.df_cluster if cov == "cluster_site" else fit.df_hc1
    est = float(c @ fit.beta)
    notes = [note]
    if v is None or not np.isfinite(v).all() or not math.isfinite(df):
        notes.append("Too few rows or sites are left to estimate the uncertainty.")
        v = np.full((len(c), len(c)), np.nan)
    se = math.sqrt(max(float(c @ v @ c), 0.0)) if np.isfinite(v).all() else NAN
    q = _tq(ci_alpha, df)
    if se > 0:
        p = _p_two_sided(est / se, df)
        lo, hi = est - q * se, est + q * se
    else:
        if se == 0:
            notes.append("No variation is left to measure the uncertainty.")
        p = lo = hi = NAN
    cf = float(d @ fit.beta)
    lift = lift_se = lift_lo = lift_hi = NAN
    if cf != 0 and math.isfinite(cf):
        lift = est / cf
        g = c / cf - est * d / cf**2
        if np.isfinite(v).all():
            lift_se = math.sqrt(max(float(g @ v @ g), 0.0))
            if lift_se > 0:
                lift_lo, lift_hi = lift - q * lift_se, lift + q * lift_se
    else:
        notes.append("The counterfactual mean is 0, so a relative lift is undefined.")
    return Effect(
        name=name,
        estimate=est,
        se=se,
        df=df,
        ci_low=lo,
        ci_high=hi,
        p_value=p,
        lift=lift,
        lift_se=lift_se,
        lift_ci_low=lift_lo,
        lift_ci_high=lift_hi,
        counterfactual_mean=cf,
        treated_mean=treated_mean,
        n_treated=n_treated,
        n_sites=n_sites,
        method=method,
        assumption=assumption,
        note=_join(notes),
    )


def _empty_effect(
    name: str, method: str, treated_mean: float, n_treated: int, n_sites: int, note: str
) -> Effect:
    return Effect(
        name, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN,
        treated_mean, n_treated, n_sites, method, ASSUMPTIONS.get(method, ""), note,
    )  # fmt: skip


def _lift_gradient(fit: _Fit, c: np.ndarray, d: np.ndarray) -> tuple[float, np.ndarray]:
    est, cf = float(c @ fit.beta), float(d @ fit.beta)
    return est / cf, c / cf - est * d / cf**2


def _retention(
    fit: _Fit,
    prod: tuple[np.ndarray, np.ndarray],
    pilot: tuple[np.ndarray, np.ndarray],
    cov: str,
    ci_alpha: float,
) -> Ratio:
    """Production lift / pilot lift, both from `fit`, Fieller CI with gradients through the
    covariance matrix."""
    v = fit.v_cluster if cov == "cluster_site" else fit.v_hc1
    df = fit.df_cluster if cov == "cluster_site" else fit.df_hc1
    if v is None:
        return Ratio(NAN, NAN, NAN, "Too few sites to estimate the uncertainty of the retention.")
    l_p, g_p = _lift_gradient(fit, *prod)
    l_q, g_q = _lift_gradient(fit, *pilot)
    return fieller_ratio(
        l_p, l_q, float(g_p @ v @ g_p), float(g_q @ v @ g_q), float(g_p @ v @ g_q), df, ci_alpha
    )


def _treated(frame: _Frame, mask: np.ndarray) -> tuple[float, int, int]:
    """Pooled (weighted) mean, rows and number of sites of the cells under mask."""
    n = frame.n[mask].astype(float)
    if not len(n):
        return NAN, 0, 0
    w = frame.w[mask]
    mean = float(w @ frame.mean[mask]) / float(w.sum())  # as sums.pool
    return mean, int(round(n.sum())), int(np.count_nonzero(np.bincount(frame.site[mask])))


def _concurrent_periods(prep: PreparedCells, frame: _Frame) -> int:
    """Periods that hold both production and baseline cells."""
    if not prep.has_dates:
        return 0
    size = len(prep.period_names)
    prod = np.bincount(frame.period[frame.phase == _PRODUCTION], minlength=size) > 0
    base = np.bincount(frame.period[frame.phase == _BASELINE], minlength=size) > 0
    return int((prod & base).sum())


def _modes(prep: PreparedCells) -> list[Mode]:
    return ["twfe", "site_trend"] if prep.has_dates else ["site_fe"]


# --------------------------------------------------------------------------------------------
# The adjusted model
# --------------------------------------------------------------------------------------------


def fit_adjusted(
    cells: pd.DataFrame | PreparedCells,
    alpha: float = 0.05,
    few_clusters: int = 5,
    ci_alpha: float | None = None,
) -> AdjustedFit:
    """``value ~ pilot + production + C(site) + C(period)`` on cells, with identification checks.

    Each effect is taken from the two-way fixed-effects model when the design identifies it, else
    from ``value ~ pilot + production + C(site) + t`` (t the period index), else it is None with a
    note. Effects carried by at least ``few_clusters`` sites use site-clustered errors (t on G-1
    df), the others HC1 on cells (t on N-K df). ``production_vs_pilot`` and ``retention`` come
    from the model that gives the production effect, with the covariance of the fewer-cluster
    method of the two. CIs are at level 1 - ci_alpha (default alpha); p-values do not depend on it.
    ``cells`` may be a :class:`PreparedCells` (see :func:`prepare_cells`).
    """
    ci_alpha = alpha if ci_alpha is None else ci_alpha
    prep = prepare_cells(cells)
    notes = list(prep.notes)
    df = prep.frame
    if df is None:
        return AdjustedFit("none", "", None, None, None, None, 0, 0, 0, 0, _join(notes))
    n_rows, n_cells = int(df.n.sum()), len(df)
    n_clusters = len(prep.sites)
    concurrent = _concurrent_periods(prep, df)

    def bare(note: str) -> AdjustedFit:
        return AdjustedFit(
            "none", "", None, None, None, None, n_rows, n_cells, n_clusters, concurrent,
            _join([*notes, note]),
        )  # fmt: skip

    phase = df.phase
    if not (phase == _BASELINE).any():
        return bare("There are no baseline rows, so there is nothing to compare against.")
    present = [p for p in ("pilot", "production") if (phase == PHASES.index(p)).any()]
    if not present:
        return bare("There are no pilot or production rows yet.")
    treat: TreatSpec = {p: (p, None, None) for p in present}
    info = {p: _treated(df, phase == PHASES.index(p)) for p in present}

    def get_fit(mode: Mode) -> _Fit:
        return _fit(prep, treat, mode, channel_fe=False)

    source: dict[str, _Fit | None] = {}
    for p in present:
        source[p] = next((f for m in _modes(prep) if (f := get_fit(m)).identified.get(p)), None)

    def cov_for(sites: int, fit: _Fit) -> str:
        usable = fit.v_cluster is not None and sites >= few_clusters
        return "cluster_site" if usable else "hc1_cells"

    def not_identified(p: str) -> str:
        if p == "production" and prep.has_dates and concurrent == 0:
            return (
                "The production effect cannot be separated from time: no period holds both "
                "production and baseline rows, and a site-level trend does not identify it either."
            )
        return (
            f"The {p} effect cannot be separated from the site and period effects with these "
            "rows, so no estimate is reported."
        )

    effects: dict[str, Effect | None] = {"pilot": None, "production": None}
    for p in present:
        fit = source[p]
        if fit is None:
            notes.append(not_identified(p))
            continue
        if fit.mode == "site_trend":
            notes.append(
                f"The {p} effect cannot be separated from the period effects (no period holds "
                f"rows that tell it apart from time), so it is measured against each site's "
                "pre-launch trend instead."
            )
        j = fit.column(p)
        c = np.zeros(len(fit.beta))
        c[j] = 1.0
        d = _counterfactual_row(fit, p)
        mean, rows, sites = info[p]
        effects[p] = _effect(fit, p, c, d, cov_for(sites, fit), ci_alpha, mean, rows, sites)

    pvp: Effect | None = None
    retention: Ratio | None = None
    prod_fit = source.get("production")
    if effects["production"] is not None and "pilot" in present and prod_fit is not None:
        if prod_fit.identified.get("pilot"):
            jp, jq = prod_fit.column("production"), prod_fit.column("pilot")
            c = np.zeros(len(prod_fit.beta))
            c[jp], c[jq] = 1.0, -1.0
            d_prod = _counterfactual_row(prod_fit, "production")
            d = d_prod.copy()
            d[jq] += 1.0
            cq = np.zeros(len(prod_fit.beta))
            cq[jq] = 1.0
            d_pilot = _counterfactual_row(prod_fit, "pilot")
            p_sites, q_sites = info["production"][2], info["pilot"][2]
            cov = (
                "cluster_site"
                if cov_for(p_sites, prod_fit) == cov_for(q_sites, prod_fit) == "cluster_site"
                else "hc1_cells"
            )
            mean, rows, sites = info["production"]
            pvp_note = ""
            if source.get("pilot") is not prod_fit:
                pvp_note = (
                    "The pilot estimate shown comes from another model; this comparison and the "
                    "retention use the pilot effect of the production model."
                )
            pvp = _effect(
                prod_fit, "production_vs_pilot", c, d, cov, ci_alpha, mean, rows,
                min(p_sites, q_sites), pvp_note,
            )  # fmt: skip
            pilot_here = _effect(
                prod_fit, "pilot", cq, d_pilot, cov_for(q_sites, prod_fit), ci_alpha,
                *info["pilot"],
            )  # fmt: skip
            lo, hi = pilot_here.lift_ci_low, pilot_here.lift_ci_high
            if math.isfinite(lo) and math.isfinite(hi) and (lo > 0 or hi < 0):
                cp = np.zeros(len(prod_fit.beta))
                cp[jp] = 1.0
                retention = _retention(prod_fit, (cp, d_prod), (cq, d_pilot), cov, ci_alpha)
            else:
                notes.append(
                    "Retention is not reported: the pilot's own lift interval includes 0, so "
                    "there was no clear promise to keep."
                )
        else:
            notes.append(
                "Production and pilot cannot be compared within one model with these rows."
            )

    main = effects["production"] or effects["pilot"]
    method = main.method if main else "none"
    return AdjustedFit(
        method=method,
        assumption=ASSUMPTIONS.get(method, ""),
        pilot=effects["pilot"],
        production=effects["production"],
        production_vs_pilot=pvp,
        retention=retention,
        n_rows=n_rows,
        n_cells=n_cells,
        n_clusters=n_clusters,
        concurrent_periods=concurrent,
        note=_join(notes),
    )


def fit_slice_effects(
    cells: pd.DataFrame | PreparedCells,
    by: Literal["site", "channel"],
    alpha: float = 0.05,
) -> list[SliceEffect]:
    """Each site's (or channel's) production effect from the same model.

    ``value ~ pilot + Σ_s production×1[slice=s] + C(site) [+ C(channel)] + C(period)`` with HC1 on
    the cells, Holm across the slices; the site-trend model replaces C(period) when the overall
    production effect is identified only there. Each slice's adjusted lift uses its own
    counterfactual mean; retention = slice production lift / pilot lift (same fit), reported only
    when the pilot's lift interval excludes 0. Slices without production rows are skipped.
    ``cells`` may be a :class:`PreparedCells` (see :func:`prepare_cells`).
    """
    if by not in ("site", "channel"):
        return []
    prep = prepare_cells(cells)
    df = prep.frame
    if df is None:
        return []
    phase = df.phase
    if not (phase == _PRODUCTION).any() or not (phase == _BASELINE).any():
        return []
    has_pilot = bool((phase == _PILOT).any())
    channel_fe = by == "channel"

    # Same model choice as fit_adjusted: two-way FE unless production is identified only by trend.
    overall: TreatSpec = {"production": ("production", None, None)}
    if has_pilot:
        overall["pilot"] = ("pilot", None, None)
    modes = _modes(prep)
    mode: Mode = modes[0]
    for m in modes:
        if _identified(prep, overall, m, channel_fe).get("production"):
            mode = m
            break

    slice_values = df.site if by == "site" else df.channel
    levels = prep.sites if by == "site" else prep.channels
    names = [levels[c] for c in np.unique(slice_values[phase == _PRODUCTION])]
    treat: TreatSpec = {}
    if has_pilot:
        treat["pilot"] = ("pilot", None, None)
    for name in names:
        treat[f"production:{by}[{name}]"] = ("production", by, name)
    fit = _fit(prep, treat, mode, channel_fe)
    method = f"{mode}_hc1_cells"

    pilot_form: tuple[np.ndarray, np.ndarray] | None = None
    pilot_ok = False
    if has_pilot and fit.identified.get("pilot"):
        cq = np.zeros(len(fit.beta))
        cq[fit.column("pilot")] = 1.0
        dq = _counterfactual_row(fit, "pilot")
        pilot_form = (cq, dq)
        pe = _effect(fit, "pilot", cq, dq, "hc1_cells", alpha, *_treated(df, phase == _PILOT))
        pilot_ok = math.isfinite(pe.lift_ci_low) and (pe.lift_ci_low > 0 or pe.lift_ci_high < 0)

    effects: list[tuple[str, Effect, Ratio | None]] = []
    for name in names:
        col = f"production:{by}[{name}]"
        mask = (phase == _PRODUCTION) & (slice_values == levels.index(name))
        mean, rows, sites = _treated(df, mask)
        if not fit.identified.get(col):
            note = (
                f"This {by}'s production effect cannot be separated from its own {by} and the "
                "period effects (for example, it has no rows before going live), so no estimate "
                "is reported."
            )
            effects.append((name, _empty_effect(name, method, mean, rows, sites, note), None))
            continue
        c = np.zeros(len(fit.beta))
        c[fit.column(col)] = 1.0
        d = _counterfactual_row(fit, col)
        eff = _effect(fit, name, c, d, "hc1_cells", alpha, mean, rows, sites)
        ret = None
        if pilot_form is not None and pilot_ok:
            ret = _retention(fit, (c, d), pilot_form, "hc1_cells", alpha)
        effects.append((name, eff, ret))
    p_holm = holm([e.p_value for _, e, _ in effects])
    return [
        SliceEffect(by, name, eff, ret, float(ph))
        for (name, eff, ret), ph in zip(effects, p_holm, strict=True)
    ]


# --------------------------------------------------------------------------------------------
# Time: production trend and forecast counterfactual
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class _PeriodMeans:
    """Cells pooled per period index, in order of t: t, earliest period, weight total (rows
    when unweighted), weighted mean."""

    t: np.ndarray
    period: np.ndarray
    n: np.ndarray
    mean: np.ndarray


def _period_pool(prep: PreparedCells, mask: np.ndarray) -> _PeriodMeans:
    """Pool the cells under mask per period index (cells of a period in their original order)."""
    frame = prep.frame
    assert frame is not None
    t = frame.t[mask]
    order = np.argsort(t, kind="stable")
    t = t[order]
    n = frame.w[mask][order]
    mean = frame.mean[mask][order]
    codes = frame.period[mask][order]
    if not len(t):
        return _PeriodMeans(t, np.asarray(prep.periods)[codes], n, mean)
    starts = np.flatnonzero(np.r_[True, t[1:] != t[:-1]])
    rows = np.add.reduceat(n, starts)
    first = np.minimum.reduceat(codes, starts)
    return _PeriodMeans(
        t[starts].astype(float),
        np.asarray(prep.periods)[first],
        rows,
        np.add.reduceat(n * mean, starts) / rows,
    )


def production_trend(cells: pd.DataFrame | PreparedCells, alpha: float = 0.05) -> Trend:
    """Slope per period of the production period means (WLS with weights W on the period index).

    The period means are the units, so the interval reflects how much they scatter around the
    line (t on P-2 df). ``cells`` may be a :class:`PreparedCells` (see :func:`prepare_cells`).
    """
    prep = prepare_cells(cells)
    df = prep.frame
    if df is None:
        return Trend(NAN, NAN, NAN, NAN, 0, _join(prep.notes))
    if not prep.has_dates:
        return Trend(NAN, NAN, NAN, NAN, 0, "The data has no dates, so there is no trend.")
    prod = df.phase == _PRODUCTION
    if not prod.any():
        return Trend(NAN, NAN, NAN, NAN, 0, "There are no production rows.")
    per = _period_pool(prep, prod)
    k = len(per.t)
    if k < 3:
        return Trend(NAN, NAN, NAN, NAN, k, "A trend needs production in at least 3 periods.")
    X = add_constant(per.t - per.t.min())
    res = WLS(per.mean, X, weights=per.n).fit()
    slope, se, dfree = float(res.params[1]), float(res.bse[1]), float(res.df_resid)
    if not (se > 0):
        return Trend(slope, NAN, NAN, NAN, k, "The period means lie exactly on a line.")
    q = _tq(alpha, dfree)
    return Trend(slope, slope - q * se, slope + q * se, _p_two_sided(slope / se, dfree), k)


def _forecast_cov(res: object, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and joint covariance of the next `horizon` observations of a fitted state space
    model (the forecast errors of a trend model are correlated across horizons)."""
    model = res.model  # type: ignore[attr-defined]
    model.update(res.params)  # type: ignore[attr-defined]
    z = np.atleast_2d(model["design"])[0]
    tr = np.atleast_2d(model["transition"])
    sel = np.atleast_2d(model["selection"])
    q = np.atleast_2d(model["state_cov"])
    h = float(np.atleast_2d(model["obs_cov"])[0, 0])
    state = np.asarray(res.predicted_state)[:, -1]  # type: ignore[attr-defined]
    p = np.asarray(res.predicted_state_cov)[:, :, -1]  # type: ignore[attr-defined]
    rqr = sel @ q @ sel.T
    means = np.empty(horizon)
    spread = np.empty((horizon, len(state)))  # Var(alpha_{T+j}) z'
    ahead = np.empty((horizon, len(state)))  # z T^m
    row = z.astype(float)
    for i in range(horizon):
        means[i] = float(z @ state)
        spread[i] = p @ z
        ahead[i] = row
        state = tr @ state
        p = tr @ p @ tr.T + rqr
        row = row @ tr
    # Cov(y_{T+i}, y_{T+j}) = z T^(i-j) Var(alpha_{T+j}) z' for i >= j, plus H on the diagonal.
    cross = ahead @ spread.T  # cross[m, j] = z T^m Var(alpha_{T+j}) z'
    lower_i, lower_j = np.tril_indices(horizon)
    y_cov = np.zeros((horizon, horizon))
    y_cov[lower_i, lower_j] = cross[lower_i - lower_j, lower_j]
    y_cov = y_cov + np.tril(y_cov, -1).T
    y_cov[np.diag_indices(horizon)] += h
    return means, y_cov


def forecast_counterfactual(
    cells: pd.DataFrame | PreparedCells, alpha: float = 0.05, min_periods: int = 6
) -> Counterfactual:
    """What the metric would have done without the AI, forecast from the periods before it.

    A local linear trend (statsmodels UnobservedComponents) is fitted on the pooled period means
    of the periods before the first pilot or production row and forecast over the production
    periods. cumulative_effect = Σ (observed production mean - forecast); its interval uses the
    joint forecast covariance (normal quantiles). ``cells`` may be a :class:`PreparedCells`
    (see :func:`prepare_cells`).
    """
    method = "local_linear_trend"
    prep = prepare_cells(cells)
    df, notes = prep.frame, prep.notes

    def empty(note: str, k: int = 0) -> Counterfactual:
        return Counterfactual(method, k, NAN, NAN, NAN, (), _join([*notes, note]))

    if df is None:
        return empty("")
    if not prep.has_dates:
        return empty("The data has no dates, so no counterfactual can be forecast.")
    prod = df.phase == _PRODUCTION
    if not prod.any():
        return empty("There are no production rows to compare with a forecast.")
    start = df.t[df.phase != _BASELINE].min()
    base = _period_pool(prep, df.t < start)
    k = len(base.t)
    if k < min_periods:
        return empty(
            f"Too few periods before the AI started: {k}, where at least {min_periods} are needed "
            "to forecast what would have happened without it.",
            k,
        )
    t0, tb = int(base.t.min()), int(base.t.max())
    endog = np.full(tb - t0 + 1, np.nan)
    endog[(base.t.astype(int) - t0)] = base.mean
    obs = _period_pool(prep, prod)
    horizon = int(obs.t.max()) - tb
    # Imported here: statsmodels' time-series modules cost 0.2 s and only this forecast uses them.
    from statsmodels.tsa.statespace.structural import UnobservedComponents

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = UnobservedComponents(endog, level="local linear trend")
            res = model.fit(disp=False, cov_type="none")  # the forecast needs no cov_params
            means, cov = _forecast_cov(res, horizon)
    except Exception as exc:  # noqa: BLE001 - a failed optimiser must not break a report
        return empty(f"The forecast model could not be fitted ({type(exc).__name__}).", k)
    steps = obs.t.astype(int) - tb - 1
    pred = means[steps]
    var = np.clip(np.diag(cov)[steps], 0, None)
    z = float(sps.norm.ppf(1 - alpha / 2))
    gaps = obs.mean - pred
    total = float(gaps.sum())
    total_var = float(cov[np.ix_(steps, steps)].sum())
    total_se = math.sqrt(max(total_var, 0.0))
    points: list[tuple[str, float, float, float, float]] = [
        (pd.Timestamp(p).date().isoformat(), float(m), NAN, NAN, NAN)
        for p, m in zip(base.period, base.mean, strict=True)
    ]
    for p, m, f, v in zip(obs.period, obs.mean, pred, var, strict=True):
        sd = math.sqrt(v)
        points.append(
            (
                pd.Timestamp(p).date().isoformat(),
                float(m),
                float(f),
                float(f - z * sd),
                float(f + z * sd),
            )
        )
    return Counterfactual(
        method,
        k,
        total,
        total - z * total_se,
        total + z * total_se,
        tuple(points),
        _join(notes),
    )


# --------------------------------------------------------------------------------------------
# Power
# --------------------------------------------------------------------------------------------


def mde(se: float, df: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """Minimum detectable effect: (t_{1-α/2} + t_{power}) × se on df degrees of freedom."""
    if not (math.isfinite(se) and se >= 0) or not (df > 0) or not (0 < power < 1):
        return NAN
    q_power = float(sps.norm.ppf(power) if math.isinf(df) else sps.t.ppf(power, df))
    return (_tq(alpha, df) + q_power) * se


def rows_needed(n: int, half_width: float, target_half_width: float) -> int:
    """Extra rows for the CI half-width to shrink (as 1/√n) to the target:
    ceil(n × (half_width / target)² − n), at least 0. Returns -1 when undefined (no rows, or a
    half-width or target that is not a positive finite number)."""
    if not (n >= 1) or not (math.isfinite(half_width) and half_width >= 0):
        return -1
    if not (math.isfinite(target_half_width) and target_half_width > 0):
        return -1
    extra = n * (half_width / target_half_width) ** 2 - n
    return max(0, math.ceil(extra - 1e-9 * max(1.0, abs(extra))))
