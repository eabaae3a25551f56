"""Each channel judged against its own counterfactual (decide/rollout._slices; DESIGN.md: "every
site's effect is measured against its own counterfactual"). Channels differ in level (an email
case costs more than a phone case); a rollout that cuts every channel's cost by the same 10%
must not call the dearest channel "significantly worse" (measured before the fix: email flagged
in 10 of 12 such row-level rollouts, "fix first"; after: 0 of 12), and a channel that really
gets worse must still be named. Checked against an independent computation: statsmodels' WLS
of the channel's own baseline cells on site and period levels, imputed on its live cells."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from rollouts import Rollout, simulate

from analytics.decide.rollout import MetricRollout, analyse_rollout, correct_family, worse_slices

LEVELS = {"phone": 40.0, "chat": 30.0, "email": 60.0}  # a case's cost by channel, before the AI
WAVES = (4, 4, 8, 8, 12, 12, 16, None, None, None)


def _cells(changes: dict[str, float], seed: int) -> pd.DataFrame:
    """Month cells of a rollout in waves over 10 sites, one row plan per channel: each channel
    at its own level, its cost changed by `changes[channel]` (a share) once its site is live."""
    rng = np.random.default_rng(seed)
    frames = []
    for channel, level in LEVELS.items():
        change = changes[channel] * level
        design = Rollout(
            starts=WAVES, periods=24, shock_sd=0.8, ar=0.4, effect=lambda h, g, c=change: c
        )
        cells = simulate(design, rng)
        cells["mean"] += level - 50.0  # simulate() centres every site near 50
        frames.append(cells.assign(channel=channel))
    return pd.concat(frames, ignore_index=True)


def _judged(cells: pd.DataFrame) -> MetricRollout:
    """The metric's rollout with rule 3's family correction (Holm over its sites and channels)."""
    roll = analyse_rollout(cells, 0.05)
    assert roll is not None
    judged = correct_family({"cost": roll})["cost"]
    assert all(np.isfinite(s.p_family) for s in judged.sites + judged.channels)
    return judged


def _independent(cells: pd.DataFrame, channel: str) -> float:
    """The channel's effect by statsmodels: WLS of its baseline cell means on site and period
    levels (weights: the cells' rows), imputed on its live cells, averaged by their rows."""
    own = cells[cells["channel"] == channel].assign(period=lambda f: f["period"].astype(str))
    base, live = own[own["phase"] == "baseline"], own[own["phase"] == "production"]
    fit = smf.wls("mean ~ C(site) + C(period)", data=base, weights=base["n"]).fit()
    imputed = fit.predict(live)
    return float(np.average(live["mean"] - imputed, weights=live["n"]))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_same_cut_in_every_channel_flags_none_of_them(seed: int) -> None:
    cells = _cells(dict.fromkeys(LEVELS, -0.10), seed)
    roll = _judged(cells)
    assert {s.name for s in roll.channels} == set(LEVELS)
    assert worse_slices(roll, sign=-1, alpha=0.05) == ()  # lower cost is better
    for s in roll.channels:
        assert s.estimate.estimate == pytest.approx(_independent(cells, s.name), abs=1e-8)
        truth = -0.10 * LEVELS[s.name]
        lo, hi = s.estimate.ci(0.99)
        assert lo <= truth <= hi, (s.name, truth, lo, hi)


def test_a_channel_that_gets_dearer_is_still_named() -> None:
    cells = _cells({"phone": -0.15, "chat": -0.15, "email": 0.10}, seed=4)
    roll = _judged(cells)
    assert [s.name for s in worse_slices(roll, sign=-1, alpha=0.05)] == ["email"]
    email = next(s for s in roll.channels if s.name == "email")
    assert email.estimate.estimate == pytest.approx(_independent(cells, "email"), abs=1e-8)
    assert email.estimate.estimate == pytest.approx(0.10 * LEVELS["email"], abs=1.5)
