"""Which guardrails stand in an outcome's way, from production means given by hand: only those
guarding it, on the wrong side of their limit (the limit itself is allowed), worded with it."""

from __future__ import annotations

import math

from analytics.core.catalog import Catalog, Metric
from analytics.decide.evidence import _guardrails

AHT = Metric("aht", "Handle time", direction="lower")
CSAT = Metric("csat", "Satisfaction", kind="process", guardrail=4.0)  # must stay >= 4
ERRORS = Metric("errors", "Error rate", kind="process", direction="lower", guardrail=0.02,
                guards=("aht",))  # fmt: skip
OTHER = Metric("refunds", "Refunds", kind="process", direction="lower", guardrail=10.0,
               guards=("sales",))  # fmt: skip


class _Means:
    """Production means per (metric, site), as the evidence reads them."""

    def __init__(self, means: dict[tuple[str, str | None], float]) -> None:
        self.means = means

    def get(self, metric: str, phase: str, name: str | None = None) -> tuple[int, float]:
        assert phase == "production"
        return 100, self.means.get((metric, name), math.nan)


CATALOG = Catalog((AHT, CSAT, ERRORS, OTHER))


def test_guardrails_on_the_wrong_side_are_named_with_their_limit() -> None:
    means = _Means({("csat", None): 3.91234, ("errors", None): 0.025, ("refunds", None): 50.0})
    assert _guardrails(CATALOG, means, AHT) == (  # type: ignore[arg-type]
        "Satisfaction is 3.912 in production, where it must be at least 4",
        "Error rate is 0.025 in production, where it must be at most 0.02",
    )


def test_a_mean_exactly_at_its_limit_or_unknown_breaches_nothing() -> None:
    at_limit = _Means({("csat", None): 4.0, ("errors", None): 0.02})
    assert _guardrails(CATALOG, at_limit, AHT) == ()  # type: ignore[arg-type]
    assert _guardrails(CATALOG, _Means({}), AHT) == ()  # type: ignore[arg-type]


def test_a_site_reads_its_own_means_and_a_guardrail_never_guards_itself() -> None:
    means = _Means({("csat", "Lyon"): 3.0, ("csat", None): 4.5})
    assert _guardrails(CATALOG, means, AHT, site="Lyon") == (  # type: ignore[arg-type]
        "Satisfaction is 3 in production, where it must be at least 4",
    )
    assert _guardrails(CATALOG, means, AHT) == ()  # type: ignore[arg-type]
    assert _guardrails(CATALOG, _Means({("csat", None): 1.0}), CSAT) == ()  # type: ignore[arg-type]
