"""What the dashboard shows, as plain values: the shared view (dataset and filters) with its URL
form, and the small tables the pages draw from a Results object.

Pure functions, no Streamlit: the pages read widgets and call these, and the tests call them
directly. A view travels in the URL so that a colleague opening a shared link sees the same
numbers; anything in a URL is untrusted, so parsing drops what does not fit the dataset.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, cast

import pandas as pd

from analytics.core.catalog import Catalog, Metric, Settings, apply_overrides
from analytics.core.errors import ScalegateError
from analytics.core.types import Grain
from analytics.decide.results import Results
from analytics.decide.verdict import VERDICT_LABELS
from analytics.engine.aggregate import Filters

GRAINS: tuple[Grain, ...] = ("week", "month")


# -- the shared view ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class View:
    """The sidebar's choices. Empty tuples and None mean "everything" or "the catalog's default"."""

    dataset_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    sites: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    grain: Grain | None = None
    annual_volume: float | None = None
    run_cost: float | None = None

    def filters(self, default_grain: Grain = "month") -> Filters:
        """The engine's Filters for this view."""
        return Filters(
            date_from=self.date_from,
            date_to=self.date_to,
            sites=self.sites,
            channels=self.channels,
            grain=self.grain or default_grain,
            metrics=self.metrics,
        )


@dataclass(frozen=True, slots=True)
class Options:
    """What a dataset offers to choose from (its unfiltered sites, channels, metrics, dates)."""

    dataset_ids: tuple[int, ...]
    sites: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    date_min: date | None = None
    date_max: date | None = None


def filters_from_dict(d: Mapping[str, Any]) -> Filters:
    """Filters from their `to_dict` form (results.json's meta, a decision snapshot, a cache key)."""
    grain = d.get("grain")
    return Filters(
        date_from=_parse_date(d.get("date_from")),
        date_to=_parse_date(d.get("date_to")),
        sites=tuple(d.get("sites") or ()),
        channels=tuple(d.get("channels") or ()),
        grain=cast(Grain, grain) if grain in GRAINS else "month",
        metrics=tuple(d.get("metrics") or ()),
    )


def filters_to_json(filters: Filters) -> str:
    return json.dumps(filters.to_dict(), sort_keys=True)


def filters_from_json(text: str) -> Filters:
    return filters_from_dict(json.loads(text))


def catalog_to_json(catalog: Catalog) -> str:
    """A catalog as one JSON string: a plain, hashable cache key that round-trips exactly."""
    return json.dumps(catalog.to_dict(), sort_keys=False)


def catalog_from_json(text: str) -> Catalog:
    doc = json.loads(text)
    metrics = tuple(
        Metric(**{**spec, "guards": tuple(spec.get("guards") or ())})
        for spec in doc["metrics"].values()
    )
    return Catalog(metrics, Settings(**doc["settings"]))


# URL keys: short, stable, documented here once.
_Q_DATASET, _Q_FROM, _Q_TO, _Q_SITE, _Q_CHANNEL = "dataset", "from", "to", "site", "channel"
_Q_METRIC, _Q_GRAIN, _Q_VOLUME, _Q_COST = "metric", "grain", "volume", "cost"
QUERY_KEYS = (_Q_DATASET, _Q_FROM, _Q_TO, _Q_SITE, _Q_CHANNEL, _Q_METRIC, _Q_GRAIN)
QUERY_KEYS += (_Q_VOLUME, _Q_COST)


def _number_text(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def view_to_query(view: View) -> dict[str, str | list[str]]:
    """The URL query of a view: only what differs from "everything / default"."""
    query: dict[str, str | list[str]] = {}
    if view.dataset_id is not None:
        query[_Q_DATASET] = str(view.dataset_id)
    if view.date_from is not None:
        query[_Q_FROM] = view.date_from.isoformat()
    if view.date_to is not None:
        query[_Q_TO] = view.date_to.isoformat()
    for key, values in ((_Q_SITE, view.sites), (_Q_CHANNEL, view.channels)):
        if values:
            query[key] = list(values)
    if view.metrics:
        query[_Q_METRIC] = list(view.metrics)
    if view.grain is not None:
        query[_Q_GRAIN] = view.grain
    if view.annual_volume is not None:
        query[_Q_VOLUME] = _number_text(view.annual_volume)
    if view.run_cost is not None:
        query[_Q_COST] = _number_text(view.run_cost)
    return query


def _first(params: Mapping[str, Sequence[str]], key: str) -> str | None:
    values = params.get(key) or ()
    return values[-1] if values else None


def _parse_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _parse_number(text: str | None) -> float | None:
    try:
        value = float(text) if text else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) and value >= 0 else None


def view_from_query(params: Mapping[str, Sequence[str]]) -> View:
    """A view from URL parameters (each key to all its values); what does not parse is dropped."""
    dataset = _first(params, _Q_DATASET)
    grain = _first(params, _Q_GRAIN)
    return View(
        dataset_id=int(dataset) if dataset and dataset.isdigit() else None,
        date_from=_parse_date(_first(params, _Q_FROM)),
        date_to=_parse_date(_first(params, _Q_TO)),
        sites=tuple(dict.fromkeys(params.get(_Q_SITE) or ())),
        channels=tuple(dict.fromkeys(params.get(_Q_CHANNEL) or ())),
        metrics=tuple(dict.fromkeys(params.get(_Q_METRIC) or ())),
        grain=cast(Grain, grain) if grain in GRAINS else None,
        annual_volume=_parse_number(_first(params, _Q_VOLUME)),
        run_cost=_parse_number(_first(params, _Q_COST)),
    )


def fit_view(view: View, options: Options) -> View:
    """The view narrowed to what the dataset offers: unknown names dropped, dates clamped.

    A selection that covers every option, or a date range that covers the whole span, becomes
    "everything", so the URL stays short and the cache key stable.
    """

    def keep(chosen: tuple[str, ...], offered: tuple[str, ...]) -> tuple[str, ...]:
        kept = tuple(c for c in chosen if c in offered)
        return () if set(kept) == set(offered) else kept

    lo, hi = options.date_min, options.date_max
    date_from, date_to = view.date_from, view.date_to
    if lo is None or hi is None:
        date_from = date_to = None
    else:
        date_from = min(max(date_from, lo), hi) if date_from else None
        date_to = max(min(date_to, hi), lo) if date_to else None
        if date_from and date_to and date_from > date_to:
            date_from, date_to = date_to, date_from
        date_from = None if date_from == lo else date_from
        date_to = None if date_to == hi else date_to
    dataset_id = view.dataset_id if view.dataset_id in options.dataset_ids else None
    return replace(
        view,
        dataset_id=dataset_id,
        date_from=date_from,
        date_to=date_to,
        sites=keep(view.sites, options.sites),
        channels=keep(view.channels, options.channels),
        metrics=keep(view.metrics, options.metrics),
    )


# -- numbers as a reader sees them ----------------------------------------------------------------


def _finite(x: float | None) -> bool:
    return x is not None and isinstance(x, int | float) and math.isfinite(x)


def fmt_pct(x: float | None, signed: bool = True) -> str:
    """A relative change as a percentage (`+12.3%`), or `n/a`."""
    if not _finite(x):
        return "n/a"
    return f"{x * 100:+.1f}%" if signed else f"{x * 100:.0f}%"


def fmt_ci(ci: Sequence[float] | None) -> str:
    """An interval of relative changes: `-18.0% to -12.1%`."""
    if not ci or not all(_finite(v) for v in ci):
        return "n/a"
    return f"{fmt_pct(ci[0])} to {fmt_pct(ci[1])}"


def fmt_money(x: float | None) -> str:
    """A yearly amount, rounded to what a board reads: `1.2M`, `340k`, `-12k`."""
    if not _finite(x):
        return "n/a"
    sign = "-" if x < 0 else ""
    a = abs(float(x))
    if a >= 1e6:
        return f"{sign}{a / 1e6:.1f}M"
    if a >= 1e3:
        return f"{sign}{a / 1e3:.0f}k"
    return f"{sign}{a:.0f}"


def fmt_count(x: int | float | None) -> str:
    return "n/a" if not _finite(x) else f"{int(x):,}"


# -- what the pages draw --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer:
    """One outcome metric's answer, as the home page states it.

    `promised` and `delivered` are improvements (positive = better, like the verdict reasons
    and the scorecard), or money a year where the metric has a value per unit; `plain` says
    in words which way the metric itself moved.
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
    retention: str
    plain: str
    reason: str


def _moved(label: str, lift: float | None, where: str) -> str:
    if not _finite(lift):
        return f"{label}: no {where} estimate"
    return f"{label} {'rose' if lift > 0 else 'fell'} {abs(lift) * 100:.1f}% {where}"


def _good_ci(sign: int, ci: Sequence[float]) -> str:
    lo, hi = sorted((sign * ci[0], sign * ci[1]))
    return fmt_ci((lo, hi))


def answers(results: Results, catalog: Catalog) -> tuple[Answer, ...]:
    """One answer per outcome metric: its verdict, what the pilot promised, what production gives."""
    values = {v.metric: v for v in results.value_at_scale}
    out = []
    for v in results.verdicts:
        sign = catalog.get(v.metric).sign if v.metric in catalog.ids else 1
        value = values.get(v.metric)
        if value is not None:
            promised, delivered = fmt_money(value.promised), fmt_money(value.delivered)
            delivered_ci = " to ".join(fmt_money(x) for x in value.delivered_ci) + " a year"
        else:
            promised, delivered = fmt_pct(sign * v.pilot_estimate), fmt_pct(sign * v.estimate)
            delivered_ci = _good_ci(sign, v.ci)
        better = "lower" if sign < 0 else "higher"
        out.append(
            Answer(
                metric=v.metric,
                label=v.label,
                verdict=v.verdict,
                verdict_label=VERDICT_LABELS[v.verdict],
                pilot_verdict=v.pilot_verdict,
                pilot_label=VERDICT_LABELS[v.pilot_verdict],
                promised=promised,
                delivered=delivered,
                delivered_ci=delivered_ci,
                retention=fmt_pct(v.retention, signed=False) if v.retention is not None else "n/a",
                plain=f"{_moved(v.label, v.estimate, 'in production')} "
                f"({_moved('', v.pilot_estimate, 'in the pilot').strip()}); {better} is better.",
                reason=v.reasons[0] if v.reasons else "",
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
    """Per shown metric: adjusted pilot lift, production lift and the share production keeps."""
    retention = {r.metric: r.retention for r in results.retention if r.slice_type == "overall"}
    rows = []
    for metric in catalog.metrics:
        pilot = results.effect(metric.id, "pilot_vs_baseline")
        production = results.effect(metric.id, "production_vs_baseline")
        if pilot is None and production is None:
            continue
        rows.append(
            {
                "Metric": metric.label,
                "Better when": metric.direction,
                "Pilot lift": fmt_pct(pilot.lift if pilot else None),
                "Production lift": fmt_pct(production.lift if production else None),
                "Production interval": fmt_ci(production.lift_ci if production else None),
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
    """The slices where production does worst against baseline, worst first (good = positive).

    Sites and channels come from the adjusted model, each against its own counterfactual (the
    verdicts use the same numbers); naive before/after slices are left out on purpose.
    """
    metric = catalog.get(metric_id)
    rows = []
    for e in results.effects:
        if e.metric != metric_id or e.comparison != "production_vs_baseline":
            continue
        if e.slice_type not in ("site", "channel") or not e.adjusted or not _finite(e.lift):
            continue
        rows.append(
            {
                "Slice": str(e.slice),
                "Kind": e.slice_type,
                "Production lift": e.lift,
                "Interval": fmt_ci(e.lift_ci),
                "Production rows": e.n_a,
                "_good": metric.sign * e.lift,
            }
        )
    if not rows:
        return pd.DataFrame(
            columns=["Slice", "Kind", "Production lift", "Interval", "Production rows"]
        )
    frame = pd.DataFrame(rows).sort_values("_good").head(n).drop(columns="_good")
    frame["Production lift"] = frame["Production lift"].map(fmt_pct)
    return frame.reset_index(drop=True)


SET_ASIDE = "Rows set aside at load"
SET_ASIDE_HELP = (
    "Rows of this site the load set aside (unknown or missing phase, no metric name). Counted "
    "once per dataset when it was loaded: the sidebar filters do not change it."
)


def set_aside_by_site(report: Mapping[str, Any]) -> dict[str, int] | None:
    """Rows set aside at load per site, from a stored validation report; lines DuckDB could
    not read are under "(unreadable line)". None when the report predates the per-site count
    and rows were set aside (where they were is not known)."""
    by_site = report.get("rejected_by_site")
    if isinstance(by_site, Mapping):
        return {str(k): int(v) for k, v in by_site.items()}
    return None if int(report.get("rows_rejected") or 0) else {}


def quality_table(quality: pd.DataFrame, report: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Data quality per site for reading: missing as a percentage, date gaps (the days in
    periods of the data's own cadence with no row: 0 for a complete weekly file, 7 for a
    missing week) and, given the dataset's validation report, the rows the load set aside (0 where none; empty when the
    report did not count them per site). Worst first."""
    columns = ["Site", "Rows", "Missing values", "Days gap"]
    if report is not None:
        columns.append(SET_ASIDE)
    if quality.empty:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(
        {
            "Site": quality["site"].astype(str),
            "Rows": quality["rows"].astype("int64"),
            "Missing values": quality["missing_share"].astype(float) * 100,
            "Days gap": quality["days_missing"].astype("int64"),
        }
    )
    order = ["Missing values", "Days gap"]
    if report is not None:
        by_site = set_aside_by_site(report)
        frame[SET_ASIDE] = pd.array(
            [None if by_site is None else by_site.get(s, 0) for s in frame["Site"]],
            dtype="Int64",
        )
        order.append(SET_ASIDE)
    return frame.sort_values(order, ascending=False, ignore_index=True)


def rejected_summary(report: Mapping[str, Any], shown_sites: Sequence[str] = ()) -> str:
    """One sentence on the rows a load set aside, from its stored validation report; given the
    sites a table lists, also how many of those rows it cannot show (lines with no readable
    site, sites filtered out or with no row loaded)."""
    rejected = report.get("rejected") or {}
    total = int(report.get("rows_rejected") or 0)
    if not total:
        return "No row was set aside when this dataset was loaded."
    reasons = ", ".join(
        f"{int(v.get('count', 0)):,} {k}" for k, v in rejected.items() if isinstance(v, Mapping)
    )
    out = f"{total:,} rows were set aside at load" + (f" ({reasons})." if reasons else ".")
    by_site = set_aside_by_site(report)
    if by_site is None:
        return out + " This dataset was loaded before they were counted per site: load it again."
    shown = set(shown_sites)
    elsewhere = sum(n for site, n in by_site.items() if site not in shown)
    if shown and elsewhere:
        out += (
            f" {elsewhere:,} of them {'is' if elsewhere == 1 else 'are'} not at a site listed "
            "here (a line that could not be read has no site)."
        )
    return out


# -- the catalog editor ---------------------------------------------------------------------------

CATALOG_COLUMNS = (
    "id",
    "label",
    "confirmed",
    "kind",
    "direction",
    "unit",
    "min_effect",
    "value_per_unit",
    "guardrail",
    "guards",
)


def catalog_frame(catalog: Catalog) -> pd.DataFrame:
    """The catalog as an editable table: metrics flagged "guessed" first, then in file order."""
    ordered = sorted(catalog.metrics, key=lambda m: not m.guessed)
    rows = [
        {
            "id": m.id,
            "label": m.label,
            "confirmed": not m.guessed,
            "kind": m.kind,
            "direction": m.direction,
            "unit": m.unit,
            "min_effect": m.min_effect,
            "value_per_unit": m.value_per_unit,
            "guardrail": m.guardrail,
            "guards": list(m.guards),
        }
        for m in ordered
    ]
    frame = pd.DataFrame(rows, columns=list(CATALOG_COLUMNS))
    for col in ("value_per_unit", "guardrail", "min_effect"):
        frame[col] = frame[col].astype("float64")
    return frame


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _row_spec(row: Mapping[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    for key in ("label", "kind", "direction", "unit"):
        if not _blank(row.get(key)):
            spec[key] = str(row[key]).strip()
    for key in ("min_effect", "value_per_unit", "guardrail"):
        value = row.get(key)
        if not _blank(value):
            try:
                spec[key] = float(value)
            except (TypeError, ValueError) as exc:
                raise ScalegateError(
                    f"In the catalog, {key} of {row.get('id')} must be a number."
                ) from exc
    guards = row.get("guards")
    if guards is not None and not isinstance(guards, str) and len(guards):
        spec["guards"] = [str(g) for g in guards]
    return spec


def _same(metric: Metric, row: Mapping[str, Any]) -> bool:
    def num(x: Any) -> float | None:
        return None if _blank(x) else float(x)

    return (
        str(row.get("label") or metric.label) == metric.label
        and row.get("kind") == metric.kind
        and row.get("direction") == metric.direction
        and str(row.get("unit") or "") == metric.unit
        and num(row.get("min_effect")) == metric.min_effect
        and num(row.get("value_per_unit")) == metric.value_per_unit
        and num(row.get("guardrail")) == metric.guardrail
        and tuple(row.get("guards") or ()) == metric.guards
    )


def catalog_from_frame(catalog: Catalog, frame: pd.DataFrame) -> Catalog:
    """The catalog after a user's edits in the table, checked by the catalog's own rules.

    A row that was edited, or ticked as confirmed, stops being "guessed"; a cleared value per
    unit or guardrail is removed. Raises ScalegateError with a sentence for a bad value.
    """
    rows = {str(r["id"]): r for r in frame.to_dict("records")}
    specs: dict[str, dict[str, Any]] = {}
    cleared: dict[str, dict[str, None]] = {}
    for metric in catalog.metrics:
        row = rows.get(metric.id)
        if row is None:
            continue
        confirmed = bool(row.get("confirmed")) and metric.guessed
        if _same(metric, row) and not confirmed:
            continue
        specs[metric.id] = _row_spec(row)
        cleared[metric.id] = {
            key: None for key in ("value_per_unit", "guardrail") if _blank(row.get(key))
        }
        if _blank(row.get("guardrail")):
            specs[metric.id].pop("guards", None)
    updated, _ = apply_overrides(catalog, {"metrics": specs})
    metrics = []
    for m in updated.metrics:
        changes: dict[str, Any] = dict(cleared.get(m.id, {}))
        if changes.get("guardrail", 0) is None:
            changes["guards"] = ()
        metrics.append(replace(m, **changes) if changes else m)
    return replace(updated, metrics=tuple(metrics))


def catalog_with_settings(catalog: Catalog, values: Mapping[str, Any]) -> Catalog:
    """The catalog with new [settings] thresholds, checked by the catalog's own rules."""
    updated, _ = apply_overrides(catalog, {"settings": dict(values)})
    return updated


# -- data status and baseline coverage ------------------------------------------------------------


def status_items(dataset: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """The data status of the home page: (label, value) pairs from results.dataset, short
    enough to read at a glance."""
    phases = dataset.get("phases") or {}
    return (
        ("Rows", fmt_count(dataset.get("rows"))),
        ("Sites", f"{len(dataset.get('sites') or ()):,}"),
        ("Channels", f"{len(dataset.get('channels') or ()):,}"),
        ("From", str(dataset.get("date_min") or "no dates")),
        ("Baseline rows", fmt_count(phases.get("baseline", 0))),
        ("Pilot rows", fmt_count(phases.get("pilot", 0))),
        ("Production rows", fmt_count(phases.get("production", 0))),
        ("To", str(dataset.get("date_max") or "no dates")),
    )


def periods_before_ai(series: pd.DataFrame, metric_id: str) -> int:
    """Periods with baseline rows before the first pilot or production row of a metric: what a
    projection without the AI can learn from (baseline beside the AI does not count)."""
    if series.empty:
        return 0
    rows = series[series["metric"] == metric_id].dropna(subset=["period"])
    ai = rows.loc[rows["phase"] != "baseline", "period"]
    base = rows.loc[rows["phase"] == "baseline", "period"]
    if not ai.empty:
        base = base[base < ai.min()]
    return int(base.nunique())


# -- local files (an analyst on their own machine only) -------------------------------------------

LOCAL_ADDRESSES = frozenset({"localhost", "127.0.0.1", "::1"})


def local_paths_allowed(server_address: str | None, setting: str | None) -> bool:
    """Whether the server may read its own disk for a user: only when it serves on this machine
    alone, or SCALEGATE_ALLOW_LOCAL_PATHS=1 says so. A browser user of a shared server must never
    reach the server's files."""
    return (server_address or "").strip().lower() in LOCAL_ADDRESSES or (setting or "") == "1"


def projection_note(
    label: str,
    row: Any | None,
    periods: int,
    grain: str,
    min_periods: int,
    dated: bool = True,
) -> tuple[str, str]:
    """What to say under a baseline chart: ("caption", text) for a projection, ("warning",
    text) when there is none, saying plainly when there were too few baseline periods.

    `row` is the metric's CounterfactualRow, or None when none could be made; `periods` the
    periods with baseline rows before the AI started, at the view's grain.
    """
    if row is None:
        if not dated:
            return "warning", (
                f"{label}: the data has no dates, so there is no baseline over time to project "
                "from. Add a date column to see this page."
            )
        if periods >= min_periods:
            return "warning", f"{label}: the baseline cannot be projected under these filters."
        tried = " (weeks were tried too)" if grain == "month" else ""
        return "warning", (
            f"Too few baseline periods for {label}: {periods} {grain}(s) before the AI started "
            f"under these filters{tried}, where {min_periods} are needed to project what would "
            "have happened without it. The chart shows only what was measured."
        )
    unit = "week" if str(row.method).endswith("_weekly") else grain
    lo, hi = row.ci
    return "caption", (
        f"Projected from {row.baseline_periods:,} baseline {unit}s before the AI "
        f"({str(row.method).replace('_', ' ')}). Observed minus projected, summed over the "
        f"production {unit}s: {row.cumulative_effect:,.4g} (interval {lo:,.4g} to {hi:,.4g})."
        + (f" {row.note}" if row.note else "")
    )
