"""Volumes beside row counts: for weighted (aggregated) rows, each effect says how many cases
(Σ weight) stand behind each of its groups, not only how many rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pandas as pd

from analytics.decide.results import EffectRow
from analytics.engine.aggregate import pool_cells

SLICE_KEYS: dict[str, tuple[str, ...]] = {
    "overall": (),
    "site": ("site",),
    "channel": ("channel",),
    "site_channel": ("site", "channel"),
}


def _volumes(cells: pd.DataFrame) -> dict[str, dict[tuple, float]]:
    """Weight totals per (metric, phase, slice...) for each slice type."""
    out: dict[str, dict[tuple, float]] = {}
    for slice_type, keys in SLICE_KEYS.items():
        pooled = pool_cells(cells, ["metric", "phase", *keys])
        columns = ["metric", "phase", *keys, "w"]
        out[slice_type] = {
            tuple(str(v) for v in row[:-1]): float(row[-1])
            for row in pooled[columns].itertuples(index=False, name=None)
        }
    return out


def with_volumes(effects: Sequence[EffectRow], cells: pd.DataFrame) -> list[EffectRow]:
    """The effect rows with volume_a and volume_b: the weight totals of the two groups each
    compares (the same cells as n_a and n_b)."""
    if cells.empty:
        return list(effects)
    volumes = _volumes(cells)
    out = []
    for e in effects:
        first, second = e.comparison.split("_vs_")
        if e.slice is None:
            tail: tuple[str, ...] = ()
        elif isinstance(e.slice, tuple | list):
            tail = tuple(str(v) for v in e.slice)
        else:
            tail = (str(e.slice),)
        table = volumes.get(e.slice_type, {})
        out.append(
            replace(
                e,
                volume_a=table.get((e.metric, first, *tail)),
                volume_b=table.get((e.metric, second, *tail)),
            )
        )
    return out
