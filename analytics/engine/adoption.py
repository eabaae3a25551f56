"""Adoption against the effect, across sites: the dose-response (issue 14, item 5).

Adoption is a usage share (the share of a site's production cases handled with the AI; a
column named adoption, usage, handled by AI, AI share, automation rate, or mapped so). A site's
adoption is its W-weighted mean over production cells; its effect the imputation estimate of
an outcome there, signed so that positive is better. The slope is ordinary least squares of
effect on adoption across sites (each site one point), with a t interval on S − 2 degrees of
freedom at the verdict's level and a permutation p (site_links.py; the slope's p equals r's,
the shuffles keeping both margins). Low adoption with a low effect reads as teams routing around
the AI rather than a failing model, and is said only when the slope clears the level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from analytics.core import fmt
from analytics.engine.quantiles import two_sided_t
from analytics.engine.site_links import Permutation, permutation_r


@dataclass(frozen=True, slots=True)
class DoseResponse:
    """Effect (improvement, metric units) per unit of adoption share, across sites."""

    sites: tuple[str, ...]
    adoption: tuple[float, ...]
    effect: tuple[float, ...]
    slope: float  # improvement per 1.0 of adoption share (per 100 points)
    se: float
    ci: tuple[float, float]
    level: float
    test: Permutation
    sentence: str


def dose_response(
    adoption: dict[str, float], effects: dict[str, float], sign: int, level: float
) -> DoseResponse:
    """The dose-response across the sites with both an adoption share and an effect."""
    sites = tuple(sorted(set(adoption) & set(effects)))
    x = np.array([adoption[s] for s in sites], float)
    y = np.array([sign * effects[s] for s in sites], float)
    slope = se = math.nan
    ci = (math.nan, math.nan)
    if len(sites) >= 3 and np.ptp(x) > 0:
        xc = x - x.mean()
        slope = float(xc @ (y - y.mean()) / (xc @ xc))
        resid = y - y.mean() - slope * xc
        se = math.sqrt(float(resid @ resid) / (len(x) - 2) / float(xc @ xc))
        q = two_sided_t(1 - level, len(x) - 2)
        ci = (slope - q * se, slope + q * se)
    test = permutation_r(x, y)
    return DoseResponse(
        sites, tuple(x), tuple(y), slope, se, ci, level, test,
        _sentence(slope, ci, test, len(sites), level),
    )  # fmt: skip


def _sentence(
    slope: float, ci: tuple[float, float], test: Permutation, sites: int, level: float
) -> str:
    if not (math.isfinite(test.p) and test.p < 1 - level and ci[0] * ci[1] > 0):
        return (
            f"No dose-response can be shown on {sites} site{'' if sites == 1 else 's'}: the "
            "effect does not follow "
            f"adoption at the {fmt.level(level)} level on this data."
        )
    detail = (
        f"{slope / 10:+.3g} in the metric's units per 10 points of adoption, {fmt.level(level)} "
        f"interval {ci[0] / 10:+.3g} to {ci[1] / 10:+.3g}; permutation p = {test.p:.3g}, "
        f"{test.words()}"
    )
    if slope > 0:
        return (
            "The effect follows adoption: the sites where the AI does least are the ones that "
            f"use it least, so teams routing around it explain them, not a failing model ({detail})."
        )
    return f"The effect falls as adoption rises ({detail})."
