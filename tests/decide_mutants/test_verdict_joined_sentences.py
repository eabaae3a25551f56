"""Rule 3 and rule 4's sentences when there is more than one thing to say: the facts joined by
"; and ", the breached guardrails by "; ", and the numbers sentence turned into "which would
justify scaling" (its own full stop dropped, not a leading one)."""

from __future__ import annotations

from test_verdict import evidence

from analytics.core.catalog import Settings
from analytics.decide.verdict import decide


def test_two_breaks_are_joined_by_and() -> None:
    d = decide(evidence(worse_slices=("Porto",), retention=0.3, retention_high=0.45), Settings())
    assert d.verdict == "fix_first"
    assert d.reasons[0] == (
        "Fix first: Porto is significantly worse than its own counterfactual; and production "
        "keeps 30% of the pilot's improvement (retention, at most 45%), below the floor of 50%."
    )


def test_two_breached_guardrails_are_listed_and_the_numbers_would_justify_scaling() -> None:
    breached = ("Accuracy is 0.61, below 0.8", "Uptime is 97%, below 99%")
    d = decide(evidence(breached=breached), Settings())
    plain = decide(evidence(), Settings())
    assert d.verdict == "fix_first" and plain.verdict == "scale"
    assert d.reasons[0] == (
        "Fix first: a guardrail is breached: Accuracy is 0.61, below 0.8; Uptime is 97%, below 99%."
    )
    numbers = plain.reasons[1]
    assert numbers.endswith(".") and not numbers.startswith(".")
    assert d.reasons[1] == numbers[:-1] + ", which would justify scaling."
