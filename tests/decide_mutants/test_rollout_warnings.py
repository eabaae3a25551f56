"""What a reader must know beside the verdict, from hand-made rollouts: partial coverage, no lead
period or drifting leads, and live sites of very uneven size without a placebo test."""

from __future__ import annotations

import math
from types import SimpleNamespace

from analytics.decide.rollout import warnings_for

COVERAGE = (
    "Only 62% of production rows can be judged: the rest fall in periods with no site still on "
    "the old way of working, or at sites with no baseline rows; the estimate speaks for the "
    "judged rows only."
)
NO_LEADS = (
    "No period before go-live is available to check that the live sites were not already "
    "drifting apart from the others."
)
UNEVEN = (
    "The live sites differ in size more than tenfold; site-clustered intervals are then too "
    "narrow (simulated: 14% false alarms at 5 live sites)."
)


def _roll(coverage=1.0, pretrend=None, placebo=None, uneven=False) -> SimpleNamespace:
    production = SimpleNamespace(coverage=coverage, placebo=placebo, uneven_sites=uneven)
    study = None if pretrend is None else SimpleNamespace(pretrend=pretrend)
    return SimpleNamespace(production=production, event_study=study)


def _pretrend(leads: int, failed: bool, p: float = 0.5) -> SimpleNamespace:
    return SimpleNamespace(leads=leads, failed=failed, p_value=p)


def test_a_clean_rollout_warns_of_nothing() -> None:
    assert warnings_for(_roll(pretrend=_pretrend(3, False))) == ()  # type: ignore[arg-type]
    assert warnings_for(_roll(coverage=math.nan)) == ()  # type: ignore[arg-type]
    assert warnings_for(_roll(uneven=True, placebo=object())) == ()  # type: ignore[arg-type]


def test_every_warning_in_order() -> None:
    roll = _roll(coverage=0.625, pretrend=_pretrend(0, False), uneven=True)
    assert warnings_for(roll) == (COVERAGE, NO_LEADS, UNEVEN)  # type: ignore[arg-type]


def test_drifting_leads_are_named_with_their_joint_test() -> None:
    roll = _roll(pretrend=_pretrend(2, True, p=0.012345))
    assert warnings_for(roll) == (  # type: ignore[arg-type]
        "Before go-live the live sites already drifted apart from the others (joint test of 2 "
        "lead(s), p = 0.0123): the comparison may be unfair.",
    )
