"""Rule 2 while the effect still grows: the growing sentence replaces "no meaningful effect" only
when the whole interval is below the threshold, not when its top touches it."""

from __future__ import annotations

from test_verdict import SETTINGS, evidence

from analytics.decide.verdict import decide

GROWING = "The effect was still growing when the judged months ended."


def test_below_the_threshold_while_growing_waits_with_the_growing_sentence() -> None:
    # delta 5%: the interval +1% to +3% is below it, but the effect still grows.
    d = decide(evidence(lift=0.03, lift_low=0.01, lift_high=0.03, still_growing=GROWING), SETTINGS)
    assert d.verdict == "need_more_data" and d.rows_needed is None
    assert d.reasons == (
        GROWING,
        "The production improvement is +3.0% (99% interval +1.0% to +3.0%; Minutes saved: "
        "change +3.0%), against a threshold of 5%.",
    )


def test_a_top_exactly_at_the_threshold_is_rule_5_even_while_growing() -> None:
    # top = delta = 5%: rule 2 needs the top below delta, so rule 5 speaks; the half-width 2%
    # already equals delta - estimate (5% - 3%), so no more rows are asked for.
    d = decide(evidence(lift=0.03, lift_low=0.01, lift_high=0.05, still_growing=GROWING), SETTINGS)
    assert d.verdict == "need_more_data" and d.rows_needed == 0
    assert d.reasons[0] == (
        "Inconclusive: the 99% interval (+1.0% to +5.0%) is too wide to tell a worthwhile "
        "improvement from none."
    )
