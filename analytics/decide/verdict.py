"""The decision rules of DESIGN.md: scale / fix_first / do_not_scale / need_more_data.

Rules work on an effect's relative lift signed so that positive is good, with the interval the
caller chose (Bonferroni across the outcome family for metric verdicts). Every reason is made
here from the numbers it speaks of, so a sentence can never contradict the figure beside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from analytics.core.catalog import Metric, Settings
from analytics.core.types import Verdict
from analytics.engine import stats
from analytics.engine.placebo import PlaceboTest

VERDICT_LABELS: dict[str, str] = {
    "scale": "Scale",
    "fix_first": "Fix first",
    "do_not_scale": "No meaningful effect: do not scale",
    "need_more_data": "Inconclusive: need more data",
}


@dataclass(frozen=True, slots=True)
class Evidence:
    """What one verdict is decided on. Lifts are relative changes in the metric's own sign."""

    metric: Metric
    phase: str  # "production", "pilot" or a site/channel name for slice verdicts
    lift: float
    lift_low: float
    lift_high: float
    ci_level: float
    method: str
    n_rows: int
    n_sites: int = 1
    dataset_sites: int = 1
    check_site_count: bool = True
    worse_slices: tuple[str, ...] = ()  # sites/channels significantly worse than counterfactual
    retention: float | None = None
    retention_high: float | None = None
    breached: tuple[str, ...] = ()  # guardrails breached, as readable phrases
    note: str = ""  # why there is no estimate, when there is none
    placebo: PlaceboTest | None = None  # the few-sites test, when 1-4 sites carry the effect
    treated_sites: int = 0  # live sites with a comparison (placebo path)


@dataclass(frozen=True, slots=True)
class Decision:
    """A verdict with its numbers and its plain-language reasons."""

    metric: str
    verdict: Verdict
    estimate: float
    ci_low: float
    ci_high: float
    ci_level: float
    method: str
    reasons: tuple[str, ...]
    rows_needed: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _pct(x: float) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x * 100:+.1f}%"


def _good(e: Evidence) -> tuple[float, float, float]:
    """The lift and its interval with the sign flipped where lower is better."""
    s = e.metric.sign
    lo, hi = sorted((s * e.lift_low, s * e.lift_high))
    return s * e.lift, lo, hi


def rows_needed(n: int, estimate: float, low: float, high: float, delta: float) -> int | None:
    """Rows still needed for rule 2 or 4 to settle, if the estimate stayed where it is.

    Rule 4 needs a half-width below the estimate (when estimate >= δ), rule 2 a half-width below
    δ − estimate (when estimate < δ); stats.rows_needed scales the half-width as 1/sqrt(n).
    """
    target = estimate if estimate >= delta else delta - estimate
    needed = stats.rows_needed(n, (high - low) / 2, target)
    return needed if needed >= 0 else None


def few_sites_reason(e: Evidence) -> str:
    """Why a placebo test cannot decide: its floor is above the level the verdict needs."""
    test = e.placebo
    if test is None or test.floor <= 1 - e.ci_level + 1e-12:
        return ""
    alpha = 1 - e.ci_level
    more = test.sites_to_reach(alpha, e.treated_sites)
    return (
        f"Rank {test.rank} of {test.size}: {e.treated_sites} live site(s) cannot tell the AI "
        f"apart from site-to-site variation (the smallest p-value {test.assignments} placebo "
        f"comparison(s) can give is {test.floor:.2g}, above the {alpha:.2g} this verdict "
        f"needs); with {more} more comparison site(s) they could."
    )


def decide(e: Evidence, settings: Settings) -> Decision:
    """Apply rules 1-5 in order; the first that holds gives the verdict."""
    m, delta = e.metric, e.metric.min_effect
    est, lo, hi = _good(e)
    where = "production" if e.phase == "production" else e.phase
    # Signed so that positive is better: say "improvement", never "lift", so a cost that fell
    # 14% reads as a +14% improvement and cannot contradict a raw -14% shown beside it.
    fall = f"; a fall in {m.label} counts as an improvement" if m.direction == "lower" else ""
    numbers = (
        f"{where} improvement of {_pct(est)} ({e.ci_level:.1%} interval {_pct(lo)} to "
        f"{_pct(hi)}{fall}) against a threshold of {delta:.0%}"
    )

    def result(verdict: Verdict, *reasons: str, needed: int | None = None) -> Decision:
        return Decision(
            metric=m.id,
            verdict=verdict,
            estimate=e.lift,
            ci_low=e.lift_low,
            ci_high=e.lift_high,
            ci_level=e.ci_level,
            method=e.method,
            reasons=tuple(r for r in reasons if r),
            rows_needed=needed,
        )

    # Rule 1: enough evidence to judge at all.
    if e.n_rows < settings.min_production_rows:
        return result(
            "need_more_data",
            f"Only {e.n_rows} {where} rows of {m.label}; at least "
            f"{settings.min_production_rows} are needed to judge.",
            needed=settings.min_production_rows - e.n_rows,
        )
    if e.check_site_count and e.dataset_sites >= 2 and e.n_sites < settings.min_production_sites:
        return result(
            "need_more_data",
            f"{where.capitalize()} runs at {e.n_sites} site(s); at least "
            f"{settings.min_production_sites} are needed to tell the AI from the site.",
        )
    # Rule 1, few sites: a placebo test that cannot reach the level needed cannot decide.
    if few := few_sites_reason(e):
        return result("need_more_data", few)
    if not math.isfinite(est) or not math.isfinite(lo) or not math.isfinite(hi):
        return result(
            "need_more_data",
            e.note or f"The {where} effect of {m.label} cannot be estimated from this data.",
        )
    # Rule 2: confidently below what is worth scaling.
    if hi < delta:
        worse = f" It is even worse than the baseline ({_pct(hi)} at best)." if hi < 0 else ""
        return result(
            "do_not_scale",
            f"No meaningful effect: the {numbers}; even the top of the interval is below "
            f"{delta:.0%}.{worse}",
        )
    # Rule 3: where it breaks.
    reasons3 = []
    if e.worse_slices:
        names = ", ".join(e.worse_slices)
        reasons3.append(
            f"{len(e.worse_slices)} slice(s) are significantly worse than their own "
            f"counterfactual: {names}."
        )
    if (
        e.retention is not None
        and e.retention_high is not None
        and math.isfinite(e.retention_high)
        and e.retention_high < settings.retention_floor
    ):
        reasons3.append(
            f"Production keeps {e.retention:.0%} of the pilot's lift (at most "
            f"{e.retention_high:.0%}), below the floor of {settings.retention_floor:.0%}."
        )
    if reasons3:
        return result("fix_first", f"The {numbers}.", *reasons3)
    # Rule 4: confidently worth scaling, unless a guardrail stands in the way.
    if lo > 0 and est >= delta:
        if e.breached:
            return result(
                "fix_first",
                f"The {numbers} justifies scaling, but a guardrail is breached: "
                + "; ".join(e.breached)
                + ".",
            )
        return result(
            "scale",
            f"The {numbers}: the interval excludes no effect and the estimate clears the "
            "threshold.",
        )
    # Rule 5: we do not know yet.
    needed = rows_needed(e.n_rows, est, lo, hi, delta)
    more = f" About {needed:,} more {where} rows would settle it." if needed else ""
    return result(
        "need_more_data",
        f"Inconclusive: the {numbers}; the interval is too wide to tell a worthwhile effect "
        f"from none.{more}",
        needed=needed,
    )
