"""The sign convention on hand-worked documents: improvement = direction x change, intervals re-sorted."""

from __future__ import annotations

import math

from analytics.decide.signs import CONVENTION, add_improvements, flip, flip_interval, sign_of


def test_sign_is_minus_one_only_where_lower_is_better() -> None:
    catalog = {"aht": {"direction": "lower"}, "csat": {"direction": "higher"}, "bare": {}}
    assert sign_of(catalog, "aht") == -1
    assert sign_of(catalog, "csat") == 1
    assert sign_of(catalog, "bare") == 1
    assert sign_of(catalog, "absent") == 1
    assert sign_of({"x": None}, "x") == 1


def test_flip_keeps_finite_numbers_and_drops_the_rest() -> None:
    assert flip(-1, 2.5) == -2.5
    assert flip(1, -0.75) == -0.75
    assert flip(-1, None) is None
    assert flip(1, math.nan) is None
    assert flip(-1, math.inf) is None


def test_a_flipped_interval_is_sorted_low_to_high() -> None:
    assert flip_interval(-1, [-3.0, 1.0]) == [-1.0, 3.0]
    assert flip_interval(1, [-3.0, 1.0]) == [-3.0, 1.0]
    assert flip_interval(-1, (2, 5)) == [-5.0, -2.0]
    for bad in (None, [], [1.0], [1.0, 2.0, 3.0], [None, 1.0], [1.0, math.nan], [-math.inf, 0.0]):
        assert flip_interval(-1, bad) == [None, None]


def test_every_section_gains_its_improvement() -> None:
    doc = {
        "meta": {"catalog": {"aht": {"direction": "lower"}, "csat": {"direction": "higher"}}},
        "effects": [{"metric": "aht", "lift": -12.0, "lift_ci": [-20.0, -4.0]}],
        "verdicts": [
            {
                "metric": "aht",
                "estimate": -10.0,
                "ci": [-15.0, -5.0],
                "pilot_estimate": -8.0,
                "pilot_ci": [-9.0, -7.0],
            },
            {"metric": "csat", "estimate": 0.2, "ci": [0.1, 0.3]},
        ],
        "site_verdicts": [{"metric": "aht", "estimate": 3.0, "ci": [1.0, 6.0]}],
    }
    out = add_improvements(doc)
    assert out is doc
    assert doc["meta"]["sign_convention"] == CONVENTION
    effect = doc["effects"][0]
    assert (effect["direction"], effect["improvement"], effect["improvement_ci"]) == (
        -1,
        12.0,
        [4.0, 20.0],
    )
    aht, csat = doc["verdicts"]
    assert (aht["direction"], aht["improvement"], aht["improvement_ci"]) == (-1, 10.0, [5.0, 15.0])
    assert (aht["pilot_improvement"], aht["pilot_improvement_ci"]) == (8.0, [7.0, 9.0])
    assert (csat["direction"], csat["improvement"], csat["improvement_ci"]) == (1, 0.2, [0.1, 0.3])
    assert (csat["pilot_improvement"], csat["pilot_improvement_ci"]) == (None, [None, None])
    site = doc["site_verdicts"][0]
    assert (site["improvement"], site["improvement_ci"]) == (-3.0, [-6.0, -1.0])


def test_a_document_without_meta_gets_the_convention_and_plus_signs() -> None:
    doc = {"effects": [{"metric": "m", "lift": 1.5, "lift_ci": [1.0, 2.0]}]}
    add_improvements(doc)
    assert doc["meta"]["sign_convention"] == CONVENTION
    assert doc["effects"][0]["improvement"] == 1.5
    assert doc["effects"][0]["direction"] == 1
