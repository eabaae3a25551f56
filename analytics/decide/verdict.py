"""The decision rules of DESIGN.md: scale / fix_first / do_not_scale / need_more_data.

Rules work on an effect's relative lift signed so that positive is good, with the interval the
caller chose (Bonferroni across the outcome family for metric verdicts). Every reason is made
here from the numbers it speaks of, so a sentence can never contradict the figure beside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from analytics.core import fmt
from analytics.core.catalog import Metric, Settings
from analytics.core.types import Verdict
from analytics.engine import power
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
    # Aggregated (weighted) rows: each row is a site's period, so more data means more periods
    # or more sites. period_unit names the data's cadence ("week"); "" for rows that are cases.
    periods: int = 0
    period_unit: str = ""
    placebo: PlaceboTest | None = None  # the few-sites test, when 1-4 sites carry the effect
    treated_sites: int = 0  # live sites with a comparison (placebo path)
    still_growing: str = ""  # why rule 2 cannot conclude (rollout.still_growing), else ""


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


def _good(e: Evidence) -> tuple[float, float, float]:
    """The lift and its interval with the sign flipped where lower is better."""
    s = e.metric.sign
    lo, hi = sorted((s * e.lift_low, s * e.lift_high))
    return s * e.lift, lo, hi


def rows_needed(n: int, estimate: float, low: float, high: float, delta: float) -> int | None:
    """Rows still needed for rule 2 or 4 to settle, if the estimate stayed where it is.

    Rule 4 needs a half-width below the estimate (when estimate >= δ), rule 2 a half-width below
    δ − estimate (when estimate < δ); power.rows_needed scales the half-width as 1/sqrt(n).
    """
    target = estimate if estimate >= delta else delta - estimate
    needed = power.rows_needed(n, (high - low) / 2, target)
    return needed if needed >= 0 else None


def _plural(count: int, unit: str) -> str:
    return f"{count:,} {unit}{'' if count == 1 else 's'}"


def _more_periods(e: Evidence, estimate: float, low: float, high: float, delta: float) -> str:
    """Rule 5 for aggregated rows: the half-width shrinks as 1/√(periods × sites), so the same
    factor is said as more periods at the current sites or more sites over the same periods."""
    if not e.period_unit or e.periods < 1 or e.n_sites < 1:
        return ""
    periods = rows_needed(e.periods, estimate, low, high, delta)
    sites = rows_needed(e.n_sites, estimate, low, high, delta)
    if not periods or not sites:
        return ""
    where = "production" if e.phase == "production" else e.phase
    return (
        f" About {_plural(periods, 'more ' + e.period_unit)} of {where} at its "
        f"{_plural(e.n_sites, 'site')}, or about {_plural(sites, 'more site')} over the same "
        f"{_plural(e.periods, e.period_unit)}, would settle it."
    )


def _names(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def few_sites_reason(e: Evidence) -> str:
    """Why a placebo test cannot decide: its floor is above the level the verdict needs."""
    test = e.placebo
    if test is None or test.floor <= 1 - e.ci_level + 1e-12:
        return ""
    alpha = 1 - e.ci_level
    if test.assignments == 0:  # no placebo at all: say what is missing only when counted
        more = test.sites_to_reach(alpha, e.treated_sites) if test.with_more else 0
        return (
            f"{e.treated_sites} live site(s) cannot be tested against site-to-site variation: "
            "no site still on the baseline shares their go-live periods, so no placebo "
            "comparison exists. "
            + (f"With {more} more site(s) kept on the old way of working throughout, the test "
               f"could reach {alpha:.2g}." if more else
               "Keeping some sites on the baseline for longer would give one.")
        )  # fmt: skip
    more = test.sites_to_reach(alpha, e.treated_sites)
    return (
        f"Rank {test.rank} of {test.size}: {e.treated_sites} live site(s) cannot tell the AI "
        f"apart from site-to-site variation (the smallest p-value {test.assignments} placebo "
        f"comparison(s) can give is {test.floor:.2g}, above the {alpha:.2g} this verdict "
        f"needs); with {more} more comparison site(s) they could."
    )


_Outcome = tuple[Verdict, tuple[str, ...], int | None]  # verdict, reasons, rows needed


def decide(e: Evidence, settings: Settings) -> Decision:
    """Apply rules 1-5 in order; the first that holds gives the verdict.

    The first reason states the decisive fact (the interval against the threshold, the worse
    sites by name, the retention, the guardrail breached); the next gives the numbers, the
    improvement (positive = better) beside the raw change.
    """
    est, lo, hi = _good(e)
    where = "production" if e.phase == "production" else e.phase
    verdict, reasons, needed = (
        _rule_1(e, settings, where, (est, lo, hi))
        or _rules_2_to_4(e, settings, where, est, lo, hi)
        or _rule_5(e, where, est, lo, hi)
    )
    return Decision(
        metric=e.metric.id,
        verdict=verdict,
        estimate=e.lift,
        ci_low=e.lift_low,
        ci_high=e.lift_high,
        ci_level=e.ci_level,
        method=e.method,
        reasons=tuple(r for r in reasons if r),
        rows_needed=needed,
    )


def _numbers(e: Evidence, where: str, est: float, lo: float, hi: float) -> str:
    """The reason that gives the numbers: the improvement, its interval, the raw change."""
    return (
        f"The {where} improvement is {fmt.pct(est)} ({fmt.level(e.ci_level)} interval "
        f"{fmt.pct(lo)} to {fmt.pct(hi)}; {e.metric.label}: change {fmt.pct(e.lift)}), against "
        f"a threshold of {e.metric.min_effect:.0%}."
    )


def _rule_1(
    e: Evidence, settings: Settings, where: str, good: tuple[float, float, float]
) -> _Outcome | None:
    """Rule 1: enough evidence to judge at all (rows, sites, a placebo that can decide, an
    estimate)."""
    m = e.metric
    if e.n_rows < settings.min_production_rows:
        spread = (
            f" ({_plural(e.n_sites, 'site')} over {_plural(e.periods, e.period_unit)})"
            if e.period_unit and e.periods
            else ""
        )
        reason = (
            f"Only {e.n_rows} {where} rows{spread} of {m.label}; at least "
            f"{settings.min_production_rows} are needed to judge."
        )
        return "need_more_data", (reason,), settings.min_production_rows - e.n_rows
    if e.check_site_count and e.dataset_sites >= 2 and e.n_sites < settings.min_production_sites:
        reason = (
            f"{where.capitalize()} runs at {e.n_sites} site(s); at least "
            f"{settings.min_production_sites} are needed to tell the AI from the site."
        )
        return "need_more_data", (reason,), None
    # Rule 1, few sites: a placebo test that cannot reach the level needed cannot decide.
    if few := few_sites_reason(e):
        return "need_more_data", (few,), None
    if not all(math.isfinite(v) for v in good):
        reason = e.note or f"The {where} effect of {m.label} cannot be estimated from this data."
        return "need_more_data", (reason,), None
    return None


def _rules_2_to_4(
    e: Evidence, settings: Settings, where: str, est: float, lo: float, hi: float
) -> _Outcome | None:
    """Rule 2 (confidently below the threshold), rule 3 (where it breaks), rule 4 (confidently
    worth scaling, unless a guardrail stands in the way)."""
    delta, level = e.metric.min_effect, fmt.level(e.ci_level)
    numbers = _numbers(e, where, est, lo, hi)
    # Rule 2: confidently below what is worth scaling.
    if hi < delta and e.still_growing:  # the judged months end while the effect still grows
        return "need_more_data", (e.still_growing, numbers), None
    if hi < delta:
        worse = " It is even worse than the baseline." if hi < 0 else ""
        reason = (
            f"No meaningful effect: even the top of the {level} interval ({fmt.pct(hi)}) is "
            f"below the {delta:.0%} worth scaling for.{worse}"
        )
        return "do_not_scale", (reason, numbers), None
    # Rule 3: where it breaks.
    facts = _breaks(e, settings, where)
    if facts:
        return "fix_first", ("Fix first: " + "; and ".join(facts) + ".", numbers), None
    # Rule 4: confidently worth scaling, unless a guardrail stands in the way.
    if lo > 0 and est >= delta:
        if e.breached:
            return "fix_first", (
                "Fix first: a guardrail is breached: " + "; ".join(e.breached) + ".",
                numbers.removesuffix(".") + ", which would justify scaling.",
            ), None  # fmt: skip
        reason = (
            f"Scale: the {level} interval ({fmt.pct(lo)} to {fmt.pct(hi)}) excludes no effect "
            f"and the improvement of {fmt.pct(est)} clears the {delta:.0%} threshold."
        )
        return "scale", (reason, numbers), None
    return None


def _breaks(e: Evidence, settings: Settings, where: str) -> list[str]:
    """Rule 3's facts: slices significantly worse than their counterfactual, and a retention
    whose top is below the floor."""
    facts = []
    if e.worse_slices:
        k = len(e.worse_slices)
        facts.append(
            f"{_names(e.worse_slices)} {'is' if k == 1 else 'are'} significantly worse than "
            f"{'its' if k == 1 else 'their'} own counterfactual"
        )
    if (
        e.retention is not None
        and e.retention_high is not None
        and math.isfinite(e.retention_high)
        and e.retention_high < settings.retention_floor
    ):
        facts.append(
            f"{where} keeps {e.retention:.0%} of the pilot's improvement (retention, at most "
            f"{e.retention_high:.0%}), below the floor of {settings.retention_floor:.0%}"
        )
    return facts


def _rule_5(e: Evidence, where: str, est: float, lo: float, hi: float) -> _Outcome:
    """Rule 5: we do not know yet; how many more rows (or periods and sites) would settle it."""
    delta, level = e.metric.min_effect, fmt.level(e.ci_level)
    needed = rows_needed(e.n_rows, est, lo, hi, delta)
    more = f" About {needed:,} more {where} rows would settle it." if needed else ""
    if e.period_unit:
        more = _more_periods(e, est, lo, hi, delta)
    reason = (
        f"Inconclusive: the {level} interval ({fmt.pct(lo)} to {fmt.pct(hi)}) is too wide to "
        f"tell a worthwhile improvement from none.{more}"
    )
    return "need_more_data", (reason, _numbers(e, where, est, lo, hi)), needed
