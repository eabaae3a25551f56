"""The time chart's mean and standard error per (metric, phase, period), pooled from per-site
cells, equal pandas' mean and standard error of the mean on the rows themselves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.decide.analysis import period_means


def _rows() -> pd.DataFrame:
    rng = np.random.default_rng(17)
    n = 240
    return pd.DataFrame(
        {
            "metric": rng.choice(["aht", "csat"], n),
            "phase": rng.choice(["baseline", "production"], n),
            "period": rng.choice(pd.to_datetime(["2025-01-06", "2025-01-13", "2025-01-20"]), n),
            "site": rng.choice(["Lyon", "Nice", "Pau"], n),
            "value": rng.gamma(3.0, 2.0, n),
        }
    )


def _cells(rows: pd.DataFrame) -> pd.DataFrame:
    keys = ["metric", "phase", "period", "site"]
    g = rows.groupby(keys)["value"]
    cells = g.agg(n="count", mean="mean").reset_index()
    cells["m2"] = g.apply(lambda v: float(((v - v.mean()) ** 2).sum())).to_numpy()
    return cells


def test_pooled_period_means_equal_the_rows_mean_and_sem() -> None:
    rows = _rows()
    got = period_means(_cells(rows)).set_index(["metric", "phase", "period"]).sort_index()
    expected = rows.groupby(["metric", "phase", "period"])["value"].agg(["count", "mean", "sem"])
    assert len(got) == len(expected) == 12
    assert got["n"].to_numpy() == pytest.approx(expected["count"].to_numpy())
    assert got["mean"].to_numpy() == pytest.approx(expected["mean"].to_numpy(), rel=1e-12)
    assert got["se"].to_numpy() == pytest.approx(expected["sem"].to_numpy(), rel=1e-10)


def test_a_one_row_period_has_a_zero_se_and_no_cells_nothing() -> None:
    one = pd.DataFrame(
        {"metric": ["aht"], "phase": ["production"], "period": [pd.Timestamp("2025-01-06")],
         "site": ["Lyon"], "n": [1], "mean": [4.0], "m2": [0.0]}
    )  # fmt: skip
    out = period_means(one)
    assert out["mean"].tolist() == [4.0] and out["se"].tolist() == [0.0]
    empty = one.iloc[:0]
    assert period_means(empty) is empty
