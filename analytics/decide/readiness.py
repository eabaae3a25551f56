"""The readiness questions a scale decision must answer, each with the evidence the data holds.

Some questions the data can speak to (is the pipeline clean, what happens at peak volume, is the
value tied to money); others only a person can answer (who owns it, who is on call). Every item
says what the data shows, if anything, and what it leaves for the user to answer. Sentences are
made here from the numbers they cite, like the verdict reasons.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal, cast

import pandas as pd

from analytics.core import fmt
from analytics.core.catalog import Catalog, Metric
from analytics.decide.analysis import time_series
from analytics.decide.decisions import DecisionRecord
from analytics.decide.load_report import scale_evidence
from analytics.decide.results import Results
from analytics.engine.aggregate import Filters, data_quality_by_site
from analytics.engine.cadence import DAILY, MONTHLY, WEEKLY
from analytics.store.database import DatasetInfo, Store

Signal = Literal["good", "concern", "unknown"]

QUESTIONS: tuple[tuple[str, str, str], ...] = (
    # key, question, what the user is asked to add
    ("owner", "Who owns the outcome after launch?", "Name the person accountable for the number."),
    (
        "pipeline",
        "Can the data pipeline sustain production without manual work?",
        "Say how the data arrives in production and who fixes it when it breaks.",
    ),
    (
        "managers",
        "Were the managers whose work changes involved?",
        "Name the managers consulted and what they agreed to.",
    ),
    (
        "money",
        "Is there a number tied to revenue, cost or risk?",
        "Say which figure the finance team will track.",
    ),
    ("support", "Who supports it at 2 a.m.?", "Name the on-call team and its escalation path."),
    ("scale", "What breaks at 10× volume?", "Say what was load-tested and what was not."),
)

# Thresholds for calling data quality a concern: beyond these, someone is fixing data by hand.
# Gaps are judged against the data's own cadence (engine/cadence.py): a complete weekly file
# has none, and one missing week (7 days) is a concern.
MISSING_CONCERN = 0.05
REJECTED_CONCERN = 0.01
GAP_DAYS_CONCERN = 3
CADENCES = {c.name: c for c in (DAILY, WEEKLY, MONTHLY)}


@dataclass(frozen=True, slots=True)
class ReadinessItem:
    """One question with what the data says about it."""

    key: str
    question: str
    evidence: tuple[str, ...]
    signal: Signal
    ask: str


def _pct(x: float) -> str:
    return fmt.pct(x, signed=False)


def _find(catalog: Catalog, *words: str) -> tuple[Metric, ...]:
    return tuple(m for m in catalog.metrics if any(w in f"{m.id} {m.label}".lower() for w in words))


def _owner(past: Sequence[DecisionRecord]) -> tuple[tuple[str, ...], Signal]:
    if not past:
        return ("The data does not name an owner, and no decision has been recorded yet.",), (
            "unknown"
        )
    last = past[0]
    return (
        f"The last recorded decision ({last.decided_at:%Y-%m-%d}, {last.label}) named "
        f"{last.owner} as owner.",
    ), "good"


def _gap(row: dict) -> str:
    """The periods a site misses, in the unit of the data's own cadence ('2 weeks'); days
    when the cadence is daily or not known."""
    cadence = CADENCES.get(str(row.get("cadence")))
    if cadence is None or cadence is DAILY or "periods_missing" not in row:
        return DAILY.periods(int(row["days_missing"]))
    return cadence.periods(int(row["periods_missing"]))


def _pipeline(quality: pd.DataFrame, info: DatasetInfo | None) -> tuple[tuple[str, ...], Signal]:
    evidence: list[str] = []
    concern = False
    if info is not None:
        total = info.rows + info.rejected
        share = info.rejected / total if total else 0.0
        concern |= share > REJECTED_CONCERN
        evidence.append(
            f"{info.rejected:,} of {total:,} rows ({_pct(share)}) were rejected at load."
        )
    if not quality.empty:
        rows = quality["rows"].astype(float)
        missing = float((quality["missing_share"] * rows).sum() / rows.sum()) if rows.sum() else 0
        evidence.append(f"{_pct(missing)} of metric values are missing overall.")
        bad = quality[
            (quality["missing_share"] > MISSING_CONCERN)
            | (quality["days_missing"] > GAP_DAYS_CONCERN)
        ]
        for r in bad.itertuples(index=False):
            evidence.append(
                f"{r.site}: {_pct(float(r.missing_share))} of values missing and "
                f"{_gap(r._asdict())} without data."
            )
        concern |= not bad.empty
        if bad.empty:
            cadence = (
                CADENCES.get(str(quality["cadence"].iloc[0])) if "cadence" in quality else None
            )
            gap = (
                f"any {cadence.unit} of its {cadence.name} data"
                if cadence is not None and cadence is not DAILY
                else f"more than {GAP_DAYS_CONCERN} days"
            )
            evidence.append(f"No site misses more than {_pct(MISSING_CONCERN)} of values or {gap}.")
    if not evidence:
        return ("There is no data to judge the pipeline by.",), "unknown"
    return tuple(evidence), "concern" if concern else "good"


def _production_means(series: pd.DataFrame, metric: Metric) -> pd.DataFrame:
    rows = series[(series["metric"] == metric.id) & (series["phase"] == "production")]
    return rows.dropna(subset=["period"]).sort_values("period")


def _managers(
    results: Results, catalog: Catalog, series: pd.DataFrame
) -> tuple[tuple[str, ...], Signal]:
    evidence: list[str] = []
    signal: Signal = "unknown"
    dataset = results.dataset
    phases = dataset.get("phases", {})
    sites = dataset.get("sites", [])
    prod_sites = {s.site for s in results.site_verdicts}
    if phases.get("production"):
        evidence.append(
            f"Production data comes from {len(prod_sites) or 'some'} of {len(sites)} sites; "
            "whether their managers were involved is not in the data."
        )
    for metric in _find(catalog, "adoption", "usage", "active user"):
        means = _production_means(series, metric)
        if len(means) >= 2:
            first, last = float(means["mean"].iloc[0]), float(means["mean"].iloc[-1])
            evidence.append(
                f"{metric.label} went from {first:.3g} to {last:.3g} over "
                f"{len(means)} production periods."
            )
            signal = "good" if metric.sign * (last - first) >= 0 else "concern"
    return tuple(evidence) or ("The data holds no adoption or usage measure.",), signal


def _money(results: Results, catalog: Catalog) -> tuple[tuple[str, ...], Signal]:
    """The value delivered, counted only on outcomes that justify scaling and add up, net of the
    running cost once; or what value at scale still needs."""
    total = results.value_total
    if total is None or total.needs:
        money = _find(catalog, "cost", "revenue", "saved", "saving", "error", "risk", "margin")
        named = ", ".join(m.label for m in money if m.kind == "outcome")
        needs = "; and ".join(total.needs) if total is not None else "inputs"
        return (
            f"Nothing is priced yet: value at scale needs {needs}"
            + (f" ({named} could be priced)." if named else "."),
        ), "unknown"
    cur = total.currency
    if not total.counted:
        return (
            "No outcome both justifies scaling and adds to a total, so no value is counted.",
        ), "concern"
    lo, hi = total.net_ci
    evidence = (
        f"Counted ({', '.join(catalog.get(m).label for m in total.counted)}): "
        f"{fmt.money(total.delivered, cur)} a year delivered at scale, "
        f"{fmt.money(total.net, cur)} net of the running cost "
        f"({fmt.level(total.ci_level)} interval {fmt.money_interval((lo, hi), cur)}).",
    )
    return evidence, "good" if math.isfinite(lo) and lo > 0 else "concern"


def _support(
    results: Results, catalog: Catalog, series: pd.DataFrame
) -> tuple[tuple[str, ...], Signal]:
    evidence: list[str] = []
    signal: Signal = "unknown"
    for metric in _find(catalog, "ticket", "incident", "escalation"):
        effect = results.effect(metric.id, "production_vs_baseline")
        if effect is not None and math.isfinite(effect.lift):
            lo, hi = effect.lift_ci
            good_lo, good_hi = sorted((metric.sign * lo, metric.sign * hi))
            evidence.append(
                f"{metric.label}: an improvement of {fmt.pct(metric.sign * effect.lift)} in "
                f"production against the baseline (change {fmt.pct(effect.lift)}; "
                f"{fmt.level(1 - results.meta.get('settings', {}).get('alpha', 0.05))} interval "
                f"{fmt.pct_interval((good_lo, good_hi))})."
            )
            if good_hi < 0:
                signal = "concern"
            elif good_lo > 0 and signal != "concern":
                signal = "good"
    trends = {t.metric: t for t in results.trends}
    for metric in catalog.processes:
        t = trends.get(metric.id)
        if t is None or not math.isfinite(t.p_value) or t.p_value >= 0.05:
            continue
        if metric.sign * t.slope < 0:
            evidence.append(
                f"{metric.label} is getting worse in production, period after period "
                f"({t.slope:+.3g} a period over {t.periods} periods)."
            )
            signal = "concern"
    if not evidence:
        evidence.append("The data holds no ticket or incident measure and no process decline.")
    return tuple(evidence), signal


def _scale(results: Results, series: pd.DataFrame) -> tuple[tuple[str, ...], Signal]:
    """What breaks at 10× volume: the volume range production ran at, then the load curve's
    answer (decide/load_report.py): the highest multiple observed, that 10× is not, and how
    each outcome's improvement moves with volume."""
    production = series[(series["phase"] == "production")].dropna(subset=["period"])
    if production.empty:
        return ("There is no dated production data to see how volume behaves.",), "unknown"
    # Weighted rows: the volume is the weight total (contacts), not the rows.
    weighted = "w" in production and bool((production["w"] != production["n"]).any())
    volume = production.groupby("period")["w" if weighted else "n"].max().sort_index()
    unit = "in volume (the weight column)" if weighted else "rows"
    evidence, signal = scale_evidence(results.load_curve)
    return (
        f"Production volume ran from {int(volume.min()):,} to {int(volume.max()):,} {unit} a "
        f"period over {len(volume)} periods.",
        *evidence,
    ), cast(Signal, signal)


def assess(
    results: Results,
    catalog: Catalog,
    *,
    series: pd.DataFrame,
    quality: pd.DataFrame,
    info: DatasetInfo | None = None,
    past: Sequence[DecisionRecord] = (),
) -> tuple[ReadinessItem, ...]:
    """Every readiness question with the evidence these results, series and quality give."""
    found = {
        "owner": _owner(past),
        "pipeline": _pipeline(quality, info),
        "managers": _managers(results, catalog, series),
        "money": _money(results, catalog),
        "support": _support(results, catalog, series),
        "scale": _scale(results, series),
    }
    return tuple(
        ReadinessItem(key, question, found[key][0], found[key][1], ask)
        for key, question, ask in QUESTIONS
    )


def well_recorded(series: pd.DataFrame, rows: int, floor: float = 0.5) -> tuple[str, ...]:
    """Metrics recorded on at least `floor` of the rows: the ones whose gaps mean a broken feed.

    A metric recorded on a few cases by design (revenue on sold cases) is missing everywhere and
    says nothing about the pipeline.
    """
    if series.empty or not rows:
        return ()
    counts = series.groupby("metric")["n"].sum()
    return tuple(str(m) for m, n in counts.items() if n >= floor * rows)


def readiness(
    store: Store,
    dataset_id: int,
    catalog: Catalog,
    filters: Filters,
    results: Results,
    past: Sequence[DecisionRecord] = (),
) -> tuple[ReadinessItem, ...]:
    """The readiness questions for a stored dataset: gathers series and quality, then assesses."""
    info = next((d for d in store.datasets() if d.id == dataset_id), None)
    series = time_series(store, dataset_id, catalog, replace(filters, metrics=()))
    dense = [m for m in catalog.ids if m in well_recorded(series, int(results.dataset["rows"]))]
    quality = data_quality_by_site(store.cursor(), dataset_id, dense, filters)
    return assess(results, catalog, series=series, quality=quality, info=info, past=past)
