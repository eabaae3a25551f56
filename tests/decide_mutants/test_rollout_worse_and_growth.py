"""Rule 3's one "significantly worse" at its boundaries, and the growth over judged horizons: the
weighted least-squares slope's z equals statsmodels' WLS with the horizons' known variances."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import statsmodels.api as sm

from analytics.decide.rollout import _growth, significantly_worse

Z95 = 1.959963984540054


def test_significantly_worse_needs_a_family_p_below_alpha_and_a_wrong_way_effect() -> None:
    assert significantly_worse(0.0499, -0.1, 0.05)
    assert not significantly_worse(0.05, -0.1, 0.05)  # p must be below alpha
    assert not significantly_worse(0.01, 0.0, 0.05)  # no change is not worse
    assert not significantly_worse(0.01, 0.2, 0.05)
    assert not significantly_worse(math.nan, -0.1, 0.05)


def _study(*horizons: tuple[int, float, float]) -> SimpleNamespace:
    """(horizon, lift, se): each horizon's 95% interval is lift +- 1.96 se."""
    rows = [SimpleNamespace(horizon=h, lift=lift, lift_ci=(lift - Z95 * se, lift + Z95 * se))
            for h, lift, se in horizons]  # fmt: skip
    return SimpleNamespace(horizons=rows)


def test_growth_is_the_wls_slope_z_with_known_variances() -> None:
    points = [(0, 0.02, 0.01), (1, 0.05, 0.02), (2, 0.06, 0.015), (3, 0.11, 0.03)]
    x = np.array([p[0] for p in points], float)
    y = np.array([p[1] for p in points])
    se = np.array([p[2] for p in points])
    fit = sm.WLS(y, sm.add_constant(x), weights=1 / se**2).fit(
        cov_type="fixed scale", cov_kwds={"scale": 1.0}
    )
    first, last, z = _growth(_study(*points), +1)  # type: ignore[arg-type]
    assert (first, last) == pytest.approx((0.02, 0.11))
    assert z == pytest.approx(fit.params[1] / fit.bse[1], rel=1e-6)
    # a lower-is-better metric: the same lifts are a worsening, the z flips
    first, last, z_down = _growth(_study(*points), -1)  # type: ignore[arg-type]
    assert (first, last, z_down) == pytest.approx((-0.02, -0.11, -z), rel=1e-6)


def test_growth_needs_three_horizons_with_finite_proper_intervals() -> None:
    two = _study((0, 0.02, 0.01), (1, 0.05, 0.02))
    assert all(math.isnan(v) for v in _growth(two, 1))  # type: ignore[arg-type]
    with_bad = _study((0, 0.02, 0.01), (1, 0.05, 0.02), (2, math.nan, 0.01), (3, 0.1, 0.0))
    assert all(math.isnan(v) for v in _growth(with_bad, 1))  # type: ignore[arg-type]
