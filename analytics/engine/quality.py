"""Data quality against the effect, across sites (issue 14, item 4).

Per site three measures of how well it records its data: the share of metric values missing, the
share of its rows set aside at load, and the days without any row inside its date span. Each is
set beside the site's production effect (improvement sign: positive is better) and its
association tested by permutation (site_links.py), Holm-corrected over the three measures. The
sentence that the sites recording their data worst are the ones where the AI fails is said only
when a corrected p clears the verdict's level and worse recording goes with a smaller effect.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from analytics.core import fmt
from analytics.engine.holm import holm
from analytics.engine.site_links import Permutation, permutation_r

MEASURES = {
    "missing_share": "share of values missing",
    "rejected_share": "share of rows set aside at load",
    "gap_days": "days without data",
}


@dataclass(frozen=True, slots=True)
class QualityLink:
    """One quality measure's association with the effect across sites."""

    measure: str
    test: Permutation
    p_holm: float


@dataclass(frozen=True, slots=True)
class QualityAgainstEffect:
    """Per site: the measures and the effect; the tests; the sentence."""

    sites: tuple[str, ...]
    table: tuple[tuple[float, ...], ...]  # per site: missing, rejected, gap days, effect
    links: tuple[QualityLink, ...]
    level: float
    sentence: str


def quality_table(quality: pd.DataFrame, rejected: dict[str, int]) -> pd.DataFrame:
    """site, missing_share, rejected_share, gap_days from the per-site quality frame
    (aggregate.data_quality_by_site) and the load's set-aside rows per site."""
    rows = quality["rows"].astype(float)
    out = quality["site"].astype(str).to_frame()
    out["missing_share"] = quality["missing_share"].astype(float).to_numpy()
    aside = out["site"].map(lambda s: float(rejected.get(s, 0)))
    out["rejected_share"] = (aside / (rows.to_numpy() + aside)).fillna(0.0)
    out["gap_days"] = quality["days_missing"].fillna(0).astype(float).to_numpy()
    return out


def against_effect(
    table: pd.DataFrame, effects: dict[str, float], sign: int, level: float
) -> QualityAgainstEffect:
    """The measures of ``table`` beside each site's effect (metric units; ``sign`` +1 when
    higher is better), tested across the sites that have both."""
    t = table[table["site"].isin(effects)].sort_values("site")
    good = t["site"].map(lambda s: sign * effects[s]).to_numpy(float)
    tests = [permutation_r(t[m].to_numpy(float), good) for m in MEASURES]
    # A measure equal at every site cannot be linked to anything: p = 1, still one of the tests.
    p = [x.p if math.isfinite(x.p) else 1.0 for x in tests]
    adjusted = holm(p)
    links = tuple(QualityLink(m, x, a) for m, x, a in zip(MEASURES, tests, adjusted, strict=True))
    measured = t[list(MEASURES)].to_numpy(float)
    rows = tuple((*(float(v) for v in r), float(g)) for r, g in zip(measured, good, strict=True))
    return QualityAgainstEffect(
        tuple(t["site"]), rows, links, level, _sentence(links, len(t), level)
    )


def _sentence(links: tuple[QualityLink, ...], sites: int, level: float) -> str:
    alpha = 1 - level
    shown = [q for q in links if q.p_holm < alpha and math.isfinite(q.test.r)]
    if not shown:
        return (
            f"No link between data quality and the effect can be shown on {_sites(sites)} "
            f"(permutation tests at the {fmt.level(level)} level, Holm-corrected over "
            f"{len(links)} quality measures)."
        )
    best = min(shown, key=lambda q: q.p_holm)
    detail = (
        f"{MEASURES[best.measure]}: r = {best.test.r:+.2f}, Holm-corrected p = "
        f"{best.p_holm:.3g} over {len(links)} quality measures, {best.test.words()}; "
        f"level {fmt.level(level)}"
    )
    if best.test.r < 0:
        return f"The sites that record their data worst are the ones where the AI fails ({detail})."
    return f"The sites that record their data worst show the larger effects ({detail})."


def _sites(k: int) -> str:
    return f"{k} site" if k == 1 else f"{k} sites"
