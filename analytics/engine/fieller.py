"""Fieller's interval for a ratio of two estimates (the lift retention)."""

from __future__ import annotations

import math

from analytics.engine.effects import Ratio
from analytics.engine.quantiles import NAN, _tq


def fieller_ratio(
    num: float,
    den: float,
    var_num: float,
    var_den: float,
    cov: float,
    df: float,
    alpha: float = 0.05,
) -> Ratio:
    """Fieller's interval for num / den.

    The interval is every R with (num - R·den)² ≤ q² (var_num - 2R·cov + R²·var_den), q the t
    quantile on df (normal when df is infinite). It is bounded only when the denominator is
    itself clearly away from 0 (den² > q² var_den); otherwise the bounds are ±inf.
    """
    values = (num, den, var_num, var_den, cov)
    if not all(math.isfinite(v) for v in values) or var_num < 0 or var_den < 0:
        return Ratio(NAN, NAN, NAN, "The ratio needs finite estimates and variances.")
    if den == 0:
        return Ratio(NAN, -math.inf, math.inf, "The denominator is 0, so the ratio is undefined.")
    q = _tq(alpha, df)
    if not math.isfinite(q):
        return Ratio(num / den, NAN, NAN, "No degrees of freedom are left for an interval.")
    q2 = q * q
    a = den * den - q2 * var_den
    b = num * den - q2 * cov
    c = num * num - q2 * var_num
    if a <= 0:
        return Ratio(
            num / den,
            -math.inf,
            math.inf,
            "The denominator is not clearly different from 0, so the ratio's interval is "
            "unbounded.",
        )
    disc = max(b * b - a * c, 0.0)
    root = math.sqrt(disc)
    return Ratio(num / den, (b - root) / a, (b + root) / a)
