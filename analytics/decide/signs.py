"""One sign convention: the improvement (positive = better) beside every raw change.

results.json keeps every raw field as it was (`lift`, `estimate`, `ci`: the change of the metric
itself) and gains `improvement` fields beside them: direction x change, with direction +1 where
higher is better and -1 where lower is. Intervals are re-sorted low to high after the flip.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

CONVENTION = "improvement = direction x change; positive is better"


def sign_of(catalog: Mapping[str, Any], metric: str) -> int:
    """+1 where higher is better, -1 where lower is, from a results document's meta.catalog."""
    spec = catalog.get(metric) or {}
    return -1 if spec.get("direction") == "lower" else 1


def flip(sign: int, x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else sign * x


def flip_interval(sign: int, ci: Sequence[float | None] | None) -> list[float | None]:
    """An interval of changes as an interval of improvements, low to high."""
    if not ci or len(ci) != 2 or any(v is None or not math.isfinite(v) for v in ci):
        return [None, None]
    lo, hi = sorted(sign * float(v) for v in ci)  # type: ignore[arg-type]
    return [lo, hi]


def add_improvements(doc: dict[str, Any]) -> dict[str, Any]:
    """A results document with `improvement` fields beside the raw changes (in place)."""
    catalog = doc.get("meta", {}).get("catalog") or {}
    doc.setdefault("meta", {})["sign_convention"] = CONVENTION
    for e in doc.get("effects", []):
        s = sign_of(catalog, e["metric"])
        e["direction"] = s
        e["improvement"], e["improvement_ci"] = flip(s, e["lift"]), flip_interval(s, e["lift_ci"])
    for v in doc.get("verdicts", []):
        s = sign_of(catalog, v["metric"])
        v["direction"] = s
        v["improvement"], v["improvement_ci"] = flip(s, v["estimate"]), flip_interval(s, v["ci"])
        v["pilot_improvement"] = flip(s, v.get("pilot_estimate"))
        v["pilot_improvement_ci"] = flip_interval(s, v.get("pilot_ci"))
    for v in doc.get("site_verdicts", []):
        s = sign_of(catalog, v["metric"])
        v["improvement"], v["improvement_ci"] = flip(s, v["estimate"]), flip_interval(s, v["ci"])
    return doc
