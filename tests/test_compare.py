"""Unadjusted comparisons equal scipy's Welch test on the rows; Holm equals statsmodels'."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from analytics.engine.aggregate import pool_cells
from analytics.engine.compare import compare_all


def _rows(seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for phase, mean, n in (
        ("baseline", 10.0, 900),
        ("pilot", 11.5, 150),
        ("production", 10.6, 700),
    ):
        parts.append(
            pd.DataFrame(
                {
                    "phase": phase,
                    "site": rng.choice(["S1", "S2", "S3"], n),
                    "channel": rng.choice(["web", "phone"], n),
                    "period": pd.Timestamp("2024-01-01")
                    + pd.to_timedelta(rng.integers(0, 3, n) * 31, unit="D"),
                    "value": rng.normal(mean, 2.0, n),
                    "flag": (
                        rng.random(n) < {"baseline": 0.3, "pilot": 0.5, "production": 0.35}[phase]
                    ).astype(float),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _cells(rows: pd.DataFrame, column: str) -> pd.DataFrame:
    g = rows.groupby(["phase", "site", "channel", "period"])[column]
    out = g.agg(n="count", mean="mean").reset_index()
    out["m2"] = g.apply(lambda x: float(((x - x.mean()) ** 2).sum())).to_numpy()
    return out.assign(metric=column)


@pytest.mark.parametrize("column", ["value", "flag"])
def test_every_slice_matches_scipy_welch_on_rows(column: str) -> None:
    rows = _rows()
    table = compare_all(_cells(rows, column))
    assert set(table["slice_type"]) == {"overall", "site", "channel", "site_channel"}
    assert len(table) == 3 * (1 + 3 + 2 + 6)
    for r in table.itertuples():
        pick = rows
        if r.site is not None:
            pick = pick[pick["site"] == r.site]
        if r.channel is not None:
            pick = pick[pick["channel"] == r.channel]
        first, second = r.comparison.split("_vs_")
        a = pick.loc[pick["phase"] == first, column]
        b = pick.loc[pick["phase"] == second, column]
        test = sps.ttest_ind(a, b, equal_var=False)
        assert r.n_a == len(a) and r.n_b == len(b)
        assert r.diff == pytest.approx(a.mean() - b.mean(), rel=1e-9)
        assert r.p_value == pytest.approx(test.pvalue, rel=1e-6)
        ci = test.confidence_interval(0.95)
        assert (r.diff_ci_low, r.diff_ci_high) == pytest.approx((ci.low, ci.high), rel=1e-6)
        assert r.lift == pytest.approx(a.mean() / b.mean() - 1, rel=1e-9)


def test_holm_is_applied_within_each_family() -> None:
    table = compare_all(_cells(_rows(), "value"))
    family = table[
        (table["comparison"] == "production_vs_baseline") & (table["slice_type"] == "site")
    ]
    expected = multipletests(family["p_value"], method="holm")[1]
    np.testing.assert_allclose(family["p_adjusted"], expected, rtol=1e-12)
    overall = table[table["slice_type"] == "overall"]
    np.testing.assert_allclose(overall["p_adjusted"], overall["p_value"])


def test_lift_interval_by_the_delta_method_hand_worked() -> None:
    # a: n=100, mean 12, var 4; b: n=400, mean 10, var 9.
    cells = pd.DataFrame(
        {
            "metric": "m",
            "phase": ["production", "baseline"],
            "site": "all",
            "channel": "all",
            "period": pd.NaT,
            "n": [100, 400],
            "mean": [12.0, 10.0],
            "m2": [4.0 * 99, 9.0 * 399],
        }
    )
    r = compare_all(cells).query("comparison == 'production_vs_baseline'").iloc[0]
    se = np.sqrt(4 / 100 / 10**2 + 12**2 * 9 / 400 / 10**4)  # = 0.0238...
    q = sps.t.ppf(0.975, r["df"])
    assert r["lift"] == pytest.approx(0.2)
    assert r["lift_ci_high"] - r["lift"] == pytest.approx(q * se, rel=1e-9)


def test_pool_cells_equals_the_union_of_rows() -> None:
    rows = _rows()
    pooled = pool_cells(_cells(rows, "value"), ["phase"]).set_index("phase")
    for phase, group in rows.groupby("phase"):
        assert pooled.loc[phase, "n"] == len(group)
        assert pooled.loc[phase, "mean"] == pytest.approx(group["value"].mean(), rel=1e-12)
        assert pooled.loc[phase, "m2"] == pytest.approx(
            ((group["value"] - group["value"].mean()) ** 2).sum(), rel=1e-10
        )


def test_holm_within_families_equals_holm_family_by_family() -> None:
    from analytics.engine.compare import holm_within
    from analytics.engine.holm import holm

    rng = np.random.default_rng(4)
    p = rng.random(300) ** 3
    p[rng.random(300) < 0.1] = np.nan
    p[5] = p[6]  # ties
    family = rng.integers(0, 17, 300)
    got = holm_within(p, family)
    for code in range(17):
        mask = family == code
        np.testing.assert_allclose(got[mask], holm(p[mask]), rtol=1e-15, equal_nan=True)
