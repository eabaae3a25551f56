"""Holm's step-down adjustment: the one implementation, for one family or many at once."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def holm(p: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values; NaN entries stay NaN and do not count as tests."""
    arr = np.asarray(list(p), dtype=float)
    return holm_within(arr, np.zeros(arr.shape, dtype=np.intp)).tolist()


def holm_within(p: np.ndarray, family: np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values within each family (integer codes), all families at once.

    Equal to holm applied family by family (NaN p-values are not tests and stay NaN);
    statsmodels' multipletests is not used here: it forces a full gc.collect() on every call
    (0.2 s each), and a report has over a hundred families.
    """
    out = np.full(p.shape, np.nan)
    tested = np.flatnonzero(np.isfinite(p))
    if not tested.size:
        return out
    order = tested[np.lexsort((p[tested], family[tested]))]  # by family, then p
    codes, values = family[order], p[order]
    starts = np.r_[0, np.flatnonzero(np.diff(codes)) + 1]
    sizes = np.diff(np.r_[starts, len(codes)])
    rank = np.arange(len(codes)) - np.repeat(starts, sizes)
    adjusted = (np.repeat(sizes, sizes) - rank) * values
    for start, size in zip(starts, sizes, strict=True):
        np.maximum.accumulate(adjusted[start : start + size], out=adjusted[start : start + size])
    out[order] = np.minimum(adjusted, 1.0)
    return out
