"""Cells from the day cells stored at load; statistics never see raw rows.

A cell is (metric, phase, site, channel, period) with the sums of engine/sums.py: rows n, weight
total w, weighted mean, m2, s2, q1, q2 (unweighted data: w = s2 = n, q1 = 0, q2 = m2). The day
cells (day_cells.py) are read with the filters and merged exactly into months or weeks here.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from analytics.core.types import Grain
from analytics.engine import sums
from analytics.engine.cadence import detect_cadence, gaps_by_site
from analytics.store.database import cells_table_name
from analytics.store.day_cells import has_weight_sums, is_weighted, n_column, sum_column

CELL_COLUMNS = ("metric", "phase", "site", "channel", "period", *sums.SUMS)


@dataclass(frozen=True, slots=True)
class Filters:
    """What a user narrowed the analysis to. Empty tuples mean everything."""

    date_from: date | None = None
    date_to: date | None = None
    sites: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    grain: Grain = "month"
    metrics: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "sites": list(self.sites),
            "channels": list(self.channels),
            "grain": self.grain,
            "metrics": list(self.metrics),
        }


def _where(filters: Filters) -> tuple[str, dict[str, Any]]:
    """The WHERE clause for the filters: fixed SQL text, every value a bound parameter."""
    clauses = ["true"]
    params: dict[str, Any] = {}
    if filters.date_from is not None:
        clauses.append("date >= $date_from")
        params["date_from"] = filters.date_from
    if filters.date_to is not None:
        clauses.append("date <= $date_to")
        params["date_to"] = filters.date_to
    if filters.sites:
        clauses.append("list_contains($sites, site)")
        params["sites"] = list(filters.sites)
    if filters.channels:
        clauses.append("list_contains($channels, channel)")
        params["channels"] = list(filters.channels)
    return " AND ".join(clauses), params


def group_labels(columns: Mapping[str, Any]) -> tuple[np.ndarray, pd.DataFrame]:
    """Label each row by its tuple of key values, as ``groupby(keys, sort=True, dropna=False)``
    would: labels index the distinct tuples, which come back sorted (missing values last).

    Each key is factorised on its own and the codes are combined into one integer, so the
    grouping is a sort of integers whatever the key types.
    """
    names = list(columns)
    if not names:
        raise ValueError("group_labels needs at least one key")
    codes, uniques = [], []
    for name in names:
        c, u = pd.factorize(columns[name], sort=True, use_na_sentinel=False)
        codes.append(np.asarray(c, dtype=np.int64))
        uniques.append(u)
    sizes = [max(len(u), 1) for u in uniques]
    if math.prod(sizes) >= 2**62:  # the combined code would overflow: let pandas group
        frame = pd.DataFrame({k: np.asarray(columns[k]) for k in names})
        grouped = frame.groupby(names, sort=True, dropna=False)
        return grouped.ngroup().to_numpy(), grouped.size().index.to_frame(index=False)
    combined = codes[0]
    for c, size in zip(codes[1:], sizes[1:], strict=True):
        combined = combined * size + c
    present, labels = np.unique(combined, return_inverse=True)
    keys: dict[str, Any] = {}
    rest = present
    for name, u, size in reversed(list(zip(names, uniques, sizes, strict=True))):
        keys[name] = u.take(rest % size)
        rest = rest // size
    return labels.reshape(-1), pd.DataFrame({k: keys[k] for k in names})


def pool_by_label(
    labels: np.ndarray, groups: int, n: np.ndarray, mean: np.ndarray, m2: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n, mean and m2 of the union of unweighted cells in each group (sums.pool with w = n)."""
    n = np.asarray(n, dtype=float)
    zero = np.zeros_like(n)
    pooled = sums.pool(labels, groups, n, n, mean, m2, n, zero, m2)
    return pooled[0], pooled[2], pooled[3]


def pool_cells(cells: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Merge cells into groups by `keys`: every sum of the union of their rows (sums.pool), one
    row per group present, sorted by the keys."""
    labels, out = group_labels({k: cells[k] for k in keys})
    pooled = sums.pool(labels, len(out), *sums.arrays(cells))
    for name, values in zip(sums.SUMS, pooled, strict=True):
        out[name] = values
    return out


def _day_columns(weight_sums: bool, metric: str, k: int) -> str:
    """The sums of one metric as columns n{k}, w{k}, mean{k}, ... of the day frame; day cells
    stored before the weights (n, mean, m2 only) are read as w = 1."""
    if weight_sums:
        return ", ".join(f"{sum_column(s, metric)} AS {s}{k}" for s in sums.SUMS)
    n, m2 = sum_column("n", metric), sum_column("m2", metric)
    return (
        f"{n} AS n{k}, {n}::DOUBLE AS w{k}, {sum_column('mean', metric)} AS mean{k}, "
        f"{m2} AS m2{k}, {n}::DOUBLE AS s2{k}, 0.0::DOUBLE AS q1{k}, {m2} AS q2{k}"
    )


DAY_ORDER = [(key, "ascending") for key in ("phase", "site", "channel", "date")]


def summarise_days(
    cur: duckdb.DuckDBPyConnection,
    dataset_id: int,
    metric_ids: Sequence[str],
    filters: Filters = Filters(),
) -> pd.DataFrame:
    """The day cells of an analysis: per (phase, site, channel, date), the row count, the volume
    (Σ weight; the rows when unweighted) and each metric's sums (columns n{k}, w{k}, mean{k},
    m2{k}, s2{k}, q1{k}, q2{k} in the order of `metric_ids`).

    They are read from the cells stored at load (day_cells.py) with the filters applied, so no
    analysis scans rows; months, weeks and the dataset summary are all merged from this frame.
    """
    where, params = _where(filters)
    weight_sums = has_weight_sums(cur, dataset_id)
    columns = ["rows", "volume" if weight_sums else "rows::DOUBLE AS volume"]
    columns += [_day_columns(weight_sums, metric, k) for k, metric in enumerate(metric_ids)]
    sql = (
        "SELECT phase, site, channel, date, "  # noqa: S608 (names quoted, values bound)
        + ", ".join(columns)
        + f" FROM {cells_table_name(dataset_id)} WHERE {where}"
    )
    # Through Arrow: half the time of .df() on the 19k cells of the 1M-row benchmark. Sorted
    # (by Arrow: faster than ORDER BY here) into one order whatever order the load stored them
    # in: every merged sum then adds the same numbers in the same order, so two loads of a
    # file give the same bits.
    table = cur.sql(sql, params=params).to_arrow_table().sort_by(DAY_ORDER)
    days = table.to_pandas(date_as_object=False)
    days.attrs["weighted"] = is_weighted(cur, dataset_id)
    return days


def _period(dates: pd.Series, grain: Grain) -> np.ndarray:
    """Start of the month, or of the ISO week (a Monday, as DuckDB's date_trunc); NaT stays."""
    days = pd.to_datetime(dates).to_numpy().astype("datetime64[D]")
    if grain == "month":
        start = days.astype("datetime64[M]").astype("datetime64[D]")
    else:
        weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
        start = np.where(np.isnat(days), days, days - weekday.astype("timedelta64[D]"))
    return start.astype("datetime64[ns]")


def cells_from_days(
    days: pd.DataFrame,
    metric_ids: Sequence[str],
    grain: Grain,
    only: Collection[str] | None = None,
    dims: Sequence[str] = ("site", "channel"),
) -> pd.DataFrame:
    """Cells (metric, phase, site, channel, period) merged from day cells, sorted by those keys.

    `metric_ids` names the day frame's sums columns (n{k}, w{k}, mean{k}, ...) in order; `only`
    keeps a subset. `dims` are the dimensions kept besides phase and period; a dimension left
    out is pooled over, and its column is absent. The day cells are labelled by their keys once;
    each metric is then one exact merge (sums.pool) over those labels.
    """
    wanted = sorted(
        (metric, k) for k, metric in enumerate(metric_ids) if only is None or metric in only
    )
    kept = [d for d in ("site", "channel") if d in dims]
    columns = ["metric", "phase", *kept, "period", *sums.SUMS]
    if not wanted or days.empty:
        return pd.DataFrame(columns=columns)
    labels, keys = group_labels(
        {
            "phase": days["phase"],
            **{d: days[d] for d in kept},
            "period": _period(days["date"], grain),
        }
    )
    groups = len(keys)
    names, picks = [], []
    parts: dict[str, list[np.ndarray]] = {s: [] for s in sums.SUMS}
    for metric, k in wanted:
        pooled = sums.pool(labels, groups, *(days[f"{s}{k}"].to_numpy(float) for s in sums.SUMS))
        keep = np.flatnonzero(pooled[0] > 0)
        names.append(np.full(len(keep), metric, dtype=object))
        picks.append(keep)
        for s, values in zip(sums.SUMS, pooled, strict=True):
            parts[s].append(values[keep])
    pick = np.concatenate(picks)
    if not len(pick):
        return pd.DataFrame(columns=columns)
    merged = {s: np.concatenate(parts[s]) for s in sums.SUMS}
    merged["n"] = np.round(merged["n"]).astype("int64")
    return pd.DataFrame(
        {
            "metric": pd.array(np.concatenate(names), dtype=keys["phase"].dtype),
            **{d: keys[d].to_numpy()[pick] for d in ("phase", *kept)},
            "period": pd.to_datetime(keys["period"].to_numpy()[pick]),
            **merged,
        }
    )


def summarise_cells(
    cur: duckdb.DuckDBPyConnection,
    dataset_id: int,
    metric_ids: Sequence[str],
    filters: Filters = Filters(),
) -> pd.DataFrame:
    """Cells of every metric: one row per (metric, phase, site, channel, period) with n >= 1.

    `period` is the start of the week or month (NaT when the dataset has no dates).
    """
    if not metric_ids:
        return pd.DataFrame(columns=list(CELL_COLUMNS))
    return cells_from_days(
        summarise_days(cur, dataset_id, metric_ids, filters), metric_ids, filters.grain
    )


@dataclass(frozen=True, slots=True)
class DatasetSummary:
    """What a dataset holds, after filters: the `dataset` block of results.json."""

    rows: int
    rows_rejected: int
    sites: tuple[str, ...]
    channels: tuple[str, ...]
    phases: dict[str, int]
    date_min: date | None
    date_max: date | None
    production_sites: tuple[str, ...]
    pilot_sites: tuple[str, ...]
    # Weighted (aggregated) rows: their volume (Σ weight) in all and per phase, and the data's
    # own cadence; None for unweighted rows, where each row is one case.
    volume: float | None = None
    phase_volumes: dict[str, float] | None = None
    cadence: str | None = None

    @property
    def weighted(self) -> bool:
        return self.volume is not None

    def to_dict(self) -> dict[str, Any]:
        out = {
            "rows": self.rows,
            "rows_rejected": self.rows_rejected,
            "sites": list(self.sites),
            "channels": list(self.channels),
            "phases": {p: self.phases.get(p, 0) for p in ("baseline", "pilot", "production")},
            "date_min": self.date_min.isoformat() if self.date_min else None,
            "date_max": self.date_max.isoformat() if self.date_max else None,
        }
        if self.volume is not None:
            volumes = self.phase_volumes or {}
            out["volume"] = self.volume
            out["phase_volumes"] = {
                p: volumes.get(p, 0.0) for p in ("baseline", "pilot", "production")
            }
            out["cadence"] = self.cadence
        return out


def summary_from_days(days: pd.DataFrame, rows_rejected: int) -> DatasetSummary:
    """The dataset block of an analysis, from its day cells (no further scan); for weighted
    rows (summarise_days marks them) also the volumes and the data's cadence."""
    phases = {str(p): int(n) for p, n in days.groupby("phase")["rows"].sum().items()}
    dates = days["date"].dropna()
    weighted: dict[str, Any] = {}
    if days.attrs.get("weighted") and "volume" in days.columns:
        by_phase = days.groupby("phase")["volume"].sum()
        weighted = {
            "volume": float(days["volume"].sum()),
            "phase_volumes": {str(p): float(v) for p, v in by_phase.items()},
            "cadence": detect_cadence(days[["site", "date"]]).name,
        }
    return DatasetSummary(
        rows=int(days["rows"].sum()),
        rows_rejected=rows_rejected,
        sites=tuple(sorted(days["site"].unique())),
        channels=tuple(sorted(days["channel"].unique())),
        phases=phases,
        date_min=pd.Timestamp(dates.min()).date() if not dates.empty else None,
        date_max=pd.Timestamp(dates.max()).date() if not dates.empty else None,
        production_sites=tuple(sorted(days.loc[days["phase"] == "production", "site"].unique())),
        pilot_sites=tuple(sorted(days.loc[days["phase"] == "pilot", "site"].unique())),
        **weighted,
    )


def count_rejected(cur: duckdb.DuckDBPyConnection, dataset_id: int) -> int:
    row = cur.execute("SELECT rejected FROM datasets WHERE id = $id", {"id": dataset_id}).fetchone()
    return int(row[0]) if row else 0


def summarise_dataset(
    cur: duckdb.DuckDBPyConnection, dataset_id: int, filters: Filters = Filters()
) -> DatasetSummary:
    """Row counts by phase, the sites, channels and date range of the filtered rows."""
    where, params = _where(filters)
    table = cells_table_name(dataset_id)
    # Rows per (phase, site, channel) with their date range, from the stored day cells.
    groups = cur.execute(
        "SELECT phase, site, channel, sum(rows)::BIGINT AS n, min(date) AS lo, max(date) AS hi "  # noqa: S608 (names quoted, values bound)
        f"FROM {table} WHERE {where} GROUP BY ALL",
        params,
    ).fetchall()
    phases: dict[str, int] = {}
    for phase, _site, _channel, n, _lo, _hi in groups:
        phases[phase] = phases.get(phase, 0) + int(n)
    los = [g[4] for g in groups if g[4] is not None]
    his = [g[5] for g in groups if g[5] is not None]
    return DatasetSummary(
        rows=sum(phases.values()),
        rows_rejected=count_rejected(cur, dataset_id),
        sites=tuple(sorted({g[1] for g in groups})),
        channels=tuple(sorted({g[2] for g in groups})),
        phases=phases,
        date_min=min(los) if los else None,
        date_max=max(his) if his else None,
        production_sites=tuple(sorted({g[1] for g in groups if g[0] == "production"})),
        pilot_sites=tuple(sorted({g[1] for g in groups if g[0] == "pilot"})),
    )


def site_dates(
    cur: duckdb.DuckDBPyConnection, dataset_id: int, filters: Filters = Filters()
) -> pd.DataFrame:
    """The distinct (site, date) pairs of the filtered day cells: what the cadence is read from."""
    where, params = _where(filters)
    sql = f"SELECT DISTINCT site, date FROM {cells_table_name(dataset_id)} WHERE {where}"  # noqa: S608 (names quoted, values bound)
    return cur.execute(sql, params).df()


def data_quality_by_site(
    cur: duckdb.DuckDBPyConnection,
    dataset_id: int,
    metric_ids: Sequence[str],
    filters: Filters = Filters(),
) -> pd.DataFrame:
    """Per site: rows, share of missing metric values, and the periods of the data's own cadence
    (daily, weekly, monthly: cadence.py) with no data inside its date span, with the days they
    cover (columns periods_missing, days_missing, cadence)."""
    columns = ["site", "rows", "missing_share", "periods_missing", "days_missing", "cadence"]
    if not metric_ids:
        return pd.DataFrame(columns=columns)
    where, params = _where(filters)
    nulls = " + ".join(f"sum(rows - {n_column(m)})" for m in metric_ids)
    # Rows and missing values per site, from the stored day cells.
    sql = (
        f"SELECT site, sum(rows)::BIGINT AS rows, ({nulls}) / (sum(rows) * {len(metric_ids)})::DOUBLE "  # noqa: S608 (names quoted, values bound)
        f"AS missing_share FROM {cells_table_name(dataset_id)} WHERE {where} "
        "GROUP BY site ORDER BY site"
    )
    counts = cur.execute(sql, params).df()
    if counts.empty:
        return pd.DataFrame(columns=columns)
    gaps = gaps_by_site(site_dates(cur, dataset_id, filters))
    return counts.merge(gaps, on="site", how="left")[columns]


def data_quality_from_days(
    days: pd.DataFrame, day_metric_ids: Sequence[str], metric_ids: Sequence[str]
) -> pd.DataFrame:
    """data_quality_by_site from an analysis' day cells (summarise_days of ``day_metric_ids``
    under the same filters) instead of another two queries: the same rows, missing shares and
    gaps, as the same integer sums."""
    columns = ["site", "rows", "missing_share", "periods_missing", "days_missing", "cadence"]
    if not metric_ids or days.empty:
        return pd.DataFrame(columns=columns)
    at = {m: k for k, m in enumerate(day_metric_ids)}
    frame = pd.DataFrame({"site": days["site"], "rows": days["rows"]})
    for m in metric_ids:
        frame[f"missing{at[m]}"] = days["rows"] - days[f"n{at[m]}"]
    sums = frame.groupby("site", sort=True).sum()
    nulls = sum(sums[f"missing{at[m]}"] for m in metric_ids)
    counts = pd.DataFrame(
        {
            "site": sums.index.to_numpy(),
            "rows": sums["rows"].to_numpy(np.int64),
            "missing_share": nulls.to_numpy(float)
            / (sums["rows"] * len(metric_ids)).to_numpy(float),
        }
    )
    gaps = gaps_by_site(days[["site", "date"]].drop_duplicates())
    return counts.merge(gaps, on="site", how="left")[columns]
