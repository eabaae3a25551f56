"""One factory of simulated rollouts, drawn directly as cells (what the estimators read).

A rollout: sites observed over periods, each site on the baseline until its go-live (or
never), then live. A cell's mean is the grand level + the site's level + the period's level
(common trend and season) + the site's own shock (AR(1) over periods: a good month, a new
manager) + its local luck (a bump of ``luck_len`` periods, N(0, luck_sd²), at a random time —
for the first live site at its go-live: the pilot site's good quarter) + the AI's effect at
that cell + the mean of its rows' noise; its m2 is drawn as the rows' sum of squared deviations
(σ² χ²ₙ₋₁), so cell statistics are exactly what rows would give. A site listed in ``opens_live``
has no baseline row: it opened with the AI. ``pilot`` gives one site a pilot before its
production go-live. Everything is seeded by the caller's generator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

Effect = Callable[[int, int], float]  # (periods since go-live, go-live period) -> effect


@dataclass(frozen=True)
class Rollout:
    """The design of a simulated rollout (the same for every run of a scenario)."""

    starts: tuple[int | None, ...]  # each site's go-live period (None: never live)
    periods: int = 24
    sizes: tuple[int, ...] = ()  # rows per cell of each site (default 40 each)
    effect: Effect = field(default=lambda h, g: 0.0)
    phase: str = "production"  # what the live cells are called
    shock_sd: float = 0.0  # sd of the sites' own shocks
    ar: float = 0.0  # their autocorrelation over periods
    noise_sd: float = 4.0  # sd of a row around its cell's expectation
    luck_sd: float = 0.0  # sd of each site's local bump (a good quarter)
    luck_len: int = 3  # its length in periods
    opens_live: tuple[int, ...] = ()  # sites with no baseline row (they opened with the AI)
    pilot: tuple[int, int, int] | None = None  # (site, first, last period) of a pilot
    pilot_effect: float = 0.0  # the AI's effect during the pilot

    def site_sizes(self) -> np.ndarray:
        return np.asarray(self.sizes or (40,) * len(self.starts), dtype=float)

    def true_effects(self) -> np.ndarray:
        """The effect of every (site, period): 0 before go-live."""
        out = np.zeros((len(self.starts), self.periods))
        for s, g in enumerate(self.starts):
            if g is not None:
                for t in range(g, self.periods):
                    out[s, t] = self.effect(t - g, g)
        return out


def simulate(design: Rollout, rng: np.random.Generator) -> pd.DataFrame:
    """One draw of the rollout as cells: phase, site, channel, period, n, mean, m2."""
    sites, periods = len(design.starts), design.periods
    sizes = design.site_sizes()
    site_level = rng.normal(0, 3, sites)
    t = np.arange(periods)
    period_level = 0.3 * t + 2 * np.sin(2 * np.pi * t / 12)
    shocks = np.zeros((sites, periods))
    innov = rng.normal(0, design.shock_sd, (sites, periods))
    shocks[:, 0] = innov[:, 0] / np.sqrt(max(1 - design.ar**2, 1e-9))
    for k in range(1, periods):
        shocks[:, k] = design.ar * shocks[:, k - 1] + innov[:, k]
    effect = design.true_effects()
    phase = np.where(_live(design), design.phase, "baseline").astype(object)
    if design.pilot is not None:
        site, first, last = design.pilot
        phase[site, first : last + 1] = "pilot"
        effect[site, first : last + 1] = design.pilot_effect
    n = np.repeat(sizes[:, None], periods, axis=1)
    expected = 50 + site_level[:, None] + period_level[None, :] + shocks + effect
    expected += _luck(design, rng)
    mean = expected + rng.normal(0, 1, (sites, periods)) * design.noise_sd / np.sqrt(n)
    m2 = design.noise_sd**2 * rng.chisquare(n - 1)
    months = pd.date_range("2022-01-01", periods=periods, freq="MS")
    keep = np.ones((sites, periods), dtype=bool)
    for s in design.opens_live:
        keep[s] = phase[s] != "baseline"
    frame = pd.DataFrame(
        {
            "phase": phase.ravel(),
            "site": np.repeat([f"S{s:02d}" for s in range(sites)], periods),
            "channel": "all",
            "period": np.tile(months, sites),
            "n": n.ravel().astype(np.int64),
            "mean": mean.ravel(),
            "m2": m2.ravel(),
        }
    )
    return frame[keep.ravel()].reset_index(drop=True)


def _live(design: Rollout) -> np.ndarray:
    return np.array(
        [[g is not None and k >= g for k in range(design.periods)] for g in design.starts],
        dtype=bool,
    )


def _luck(design: Rollout, rng: np.random.Generator) -> np.ndarray:
    """Each site's local bump: luck_len periods of N(0, luck_sd²), at a random time; the pilot
    site's (or else the first live site's) at its go-live."""
    out = np.zeros((len(design.starts), design.periods))
    if design.luck_sd <= 0:
        return out
    size = rng.normal(0, design.luck_sd, len(design.starts))
    at = rng.integers(0, max(design.periods - design.luck_len, 1), len(design.starts))
    if design.pilot is not None:
        at[design.pilot[0]] = design.pilot[1]
    else:
        first = [s for s, g in enumerate(design.starts) if g is not None]
        if first:
            at[first[0]] = design.starts[first[0]]
    for s in range(len(design.starts)):
        out[s, at[s] : at[s] + design.luck_len] = size[s]
    return out


def covered_truth(design: Rollout, covered: np.ndarray) -> float:
    """The estimand: the row-weighted mean true effect over the covered live (site, period)
    cells (covered: a boolean sites × periods array)."""
    w = design.site_sizes()[:, None] * covered
    return float((w * design.true_effects()).sum() / w.sum())


@dataclass(frozen=True)
class RowPlan:
    """What a row-level draw of a rollout plants (the why-production-falls-short checks): rows
    per site and period, an effect that moves with log volume, per-site effects, per-site
    adoption (each live case handled with the AI with that chance; only handled cases get the
    effect), missing values, days without rows and rows set aside at load."""

    volume: np.ndarray  # sites × periods: rows of each site-period
    slope: float = 0.0  # effect change per unit of log volume
    site_effect: tuple[float, ...] = ()
    adoption: tuple[float, ...] = ()  # empty: no adoption column
    missing: tuple[float, ...] = ()  # share of a site's values left empty
    gap_days: tuple[int, ...] = ()  # days of a site's span without any row
    rejected: tuple[int, ...] = ()  # rows with an unknown phase ("tbd"), set aside at load


def simulate_rows(design: Rollout, plan: RowPlan, rng: np.random.Generator) -> pd.DataFrame:
    """One row per case: date, phase, site, channel, score [, handled_by_ai]. Levels as in
    ``simulate`` (site level, trend and season, site shocks, case noise); a live case's effect
    is design.effect + the site's own + slope·(log volume − mean log volume), times whether the
    AI handled it when adoption is planted. Dates cycle through the days of the month, so every
    day has rows except the planted gap days (random days inside the site's span)."""
    sites, periods = len(design.starts), design.periods
    site_level = rng.normal(0, 3, sites)
    ref = float(np.log(plan.volume).mean())
    effects = design.true_effects()
    months = pd.date_range("2022-01-01", periods=periods, freq="MS")
    parts = []
    for s in range(sites):
        for t in range(periods):
            n = int(plan.volume[s, t])
            live = design.starts[s] is not None and t >= design.starts[s]
            days = pd.date_range(months[t], months[t] + pd.offsets.MonthEnd(0), freq="D")
            effect = 0.0
            if live:
                effect = effects[s, t] + plan.slope * (np.log(n) - ref)
                effect += plan.site_effect[s] if plan.site_effect else 0.0
            handled = np.ones(n)
            if plan.adoption:
                handled = rng.random(n) < plan.adoption[s] if live else np.zeros(n)
            level = 50 + site_level[s] + 0.3 * t + 2 * np.sin(2 * np.pi * t / 12)
            score = level + effect * handled + rng.normal(0, design.noise_sd, n)
            frame = pd.DataFrame(
                {
                    "date": days[np.arange(n) % len(days)].date,
                    "phase": design.phase if live else "baseline",
                    "site": f"S{s:02d}",
                    "channel": "all",
                    "score": score,
                }
            )
            if plan.adoption:
                frame["handled_by_ai"] = handled.astype(float)
            parts.append(frame)
    rows = pd.concat(parts, ignore_index=True)
    return _damage(rows, plan, rng)


def _damage(rows: pd.DataFrame, plan: RowPlan, rng: np.random.Generator) -> pd.DataFrame:
    """Missing values, gap days (whole days removed inside a site's span) and set-aside rows."""
    for s, share in enumerate(plan.missing):
        at = np.flatnonzero((rows["site"] == f"S{s:02d}").to_numpy())
        rows.loc[at[rng.random(len(at)) < share], "score"] = np.nan
    for s, k in enumerate(plan.gap_days):
        site = rows["site"] == f"S{s:02d}"
        days = np.sort(rows.loc[site, "date"].unique())[1:-1]  # keep the span's ends
        gone = set(rng.choice(days, size=k, replace=False)) if k else set()
        rows = rows[~(site & rows["date"].isin(gone))]
    extra = [
        {"date": rows["date"].iloc[-1], "phase": "tbd", "site": f"S{s:02d}", "channel": "all",
         "score": 50.0} | ({"handled_by_ai": 0.0} if plan.adoption else {})
        for s, k in enumerate(plan.rejected) for _ in range(k)
    ]  # fmt: skip
    return pd.concat([rows, pd.DataFrame(extra)], ignore_index=True) if extra else rows


# -- monthly rollouts as rows (the analysis and weights tests): a pilot, then waves -------------


def monthly_phase(s: int, month: int, waves: tuple[tuple[int, int], ...]) -> str:
    """Site s's phase in a month (0-11): a pilot at site 0 in months 2-4, then production by
    waves, each (the first site index after the wave, its first live month)."""
    if s == 0 and 2 <= month < 5:
        return "pilot"
    first = 0
    for end, live in waves:
        if first <= s < end and month >= live:
            return "production"
        first = end
    return "baseline"


STAGGERED_SITES = [f"S{k}" for k in range(10)]


def staggered_rows(seed: int = 5) -> pd.DataFrame:
    """10 sites over 12 months, a common season, a pilot at S0, production in two waves.

    The AI cuts cost by 10 (of ~100) and adds 6 minutes saved (of ~30), except at S7 where
    minutes saved fall by 8. S8 and S9 never go live: they carry the season for everyone.
    """
    rng = np.random.default_rng(seed)
    parts = []
    for month in range(12):
        season = 8.0 * np.sin(month / 12 * 2 * np.pi)
        for s, site in enumerate(STAGGERED_SITES):
            phase = monthly_phase(s, month, waves=((4, 6), (8, 9)))
            n = int(rng.integers(25, 45))
            ai = phase != "baseline"
            saved_effect = (-8.0 if site == "S7" else 6.0) if ai else 0.0
            parts.append(
                pd.DataFrame(
                    {
                        "date": pd.Timestamp(2024, month + 1, 1)
                        + pd.to_timedelta(rng.integers(0, 28, n), unit="D"),
                        "phase": phase,
                        "site": site,
                        "channel": rng.choice(["web", "phone"], n),
                        "cost": 100 + 2 * s + season - (10.0 if ai else 0.0) + rng.normal(0, 6, n),
                        "saved": 30 + season / 2 + saved_effect + rng.normal(0, 5, n),
                        "accuracy": (rng.random(n) < (0.9 if phase == "pilot" else 0.7)).astype(
                            float
                        ),
                    }
                )
            )
    rows = pd.concat(parts, ignore_index=True)
    rows["date"] = rows["date"].dt.date
    return rows


WEIGHTED_SITES = [f"R{k}" for k in range(8)]


def weighted_rows(seed: int = 11) -> pd.DataFrame:
    """8 regions over 12 months, a pilot at R0 (months 2-4), production at R0-R3 from month 6
    and R4-R5 from month 9; R6 and R7 never go live. Each region-month has 4-9 rows on random
    days (two channels), each the mean of `weight` contacts (20 to ~3,000). Busy rows gain less
    from the AI, so weighting by volume changes the estimate; a region-month shock makes rows of
    a cell share noise, as real sites do."""
    rng = np.random.default_rng(seed)
    parts = []
    for month in range(12):
        season = 4.0 * np.sin(month / 12 * 2 * np.pi)
        for s, site in enumerate(WEIGHTED_SITES):
            phase = monthly_phase(s, month, waves=((4, 6), (6, 9)))
            k = int(rng.integers(4, 10))
            weight = np.round(np.exp(rng.normal(5.0, 1.1, k))).clip(20, None)
            busy = np.log(weight) - 5.0
            gain = (8.0 - 3.0 * busy) if phase != "baseline" else 0.0
            shock = rng.normal(0, 1.5)
            parts.append(
                pd.DataFrame(
                    {
                        "date": pd.Timestamp(2024, month + 1, 1)
                        + pd.to_timedelta(rng.integers(0, 28, k), unit="D"),
                        "phase": phase,
                        "site": site,
                        "channel": rng.choice(["web", "phone"], k),
                        "weight": weight,
                        "cost": 100
                        + 1.5 * s
                        + season
                        - gain
                        + shock
                        + rng.normal(0, 40, k) / np.sqrt(weight),
                        "saved": 30
                        + season / 2
                        + gain / 2
                        + rng.normal(0, 20, k) / np.sqrt(weight),
                        "accuracy": rng.binomial(
                            weight.astype(int), 0.8 if phase == "pilot" else 0.7
                        )
                        / weight,
                    }
                )
            )
    rows = pd.concat(parts, ignore_index=True)
    rows["date"] = rows["date"].dt.date
    return rows
