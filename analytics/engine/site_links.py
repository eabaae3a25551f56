"""What data quality and adoption are tested with across sites (issue 14, items 4 and 5): each
site's production effect, and a permutation test of the association of a per-site measure with
it, the sites being few.

The test shuffles which site's measure goes with which effect. With up to ``EXACT_SITES`` sites
every ordering is taken (9! = 362,880); with more, ``RESAMPLES`` seeded random orderings.
p-values follow scipy.stats.permutation_test (permutation_type="pairings"): two-sided is twice
the smaller tail, a tail counts the orderings at least as extreme (with a relative tolerance of
100 machine epsilons), and a Monte Carlo p adds one to both counts.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from analytics.engine.imputation import linear_estimate
from analytics.engine.panel import Panel

EXACT_SITES = 9
RESAMPLES = 9999
SEED = 14


@dataclass(frozen=True, slots=True)
class Permutation:
    """A permutation test of Pearson's r between a per-site measure and the effect."""

    r: float
    p: float
    exact: bool
    orderings: int  # orderings compared: all of them, or the random draws

    def words(self) -> str:
        if self.exact:
            return f"exact permutation test over all {self.orderings:,} orderings of the sites"
        return f"permutation test on {self.orderings:,} random orderings (seed {SEED})"


def site_effects(panel: Panel) -> dict[str, float]:
    """Each site's production effect (metric units): the imputation estimate over its covered
    production cells, as its site verdict reads it."""
    prod = panel.treated("production")
    out = {}
    for s, name in enumerate(panel.sites):
        tau, _, _, v = linear_estimate(panel, prod & (panel.site == s))  # the slice's own
        if v.sum() > 0:
            out[name] = tau.estimate
    return out


def production_means(panel: Panel) -> dict[str, float]:
    """Each site's W-weighted mean over its production cells (adoption: the share of its
    production cases handled with the AI)."""
    prod = panel.treated("production")
    out = {}
    for s, name in enumerate(panel.sites):
        on = prod & (panel.site == s)
        if on.any():
            out[name] = float((panel.w[on] * panel.mean[on]).sum() / panel.w[on].sum())
    return out


@lru_cache(maxsize=4)
def _all_orderings(n: int) -> np.ndarray:
    return np.array(list(itertools.permutations(range(n))), dtype=np.int8)


@lru_cache(maxsize=4)
def _seeded_orderings(n: int) -> np.ndarray:
    """The RESAMPLES random orderings of n sites drawn from SEED: the same for every test of n
    sites, so drawn once (they depend on nothing else)."""
    # Row by row, the same draws as RESAMPLES successive rng.permutation(n) (checked in
    # tests/test_placebo_batch.py), in one call.
    out = np.random.default_rng(SEED).permuted(np.tile(np.arange(n), (RESAMPLES, 1)), axis=1)
    out.flags.writeable = False
    return out


def _r(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson's r of each row of x with y."""
    xc = x - x.mean(axis=-1, keepdims=True)
    yc = y - y.mean()
    return (xc @ yc) / np.sqrt((xc * xc).sum(axis=-1) * (yc @ yc))


def permutation_r(x: np.ndarray, y: np.ndarray) -> Permutation:
    """Two-sided permutation test of r(x, y); NaN when either does not vary or n < 3."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    n = len(x)
    if n < 3 or np.ptp(x) <= 0 or np.ptp(y) <= 0:
        return Permutation(math.nan, math.nan, True, 0)
    observed = float(_r(x, y))
    exact = n <= EXACT_SITES
    if exact:
        null = np.concatenate([_r(x[c], y) for c in np.array_split(_all_orderings(n), 8)])
        extra = 0
    else:
        null = _r(x[_seeded_orderings(n)], y)
        extra = 1
    gamma = abs(observed) * np.finfo(float).eps * 100
    less = (np.count_nonzero(null <= observed + gamma) + extra) / (len(null) + extra)
    more = (np.count_nonzero(null >= observed - gamma) + extra) / (len(null) + extra)
    return Permutation(observed, float(min(2 * min(less, more), 1.0)), exact, len(null))
