"""Representativeness of the pilot (issue 14, item 2) and the peak calendar, against the rollout
with planted causes (gap_rows.py) and independent row-level computations: counterfactuals from
statsmodels OLS on the baseline rows (test_gap._row_effects), the re-weighting done by hand with
pandas groupby on the rows."""

from __future__ import annotations

from datetime import timedelta

import gap_rows as g
import numpy as np
import pandas as pd
import pytest
from test_gap import _by_hand, _row_effects

from analytics.core.catalog import Catalog, apply_overrides
from analytics.core.errors import ScalegateError
from analytics.core.peaks import is_peak, parse_peak_periods
from analytics.decide.representativeness_report import representativeness_row
from analytics.engine.gap import decompose, peaks_for
from analytics.engine.panel import prepare_panel
from analytics.engine.representativeness import represent


@pytest.fixture(scope="module")
def wide():
    frame = g.rows(wide_pilot=True)
    return frame, prepare_panel(g.cells(frame))


def _hand(frame: pd.DataFrame, peak: set[int]) -> dict:
    t = _row_effects(frame).assign(L=lambda f: f["week"].isin(peak).astype(int))
    pilot, prod = t[t["phase"] == "pilot"], t[t["phase"] == "production"]
    keys = ["channel", "L"]
    f_p = pilot.groupby(keys)["effect"].mean()
    y_p = pilot.groupby(keys)["score"].mean()
    truth = pilot.groupby(keys)["truth"].mean()
    counts = prod.groupby(keys).size()
    covered = counts[counts.index.isin(f_p.index)]
    pi = covered / covered.sum()
    effect = float((pi * f_p[pi.index]).sum())
    mean = float((pi * y_p[pi.index]).sum())
    mix = {
        dim: (pilot[col].value_counts(normalize=True), prod[col].value_counts(normalize=True))
        for dim, col in (("site", "site"), ("channel", "channel"), ("load", "L"))
    }
    return {
        "effect": effect,
        "lift": effect / (mean - effect),
        "mean": mean,
        "truth": float((pi * truth[pi.index]).sum()),
        "covered_share": covered.sum() / len(prod),
        "pilot_effect": pilot["effect"].mean(),
        "mix": mix,
    }


def test_reweighted_pilot_equals_the_row_level_reweighting(wide) -> None:
    frame, panel = wide
    r = represent(panel)
    hand = _hand(frame, set(g.PEAK_WEEKS))
    assert r.by == ("channel", "load")
    assert r.reweighted_effect == pytest.approx(hand["effect"], abs=1e-6)
    assert r.reweighted_lift == pytest.approx(hand["lift"], abs=1e-6)
    assert r.pilot_effect == pytest.approx(hand["pilot_effect"], abs=1e-6)
    assert r.covered_share == pytest.approx(hand["covered_share"], abs=1e-9)
    lo, hi = r.reweighted_ci
    assert r.reweighted_lift_ci == pytest.approx(
        (lo / (hand["mean"] - lo), hi / (hand["mean"] - hi)), abs=1e-9
    )
    for m in r.mix:
        pilot, prod = hand["mix"][m.dimension]
        key = {"normal": 0, "peak": 1}.get(m.level, m.level)
        assert m.pilot_share == pytest.approx(pilot.get(key, 0.0), abs=1e-9)
        assert m.production_share == pytest.approx(prod.get(key, 0.0), abs=1e-9)
    # The planted effect of the pilot under production's mix lies in the interval; the pilot as
    # it ran (mostly web, mostly quiet weeks) promised more than production's mix can give.
    assert lo < hand["truth"] < hi
    as_ran = frame.loc[frame["phase"] == "pilot", "truth"].mean()
    assert hand["truth"] < as_ran - 0.5
    assert r.reweighted_effect < r.pilot_effect


def test_the_pilot_is_silent_on_what_it_never_saw(wide) -> None:
    _, panel = wide
    r = represent(panel)
    assert r.silent == ("the pilot never ran on chat", "the pilot ran at A only (80% of "
                        "production is elsewhere)")  # fmt: skip
    narrow = represent(prepare_panel(g.cells(g.rows())))
    assert narrow.silent[:2] == (
        "the pilot saw no peak period",
        "the pilot never ran on chat or phone",
    )
    # Only (web, normal) was covered: the re-weighted effect is the pilot's own.
    assert narrow.reweighted_effect == pytest.approx(narrow.pilot_effect, abs=1e-12)


def test_sentence_names_the_interval_and_the_share_spoken_for(wide) -> None:
    frame, _ = wide
    row = representativeness_row("score", g.cells(frame), 1, 0.99)
    r = row.rep
    lo, hi = r.reweighted_ci
    assert row.sentence == (
        "Re-weighted to production's mix of channels and load (peak or normal periods), the "
        f"pilot's effect is {r.reweighted_effect:+.3g} (99% interval {lo:+.3g} to {hi:+.3g}; "
        f"improvement in the metric's units), against {r.pilot_effect:+.3g} as the pilot ran; "
        f"it speaks for {r.covered_share:.0%} of production. The pilot never ran on chat and "
        "the pilot ran at A only (80% of production is elsewhere)."
    )
    # Lower is better: the negated cells say the same in improvement terms.
    neg = g.cells(frame).assign(mean=lambda c: -c["mean"])
    assert representativeness_row("score", neg, -1, 0.99).sentence == row.sentence


def _calendar(weeks: list[int]) -> list[str]:
    """The weeks as date ranges (Monday to Sunday), as a user would write them."""
    start = pd.Timestamp(g.START)
    out = []
    for w in weeks:
        first = (start + timedelta(days=7 * w)).date()
        out.append(f"{first}..{first + timedelta(days=6)}")
    return out


def test_a_peak_calendar_replaces_the_volume_rule() -> None:
    frame = g.rows()
    panel = prepare_panel(g.cells(frame))
    same = peaks_for(panel, _calendar(sorted(g.PEAK_WEEKS)))
    assert np.array_equal(same, peaks_for(panel))
    chosen = [18, 21, 24]
    peak = peaks_for(panel, _calendar(chosen))
    assert set(np.flatnonzero(peak)) == set(chosen)
    d = decompose(panel, peak)
    hand = _by_hand(_row_effects(frame), set(chosen), "effect")
    for s in d.shares:
        assert s.value == pytest.approx(hand["shapley"][s.factor], abs=1e-6)


def test_peak_calendar_entries_are_months_days_or_ranges() -> None:
    from datetime import date

    starts = [date(2024, 10, 28), date(2024, 11, 4), date(2024, 12, 23), date(2025, 1, 6)]
    assert is_peak(starts, ["2024-11"]) == [False, True, False, False]
    assert is_peak(starts, ["2024-12-23"]) == [False, False, True, False]
    assert is_peak(starts, ["2024-11..2024-12"]) == [False, True, True, False]
    assert is_peak(starts, ["2024-12-20..2025-01-06"]) == [False, False, True, True]
    for bad in (["November"], ["2024-13"], ["2024-12..2024-11"], "2024-11", [2024]):
        with pytest.raises(ScalegateError, match="peak_periods"):
            parse_peak_periods(bad)
    catalog, _ = apply_overrides(Catalog(()), {"settings": {"peak_periods": ["2024-11"]}})
    assert catalog.settings.peak_periods == ("2024-11",)
    assert 'peak_periods = ["2024-11"]' in catalog.to_toml()
