"""Each effect's volumes are the weight totals of its two groups, for every slice type, summed
by hand from the cells."""

from __future__ import annotations

import pandas as pd

from analytics.decide.results import EffectRow
from analytics.decide.volumes import with_volumes

CELLS = pd.DataFrame(
    {
        "metric": ["aht"] * 6,
        "phase": ["baseline", "baseline", "production", "production", "production", "pilot"],
        "site": ["Lyon", "Pau", "Lyon", "Lyon", "Pau", "Lyon"],
        "channel": ["chat", "chat", "chat", "phone", "chat", "chat"],
        "n": [2, 3, 4, 5, 6, 7],
        "w": [20.0, 30.0, 40.0, 50.0, 60.0, 70.0],
        "mean": [1.0] * 6,
        "m2": [0.5] * 6,
    }
)


def _effect(slice_type: str, slice_name: object, comparison: str = "production_vs_baseline"):
    return EffectRow(
        "aht", comparison, slice_type, slice_name, False, "welch", 1, 1, 1.0, 1.0, 0.0,
        (0.0, 0.0), 0.0, (0.0, 0.0), 1.0, 1.0,
    )  # fmt: skip


def test_volumes_are_the_weight_totals_of_each_group() -> None:
    effects = [
        _effect("overall", None),
        _effect("site", "Lyon"),
        _effect("channel", "chat"),
        _effect("site_channel", ("Lyon", "chat")),
        _effect("site_channel", ["Pau", "chat"]),
        _effect("overall", None, comparison="pilot_vs_baseline"),
    ]
    got = [(e.volume_a, e.volume_b) for e in with_volumes(effects, CELLS)]
    assert got == [
        (150.0, 50.0),  # production 40 + 50 + 60; baseline 20 + 30
        (90.0, 20.0),  # Lyon: production 40 + 50; baseline 20
        (100.0, 50.0),  # chat: production 40 + 60; baseline 20 + 30
        (40.0, 20.0),
        (60.0, 30.0),
        (70.0, 50.0),
    ]


def test_a_group_without_cells_has_no_volume_and_no_cells_change_nothing() -> None:
    [nice] = with_volumes([_effect("site", "Nice")], CELLS)
    assert (nice.volume_a, nice.volume_b) == (None, None)
    [odd] = with_volumes([_effect("region", "North")], CELLS)
    assert (odd.volume_a, odd.volume_b) == (None, None)
    effects = [_effect("overall", None)]
    assert with_volumes(effects, CELLS.iloc[:0]) == effects
