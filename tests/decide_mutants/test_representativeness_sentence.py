"""The representativeness sentence and row from a hand-made result: improvement terms (sign
flipped, interval sorted), the dimensions in words, the share of production spoken for, what
the pilot never saw; and results.json's field names."""

from __future__ import annotations

import math

from analytics.decide.representativeness_report import (
    RepresentativenessRow,
    representativeness_sentence,
)
from analytics.engine.representativeness import MixRow, Representativeness


def _rep(**kw: object) -> Representativeness:
    base = dict(
        mix=(MixRow("site", "Lyon", 1.0, 0.4), MixRow("channel", "chat", 0.7, 0.5)),
        pilot_effect=-2.5,
        pilot_lift=-0.1,
        reweighted_effect=-1.25,
        reweighted_ci=(-2.0, -0.5),
        reweighted_lift=-0.05,
        reweighted_lift_ci=(-0.08, -0.02),
        df=11.0,
        covered_share=0.625,
        by=("channel", "load"),
        silent=("site Nice", "site Pau"),
        level=0.99,
    )
    return Representativeness(**(base | kw))  # type: ignore[arg-type]


def test_the_sentence_in_improvement_terms_for_a_lower_is_better_metric() -> None:
    assert representativeness_sentence(_rep(), -1) == (
        "Re-weighted to production's mix of channels and load (peak or normal periods), the "
        "pilot's effect is +1.25 (99% interval +0.5 to +2; improvement in the metric's units), "
        "against +2.5 as the pilot ran; it speaks for 62% of production. Site Nice and site Pau."
    )


def test_a_pilot_covering_everything_speaks_for_all_of_production() -> None:
    text = representativeness_sentence(_rep(covered_share=1 - 1e-13, by=("site",), silent=()), 1)
    assert text == (
        "Re-weighted to production's mix of sites, the pilot's effect is -1.25 (99% interval -2 "
        "to -0.5; improvement in the metric's units), against -2.5 as the pilot ran; it speaks "
        "for all of production."
    )
    three = representativeness_sentence(_rep(by=("site", "channel", "load"), silent=("x",)), 1)
    assert "mix of sites, channels and load (peak or normal periods)," in three
    assert three.endswith("of production. X.")


def test_a_pilot_under_none_of_productions_conditions_says_so() -> None:
    rep = _rep(reweighted_effect=math.nan, silent=("channel phone",))
    assert representativeness_sentence(rep, 1) == (
        "The pilot ran under none of production's conditions. Channel phone."
    )
    assert representativeness_sentence(_rep(reweighted_effect=math.nan, silent=()), 1) == (
        "The pilot ran under none of production's conditions."
    )


def test_the_row_writes_every_field_under_its_name() -> None:
    row = RepresentativenessRow("aht", _rep(), -1)
    assert row.to_dict() == {
        "metric": "aht",
        "level": 0.99,
        "mix": [
            {"dimension": "site", "level": "Lyon", "pilot_share": 1.0, "production_share": 0.4},
            {"dimension": "channel", "level": "chat", "pilot_share": 0.7,
             "production_share": 0.5},
        ],
        "pilot_effect": -2.5,
        "pilot_lift": -0.1,
        "reweighted_by": ["channel", "load"],
        "reweighted_effect": -1.25,
        "reweighted_ci": [-2.0, -0.5],
        "reweighted_lift": -0.05,
        "reweighted_lift_ci": [-0.08, -0.02],
        "df": 11.0,
        "covered_share": 0.625,
        "silent": ["site Nice", "site Pau"],
        "sentence": row.sentence,
    }  # fmt: skip
    assert row.sentence == representativeness_sentence(_rep(), -1)
