"""The catalog as an editable table, and the table's edits back into a catalog."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pandas as pd

from analytics.core.catalog import Catalog, Metric, apply_overrides
from analytics.core.errors import ScalegateError

CATALOG_COLUMNS = (
    "id",
    "label",
    "confirmed",
    "kind",
    "direction",
    "unit",
    "min_effect",
    "value_per_unit",
    "adds_to_total",
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
            "adds_to_total": m.adds_to_total,
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
    if "adds_to_total" in row and not _blank(row.get("adds_to_total")):
        spec["adds_to_total"] = bool(row["adds_to_total"])
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
        and bool(row.get("adds_to_total", metric.adds_to_total)) == metric.adds_to_total
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
