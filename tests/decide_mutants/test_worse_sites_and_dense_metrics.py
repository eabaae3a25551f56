"""Two small sentences and a filter by hand: how many sites are worse (and which), and which
metrics are recorded densely enough to judge a site's recording by."""

from __future__ import annotations

import pandas as pd

from analytics.core.catalog import Metric
from analytics.decide.evidence import _worse_summary
from analytics.decide.why_sections import _dense

AHT = Metric("aht", "Handle time", direction="lower")


class _Named:  # the sentence reads only the slice's name
    def __init__(self, name: str) -> None:
        self.name = name


def test_the_worse_sites_sentence_counts_and_names_them() -> None:
    assert _worse_summary(AHT, (), 0) == "No site has production rows yet."
    assert _worse_summary(AHT, (), 4) == (
        "No site of 4 is significantly worse than before the AI on Handle time."
    )
    worse = (_Named("Lyon"), _Named("Pau"))
    assert _worse_summary(AHT, worse, 5) == (  # type: ignore[arg-type]
        "2 of 5 sites are worse than before the AI on Handle time: Lyon, Pau."
    )


def test_dense_metrics_hold_at_least_half_the_best_recorded_ones_rows() -> None:
    cells = pd.DataFrame(
        {"metric": ["aht", "aht", "csat", "revenue", "fcr"], "n": [600, 400, 500, 499, 1000]}
    )
    # aht 1,000 and fcr 1,000 are the best; csat 500 is exactly half; revenue 499 is not
    assert _dense(cells) == ["aht", "csat", "fcr"]
    assert _dense(cells, floor=0.9) == ["aht", "fcr"]
