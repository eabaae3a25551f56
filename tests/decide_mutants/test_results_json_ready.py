"""results.json's building blocks on hand-made rows: NaN and infinities as null, tuples as lists,
numpy scalars as Python numbers; the volume fields only on weighted rows; lookups by metric."""

from __future__ import annotations

import json
import math

import numpy as np

from analytics.decide.results import (
    CounterfactualRow,
    EffectRow,
    MetricVerdict,
    Results,
    RetentionRow,
    SiteVerdict,
    ValueRow,
    clean,
)


def test_clean_makes_every_value_json_ready() -> None:
    raw = {
        1: (np.float64(0.5), np.int64(3), math.nan, -math.inf, "NaN"),
        "nested": [{"x": np.float32(math.inf)}, b"bytes", None, True],
    }
    out = clean(raw)
    assert out == {"1": [0.5, 3, None, None, "NaN"], "nested": [{"x": None}, b"bytes", None, True]}
    assert type(out["1"][0]) is float and type(out["1"][1]) is int
    assert clean(math.inf) is None and clean(2.5) == 2.5 and clean("a") == "a"


def _effect(volume_a: float | None = None, volume_b: float | None = None) -> EffectRow:
    return EffectRow(
        "aht", "production_vs_baseline", "site", ("Lyon", "chat"), True, "twfe", 40, 60, 5.0,
        6.0, -1.0, (-1.5, -0.5), -0.1666, (-0.25, -0.08), 0.001, math.nan, volume_a, volume_b,
    )  # fmt: skip


def test_an_effect_carries_volumes_only_when_weighted() -> None:
    plain = _effect().to_dict()
    assert "volume_a" not in plain and "volume_b" not in plain
    assert plain["slice"] == ["Lyon", "chat"] and plain["diff_ci"] == [-1.5, -0.5]
    assert plain["p_adjusted"] is None and plain["n_a"] == 40
    one = _effect(volume_a=120.0).to_dict()
    assert (one["volume_a"], one["volume_b"]) == (120.0, None)
    both = _effect(120.0, 300.0).to_dict()
    assert (both["volume_a"], both["volume_b"]) == (120.0, 300.0)
    json.dumps(both, allow_nan=False)


def test_rows_write_their_own_fields_and_nothing_else() -> None:
    assert RetentionRow("aht", "overall", None, 0.7, (0.5, math.nan), "a note").to_dict() == {
        "metric": "aht", "slice_type": "overall", "slice": None, "retention": 0.7,
        "ci": [0.5, None],
    }  # fmt: skip
    assert SiteVerdict("aht", "Lyon", "scale", 0.1, (0.05, 0.15), ("ok",)).to_dict() == {
        "metric": "aht", "site": "Lyon", "verdict": "scale", "estimate": 0.1,
        "ci": [0.05, 0.15], "reasons": ["ok"],
    }  # fmt: skip
    assert ValueRow("aht", 10.0, 8.0, (6.0, 10.0), math.nan, math.nan, 0.99, "EUR").to_dict() == {
        "metric": "aht", "promised": 10.0, "delivered": 8.0, "delivered_ci": [6.0, 10.0],
        "run_cost": None, "net": None, "ci_level": 0.99, "currency": "EUR",
    }  # fmt: skip
    cf = CounterfactualRow("aht", "its", 12, -3.5, (-5.0, -2.0), (("2025-01", 1, 2, 3, 4),), "n")
    assert cf.to_dict() == {
        "metric": "aht", "method": "its", "baseline_periods": 12, "cumulative_effect": -3.5,
        "ci": [-5.0, -2.0],
    }  # fmt: skip


def test_a_verdict_writes_its_summary_and_warnings_under_their_names() -> None:
    v = MetricVerdict(
        "aht", "Handle time", "scale", -0.1, (-0.15, -0.05), 0.99, "twfe", "parallel trends",
        "scale", -0.12, (-0.2, -0.04), ("pilot ok",), ("ok",), None, 0.8, "No site is worse.",
        mde=0.03, warnings=("uneven sites",),
    )  # fmt: skip
    assert v.to_dict() == {
        "metric": "aht", "verdict": "scale", "estimate": -0.1, "ci": [-0.15, -0.05],
        "ci_level": 0.99, "method": "twfe", "pilot_verdict": "scale", "reasons": ["ok"],
        "rows_needed": None, "label": "Handle time", "assumption": "parallel trends",
        "pilot_estimate": -0.12, "pilot_ci": [-0.2, -0.04], "pilot_reasons": ["pilot ok"],
        "retention": 0.8, "summary": "No site is worse.", "mde": 0.03,
        "warnings": ["uneven sites"],
    }  # fmt: skip
    results = Results({}, {}, (_effect(),), (), (v,), (), (), (), (), ())
    assert results.verdict("aht") is v and results.verdict("csat") is None
    assert results.rollout("aht") is None
    assert results.effect("aht", "production_vs_baseline", slice_type="site",
                          slice=("Lyon", "chat")) is results.effects[0]  # fmt: skip
    assert results.effect("aht", "production_vs_baseline") is None
    assert results.effect("aht", "production_vs_baseline", adjusted=False, slice_type="site",
                          slice=("Lyon", "chat")) is None  # fmt: skip
