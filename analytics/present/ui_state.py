"""What the dashboard shows, as plain values: the sentences and small tables the pages draw from a
Results object (answers, verdict counts, pilot against production, site lists, worst slices).

Pure functions, no Streamlit: the pages read widgets and call these, and the tests call them
directly. The view and its URL form live in view_state, the catalog editor in catalog_editor,
data quality in quality_view, the local path rule in path_policy; their names are also
imported here, where the pages have always found them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from analytics.core import fmt
from analytics.core.catalog import Catalog
from analytics.decide.results import Results
from analytics.decide.verdict import VERDICT_LABELS
from analytics.present import charts
from analytics.present.catalog_editor import (
    CATALOG_COLUMNS,
    catalog_frame,
    catalog_from_frame,
    catalog_with_settings,
)
from analytics.present.path_policy import LOCAL_ADDRESSES, local_paths_allowed
from analytics.present.quality_view import (
    SET_ASIDE,
    SET_ASIDE_HELP,
    periods_before_ai,
    projection_note,
    quality_table,
    rejected_summary,
    set_aside_by_site,
    status_items,
)
from analytics.present.view_state import (
    GRAINS,
    QUERY_KEYS,
    Options,
    View,
    catalog_from_json,
    catalog_to_json,
    filters_from_dict,
    filters_from_json,
    filters_to_json,
    fit_view,
    view_from_query,
    view_to_query,
)


def _finite(x: float | None) -> bool:
    return fmt.finite(x)


def fmt_pct(x: float | None, signed: bool = True) -> str:
    """A relative change as a percentage (`+12.3%`), or a share (`38%`); `n/a` without one."""
    return fmt.pct(x) if signed else fmt.pct(x, signed=False, digits=0)


def fmt_ci(ci: Sequence[float] | None) -> str:
    """An interval of relative changes: `-18.0% to -12.1%`."""
    return fmt.pct_interval(ci)


def fmt_money(x: float | None, currency: str = "") -> str:
    return fmt.money(x, currency)


def fmt_count(x: int | float | None) -> str:
    return fmt.count(x)


def interval_sentence(results: Results) -> str:
    """The level of the verdicts' intervals in words, once per view."""
    if not results.verdicts:
        return fmt.interval_words(1 - _alpha(results), 1)
    return fmt.interval_words(results.verdicts[0].ci_level, len(results.verdicts))


def _alpha(results: Results) -> float:
    return float(results.meta.get("settings", {}).get("alpha", 0.05))


def catalog_sentence(results: Results) -> str:
    """Which catalog the analysis used: a file's name, or keyword guesses."""
    source = str(results.meta.get("catalog_source") or "keyword guesses")
    if source == "keyword guesses":
        return "Catalog: keyword guesses (no catalog file was given; check the Data page)."
    return f"Catalog: {source}."


def value_lines(results: Results) -> tuple[str, tuple[str, ...]]:
    """Value at scale in words: the headline, then what is not counted (or what is needed)."""
    total = results.value_total
    if total is None:
        return "No outcome was judged, so nothing is priced.", ()
    if total.needs:
        return "Value at scale needs " + "; and ".join(total.needs) + ".", ()
    return charts.value_title(results) + ".", tuple(charts.not_counted_lines(results))


@dataclass(frozen=True, slots=True)
class Answer:
    """One outcome metric's answer, as the home page states it.

    `promised` and `delivered` are improvements (positive = better, like the verdict reasons and
    the scorecard), `change` the raw change of the metric in production beside it; the interval
    is the verdict's, at its level. `reasons` are the verdict's reasons, whole.
    """

    metric: str
    label: str
    verdict: str
    verdict_label: str
    pilot_verdict: str
    pilot_label: str
    promised: str
    delivered: str
    delivered_ci: str
    change: str
    retention: str
    plain: str
    reasons: tuple[str, ...]

    @property
    def reason(self) -> str:
        return " ".join(self.reasons)


def _moved(label: str, lift: float | None, where: str) -> str:
    if not _finite(lift):
        return f"{label}: no estimate {where}"
    return f"{label} {'rose' if lift > 0 else 'fell'} {abs(lift) * 100:.1f}% {where}"


def _story(label: str, production: float | None, pilot: float | None) -> str:
    """What production and the pilot did, as one sentence whatever is missing."""
    if not _finite(production) and not _finite(pilot):
        return f"{label}: no estimate in production or in the pilot"
    if not _finite(pilot):
        return f"{_moved(label, production, 'in production')} (no pilot estimate)"
    if not _finite(production):
        return (
            f"{label}: no estimate in production (it {_moved('', pilot, 'in the pilot').strip()})"
        )
    return f"{_moved(label, production, 'in production')} ({_moved('', pilot, 'in the pilot').strip()})"


def _good_ci(sign: int, ci: Sequence[float]) -> str:
    lo, hi = sorted((sign * ci[0], sign * ci[1]))
    return fmt_ci((lo, hi))


NO_PILOT = "no pilot in the data"


def has_pilot(results: Results) -> bool:
    """Whether the analysed rows hold a pilot (a file of baseline and production has none)."""
    return bool((results.dataset.get("phases") or {}).get("pilot"))


def answers(results: Results, catalog: Catalog) -> tuple[Answer, ...]:
    """One answer per outcome metric: its verdict, what the pilot promised, what production gives."""
    piloted = has_pilot(results)
    out = []
    for v in results.verdicts:
        sign = catalog.get(v.metric).sign if v.metric in catalog.ids else 1
        better = "lower" if sign < 0 else "higher"
        lo, hi = sorted((sign * v.ci[0], sign * v.ci[1]))
        out.append(
            Answer(
                metric=v.metric,
                label=v.label,
                verdict=v.verdict,
                verdict_label=VERDICT_LABELS[v.verdict],
                pilot_verdict=v.pilot_verdict,
                pilot_label=VERDICT_LABELS[v.pilot_verdict] if piloted else NO_PILOT,
                promised=fmt.pct(sign * v.pilot_estimate),
                delivered=fmt.pct(sign * v.estimate),
                delivered_ci=f"{fmt.pct_interval((lo, hi))} ({fmt.level(v.ci_level)})",
                change=fmt.pct(v.estimate),
                retention=fmt_pct(v.retention, signed=False) if v.retention is not None else "n/a",
                plain=f"{_story(v.label, v.estimate, v.pilot_estimate)}; {better} is better.",
                reasons=v.reasons,
            )
        )
    return tuple(out)


def verdict_counts(results: Results) -> dict[str, int]:
    """How many outcome metrics got each verdict, in the rules' order."""
    counts = dict.fromkeys(VERDICT_LABELS, 0)
    for v in results.verdicts:
        counts[v.verdict] += 1
    return counts


def pilot_production_table(results: Results, catalog: Catalog) -> pd.DataFrame:
    """Per shown metric: the adjusted pilot and production improvements (positive = better)
    beside their raw changes, production's interval (the verdict's, for an outcome) and the
    share of the pilot's improvement production keeps."""
    retention = {r.metric: r.retention for r in results.retention if r.slice_type == "overall"}
    rows = []
    for metric in catalog.metrics:
        phases = {p.phase: p for p in charts.phase_effects(results, metric.id)}
        if not phases:
            continue
        pilot, production = phases.get("pilot"), phases.get("production")
        rows.append(
            {
                "Metric": metric.label,
                "Better when": metric.direction,
                "Pilot improvement": fmt.pct(pilot.improvement if pilot else None),
                "Pilot change": fmt.pct(pilot.change if pilot else None),
                "Improvement": fmt.pct(production.improvement if production else None),
                "Change": fmt.pct(production.change if production else None),
                "Interval (improvement)": (
                    f"{fmt.pct_interval((production.low, production.high))} "
                    f"({fmt.level(production.level)})"
                    if production
                    else "n/a"
                ),
                "Retention": fmt_pct(retention.get(metric.id), signed=False),
            }
        )
    return pd.DataFrame(rows)


def site_lists(results: Results, metric_id: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Sites ready now (verdict scale) and sites that must be fixed first, for one metric."""
    rows = [s for s in results.site_verdicts if s.metric == metric_id]
    ready = tuple(s.site for s in rows if s.verdict == "scale")
    bad = tuple(s.site for s in rows if s.verdict in ("fix_first", "do_not_scale"))
    return ready, bad


def worst_slices(results: Results, catalog: Catalog, metric_id: str, n: int = 5) -> pd.DataFrame:
    """The slices where production does worst against baseline, worst first: the improvement
    (positive = better) beside the raw change, with its interval at 1 - alpha.

    Sites and channels come from the adjusted model, each against its own counterfactual (the
    verdicts use the same numbers); naive before/after slices are left out on purpose.
    """
    metric = catalog.get(metric_id)
    level = 1 - _alpha(results)
    rows = []
    for e in results.effects:
        if e.metric != metric_id or e.comparison != "production_vs_baseline":
            continue
        if e.slice_type not in ("site", "channel") or not e.adjusted or not _finite(e.lift):
            continue
        lo, hi = sorted((metric.sign * e.lift_ci[0], metric.sign * e.lift_ci[1]))
        rows.append(
            {
                "Slice": str(e.slice),
                "Kind": e.slice_type,
                "Better when": metric.direction,
                "Improvement": metric.sign * e.lift,
                "Change": fmt.pct(e.lift),
                f"Interval (improvement, {fmt.level(level)})": fmt.pct_interval((lo, hi)),
                "Production rows": e.n_a,
            }
        )
    columns = ["Slice", "Kind", "Better when", "Improvement", "Change"]
    columns += [f"Interval (improvement, {fmt.level(level)})", "Production rows"]
    if not rows:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(rows, columns=columns).sort_values("Improvement").head(n)
    frame["Improvement"] = frame["Improvement"].map(fmt.pct)
    return frame.reset_index(drop=True)


__all__ = [
    # view_state
    "GRAINS", "QUERY_KEYS", "Options", "View", "catalog_from_json", "catalog_to_json",
    "filters_from_dict", "filters_from_json", "filters_to_json", "fit_view", "view_from_query",
    "view_to_query",
    # catalog_editor
    "CATALOG_COLUMNS", "catalog_frame", "catalog_from_frame", "catalog_with_settings",
    # quality_view
    "SET_ASIDE", "SET_ASIDE_HELP", "periods_before_ai", "projection_note", "quality_table",
    "rejected_summary", "set_aside_by_site", "status_items",
    # path_policy
    "LOCAL_ADDRESSES", "local_paths_allowed",
    # this module
    "Answer", "answers", "catalog_sentence", "fmt_ci", "fmt_count", "fmt_money", "fmt_pct",
    "interval_sentence", "pilot_production_table", "site_lists", "value_lines",
    "verdict_counts", "worst_slices",
]  # fmt: skip
