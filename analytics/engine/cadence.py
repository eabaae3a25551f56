"""The data's own cadence (daily, weekly, monthly), read from its dates, and the gaps judged
against it: a complete weekly file has no gap, a daily file missing a week has seven days.

The cadence is the modal spacing between consecutive distinct dates of a site, over every site:
a weekly export with a missing week still spaces most of its dates 7 days apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True, slots=True)
class Cadence:
    """How often the data is recorded: name (daily, weekly, monthly or every N days), the unit a
    period is called in a sentence, and its length in days (30 for a month)."""

    name: str
    unit: str
    days: int

    def periods(self, count: int) -> str:
        """'3 weeks', '1 day'."""
        return f"{count:,} {self.unit}{'' if count == 1 else 's'}"


DAILY = Cadence("daily", "day", 1)
WEEKLY = Cadence("weekly", "week", 7)
MONTHLY = Cadence("monthly", "month", 30)


def _day_numbers(dates: pd.Series) -> np.ndarray:
    return pd.to_datetime(dates).to_numpy().astype("datetime64[D]").astype(np.int64)


def detect_cadence(site_dates: pd.DataFrame) -> Cadence:
    """The modal spacing of the distinct dates of each site (columns site, date); daily when
    no site has two dates."""
    frame = site_dates.dropna(subset=["date"]).drop_duplicates(["site", "date"])
    if frame.empty:
        return DAILY
    frame = frame.assign(day=_day_numbers(frame["date"])).sort_values(["site", "day"])
    gaps = frame.groupby("site", sort=False)["day"].diff().dropna()
    gaps = gaps[gaps > 0].astype(np.int64)
    if gaps.empty:
        return DAILY
    values, counts = np.unique(gaps.to_numpy(), return_counts=True)
    step = int(values[np.argmax(counts)])  # the smallest of equally common spacings
    if step == 1:
        return DAILY
    if step == 7:
        return WEEKLY
    if 28 <= step <= 31:
        return MONTHLY
    return Cadence(f"every {step} days", f"{step}-day period", step)


def _period_index(days: np.ndarray, cadence: Cadence) -> np.ndarray:
    """Each date's period number: months since 1970 for monthly data, else whole steps from
    the site's first date."""
    if cadence is MONTHLY:
        return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return np.round((days - days.min()) / cadence.days).astype(np.int64)


def gaps_by_site(site_dates: pd.DataFrame, cadence: Cadence | None = None) -> pd.DataFrame:
    """Per site (columns site, date in): the cadence's periods without data inside its date
    span, and the days they cover. Columns: site, periods_missing, days_missing, cadence."""
    cadence = cadence or detect_cadence(site_dates)
    frame = site_dates[site_dates["site"].notna()]
    if frame.empty:
        return pd.DataFrame([], columns=["site", "periods_missing", "days_missing", "cadence"])
    codes, sites = pd.factorize(frame["site"], sort=True)  # the sites in groupby's order
    dated = frame["date"].notna().to_numpy()
    site, days = codes[dated], _day_numbers(frame["date"][dated])
    if cadence is MONTHLY:
        index = _period_index(days, cadence)
    else:  # whole steps from each site's own first date
        first = np.full(len(sites), np.iinfo(np.int64).max)
        np.minimum.at(first, site, days)
        index = np.round((days - first[site]) / cadence.days).astype(np.int64)
    low = np.full(len(sites), np.iinfo(np.int64).max)
    high = np.full(len(sites), np.iinfo(np.int64).min)
    np.minimum.at(low, site, index)
    np.maximum.at(high, site, index)
    offset = index - index.min() if len(index) else index
    span = int(offset.max(initial=0)) + 1  # (site, period) pairs as one integer each
    pairs = np.unique(site.astype(np.int64) * span + offset)
    distinct = np.bincount(pairs // span, minlength=len(sites))
    has = distinct > 0
    missing = np.where(has, high - low + 1 - distinct, 0).astype(int)
    return pd.DataFrame(
        {
            "site": list(sites),
            "periods_missing": [int(m) for m in missing],
            "days_missing": [int(m) * cadence.days for m in missing],
            "cadence": cadence.name,
        },
        columns=["site", "periods_missing", "days_missing", "cadence"],
    )


@dataclass(frozen=True, slots=True)
class PhaseExtent:
    """How much of the data's own time a phase covers: its distinct periods (weeks of a weekly
    export) and the unit they are named in."""

    periods: int
    unit: str


def phase_extent(days: pd.DataFrame, phase: str) -> PhaseExtent:
    """The periods of the data's cadence that hold rows of `phase` (day cells: phase, site,
    date), for sentences about aggregated data ("4 more weeks at its 3 sites")."""
    cadence = detect_cadence(days[["site", "date"]])
    dates = days.loc[days["phase"] == phase, "date"].dropna()
    if dates.empty:
        return PhaseExtent(0, cadence.unit)
    index = _period_index(_day_numbers(dates), cadence)
    return PhaseExtent(int(np.unique(index).size), cadence.unit)
