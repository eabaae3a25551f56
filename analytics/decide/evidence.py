"""Evidence → verdict: the facts each verdict rule reads (rows, sites, the estimate's interval,
retention, significantly worse slices, breached guardrails), gathered in one place, and the
verdicts of every outcome and of each live site decided from them (decide/verdict.py)."""

from __future__ import annotations

import pandas as pd

from analytics.core.catalog import Catalog, Metric
from analytics.decide.metric_fit import NAN, MetricFit, _lift_interval, _Means, _pair
from analytics.decide.results import MetricVerdict, SiteVerdict
from analytics.decide.rollout import (
    MetricRollout,
    significantly_worse,
    still_growing,
    warnings_for,
    worse_slices,
)
from analytics.decide.rollout_report import breakdown_sentence, site_interval, verdict_breakdown
from analytics.decide.verdict import Decision, Evidence, decide
from analytics.engine.cadence import PhaseExtent
from analytics.engine.effects import SliceEffect
from analytics.engine.power import mde


def _significantly_worse(metric: Metric, slices: tuple[SliceEffect, ...], alpha: float):
    return tuple(
        s for s in slices if significantly_worse(s.p_holm, metric.sign * s.effect.estimate, alpha)
    )


def _worse_summary(metric: Metric, worse: tuple[SliceEffect, ...], total: int) -> str:
    if total == 0:
        return "No site has production rows yet."
    if not worse:
        return f"No site of {total} is significantly worse than before the AI on {metric.label}."
    names = ", ".join(s.name for s in worse)
    return f"{len(worse)} of {total} sites are worse than before the AI on {metric.label}: {names}."


def _guardrails(
    catalog: Catalog, means: _Means, outcome: Metric, site: str | None = None
) -> tuple[str, ...]:
    """Guardrails guarding `outcome` whose production mean is on the wrong side of its limit."""
    breached = []
    for guard in catalog.metrics:
        if guard.id == outcome.id or not guard.guards_metric(outcome.id):
            continue
        _, mean = means.get(guard.id, "production", site)
        if guard.guardrail_breached(mean):
            side = "at least" if guard.direction == "higher" else "at most"
            breached.append(
                f"{guard.label} is {mean:.4g} in production, where it must be {side} "
                f"{guard.guardrail:.4g}"
            )
    return tuple(breached)


def _production_evidence(
    metric: Metric,
    fit: MetricFit,
    roll: MetricRollout | None,
    catalog: Catalog,
    means: _Means,
    n_sites_dataset: int,
    level: float,
    extent: PhaseExtent | None = None,
) -> Evidence:
    """What the production verdict is decided on: the imputation estimate at the verdict's
    level, its few-sites test, the family's rule-3 flags, retention and guardrails."""
    alpha = catalog.settings.alpha
    production = fit.overall.production
    n_prod, _ = means.get(metric.id, "production")
    if roll is not None:
        # Only sites with baseline rows count (rule 1) and are clusters; a rollout with no live
        # row left to compare (every site live at once) has no estimate, and its note says why.
        est = roll.production
        lift, (lo, hi) = est.lift, est.lift_ci(level)
        worse = tuple(s.name for s in worse_slices(roll, metric.sign, alpha))
        n_sites, dataset_sites = roll.production_sites, est.clusters
    else:
        lift, lo, hi = _lift_interval(production, 1 - level)
        worse = tuple(s.name for s in _significantly_worse(metric, fit.sites, alpha))
        n_sites = production.n_sites if production else 0
        dataset_sites = n_sites_dataset
        est = None
    retention = fit.overall.retention
    return Evidence(
        metric=metric,
        phase="production",
        lift=lift,
        lift_low=lo,
        lift_high=hi,
        ci_level=level,
        method=production.method if production else fit.overall.method,
        n_rows=n_prod,
        n_sites=n_sites,
        dataset_sites=dataset_sites,
        worse_slices=worse,
        retention=retention.estimate if retention else None,
        retention_high=retention.ci_high if retention else None,
        breached=_guardrails(catalog, means, metric),
        note=(production.note if production else fit.overall.note),
        placebo=est.placebo if est is not None else None,
        still_growing=still_growing(roll, metric.sign) if roll is not None else "",
        treated_sites=est.treated_sites if est is not None else 0,
        periods=extent.periods if extent else 0,
        period_unit=extent.unit if extent else "",
    )


def _site_verdicts(
    metric: Metric, roll: MetricRollout, catalog: Catalog, site_means: _Means
) -> list[SiteVerdict]:
    """Per-site verdicts: rule 1 on the site's production rows, the few-sites test (one live
    site: the placebo test) at level 1 − alpha, rules 2-5."""
    settings = catalog.settings
    alpha = settings.alpha
    worse = {s.name for s in worse_slices(roll, metric.sign, alpha)}
    out = []
    for s in roll.sites:
        lift, lo, hi = site_interval(s, alpha)
        decision = decide(
            Evidence(
                metric=metric,
                phase=s.name,
                lift=lift,
                lift_low=lo,
                lift_high=hi,
                ci_level=1 - alpha,
                method=s.estimate.method,
                n_rows=s.estimate.rows_selected,
                check_site_count=False,
                worse_slices=(s.name,) if s.name in worse else (),
                breached=_guardrails(catalog, site_means, metric, s.name),
                note=s.estimate.note,
                placebo=s.estimate.placebo,
                treated_sites=s.estimate.treated_sites,
            ),
            settings,
        )
        out.append(
            SiteVerdict(metric.id, s.name, decision.verdict, lift, _pair(lo, hi), decision.reasons)
        )
    return out


def _decide_metric(
    metric: Metric,
    fit: MetricFit,
    roll: MetricRollout | None,
    catalog: Catalog,
    means: _Means,
    site_means: _Means,
    n_sites_dataset: int,
    family: int,
    extent: PhaseExtent | None = None,
) -> tuple[MetricVerdict, list[SiteVerdict]]:
    settings = catalog.settings
    alpha = settings.alpha
    bonferroni = alpha / max(family, 1)
    level = 1 - bonferroni
    production = fit.overall.production
    evidence = _production_evidence(
        metric, fit, roll, catalog, means, n_sites_dataset, level, extent
    )
    production_decision = decide(evidence, settings)
    lift, lo, hi = evidence.lift, evidence.lift_low, evidence.lift_high
    worse_sites = tuple(s for s in fit.sites if s.name in evidence.worse_slices)
    retention = fit.overall.retention
    # What the pilot alone would have said: the pilot team's own report (HC-robust), labelled.
    pilot_decision, (p_lift, p_lo, p_hi) = _pilot_decision(metric, fit, catalog, means, family)
    warnings = warnings_for(roll) if roll is not None else ()
    broke = verdict_breakdown(metric, roll, level) if roll is not None else None
    holds = breakdown_sentence(metric, broke, settings.grain)
    verdict = MetricVerdict(
        metric=metric.id,
        label=metric.label,
        verdict=production_decision.verdict,
        estimate=lift,
        ci=_pair(lo, hi),
        ci_level=level,
        method=production_decision.method,
        assumption=production.assumption if production else fit.overall.assumption,
        pilot_verdict=pilot_decision.verdict,
        pilot_estimate=p_lift,
        pilot_ci=_pair(p_lo, p_hi),
        pilot_reasons=pilot_decision.reasons,
        reasons=production_decision.reasons,
        rows_needed=production_decision.rows_needed,
        retention=retention.estimate if retention else None,
        worse_summary=_worse_summary(metric, worse_sites, len(fit.sites)),
        mde=(
            mde(production.lift_se, production.df, alpha=bonferroni)
            if production is not None
            else NAN
        ),
        warnings=warnings + ((holds,) if holds else ()),
    )
    if roll is not None and roll.sites:
        return verdict, _site_verdicts(metric, roll, catalog, site_means)
    return verdict, []


def _pilot_decision(
    metric: Metric, fit: MetricFit, catalog: Catalog, means: _Means, family: int
) -> tuple[Decision, tuple[float, float, float]]:
    """The verdict the pilot alone would get (no site-count rule), and its lift interval."""
    bonferroni = catalog.settings.alpha / max(family, 1)
    pilot = fit.overall.pilot
    p_lift, p_lo, p_hi = _lift_interval(pilot, bonferroni)
    n_pilot, _ = means.get(metric.id, "pilot")
    decision = decide(
        Evidence(
            metric=metric,
            phase="pilot",
            lift=p_lift,
            lift_low=p_lo,
            lift_high=p_hi,
            ci_level=1 - bonferroni,
            method=pilot.method if pilot else fit.overall.method,
            n_rows=n_pilot,
            check_site_count=False,
            note=(pilot.note if pilot else "There is no pilot to judge."),
        ),
        catalog.settings,
    )
    return decision, (p_lift, p_lo, p_hi)


def _live_sites(cells: pd.DataFrame) -> list[str]:
    """Sites with both production and baseline rows: the sites a forecast speaks for."""
    if "site" not in cells.columns:
        return []
    prod = set(cells.loc[cells["phase"] == "production", "site"])
    base = set(cells.loc[cells["phase"] == "baseline", "site"])
    return sorted(prod & base)
