"""Each verdict rule on a hand-worked case, in the order DESIGN.md gives them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from analytics.core.catalog import Metric, Settings
from analytics.decide.verdict import Evidence, decide, rows_needed

COST = Metric(id="cost", label="Cost per case", direction="lower", min_effect=0.05)
SAVED = Metric(id="saved", label="Minutes saved", direction="higher", min_effect=0.05)
SETTINGS = Settings()


def evidence(metric: Metric = SAVED, **kw: object) -> Evidence:
    base = dict(
        metric=metric,
        phase="production",
        lift=0.10,
        lift_low=0.07,
        lift_high=0.13,
        ci_level=0.99,
        method="twfe_cluster_site",
        n_rows=5000,
        n_sites=12,
        dataset_sites=12,
    )
    return Evidence(**(base | kw))  # type: ignore[arg-type]


def test_rule1_too_few_rows_or_sites() -> None:
    d = decide(evidence(n_rows=29), SETTINGS)
    assert d.verdict == "need_more_data" and d.rows_needed == 1
    assert "29 production rows" in d.reasons[0]
    assert decide(evidence(n_sites=1), SETTINGS).verdict == "need_more_data"
    # One-site datasets skip the site count.
    assert decide(evidence(n_sites=1, dataset_sites=1), SETTINGS).verdict == "scale"


def test_rule2_confidently_below_threshold_is_no_meaningful_effect() -> None:
    d = decide(evidence(lift=0.01, lift_low=-0.01, lift_high=0.03), SETTINGS)
    assert d.verdict == "do_not_scale"
    assert "No meaningful effect" in d.reasons[0] and "+3.0%" in d.reasons[0]
    worse = decide(evidence(lift=-0.08, lift_low=-0.1, lift_high=-0.06), SETTINGS)
    assert worse.verdict == "do_not_scale" and "even worse than the baseline" in worse.reasons[0]


def test_lower_is_better_metrics_are_signed_before_the_rules() -> None:
    # Cost falls by 15% (CI -18% to -12%): good-signed +15% (+12% to +18%).
    d = decide(evidence(COST, lift=-0.15, lift_low=-0.18, lift_high=-0.12), SETTINGS)
    assert d.verdict == "scale" and d.estimate == -0.15
    assert "+15.0%" in d.reasons[0] and "+12.0% to +18.0%" in d.reasons[0]
    up = decide(evidence(COST, lift=0.04, lift_low=0.01, lift_high=0.07), SETTINGS)
    assert up.verdict == "do_not_scale"


def test_rule3_worse_slices_or_low_retention_mean_fix_first() -> None:
    d = decide(evidence(worse_slices=("Porto", "Lyon")), SETTINGS)
    # The decisive fact comes first: the worse sites by name, then the numbers.
    assert d.verdict == "fix_first"
    assert d.reasons[0] == (
        "Fix first: Porto and Lyon are significantly worse than their own counterfactual."
    )
    assert "+10.0%" in d.reasons[1]
    low = decide(evidence(retention=0.3, retention_high=0.45), SETTINGS)
    assert low.verdict == "fix_first" and "keeps 30%" in low.reasons[0]
    assert "at most 45%" in low.reasons[0] and "floor of 50%" in low.reasons[0]
    fine = decide(evidence(retention=0.6, retention_high=0.8), SETTINGS)
    assert fine.verdict == "scale"
    # Rule 2 comes first: a confidently small effect is not "fix first".
    small = decide(
        evidence(lift=0.0, lift_low=-0.02, lift_high=0.02, worse_slices=("X",)), SETTINGS
    )
    assert small.verdict == "do_not_scale"


def test_rule4_scale_unless_a_guardrail_is_breached() -> None:
    assert decide(evidence(), SETTINGS).verdict == "scale"
    d = decide(
        evidence(breached=("Accuracy is 0.61 in production, where it must be at least 0.8",)),
        SETTINGS,
    )
    assert d.verdict == "fix_first" and d.reasons[0].startswith("Fix first: a guardrail")
    assert "0.61" in d.reasons[0] and "would justify scaling" in d.reasons[1]
    # Significant but below the threshold is not scale.
    assert (
        decide(evidence(lift=0.04, lift_low=0.01, lift_high=0.07), SETTINGS).verdict
        == "need_more_data"
    )


def test_rule5_inconclusive_says_how_many_rows_would_settle_it() -> None:
    # est 0.08, CI ±0.10 at n=1000: rule 4 needs half-width < 0.08 -> 1000*(0.10/0.08)^2 - 1000.
    d = decide(evidence(lift=0.08, lift_low=-0.02, lift_high=0.18, n_rows=1000), SETTINGS)
    assert d.verdict == "need_more_data"
    assert d.rows_needed == 563  # ceil(1562.5 - 1000)
    assert "563 more production rows" in d.reasons[0]
    assert d.reasons[0].startswith("Inconclusive: the 99% interval (-2.0% to +18.0%)")
    # est 0.02 < δ: rule 2 needs half-width < 0.03 -> 1000*(0.05/0.03)^2 - 1000 = 1777.8.
    assert rows_needed(1000, 0.02, -0.03, 0.07, 0.05) == 1778


def test_undefined_estimates_never_scale() -> None:
    nan = float("nan")
    d = decide(
        evidence(lift=nan, lift_low=nan, lift_high=nan, note="Production is not identified."),
        SETTINGS,
    )
    assert d.verdict == "need_more_data" and d.reasons == ("Production is not identified.",)


@pytest.mark.parametrize("threshold", [0.02, 0.2])
def test_thresholds_come_from_the_metric(threshold: float) -> None:
    metric = replace(SAVED, min_effect=threshold)
    d = decide(evidence(metric), SETTINGS)
    assert d.verdict == ("scale" if threshold == 0.02 else "do_not_scale")
