"""The watch's checks on the data itself: rows that stopped arriving, and quality that dropped.

- Stopped: no rows at all for two periods of the monitoring cadence (two weeks for daily or
  weekly data, two months for monthly data) before the day of the check; or one site silent for
  two periods while the others still send rows.
- Quality: the share of missing values of a watched metric, or of rows set aside at load, in
  the data since the decision against the share in the data the decision saw: a one-sided
  two-proportion test at 0.001 (a Bonferroni share of 5% over a year of weekly looks) and a rise
  of at least 2 percentage points, so a large file does not alert on a trivial change.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from scipy import stats

from analytics.store.history import LoadRecord

QUALITY_P = 0.001
QUALITY_MIN_RISE = 0.02
PERIOD_DAYS = {"week": 7, "month": 31}


@dataclass(frozen=True, slots=True)
class DataFinding:
    """One data alert before it is worded: kind, site, and the facts of its sentence."""

    kind: str  # data_stopped | site_stopped | quality_dropped
    site: str | None
    metric: str | None
    since: date | None
    message: str


def rose(then: float, now: float) -> bool:
    """Whether a share rose by at least QUALITY_MIN_RISE (1% to 3% is 2 points, although
    0.03 - 0.01 is 0.0199... in floating point)."""
    return now - then >= QUALITY_MIN_RISE - 1e-12


def share_rise(bad_then: int, total_then: int, bad_now: int, total_now: int) -> float:
    """One-sided p-value that the share of `bad` is higher now than then (pooled z test)."""
    if min(total_then, total_now) <= 0:
        return 1.0
    p_then, p_now = bad_then / total_then, bad_now / total_now
    pooled = (bad_then + bad_now) / (total_then + total_now)
    se = math.sqrt(pooled * (1 - pooled) * (1 / total_then + 1 / total_now))
    if se == 0:
        return 1.0 if p_now <= p_then else 0.0
    return float(stats.norm.sf((p_now - p_then) / se))


def stopped(days: pd.DataFrame, as_of: date, grain: str) -> list[DataFinding]:
    """The dataset silent for two periods before as_of, or a site silent while others send."""
    span = timedelta(days=2 * PERIOD_DAYS[grain])
    dated = days.dropna(subset=["date"])
    if dated.empty:
        return []
    last = pd.Timestamp(dated["date"].max()).date()
    found = []
    if as_of - last > span:
        found.append(
            DataFinding(
                "data_stopped",
                None,
                None,
                last,
                f"No rows have arrived since {last} ({(as_of - last).days} days before {as_of}).",
            )
        )
    for site, site_last in dated.groupby("site")["date"].max().items():
        quiet = pd.Timestamp(site_last).date()
        if last - quiet > span:
            found.append(
                DataFinding(
                    "site_stopped",
                    str(site),
                    None,
                    quiet,
                    f"Site {site} has sent no rows since {quiet}, while the data runs to {last}.",
                )
            )
    return found


def missing_values(
    days: pd.DataFrame,
    metrics: Sequence[tuple[str, str, int]],
    window_end: date,
) -> list[DataFinding]:
    """Metrics (id, label, column index in days) whose missing share rose after the decision."""
    dated = days.dropna(subset=["date"])
    after = pd.to_datetime(dated["date"]).dt.date > window_end
    found = []
    for metric, label, k in metrics:
        rows_then, rows_now = dated.loc[~after, "rows"].sum(), dated.loc[after, "rows"].sum()
        n_then, n_now = dated.loc[~after, f"n{k}"].sum(), dated.loc[after, f"n{k}"].sum()
        miss_then, miss_now = int(rows_then - n_then), int(rows_now - n_now)
        if rows_now <= 0 or rows_then <= 0:
            continue
        then, now = miss_then / rows_then, miss_now / rows_now
        if rose(then, now) and share_rise(miss_then, int(rows_then), miss_now, int(rows_now)) < (
            QUALITY_P
        ):
            found.append(
                DataFinding(
                    "quality_dropped",
                    None,
                    metric,
                    None,
                    f"{label} is missing on {now:.1%} of rows since the decision, against "
                    f"{then:.1%} before it.",
                )
            )
    return found


def rejected_rows(loads: Sequence[LoadRecord], window_end: date) -> list[DataFinding]:
    """Rows set aside at load: the appends after the decision's data against the loads before."""
    before = [r for r in loads if r.date_max is None or r.date_max <= window_end]
    after = [r for r in loads if r.date_max is not None and r.date_max > window_end]
    bad_then = sum(r.rows_rejected for r in before)
    total_then = sum(r.rows_read for r in before)
    bad_now = sum(r.rows_rejected for r in after)
    total_now = sum(r.rows_read for r in after)
    if not total_now or not total_then:
        return []
    then, now = bad_then / total_then, bad_now / total_now
    if not rose(then, now) or share_rise(bad_then, total_then, bad_now, total_now) >= QUALITY_P:
        return []
    return [
        DataFinding(
            "quality_dropped",
            None,
            None,
            None,
            f"{now:.1%} of the rows added since the decision were set aside at load, against "
            f"{then:.1%} before it.",
        )
    ]
