"""Data quality as a reader sees it: rows set aside at load by site, the quality table, the status
of the data and how many baseline periods a projection can start from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from analytics.core import fmt

SET_ASIDE = "Rows set aside at load"


SET_ASIDE_HELP = (
    "Rows of this site the load set aside (unknown or missing phase, no metric name). Counted "
    "once per dataset when it was loaded: the sidebar filters do not change it."
)


def set_aside_by_site(report: Mapping[str, Any]) -> dict[str, int] | None:
    """Rows set aside at load per site, from a stored validation report; lines DuckDB could
    not read are under "(unreadable line)". None when the report predates the per-site count
    and rows were set aside (where they were is not known)."""
    by_site = report.get("rejected_by_site")
    if isinstance(by_site, Mapping):
        return {str(k): int(v) for k, v in by_site.items()}
    return None if int(report.get("rows_rejected") or 0) else {}


def quality_table(quality: pd.DataFrame, report: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Data quality per site for reading: missing as a percentage, date gaps (the days in
    periods of the data's own cadence with no row: 0 for a complete weekly file, 7 for a
    missing week) and, given the dataset's validation report, the rows the load set aside (0 where none; empty when the
    report did not count them per site). Worst first."""
    columns = ["Site", "Rows", "Missing values", "Days gap"]
    if report is not None:
        columns.append(SET_ASIDE)
    if quality.empty:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(
        {
            "Site": quality["site"].astype(str),
            "Rows": quality["rows"].astype("int64"),
            "Missing values": quality["missing_share"].astype(float) * 100,
            "Days gap": quality["days_missing"].astype("int64"),
        }
    )
    order = ["Missing values", "Days gap"]
    if report is not None:
        by_site = set_aside_by_site(report)
        frame[SET_ASIDE] = pd.array(
            [None if by_site is None else by_site.get(s, 0) for s in frame["Site"]],
            dtype="Int64",
        )
        order.append(SET_ASIDE)
    return frame.sort_values(order, ascending=False, ignore_index=True)


def rejected_summary(report: Mapping[str, Any], shown_sites: Sequence[str] = ()) -> str:
    """One sentence on the rows a load set aside, from its stored validation report; given the
    sites a table lists, also how many of those rows it cannot show (lines with no readable
    site, sites filtered out or with no row loaded)."""
    rejected = report.get("rejected") or {}
    total = int(report.get("rows_rejected") or 0)
    if not total:
        return "No row was set aside when this dataset was loaded."
    reasons = ", ".join(
        f"{int(v.get('count', 0)):,} {k}" for k, v in rejected.items() if isinstance(v, Mapping)
    )
    out = f"{total:,} rows were set aside at load" + (f" ({reasons})." if reasons else ".")
    by_site = set_aside_by_site(report)
    if by_site is None:
        return out + " This dataset was loaded before they were counted per site: load it again."
    shown = set(shown_sites)
    elsewhere = sum(n for site, n in by_site.items() if site not in shown)
    if shown and elsewhere:
        out += (
            f" {elsewhere:,} of them {'is' if elsewhere == 1 else 'are'} not at a site listed "
            "here (a line that could not be read has no site)."
        )
    return out


def status_items(dataset: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """The data status of the home page: (label, value) pairs from results.dataset, short
    enough to read at a glance."""
    phases = dataset.get("phases") or {}
    return (
        ("Rows", fmt.count(dataset.get("rows"))),
        ("Sites", f"{len(dataset.get('sites') or ()):,}"),
        ("Channels", f"{len(dataset.get('channels') or ()):,}"),
        ("From", str(dataset.get("date_min") or "no dates")),
        ("Baseline rows", fmt.count(phases.get("baseline", 0))),
        ("Pilot rows", fmt.count(phases.get("pilot", 0))),
        ("Production rows", fmt.count(phases.get("production", 0))),
        ("To", str(dataset.get("date_max") or "no dates")),
    )


def periods_before_ai(series: pd.DataFrame, metric_id: str) -> int:
    """Periods with baseline rows before the first pilot or production row of a metric: what a
    projection without the AI can learn from (baseline beside the AI does not count)."""
    if series.empty:
        return 0
    rows = series[series["metric"] == metric_id].dropna(subset=["period"])
    ai = rows.loc[rows["phase"] != "baseline", "period"]
    base = rows.loc[rows["phase"] == "baseline", "period"]
    if not ai.empty:
        base = base[base < ai.min()]
    return int(base.nunique())


def projection_note(
    label: str,
    row: Any | None,
    periods: int,
    grain: str,
    min_periods: int,
    dated: bool = True,
) -> tuple[str, str]:
    """What to say under a baseline chart: ("caption", text) for a projection, ("warning",
    text) when there is none, saying plainly when there were too few baseline periods.

    `row` is the metric's CounterfactualRow, or None when none could be made; `periods` the
    periods with baseline rows before the AI started, at the view's grain.
    """
    if row is None:
        if not dated:
            return "warning", (
                f"{label}: the data has no dates, so there is no baseline over time to project "
                "from. Add a date column to see this page."
            )
        if periods >= min_periods:
            return "warning", f"{label}: the baseline cannot be projected under these filters."
        tried = " (weeks were tried too)" if grain == "month" else ""
        return "warning", (
            f"Too few baseline periods for {label}: {periods} {grain}(s) before the AI started "
            f"under these filters{tried}, where {min_periods} are needed to project what would "
            "have happened without it. The chart shows only what was measured."
        )
    unit = "week" if str(row.method).endswith("_weekly") else grain
    lo, hi = row.ci
    return "caption", (
        f"Projected from {row.baseline_periods:,} baseline {unit}s before the AI "
        f"({fmt.method_name(row.method)}). Observed minus projected, summed over the "
        f"production {unit}s: {row.cumulative_effect:,.4g} (interval {lo:,.4g} to {hi:,.4g})."
        + (f" {row.note}" if row.note else "")
    )
