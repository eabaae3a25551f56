"""The load curve's sentences from hand-made slopes and multiples: which way the improvement moves
per doubling of volume (sign-flipped for lower-is-better metrics), how far volume was observed,
the 10x answer, and the readiness signal."""

from __future__ import annotations

import math

from analytics.decide.load_report import (
    LoadCurveRow,
    LoadSection,
    asked_answer,
    observed_sentence,
    scale_evidence,
    slope_sentence,
)
from analytics.engine.load_curve import LoadCurve, LoadSlope, Multiples

NAN = math.nan
LN2 = math.log(2)


def _slope(slope: float, ci: tuple[float, float], clusters: str = "site") -> LoadSlope:
    return LoadSlope("site", slope, 0.1, ci, 0.99, 9.0, clusters, 12, 80)


def _row(slope: LoadSlope | None, sign: int = 1, kind: str = "outcome") -> LoadCurveRow:
    curve = LoadCurve(slope, None, Multiples(NAN, ()), ())
    return LoadCurveRow("aht", "Handle time", kind, sign, curve)


def test_a_shrinking_improvement_is_said_per_doubling_at_its_level() -> None:
    # slope -0.2 per log unit: -0.2 x ln 2 = -0.139 per doubling; ci x ln 2 = -0.277 to -0.0693
    row = _row(_slope(-0.2, (-0.4, -0.1)))
    assert slope_sentence(row) == (
        "Handle time: the improvement shrinks as volume grows (-0.139 in the metric's units per "
        "doubling of a site's own volume, 99% interval -0.277 to -0.0693; uncertainty clustered "
        "by site, 12 sites)."
    )


def test_lower_is_better_flips_the_slope_and_sorts_the_interval() -> None:
    # handle time falling with volume (slope -0.2) is an improvement growing with volume
    row = _row(_slope(-0.2, (-0.4, -0.1), clusters="site_period"), sign=-1)
    assert slope_sentence(row) == (
        "Handle time: the improvement grows with volume (+0.139 in the metric's units per "
        "doubling of a site's own volume, 99% interval +0.0693 to +0.277; fewer than 5 live "
        "sites: uncertainty clustered by site and period (12), shocks lasting across periods "
        "not allowed for)."
    )


def test_an_interval_across_or_touching_zero_shows_no_change() -> None:
    assert "no change with volume can be shown" in slope_sentence(_row(_slope(0.1, (-0.1, 0.3))))
    assert "no change with volume can be shown" in slope_sentence(_row(_slope(0.1, (0.0, 0.3))))
    assert "no change with volume can be shown" in slope_sentence(_row(_slope(-0.1, (-0.3, 0.0))))
    assert slope_sentence(_row(None)) == (
        "Handle time: volume does not vary enough in production to draw a load curve."
    )


def _section(central: float, by_site: tuple, *rows: LoadCurveRow) -> LoadSection:
    return LoadSection(False, Multiples(central, by_site), rows)


def test_the_observed_multiple_names_all_sites_or_the_busiest_site() -> None:
    both = _section(3.0, (("Lyon", 4.4), ("Nice", NAN), ("Pau", 2.0)))
    assert observed_sentence(both) == (
        "Production reached at most 3× the baseline volume per period (all sites together); one "
        "site at most 4.4× its own (Lyon). Anything beyond that is not observed."
    )
    only_sites = _section(NAN, (("Lyon", 4.4), ("Pau", 12.0)))
    assert observed_sentence(only_sites) == (
        "Production reached at most 12× the baseline volume per period (at its busiest site). "
        "Anything beyond that is not observed."
    )
    assert observed_sentence(_section(NAN, (("Lyon", NAN),))) == (
        "The data holds no production period with a baseline volume to compare it with."
    )
    assert observed_sentence(_section(2.0, ())) == (
        "Production reached at most 2× the baseline volume per period (all sites together). "
        "Anything beyond that is not observed."
    )


def test_the_10x_question_is_observed_only_up_to_the_highest_multiple() -> None:
    assert asked_answer(_section(3.0, ()), 10.0) == "10× volume: not observed: the data reaches 3×."
    assert asked_answer(_section(10.0, ()), 10.0) == "10× volume: observed: the data reaches 10×."
    assert asked_answer(_section(NAN, ()), 10.0) == (
        "10× volume: not observed: the data holds no volume to compare with."
    )


def test_readiness_is_a_concern_when_an_outcome_shrinks_else_good_only_at_10x() -> None:
    shrinks = _row(_slope(-0.2, (-0.4, -0.1)))
    grows = _row(_slope(0.2, (0.1, 0.4)))
    process_shrinks = _row(_slope(-0.2, (-0.4, -0.1)), kind="process")
    evidence, signal = scale_evidence(_section(12.0, (), shrinks, process_shrinks))
    assert signal == "concern" and len(evidence) == 3  # the process metric is not said
    assert scale_evidence(_section(12.0, (), grows, process_shrinks))[1] == "good"
    assert scale_evidence(_section(10.0, (), grows))[1] == "good"
    assert scale_evidence(_section(9.9, (), grows))[1] == "unknown"
    assert scale_evidence(_section(NAN, ()))[1] == "unknown"
    # touching zero is not shrinking
    assert scale_evidence(_section(12.0, (), _row(_slope(-0.2, (-0.4, 0.0)))))[1] == "good"
    assert scale_evidence(None) == (
        ("There is no dated production data to see how volume behaves.",),
        "unknown",
    )
