"""The gap taken apart, against a rollout with planted causes (gap_rows.py) and an independent
row-level computation: counterfactuals from statsmodels OLS of the baseline rows on site and
week dummies, strata and re-weightings done by hand on the rows, Shapley shares as the average
step over all 24 orders (the module uses subset weights on cells)."""

from __future__ import annotations

import itertools

import gap_rows as g
import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from analytics.engine.gap import FACTORS, decompose, peak_periods
from analytics.engine.panel import prepare_panel


def _row_effects(frame: pd.DataFrame) -> pd.DataFrame:
    """Treated rows with their effect y − (site + week levels fitted on baseline rows)."""
    base = frame[frame["phase"] == "baseline"]
    fit = smf.ols("score ~ C(site) + C(week)", data=base).fit()
    treated = frame[frame["phase"] != "baseline"].copy()
    treated["effect"] = treated["score"] - fit.predict(treated)
    return treated


def _peak_weeks(frame: pd.DataFrame) -> set[int]:
    """Busiest quarter of weeks by cases per site before its go-live, relative to its mean."""
    go_live = frame[frame["phase"] != "baseline"].groupby("site")["week"].min()
    before = frame[frame["week"] < frame["site"].map(go_live).fillna(10**6)]
    vol = before.groupby(["site", "week"]).size()
    rel = vol / vol.groupby("site").transform("mean")
    index = rel.groupby("week").mean()
    return set(index[index >= np.quantile(index, 0.75)].index)


def _by_hand(treated: pd.DataFrame, peak: set[int], col: str, weight: str | None = None) -> dict:
    """Pilot, production, comparable share and Shapley shares / order steps of column `col`;
    each row counts ``weight`` times (once when None: rows are cases)."""
    t = treated.assign(
        S=(treated["site"] != "A").astype(int),
        C=(treated["channel"] != "web").astype(int),
        L=treated["week"].isin(peak).astype(int),
        w=treated[weight] if weight else 1.0,
    )
    t["wy"] = t["w"] * t[col]
    pilot, prod = t[t["phase"] == "pilot"], t[t["phase"] == "production"]

    def wmean(frame, by):
        sums = frame.groupby(by)[["wy", "w"]].sum()
        return (sums["wy"] / sums["w"]).to_dict()

    q = (pilot.groupby("L")["w"].sum() / pilot["w"].sum()).to_dict()
    f = wmean(prod, ["S", "C", "L"])
    fp = wmean(pilot, "L")

    def proj(x, a, load):
        return (x[0] if "sites" in a else 0, x[1] if "channels" in a else 0, load)

    def reachable(x):
        subsets = itertools.chain.from_iterable(
            itertools.combinations(FACTORS, r) for r in range(5)
        )
        return all(proj(x, a, x[2] if "load" in a else ld) in f for a in subsets for ld in q)

    pw = prod.groupby(["S", "C", "L"])["w"].sum()
    ok_w = {x: w for x, w in pw.items() if reachable(x)}
    total_ok = sum(ok_w.values())
    delta_t = sum(r * (f[(0, 0, ld)] - fp[ld]) for ld, r in q.items())

    def v(a):
        total = 0.0
        for x, w in ok_w.items():  # each comparable stratum by its production weight
            loads = {x[2]: 1.0} if "load" in a else q
            total += w * sum(r * f[proj(x, a, ld)] for ld, r in loads.items())
        return total / total_ok - (0 if "time" in a else delta_t)

    steps = {fac: [] for fac in FACTORS}
    for order in itertools.permutations(FACTORS):
        done: set = set()
        for fac in order:
            steps[fac].append(v(done | {fac}) - v(done))
            done.add(fac)
    off = ~prod.set_index(["S", "C", "L"]).index.isin(list(ok_w))
    return {
        "pilot": pilot["wy"].sum() / pilot["w"].sum(),
        "production": prod["wy"].sum() / prod["w"].sum(),
        "comparable": v(set(FACTORS)),
        "not_comparable_share": prod.loc[off, "w"].sum() / prod["w"].sum(),
        "not_comparable": prod.loc[off, "wy"].sum() / prod.loc[off, "w"].sum()
        if off.any()
        else np.nan,
        "shapley": {fac: np.mean(s) for fac, s in steps.items()},
        "low": {fac: min(s) for fac, s in steps.items()},
        "high": {fac: max(s) for fac, s in steps.items()},
        "waterfall": {fac: steps[fac][0] for fac in FACTORS},  # first order = fixed order
    }


@pytest.fixture(scope="module", params=[False, True], ids=["all", "silent_peak_channels"])
def case(request):
    frame = g.rows(silent_peak_channels=request.param)
    panel = prepare_panel(g.cells(frame))
    return frame, panel, decompose(panel)


def test_new_channels_at_peak_without_a_path_back_are_not_comparable() -> None:
    frame = g.rows(silent_peak_channels=True)
    d = decompose(prepare_panel(g.cells(frame)))
    prod = frame[frame["phase"] == "production"]
    off = (prod["site"] != "A") & (prod["channel"] != "web") & prod["week"].isin(g.PEAK_WEEKS)
    assert d.not_comparable_share == pytest.approx(off.mean(), abs=1e-12)
    assert 0.3 < d.not_comparable_share < 0.5


def test_peak_weeks_come_from_baseline_volume(case) -> None:
    frame, panel, _ = case
    found = {int(i) for i in np.flatnonzero(peak_periods(panel))}
    assert found == _peak_weeks(frame) == set(g.PEAK_WEEKS)


def test_every_number_equals_the_row_level_reweighting(case) -> None:
    frame, _, d = case
    hand = _by_hand(_row_effects(frame), set(g.PEAK_WEEKS), "effect")
    assert d.pilot == pytest.approx(hand["pilot"], abs=1e-6)
    assert d.production == pytest.approx(hand["production"], abs=1e-6)
    assert d.comparable == pytest.approx(hand["comparable"], abs=1e-6)
    assert d.not_comparable_share == pytest.approx(hand["not_comparable_share"], abs=1e-9)
    assert d.not_comparable == pytest.approx(hand["not_comparable"], abs=1e-6, nan_ok=True)
    for s in d.shares:
        assert s.value == pytest.approx(hand["shapley"][s.factor], abs=1e-6)
        assert s.low == pytest.approx(hand["low"][s.factor], abs=1e-6)
        assert s.high == pytest.approx(hand["high"][s.factor], abs=1e-6)
    assert dict(d.waterfall) == pytest.approx(hand["waterfall"], abs=1e-6)
    assert sum(s.value for s in d.shares) == pytest.approx(d.comparable - d.pilot, abs=1e-9)


def test_shapley_shares_recover_the_planted_causes(case) -> None:
    frame, _, d = case
    truth = _by_hand(frame[frame["phase"] != "baseline"], set(g.PEAK_WEEKS), "truth")
    for s in d.shares:
        assert s.ci[0] < truth["shapley"][s.factor] < s.ci[1], s
    assert d.level == 0.95


def test_largest_planted_cause_is_named() -> None:
    frame = g.rows()
    d = decompose(prepare_panel(g.cells(frame)))
    truth = _by_hand(frame[frame["phase"] != "baseline"], set(g.PEAK_WEEKS), "truth")
    largest = min(truth["shapley"], key=truth["shapley"].get)
    assert largest == "channels"
    assert d.sentence.startswith("Most of the loss comes from channels the pilot did not cover")


def test_channel_failing_only_at_peak_shows_as_an_order_range() -> None:
    """With the channel-at-peak loss planted, channels and load swap it between orders; without
    it (an additive world) every factor's step is the same in every order (up to noise)."""
    frame = g.rows()
    d = {s.factor: s for s in decompose(prepare_panel(g.cells(frame))).shares}
    truth = _by_hand(frame[frame["phase"] != "baseline"], set(g.PEAK_WEEKS), "truth")
    for fac in ("channels", "load"):
        width = truth["high"][fac] - truth["low"][fac]
        assert width == pytest.approx(3.0 * (2 / 3) * _peak_share(frame), rel=0.05)
        assert d[fac].high - d[fac].low == pytest.approx(width, abs=0.5)
    flat = _by_hand(
        g.rows(causes=g.Causes(channel_at_peak=0.0)).query("phase != 'baseline'"),
        set(g.PEAK_WEEKS),
        "truth",
    )
    assert max(flat["high"][f] - flat["low"][f] for f in FACTORS) == pytest.approx(0, abs=1e-9)


def _peak_share(frame: pd.DataFrame) -> float:
    prod = frame[frame["phase"] == "production"]
    return float(prod["week"].isin(g.PEAK_WEEKS).mean())


def test_no_planted_cause_cannot_be_ranked() -> None:
    none = g.Causes(time=0.0, sites=0.0, channels=0.0, load=0.0, channel_at_peak=0.0)
    d = decompose(prepare_panel(g.cells(g.rows(seed=5, causes=none))))
    assert d.sentence == "The causes cannot be ranked on this data."


def test_nothing_to_take_apart_without_a_pilot() -> None:
    frame = g.rows()
    frame = frame[frame["phase"] != "pilot"]
    assert decompose(prepare_panel(g.cells(frame))) is None


def test_results_section_validates_and_carries_the_numbers() -> None:
    import json
    from pathlib import Path

    import jsonschema

    from analytics.decide.gap_report import gap_row
    from analytics.decide.results import clean

    schema = json.loads((Path(__file__).parent.parent / "docs" / "results.schema.json").read_text())
    frame = g.rows()
    row = gap_row("score", g.cells(frame), 1, 0.95)
    doc = clean(row.to_dict())
    jsonschema.validate(doc, schema["properties"]["gaps"]["items"])
    d = decompose(prepare_panel(g.cells(frame)))
    assert doc["gap"] == pytest.approx(d.comparable - d.pilot, abs=1e-12)
    assert [s["estimate"] for s in doc["shares"]] == pytest.approx([s.value for s in d.shares])
    # Lower-is-better: the same cells negated say the same thing in improvement terms.
    neg = g.cells(frame).assign(mean=lambda c: -c["mean"])
    flipped = gap_row("score", neg, -1, 0.95).to_dict()
    assert flipped["sentence"] == doc["sentence"]


def test_caption_names_the_cause_and_the_share_the_pilot_cannot_speak_for() -> None:
    from types import SimpleNamespace

    from analytics.decide.gap_report import gap_row
    from analytics.present.gap_text import gap_caption

    frame = g.rows(silent_peak_channels=True)
    row = gap_row("score", g.cells(frame), 1, 0.95)
    found = SimpleNamespace(gaps=(row,))
    text = gap_caption(found, "score")
    share = row.gap.not_comparable_share
    assert text.startswith(f"Pilot to production, taken apart: {row.gap.sentence}")
    assert f" {share:.0%} of production runs under conditions the pilot never saw" in text
    assert gap_caption(found, "other") is None


def test_intervals_cover_the_planted_shares_at_their_level() -> None:
    """Monte Carlo over rollouts drawn as cells (gap_rows.drawn_cells, 60 seeds here; 1000 in
    METHODS.md): each factor's 95% interval holds the planted Shapley share (computed by hand on
    the cells' weights) at least 90% of the time here. The site-period intervals without the
    leave-one-unit-out residuals and effective degrees of freedom covered the channels' share
    89.5% of the time over 200 seeds."""
    seeds = 60
    hits = {fac: 0 for fac in FACTORS}
    for seed in range(100, 100 + seeds):
        cells = g.drawn_cells(seed)
        d = decompose(prepare_panel(cells))
        treated = cells[cells["phase"] != "baseline"]
        truth = _by_hand(treated, set(g.PEAK_WEEKS), "truth", "n")["shapley"]
        for s in d.shares:
            hits[s.factor] += s.ci[0] < truth[s.factor] < s.ci[1]
            assert 1 <= s.df <= 255
    assert min(hits.values()) >= 0.9 * seeds, hits
