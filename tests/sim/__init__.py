"""Verdicts on simulated rollouts: the checks a real rollout puts to the product.

`python -m tests.sim [--runs N] [--only a,b,...]` draws N rollouts per scenario (default 200)
from tests/rollouts.py, the one rollout factory, and reads the verdict each would get: the
imputation estimate, its few-sites test, rule 3's site flags corrected across the family, the
retention and rules 1-5 exactly as analysis.py assembles them (decide/rollout.py, verdict.py).
Rates carry their 95% Clopper-Pearson interval. tests/test_sim_scenarios.py runs a few draws
of each in the default suite; the full runs are slow (minutes) and stay out of it.

Scenarios (monthly cells, 50 ± site level, trend + season, AR(1) site shocks, a site's local
luck; the smallest effect worth scaling 5% of the level):
a  no effect, 2-3 staggered waves over 4-20 sites (some never live): "scale"/"fix first" are
   false positives and must stay within α = 5%;
b  a true +10% that ramps up over 3-6 months after each wave's go-live: "do not scale" must
   not happen; the share called "scale" is the power;
c  a one-site pilot with local luck during its pilot and no effect anywhere: the pilot's
   placebo test must be significant in at most α of runs (what the pilot team's own report
   says — the two-way model with HC1 errors, shown beside the verdict — is counted beside it),
   production never "scale";
d  two of the sites opened with the AI (no baseline row): their rows are set aside (coverage
   below 1, the warning says so) and the estimate equals the one without them;
e  a +12% that fades (halving every 2 months): the event study's horizons fall and the chart's
   title says it fades;
f  4 staggered sites + 2 never-treated: a +10% effect reaches "scale" (power), and with no
   effect "scale"/"fix first" stay within α.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from scipy import stats as sps

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the factory: tests/rollouts.py

from rollouts import Rollout, simulate  # noqa: E402

from analytics.core.catalog import Metric, Settings  # noqa: E402
from analytics.decide.rollout import (  # noqa: E402
    analyse_rollout,
    correct_family,
    still_growing,
    warnings_for,
    worse_slices,
)
from analytics.decide.verdict import Evidence, decide  # noqa: E402
from analytics.engine.adjusted import fit_adjusted  # noqa: E402
from analytics.engine.panel import prepare_panel  # noqa: E402
from analytics.engine.staggered import imputation  # noqa: E402
from analytics.present.rollout_charts import _shape  # noqa: E402

ALPHA = 0.05
LEVEL = 50.0  # the factory's grand level: +10% is +5
METRIC = Metric("y", "Outcome", direction="higher", min_effect=0.05)


@dataclass(frozen=True, slots=True)
class Rate:
    """k of n with its 95% Clopper-Pearson interval."""

    k: int
    n: int

    @property
    def share(self) -> float:
        return self.k / self.n if self.n else math.nan

    @property
    def ci(self) -> tuple[float, float]:
        lo = sps.beta.ppf(0.025, self.k, self.n - self.k + 1) if self.k > 0 else 0.0
        hi = sps.beta.ppf(0.975, self.k + 1, self.n - self.k) if self.k < self.n else 1.0
        return float(lo), float(hi)

    def __str__(self) -> str:
        lo, hi = self.ci
        return f"{self.k}/{self.n} = {self.share:.1%} (95% CI {lo:.1%} to {hi:.1%})"


def verdict_of(cells, metric: Metric = METRIC, alpha: float = ALPHA):
    """(verdict, MetricRollout) for one outcome's cells, as analysis.py decides it."""
    roll = analyse_rollout(cells, alpha)
    if roll is None:
        return "need_more_data", None
    roll = correct_family({metric.id: roll})[metric.id]
    est = roll.production
    level = 1 - alpha
    lo, hi = est.lift_ci(level)
    ret = roll.retention
    prod_rows = int(round(roll.panel.n[roll.production_mask].sum()))
    evidence = Evidence(
        metric=metric, phase="production", lift=est.lift, lift_low=lo, lift_high=hi,
        ci_level=level, method=est.method, n_rows=prod_rows, n_sites=roll.production_sites,
        dataset_sites=est.clusters,
        worse_slices=tuple(s.name for s in worse_slices(roll, metric.sign, alpha)),
        retention=ret.estimate if ret else None, retention_high=ret.ci_high if ret else None,
        note=est.note, placebo=est.placebo, treated_sites=est.treated_sites,
        still_growing=still_growing(roll, metric.sign),
    )  # fmt: skip
    return decide(evidence, Settings(alpha=alpha)).verdict, roll


def _waves(rng: np.random.Generator, periods: int = 30) -> tuple[int | None, ...]:
    """4-20 sites in 2-3 waves between months 6 and 20; about one in five never live."""
    sites = int(rng.integers(4, 21))
    dates = np.sort(rng.choice(np.arange(6, 21), size=int(rng.integers(2, 4)), replace=False))
    starts = [int(rng.choice(dates)) if rng.random() > 0.2 else None for _ in range(sites)]
    if all(s is None for s in starts):
        starts[0] = int(dates[0])
    return tuple(starts)


def _design(rng, effect=lambda h, g: 0.0, **kw) -> Rollout:
    base = {"periods": 30, "shock_sd": 1.0, "ar": 0.5, "luck_sd": 1.0, "noise_sd": 6.0}
    sizes = tuple(int(x) for x in rng.integers(20, 80, 20))
    starts = kw.pop("starts", None) or _waves(rng)
    return Rollout(starts, sizes=sizes[: len(starts)], effect=effect, **(base | kw))


def scenario_a(runs: int, seed: int = 11) -> dict[str, Rate]:
    rng = np.random.default_rng(seed)
    verdicts = [verdict_of(simulate(_design(rng), rng))[0] for _ in range(runs)]
    return {
        "false positives (scale or fix first)": Rate(
            sum(v in ("scale", "fix_first") for v in verdicts), runs
        ),
        "scale": Rate(verdicts.count("scale"), runs),
        "fix first": Rate(verdicts.count("fix_first"), runs),
    }


def scenario_b(runs: int, seed: int = 12) -> dict[str, Rate]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(runs):
        ramp = int(rng.integers(3, 7))
        effect = lambda h, g, r=ramp: 0.10 * LEVEL * min(1.0, (h + 1) / r)  # noqa: E731
        out.append(verdict_of(simulate(_design(rng, effect), rng))[0])
    return {
        "called do not scale (must be 0)": Rate(out.count("do_not_scale"), runs),
        "power: scale": Rate(out.count("scale"), runs),
        "inconclusive": Rate(out.count("need_more_data"), runs),
        "fix first": Rate(out.count("fix_first"), runs),
    }


def scenario_c(runs: int, seed: int = 13) -> dict[str, Rate]:
    rng = np.random.default_rng(seed)
    sig, naive, scale = 0, 0, 0
    for _ in range(runs):
        design = _design(rng, pilot=(0, 6, 8), luck_sd=1.5)
        design = Rollout(
            (12,) + design.starts[1:], **{k: v for k, v in design.__dict__.items()
                                          if k != "starts"},
        )  # fmt: skip
        cells = simulate(design, rng)
        verdict, roll = verdict_of(cells)
        scale += verdict == "scale"
        pilot = roll.pilot
        sig += pilot.p_value <= ALPHA
        team = fit_adjusted(cells, alpha=ALPHA).pilot  # what the product shows beside it
        naive += team is not None and (team.ci_low > 0 or team.ci_high < 0)
    return {
        "pilot significant (placebo test)": Rate(sig, runs),
        "what the pilot team's own report says (two-way model, HC1): significant": Rate(
            naive, runs
        ),
        "production called scale": Rate(scale, runs),
    }


def scenario_d(runs: int, seed: int = 14) -> dict[str, Rate]:
    rng = np.random.default_rng(seed)
    same, said, counted = 0, 0, 0
    for _ in range(runs):
        starts = _waves(rng)
        starts = starts + (int(rng.integers(6, 21)), int(rng.integers(6, 21)))
        opened = (len(starts) - 2, len(starts) - 1)
        design = _design(rng, lambda h, g: 0.10 * LEVEL, starts=starts, opens_live=opened)
        design = Rollout(**{**design.__dict__, "sizes": tuple(40 for _ in starts)})
        cells = simulate(design, rng)
        with_them = analyse_rollout(cells, ALPHA, with_slices=False)
        without = cells[~cells["site"].isin([f"S{s:02d}" for s in opened])]
        panel = prepare_panel(without)
        alone = imputation(panel, panel.treated("production"), test=False)
        est = with_them.production
        both_none = math.isnan(est.estimate) and math.isnan(alone.estimate)  # nothing judged
        same += both_none or math.isclose(est.estimate, alone.estimate, rel_tol=1e-9)
        said += est.coverage < 1 and any("no baseline rows" in w for w in warnings_for(with_them))
        counted += (
            with_them.production_sites == int(sum(g is not None for g in starts[: opened[0]]))
            and est.clusters == len(starts) - 2
        )
    return {
        "estimate unchanged by the sites that opened live": Rate(same, runs),
        "coverage below 1 and the warning names sites without baseline rows": Rate(said, runs),
        "left out of rule 1's site count and of the clusters": Rate(counted, runs),
    }


def scenario_e(runs: int, seed: int = 15) -> dict[str, Rate]:
    rng = np.random.default_rng(seed)
    fades, falls = 0, 0
    for _ in range(runs):
        starts = (6,) * 6 + (None,) * 6
        effect = lambda h, g: 0.12 * LEVEL * 0.5 ** (h / 2)  # noqa: E731
        cells = simulate(_design(rng, effect, starts=starts, periods=18), rng)
        roll = analyse_rollout(cells, ALPHA)
        horizons = roll.event_study.horizons
        fades += _shape(SimpleNamespace(event_study=horizons)) == "fades"
        first, last = horizons[0], horizons[-1]
        falls += first.lift_ci[0] > last.lift_ci[1]  # the intervals do not even overlap
    return {
        "chart title says the effect fades": Rate(fades, runs),
        "first horizon's interval entirely above the last's": Rate(falls, runs),
    }


def scenario_f(runs: int, seed: int = 16) -> dict[str, Rate]:
    rng = np.random.default_rng(seed)
    starts = (6, 9, 12, 15, None, None)
    found = {}
    for size in (0.10, 0.0):
        verdicts = []
        for _ in range(runs):
            effect = lambda h, g, e=size: e * LEVEL  # noqa: E731
            cells = simulate(_design(rng, effect, starts=starts, periods=24), rng)
            verdicts.append(verdict_of(cells)[0])
        if size:
            found["power: scale with +10%"] = Rate(verdicts.count("scale"), runs)
            found["inconclusive with +10%"] = Rate(verdicts.count("need_more_data"), runs)
        else:
            found["false positives (scale or fix first), no effect"] = Rate(
                sum(v in ("scale", "fix_first") for v in verdicts), runs
            )
    return found


SCENARIOS: dict[str, Callable[[int], dict[str, Rate]]] = {
    "a": scenario_a, "b": scenario_b, "c": scenario_c, "d": scenario_d, "e": scenario_e,
    "f": scenario_f,
}  # fmt: skip
