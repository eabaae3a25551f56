"""Two-sided t (or normal) quantiles and p-values, through the special functions behind
``scipy.stats.t`` / ``norm`` (same numbers, without the distribution machinery's overhead)."""

from __future__ import annotations

import functools
import math

from scipy import special as spc

NAN = float("nan")


@functools.lru_cache(maxsize=1024)
def _tq(alpha: float, df: float) -> float:
    """Two-sided critical value: t quantile, or normal when df is infinite.

    Calls the special functions behind ``scipy.stats.t.ppf`` / ``norm.ppf`` directly (same
    numbers, without the distribution machinery's per-call overhead)."""
    if not (0 < alpha < 1) or not (df > 0):
        return NAN
    if math.isinf(df):
        return float(spc.ndtri(1 - alpha / 2))
    return float(spc.stdtrit(df, 1 - alpha / 2))


two_sided_t = _tq  # public name for callers outside this module


def _p_two_sided(t: float, df: float) -> float:
    """2 × ``scipy.stats.t.sf(|t|, df)`` (normal when df is infinite), via the special functions."""
    if not math.isfinite(t) or not (df > 0):
        return NAN
    if math.isinf(df):
        return float(2 * spc.ndtr(-abs(t)))
    return float(2 * spc.stdtr(df, -abs(t)))
