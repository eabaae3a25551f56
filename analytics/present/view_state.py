"""The shared view (dataset and filters) and its URL form: a colleague opening a shared link sees the
same numbers. Anything in a URL is untrusted, so parsing drops what does not fit the dataset;
filters and catalogs also travel as JSON (the cache keys of the pages)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, cast

from analytics.core.catalog import Catalog, Metric, Settings
from analytics.core.types import Grain
from analytics.engine.aggregate import Filters

GRAINS: tuple[Grain, ...] = ("week", "month")


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
        Metric(
            **{
                **spec,
                "guards": tuple(spec.get("guards") or ()),
                "overlaps": tuple(spec.get("overlaps") or ()),
            }
        )
        for spec in doc["metrics"].values()
    )
    return Catalog(metrics, Settings(**doc["settings"]), doc.get("source", "keyword guesses"))


# URL keys: short, stable, documented here once.
_Q_DATASET, _Q_FROM, _Q_TO, _Q_SITE, _Q_CHANNEL = "dataset", "from", "to", "site", "channel"


_Q_METRIC, _Q_GRAIN, _Q_VOLUME, _Q_COST = "metric", "grain", "volume", "cost"


QUERY_KEYS = (_Q_DATASET, _Q_FROM, _Q_TO, _Q_SITE, _Q_CHANNEL, _Q_METRIC, _Q_GRAIN)


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
