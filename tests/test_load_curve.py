"""The load curve (issue 14, item 3) against an independent row-level computation: cell effects
from statsmodels OLS of the baseline rows on site and month dummies, averaged per production
site-month by hand, then statsmodels WLS of those effects on log rows per site-month, clustered by
site; multiples from pandas counts of rows. Three rollouts from the one factory (rollouts.py):
an effect falling with volume, one that does not move with it, and an operation that never grew."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from rollouts import Rollout, RowPlan, simulate_rows

from analytics.engine.load_curve import load_curve, volume_frame, volume_grid
from analytics.engine.panel import prepare_panel

STARTS = (None, None, 8, 10, 10, 12, 12, 14)
DESIGN = Rollout(starts=STARTS, periods=20, effect=lambda h, g: 4.0, noise_sd=3.0)


def _volume(rng: np.random.Generator, grow: float) -> np.ndarray:
    """Rows per site-month: a site size, noise, and growth of ``grow`` per month once live."""
    base = rng.integers(40, 90, len(STARTS))[:, None].astype(float)
    t = np.arange(DESIGN.periods)[None, :]
    live = np.array([[g is not None and k >= g for k in range(DESIGN.periods)] for g in STARTS])
    vol = base * np.exp(rng.normal(0, 0.25, (len(STARTS), DESIGN.periods)))
    return np.round(vol * np.where(live, np.exp(grow * (t - 8).clip(0)), 1.0)).astype(int)


def _cells(rows: pd.DataFrame) -> pd.DataFrame:
    rows = rows.assign(period=pd.to_datetime(rows["date"]).dt.to_period("M").dt.to_timestamp())
    g = rows.groupby(["phase", "site", "channel", "period"])["score"]
    out = g.agg(n="count", mean="mean").reset_index()
    out["m2"] = g.var(ddof=1).fillna(0).to_numpy() * (out["n"] - 1)
    return out


def _by_hand(rows: pd.DataFrame) -> pd.DataFrame:
    """Production site-months with their effect (row mean of y − baseline fit) and rows."""
    rows = rows.assign(month=pd.to_datetime(rows["date"]).dt.strftime("%Y-%m"))
    fit = smf.ols("score ~ C(site) + C(month)", data=rows[rows["phase"] == "baseline"]).fit()
    prod = rows[rows["phase"] == "production"].copy()
    prod["effect"] = prod["score"] - fit.predict(prod)
    volume = rows.groupby(["site", "month"]).size().rename("volume")
    cells = prod.groupby(["site", "month"]).agg(effect=("effect", "mean"), n=("effect", "size"))
    return cells.join(volume).reset_index()


def _curve(rows: pd.DataFrame, level: float = 0.95):
    cells = _cells(rows)
    panel = prepare_panel(cells)
    return load_curve(panel, volume_grid(panel, volume_frame(cells)), level)


def _wls(cells: pd.DataFrame, x: np.ndarray):
    codes = pd.factorize(cells["site"])[0]
    return sm.WLS(cells["effect"], sm.add_constant(np.log(x)), weights=cells["n"]).fit(
        cov_type="cluster", cov_kwds={"groups": codes}
    )


def test_an_effect_falling_with_volume_is_recovered_and_equals_wls_on_row_effects() -> None:
    rng = np.random.default_rng(14)
    rows = simulate_rows(DESIGN, RowPlan(volume=_volume(rng, 0.12), slope=-3.0), rng)
    curve = _curve(rows)
    hand = _by_hand(rows)
    ref = _wls(hand, hand["volume"].to_numpy(float))
    s = curve.site
    assert s.clusters == "site" and s.groups == 6 and s.cells == len(hand)
    assert s.slope == pytest.approx(ref.params.iloc[1], abs=1e-6)
    assert s.se == pytest.approx(ref.bse.iloc[1], abs=1e-6)
    assert s.ci[0] < -3.0 < s.ci[1] and s.ci[1] < 0  # planted −3, and it clearly falls
    # Central load: all sites' rows per month.
    total = rows.assign(month=pd.to_datetime(rows["date"]).dt.strftime("%Y-%m"))
    per_month = total.groupby("month").size()
    ref_c = _wls(hand, per_month.loc[hand["month"]].to_numpy(float))
    assert curve.central.slope == pytest.approx(ref_c.params.iloc[1], abs=1e-6)
    assert curve.central.se == pytest.approx(ref_c.bse.iloc[1], abs=1e-6)


def test_an_effect_that_does_not_move_with_volume_has_an_interval_covering_zero() -> None:
    rng = np.random.default_rng(15)
    rows = simulate_rows(DESIGN, RowPlan(volume=_volume(rng, 0.12), slope=0.0), rng)
    s = _curve(rows, level=0.99).site
    hand = _by_hand(rows)
    ref = _wls(hand, hand["volume"].to_numpy(float))
    assert s.slope == pytest.approx(ref.params.iloc[1], abs=1e-6)
    assert s.level == 0.99 and s.ci[0] < 0 < s.ci[1]
    q = (s.ci[1] - s.slope) / s.se  # t on G − 1 = 5 degrees of freedom
    assert q == pytest.approx(4.032142984, abs=1e-6)  # scipy.stats.t.ppf(0.995, 5)


def test_multiples_are_production_rows_per_month_over_the_months_before_go_live() -> None:
    rng = np.random.default_rng(16)
    volume = _volume(rng, 0.05)
    rows = simulate_rows(DESIGN, RowPlan(volume=volume), rng)
    m = _curve(rows).multiples
    for s, g in enumerate(STARTS):
        if g is None:
            continue
        own = volume[s]
        assert dict(m.by_site)[f"S{s:02d}"] == pytest.approx(own[g:].max() / own[:g].mean())
    total = volume.sum(0)
    assert m.central == pytest.approx(total[8:].max() / total[:8].mean(), abs=1e-12)
    assert m.highest == m.central


def test_few_live_sites_cluster_by_site_period_and_say_so() -> None:
    rng = np.random.default_rng(17)
    design = Rollout(starts=(None, None, 8, 10), periods=16, effect=lambda h, g: 2.0)
    vol = rng.integers(30, 120, (4, 16))
    rows = simulate_rows(design, RowPlan(volume=vol, slope=-2.0), rng)
    s = _curve(rows).site
    hand = _by_hand(rows)
    groups = pd.factorize(hand["site"] + hand["month"])[0]
    ref = sm.WLS(hand["effect"], sm.add_constant(np.log(hand["volume"])), weights=hand["n"]).fit(
        cov_type="cluster", cov_kwds={"groups": groups}
    )
    assert s.clusters == "site_period" and s.groups == len(hand)
    assert s.slope == pytest.approx(ref.params.iloc[1], abs=1e-6)
    assert s.se == pytest.approx(ref.bse.iloc[1], abs=1e-6)
