"""A rollout whose production falls short of its pilot for known reasons (the gap issue).

Eight sites A-H, three channels (web, phone, chat), 32 weeks from Monday 2025-01-06, one row
per case. Site A pilots the AI on web only in weeks 10-15, all quiet weeks; A-E run it in
production on every channel from week 16; F-H stay on the old way of working. A quarter of the
weeks are peak weeks (2.5x the cases at every site). The outcome (a resolution score, higher
is better) is a site level + a week level + a site-week shock (sd 0.5) + case noise (sd 3 at the
pilot site, 6 elsewhere: the other sites record their data worse) + the AI's effect:
  pilot 10; in production 10 + TIME + SITES·[site ≠ A] + CHANNELS·[channel ≠ web]
  + LOAD·[peak] + CHANNEL_AT_PEAK·[channel ≠ web]·[peak].
``wide_pilot`` runs the pilot on web and phone in weeks 4-15, one peak week among them (the
pilot's effect is then 10 + CHANNELS on phone + LOAD at peak, as in production: the pilot's own
mix differs from production's). ``silent_peak_channels`` drops A's non-web rows in production peak weeks, so the new channels
at peak elsewhere have no path back to the pilot (not comparable).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

START = date(2025, 1, 6)
WEEKS = 32
SITES = tuple("ABCDEFGH")
LIVE = tuple("ABCDE")
CHANNELS = ("web", "phone", "chat")
PEAK_WEEKS = frozenset({2, 6, 18, 21, 24, 27, 29, 31})
PILOT_WEEKS = range(10, 16)
WIDE_PILOT_WEEKS = range(4, 16)  # ``wide_pilot``: web and phone, weeks 4-15 (peak week 6 in it)
GO_LIVE = 16


@dataclass(frozen=True)
class Causes:
    time: float = -2.0  # novelty wearing off
    sites: float = -2.0
    channels: float = -5.0
    load: float = -1.5
    channel_at_peak: float = -3.0


def true_effect(phase: str, site: str, channel: str, peak: bool, causes: Causes) -> float:
    other_channel = channel != "web"
    if phase == "pilot":
        return 10.0 + causes.channels * other_channel + causes.load * peak
    return (
        10.0
        + causes.time
        + causes.sites * (site != "A")
        + causes.channels * other_channel
        + causes.load * peak
        + causes.channel_at_peak * other_channel * peak
    )


def _phase(site: str, channel: str, week: int, wide: bool = False) -> str:
    if site == "A" and week in (WIDE_PILOT_WEEKS if wide else PILOT_WEEKS):
        if channel == "web" or (wide and channel == "phone"):
            return "pilot"
    return "production" if site in LIVE and week >= GO_LIVE else "baseline"


def rows(
    seed: int = 3,
    causes: Causes = Causes(),
    *,
    silent_peak_channels: bool = False,
    wide_pilot: bool = False,
) -> pd.DataFrame:
    """One row per case: date, phase, site, channel, score, and the planted effect `truth`."""
    rng = np.random.default_rng(seed)
    site_level = dict(zip(SITES, 60 + rng.normal(0, 4, len(SITES)), strict=True))
    week_level = rng.normal(0, 1.5, WEEKS)
    frames = []
    for week in range(WEEKS):
        peak = week in PEAK_WEEKS
        for site in SITES:
            shock = rng.normal(0, 0.5)
            for channel in CHANNELS:
                phase = _phase(site, channel, week, wide_pilot)
                if silent_peak_channels and site == "A" and phase == "production":
                    if peak and channel != "web":
                        continue
                n = rng.poisson(75 if peak else 30) + 1
                tau = true_effect(phase, site, channel, peak, causes) if phase != "baseline" else 0
                sd = 3.0 if site == "A" else 6.0
                y = site_level[site] + week_level[week] + shock + tau + rng.normal(0, sd, n)
                days = rng.integers(0, 7, n)
                frames.append(
                    pd.DataFrame(
                        {
                            "date": [START + timedelta(days=7 * week + int(d)) for d in days],
                            "week": week,
                            "phase": phase,
                            "site": site,
                            "channel": channel,
                            "score": y,
                            "truth": float(tau),
                        }
                    )
                )
    return pd.concat(frames, ignore_index=True)


def cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells per (phase, site, channel, week) as the store computes them: n, mean, m2."""
    period = pd.to_datetime(START) + pd.to_timedelta(7 * frame["week"], unit="D")
    g = frame.assign(period=period).groupby(["phase", "site", "channel", "period"])["score"]
    out = g.agg(n="count", mean="mean").reset_index()
    out["m2"] = g.apply(lambda s: float(((s - s.mean()) ** 2).sum())).to_numpy()
    return out


def drawn_cells(seed: int, causes: Causes = Causes()) -> pd.DataFrame:
    """The same rollout drawn directly as cells (for Monte Carlo runs): each cell's count, its
    mean (site + week levels + site-week shock + planted effect + the mean of n normal draws)
    and m2 (σ² times a χ²(n − 1) draw), distributed exactly as ``cells(rows(seed))`` though not
    equal to it; column ``truth`` holds the planted effect."""
    rng = np.random.default_rng(seed)
    site_level = 60 + rng.normal(0, 4, len(SITES))
    week_level = rng.normal(0, 1.5, WEEKS)
    out = []
    for week in range(WEEKS):
        peak = week in PEAK_WEEKS
        for i, site in enumerate(SITES):
            shock = rng.normal(0, 0.5)
            for channel in CHANNELS:
                phase = _phase(site, channel, week)
                n = int(rng.poisson(75 if peak else 30)) + 1
                tau = true_effect(phase, site, channel, peak, causes) if phase != "baseline" else 0
                sd = 3.0 if site == "A" else 6.0
                mean = site_level[i] + week_level[week] + shock + tau + rng.normal(0, sd / n**0.5)
                m2 = sd**2 * rng.chisquare(n - 1) if n > 1 else 0.0
                out.append((phase, site, channel, week, n, mean, m2, float(tau)))
    frame = pd.DataFrame(
        out, columns=["phase", "site", "channel", "week", "n", "mean", "m2", "truth"]
    )
    frame["period"] = pd.to_datetime(START) + pd.to_timedelta(7 * frame["week"], unit="D")
    return frame
