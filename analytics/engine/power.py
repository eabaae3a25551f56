"""Power: the minimum detectable effect and the rows needed for a target interval width."""

from __future__ import annotations

import math

from scipy import stats as sps

from analytics.engine.quantiles import NAN, _tq


def mde(se: float, df: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """Minimum detectable effect: (t_{1-α/2} + t_{power}) × se on df degrees of freedom."""
    if not (math.isfinite(se) and se >= 0) or not (df > 0) or not (0 < power < 1):
        return NAN
    q_power = float(sps.norm.ppf(power) if math.isinf(df) else sps.t.ppf(power, df))
    return (_tq(alpha, df) + q_power) * se


def rows_needed(n: int, half_width: float, target_half_width: float) -> int:
    """Extra rows for the CI half-width to shrink (as 1/√n) to the target:
    ceil(n × (half_width / target)² − n), at least 0. Returns -1 when undefined (no rows, or a
    half-width or target that is not a positive finite number)."""
    if not (n >= 1) or not (math.isfinite(half_width) and half_width >= 0):
        return -1
    if not (math.isfinite(target_half_width) and target_half_width > 0):
        return -1
    extra = n * (half_width / target_half_width) ** 2 - n
    return max(0, math.ceil(extra - 1e-9 * max(1.0, abs(extra))))
