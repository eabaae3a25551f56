"""Design matrices of the adjusted model on cells, and which effects they identify.

The design holds an intercept, the treatment columns, site [, channel] dummies and period dummies
(two-way fixed effects) or the period index (site trend). Cells sharing a design row are merged
exactly first; a coefficient is identified when its column is not a combination of the others.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from analytics.engine import sums
from analytics.engine.cells import PHASES, PreparedCells, _Frame

Mode = Literal["twfe", "site_trend", "site_fe"]


_ROW_HASH = np.random.default_rng(20240601).integers(1, 2**63, size=4096, dtype=np.uint64) | 1


def _row_hash_weights(k: int) -> np.ndarray:
    """k independent random odd 64-bit multipliers (fixed seeds), one per design column."""
    if k > len(_ROW_HASH):
        return np.random.default_rng(k).integers(1, 2**63, size=k, dtype=np.uint64) | 1
    return _ROW_HASH[:k]


def _unique_rows(X: np.ndarray) -> np.ndarray:
    """Distinct rows of a design in order of first appearance (many cells share a design row),
    as ``X[~pd.DataFrame(X).duplicated()]``.

    Rows are grouped by a hash of their bits (-0.0 read as 0.0), then every row is checked
    against its group's first row; on a hash collision or a NaN, pandas decides instead."""
    m, k = X.shape
    if m < 2:
        return X
    bits = np.ascontiguousarray(X + 0.0, dtype=float).view(np.uint64)
    bits = (bits ^ (bits >> np.uint64(31))) * np.uint64(0x9E3779B97F4A7C15)
    bits ^= bits >> np.uint64(29)
    h = (bits * _row_hash_weights(k)).sum(axis=1, dtype=np.uint64)
    codes, uniques = pd.factorize(h)
    if len(uniques) == m:
        return X
    first = np.unique(codes, return_index=True)[1]
    if not (X == X[first][codes]).all():
        return X[~pd.DataFrame(X).duplicated().to_numpy()]
    return X[first]


def _identify(
    X: np.ndarray, treat_idx: list[int], unique: np.ndarray | None = None
) -> tuple[dict[int, bool], list[int]]:
    """Which treatment coefficients are identified, and a full-rank set of columns.

    A coefficient is identified (estimable) when its unit vector lies in the row space of the
    design, i.e. its column is not a combination of the other columns. The basis keeps the
    intercept, then nuisance columns, then identified treatments, then any other treatment that
    adds rank; it spans the same column space, so identified coefficients are unchanged.
    ``unique`` may pass the distinct rows of X when they are known.
    """
    unique = _unique_rows(X) if unique is None else unique
    scale = np.linalg.norm(unique, axis=0)
    scale[scale == 0] = 1.0
    us = unique / scale
    r_mat = np.linalg.qr(us, mode="r") if us.shape[0] > us.shape[1] else us
    _, s, vt = np.linalg.svd(r_mat, full_matrices=False)
    tol = (s.max() if s.size else 0.0) * max(us.shape) * np.finfo(float).eps
    rank = int((s > tol).sum())
    vr = vt[:rank].T
    identified = {j: bool((vr[j] ** 2).sum() > 1 - 1e-8) for j in treat_idx}
    treat_set = set(treat_idx)
    nuisance = [j for j in range(X.shape[1]) if j not in treat_set]
    order = (
        nuisance
        + [j for j in treat_idx if identified[j]]
        + [j for j in treat_idx if not identified[j]]
    )
    # Greedy Gram-Schmidt on the columns of R: X = QR, so the columns of R have exactly the
    # linear relations (and norms) of the columns of X, in K dimensions instead of one per cell.
    basis: list[int] = []
    q = np.zeros((r_mat.shape[0], r_mat.shape[1]))
    for j in order:
        v = r_mat[:, j].copy()
        k = len(basis)
        for _ in range(2):
            v -= q[:, :k] @ (q[:, :k].T @ v)
        norm = float(np.linalg.norm(v))
        if norm > 1e-9:
            q[:, k] = v / norm
            basis.append(j)
    for j in treat_idx:
        if identified[j] and j not in basis:
            identified[j] = False
    return identified, basis


# A treatment column: name -> (phase, slice column or None, slice value or None).
TreatSpec = dict[str, tuple[str, str | None, str | None]]


def _design(
    prep: PreparedCells, frame: _Frame, treat: TreatSpec, mode: Mode, channel_fe: bool
) -> tuple[np.ndarray, list[str]]:
    """Cell design: intercept, treatments, site [, channel] dummies (first level dropped), then
    period dummies (twfe) or the period index t (site_trend)."""
    m = len(frame)
    dummies: list[tuple[np.ndarray, tuple[str, ...], str]] = [(frame.site, prep.sites, "site")]
    if channel_fe:
        dummies.append((frame.channel, prep.channels, "channel"))
    if mode == "twfe":
        dummies.append((frame.period, prep.period_names, "period"))
    k = 1 + len(treat) + sum(len(levels) - 1 for _, levels, _ in dummies)
    k += mode == "site_trend"
    X = np.zeros((m, k))
    X[:, 0] = 1.0
    names = ["Intercept"]
    for j, (name, (ph, by, value)) in enumerate(treat.items(), start=1):
        col = frame.phase == PHASES.index(ph)
        if by is not None:
            levels = prep.sites if by == "site" else prep.channels
            codes = frame.site if by == "site" else frame.channel
            col = col & (codes == levels.index(value)) if value in levels else col & False
        X[:, j] = col
        names.append(name)
    off = 1 + len(treat)
    rows = np.arange(m)
    for codes, levels, prefix in dummies:
        sel = codes >= 1
        X[rows[sel], off + codes[sel] - 1] = 1.0
        names += [f"{prefix}[{level}]" for level in levels[1:]]
        off += len(levels) - 1
    if mode == "site_trend":
        X[:, off] = frame.t
        names.append("t")
    return X, names


def _collapse(frame: _Frame, with_channel: bool, sizes: tuple[int, int, int]) -> _Frame:
    """Merge cells that share a design row exactly (sums.pool). WLS coefficients, HC1 and the
    site-clustered covariance are unchanged: a group's Q2 + 2 r Q1 + S2 r² is the sum of its
    cells'. Groups are (phase, site, period [, channel]) in order of first appearance."""
    n_sites, n_channels, n_periods = sizes
    key = (frame.phase.astype(np.int64) * n_sites + frame.site) * n_periods + frame.period
    if with_channel:
        key = key * n_channels + frame.channel
    inv, uniques = pd.factorize(key)
    groups = len(uniques)
    if groups == len(frame):
        return frame if with_channel else replace(frame, channel=np.full(groups, -1))
    first = np.unique(inv, return_index=True)[1]
    n, w, mean, m2, s2, q1, q2 = sums.pool(
        inv, groups, frame.n.astype(float), frame.w, frame.mean, frame.m2, frame.s2, frame.q1,
        frame.q2,
    )  # fmt: skip
    return _Frame(
        frame.phase[first],
        frame.site[first],
        frame.channel[first] if with_channel else np.full(groups, -1),
        frame.period[first],
        frame.t[first],
        np.round(n).astype(np.int64),
        mean,
        m2,
        w,
        s2,
        q1,
        q2,
    )


@dataclass(frozen=True, slots=True, eq=False)
class _Design:
    """A collapsed frame, its full design, and which treatments it identifies."""

    frame: _Frame
    X: np.ndarray
    names: list[str]
    ident: dict[int, bool]
    basis: list[int]
    full_rank: bool  # the basis columns are linearly independent (checked again, defensively)
    n_cells: int


def _treat_key(treat: TreatSpec, mode: Mode, channel_fe: bool) -> tuple:
    return (tuple(treat.items()), mode, channel_fe)


_SHARED_LAYOUTS: ContextVar[dict[tuple, tuple] | None] = ContextVar(
    "scalegate_shared_layouts", default=None
)


@contextmanager
def shared_layouts() -> Iterator[None]:
    """Within this block, models whose design matrices are equal share the work that depends on
    the design alone: which treatments it identifies, the full-rank basis, the rank check.

    The metrics of one dataset usually have cells in the same places, hence equal designs; an
    analysis of ten metrics then identifies each design once instead of ten times. The shared
    work is keyed by a hash of the design's bytes and checked for equality, so the numbers are
    exactly those without sharing. The store lives only as long as the block.
    """
    token = _SHARED_LAYOUTS.set({})
    try:
        yield
    finally:
        _SHARED_LAYOUTS.reset(token)


def _layout(x_all: np.ndarray, treat_idx: list[int]) -> tuple[dict[int, bool], list[int], bool]:
    """(identified treatments, basis, full rank) of a design."""
    shared = _SHARED_LAYOUTS.get()
    key = None
    if shared is not None:
        digest = hashlib.blake2b(np.ascontiguousarray(x_all).tobytes(), digest_size=16).digest()
        key = (x_all.shape, digest, tuple(treat_idx))
        hit = shared.get(key)
        if hit is not None and np.array_equal(hit[0], x_all):
            ident, basis, full_rank = hit[1:]
            return dict(ident), list(basis), full_rank
    unique = _unique_rows(x_all)
    ident, basis = _identify(x_all, treat_idx, unique)
    cols = sorted(basis)
    full_rank = bool(np.linalg.matrix_rank(_unique_rows(unique[:, cols])) == len(cols))
    if key is not None and shared is not None:
        shared[key] = (x_all, dict(ident), list(basis), full_rank)
    return ident, basis, full_rank


def _design_for(prep: PreparedCells, treat: TreatSpec, mode: Mode, channel_fe: bool) -> _Design:
    key = ("design", *_treat_key(treat, mode, channel_fe))
    hit = prep._cache.get(key)
    if hit is None:
        frame = prep.frame
        assert frame is not None
        uses_channel = channel_fe or any(by == "channel" for _, by, _ in treat.values())
        sizes = (len(prep.sites), len(prep.channels), max(len(prep.period_names), 1))
        ckey = ("collapse", uses_channel)
        collapsed = prep._cache.get(ckey)
        if collapsed is None:
            collapsed = prep._cache[ckey] = _collapse(frame, uses_channel, sizes)
        x_all, names = _design(prep, collapsed, treat, mode, channel_fe)
        ident, basis, full_rank = _layout(x_all, [names.index(t) for t in treat])
        hit = prep._cache[key] = _Design(
            collapsed, x_all, names, ident, basis, full_rank, len(frame)
        )
    return hit  # type: ignore[return-value]


def _identified(
    prep: PreparedCells, treat: TreatSpec, mode: Mode, channel_fe: bool
) -> dict[str, bool]:
    """Which treatment coefficients the design identifies, without fitting. (The distinct design
    rows of the pooled cells are those of the cells, in the same order.)"""
    d = _design_for(prep, treat, mode, channel_fe)
    return {d.names[j]: ok for j, ok in d.ident.items()}
