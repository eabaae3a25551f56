"""A few draws of every rollout scenario of tests/sim (the full 200-run check is
`python -m tests.sim`, minutes long; its measured rates are in the README's rollout section).
Here the machinery is checked on draws small enough for the suite: each scenario's verdicts
come out, and the properties that must hold in every run do."""

from __future__ import annotations

import numpy as np
import pytest
from rollouts import Rollout, simulate
from threadpoolctl import threadpool_limits

from analytics.decide.rollout import still_growing
from tests.sim import SCENARIOS, Rate, verdict_of


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def test_rates_carry_clopper_pearson_intervals() -> None:
    from statsmodels.stats.proportion import proportion_confint

    for k in (1, 10, 57):
        expected = proportion_confint(k, 200, alpha=0.05, method="beta")
        assert Rate(k, 200).ci == pytest.approx(expected, rel=1e-9)
    assert Rate(0, 200).ci[0] == 0.0 and Rate(200, 200).ci[1] == 1.0


def test_sites_that_opened_with_the_ai_are_set_aside_and_said_so() -> None:
    rates = SCENARIOS["d"](6)
    assert all(r.k == r.n == 6 for r in rates.values()), rates


def test_a_fading_effect_shows_as_a_fade() -> None:
    rates = SCENARIOS["e"](4)
    assert rates["chart title says the effect fades"].k == 4


def test_four_staggered_and_two_never_treated_sites_can_reach_a_verdict() -> None:
    rates = SCENARIOS["f"](3)
    assert rates["power: scale with +10%"].k >= 2
    assert rates["false positives (scale or fix first), no effect"].k == 0


def test_waves_ramps_and_a_lucky_pilot_give_verdicts() -> None:
    assert SCENARIOS["a"](4)["false positives (scale or fix first)"].k <= 1
    assert SCENARIOS["b"](4)["called do not scale (must be 0)"].k == 0
    assert SCENARIOS["c"](4)["production called scale"].k == 0


def _two_waves(effect) -> Rollout:
    return Rollout(
        (6,) * 6 + (9,) * 6, periods=18, sizes=(200,) * 12, effect=effect, shock_sd=0.3,
        ar=0.3, noise_sd=4.0,
    )  # fmt: skip


def test_a_ramp_cut_short_by_the_last_wave_is_not_called_no_effect() -> None:
    """No site stays on the old way of working after month 9: only horizons 0-2 of the first
    wave can be judged (14% of production rows), while a +10% ramps up over 8 months. The
    judged average is confidently below 5% (rule 2 would say "no meaningful effect"), but the
    improvement is still rising when the judged months end: inconclusive, and said so."""
    ramp = _two_waves(lambda h, g: 0.10 * 50 * min(1.0, (h + 1) / 8))
    verdict, roll = verdict_of(simulate(ramp, np.random.default_rng(0)))
    assert roll.production.coverage == pytest.approx(18 / 126)  # 6 sites × 3 of 12×9 − 6×3
    assert roll.production.lift_ci(0.95)[1] < 0.05  # rule 2's condition holds
    lifts = [h.lift for h in roll.event_study.horizons]
    assert len(lifts) == 3 and lifts[0] < lifts[1] < lifts[2]
    assert verdict == "need_more_data"
    reason = still_growing(roll, +1)
    assert reason.startswith("Inconclusive: only the first 3 period(s) after go-live")
    assert f"({lifts[0]:+.1%} in the first, {lifts[2]:+.1%} in the last)" in reason
    flat = _two_waves(lambda h, g: 0.01 * 50)  # +1% from the start: no rise, rule 2 stands
    verdict, roll = verdict_of(simulate(flat, np.random.default_rng(0)))
    assert verdict == "do_not_scale" and still_growing(roll, +1) == ""
