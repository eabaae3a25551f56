"""Effect rows from a fit, by hand: the lift interval from its own se and t on its df (scipy), an
adjusted row's fields and Holm p, and unadjusted Welch rows named by their slice."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy import stats

from analytics.decide.metric_fit import _adjusted_row, _lift_interval, _unadjusted_rows
from analytics.engine.effects import Effect


def _effect(estimate: float = -1.0, lift_se: float = 0.02, df: float = 9.0) -> Effect:
    return Effect(
        "production", estimate, 0.3, df, -1.6, -0.4, 0.004, -0.1, lift_se, -0.14, -0.06, 10.0,
        9.0, 120, 6, "twfe_cluster_site", "parallel trends",
    )  # fmt: skip


def test_the_lift_interval_is_t_on_the_effects_df_times_its_lift_se() -> None:
    q = stats.t.ppf(1 - 0.01 / 2, 9)
    lift, lo, hi = _lift_interval(_effect(), 0.01)
    assert lift == -0.1
    assert (lo, hi) == pytest.approx((-0.1 - q * 0.02, -0.1 + q * 0.02), rel=1e-12)
    for nothing in (_lift_interval(None, 0.05), _lift_interval(_effect(lift_se=math.nan), 0.05)):
        assert all(math.isnan(v) for v in nothing)
    lift, lo, hi = _lift_interval(_effect(df=0.0), 0.05)  # no df: no quantile, no interval
    assert lift == -0.1 and math.isnan(lo) and math.isnan(hi)
    assert all(math.isnan(v) for v in _lift_interval(_effect(df=math.inf), 0.05)[1:])


def test_an_adjusted_row_carries_the_fit_and_its_holm_p() -> None:
    row = _adjusted_row("aht", "production_vs_baseline", _effect(), (120, 9.0), (300, 10.0),
                        "site", "Lyon", p_adjusted=0.02)  # fmt: skip
    assert row is not None
    assert (row.metric, row.comparison, row.slice_type, row.slice, row.adjusted) == (
        "aht", "production_vs_baseline", "site", "Lyon", True,
    )  # fmt: skip
    assert (row.method, row.n_a, row.n_b, row.mean_a, row.mean_b) == (
        "twfe_cluster_site", 120, 300, 9.0, 10.0,
    )  # fmt: skip
    assert (row.diff, row.diff_ci, row.lift, row.lift_ci) == (
        -1.0,
        (-1.6, -0.4),
        -0.1,
        (-0.14, -0.06),
    )
    assert (row.p_value, row.p_adjusted) == (0.004, 0.02)
    overall = _adjusted_row("aht", "pilot_vs_baseline", _effect(), (1, 2.0), (3, 4.0))
    assert overall is not None and overall.p_adjusted == 0.004  # no family: its own p
    assert (overall.slice_type, overall.slice) == ("overall", None)
    assert _adjusted_row("aht", "x", None, (1, 2.0), (3, 4.0)) is None
    assert _adjusted_row("aht", "x", _effect(estimate=math.nan), (1, 2.0), (3, 4.0)) is None


def test_unadjusted_rows_are_named_by_their_slice() -> None:
    kinds = ["overall", "site", "channel", "site_channel"]
    table = pd.DataFrame(
        {
            "metric": "aht", "comparison": "pilot_vs_baseline", "slice_type": kinds,
            "site": ["", "Lyon", "", "Pau"], "channel": ["", "", "chat", "phone"],
            "n_a": [10, 11, 12, 13], "n_b": [20, 21, 22, 23], "mean_a": [1.0, 1.1, 1.2, 1.3],
            "mean_b": [2.0, 2.1, 2.2, 2.3], "diff": [-1.0, -1.0, -1.0, -1.0],
            "diff_ci_low": [-1.5] * 4, "diff_ci_high": [-0.5] * 4, "lift": [-0.5] * 4,
            "lift_ci_low": [-0.7] * 4, "lift_ci_high": [-0.3] * 4,
            "p_value": [0.01, 0.02, 0.03, 0.04], "p_adjusted": [0.04, 0.06, 0.06, 0.04],
        }
    )  # fmt: skip
    rows = _unadjusted_rows(table)
    assert [r.slice for r in rows] == [None, "Lyon", "chat", ("Pau", "phone")]
    assert [r.slice_type for r in rows] == kinds
    last = rows[-1]
    assert (last.adjusted, last.method, last.n_a, last.n_b, last.mean_a, last.mean_b) == (
        False, "welch", 13, 23, 1.3, 2.3,
    )  # fmt: skip
    assert (last.diff, last.diff_ci, last.lift, last.lift_ci) == (
        -1.0,
        (-1.5, -0.5),
        -0.5,
        (-0.7, -0.3),
    )
    assert (last.p_value, last.p_adjusted, last.metric, last.comparison) == (
        0.04, 0.04, "aht", "pilot_vs_baseline",
    )  # fmt: skip
    assert _unadjusted_rows(table.iloc[:0]) == []
