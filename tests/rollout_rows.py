"""A rollout export as a business would send it: one CSV row per case, daily, ten plants and two
channels, a history file up to the decision and one file per week after it.

History: 36 weeks from Monday 2025-01-06. Plants P1-P4 go live in week 8, P5-P7 in week 20,
P8-P10 are held out (comparison plants). Cost per case (EUR) is about 50 with a plant level
(sd 4), a season, a plant-week shock (sd 1) and cases of sd 12; the AI cuts it by 15%.
Accuracy (0/1) is 60% without the AI and 88% with it; the catalog sets a guardrail of 0.8.
A weekly file can plant a change: a smaller cut (`effect`), accuracy below the guardrail, one
plant turning worse than before the AI, one plant sending nothing, or every plant live (no
comparison plant left).
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

START = date(2025, 1, 6)
HISTORY_WEEKS = 36
PLANTS = tuple(f"P{i}" for i in range(1, 11))
LIVE = {"P1": 8, "P2": 8, "P3": 8, "P4": 8, "P5": 20, "P6": 20, "P7": 20}
CATALOG = """
[metrics.cost_per_case_eur]
min_effect = 0.05
[metrics.accuracy]
kind = "process"
direction = "higher"
guardrail = 0.8
[settings]
grain = "month"
"""
ROWS_PER_DAY = 6


def _plant_levels(seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    return dict(zip(PLANTS, 50 + rng.normal(0, 4, len(PLANTS)), strict=True))


def _week(
    week: int,
    seed: int,
    *,
    effect: float = 0.15,
    accuracy: float = 0.88,
    worse: str | None = None,
    silent: str | None = None,
    all_live: bool = False,
) -> pd.DataFrame:
    rng = np.random.default_rng([seed, week])
    levels = _plant_levels(seed)
    frames = []
    for plant in PLANTS:
        if plant == silent:
            continue
        live = all_live or week >= LIVE.get(plant, 10**6)
        cut = -0.20 if plant == worse else effect
        shock = rng.normal(0, 1.0)
        for day in range(7):
            d = START + timedelta(days=7 * week + day)
            n = rng.poisson(ROWS_PER_DAY) + 1
            mu = (levels[plant] + 3 * np.sin(2 * np.pi * week / 52) + shock) * (
                1 - cut if live else 1
            )
            frames.append(
                pd.DataFrame(
                    {
                        "date": d.isoformat(),
                        "phase": "production" if live else "baseline",
                        "plant": plant,
                        "channel": rng.choice(["web", "phone"], n),
                        "case_id": 0,
                        "Cost per case (EUR)": np.round(rng.normal(mu, 12, n), 2),
                        "Accuracy": (rng.random(n) < (accuracy if live else 0.6)).astype(int),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def _csv(frame: pd.DataFrame, first_id: int) -> bytes:
    frame = frame.assign(case_id=np.arange(first_id, first_id + len(frame)))
    return frame.to_csv(index=False).encode()


def history(seed: int = 11) -> bytes:
    """The export up to the decision: 36 weeks, Monday 2025-01-06 to Sunday 2025-09-14."""
    return _csv(pd.concat([_week(w, seed) for w in range(HISTORY_WEEKS)]), 1_000_000)


def week_after(k: int, seed: int = 11, **change: object) -> bytes:
    """The k-th week after the decision (k = 1, 2, ...), with an optional planted change."""
    week = HISTORY_WEEKS + k - 1
    return _csv(_week(week, seed, **change), 2_000_000 + 10_000 * k)  # type: ignore[arg-type]


def last_day(k: int) -> date:
    """The Sunday that ends the k-th week after the decision (k = 0: the decision's data)."""
    return START + timedelta(days=7 * (HISTORY_WEEKS + k) - 1)


def weeks(first: int, last: int, seed: int = 11, **change: object) -> bytes:
    """Weeks first..last (0 = the week of 2025-01-06) as one export."""
    frame = pd.concat([_week(w, seed, **change) for w in range(first, last + 1)])  # type: ignore[arg-type]
    return _csv(frame, 3_000_000 + 10_000 * first)
