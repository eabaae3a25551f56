"""The numbers inside two watch alerts: a site turning worse is compared with that site's own
improvement when decided, and a breached guardrail's alert and chart carry the same CUSUM
threshold. Here the site verdicts have no interval (three comparison plants: a placebo test
gives none), so the watch takes the site's own periods before the decision as its reference:
their mean improvement agrees with the verdict's estimate to within a point, and is not the
standard error beside it."""

from __future__ import annotations

import re
from pathlib import Path

from test_watch import _scenario, _watch, decided  # noqa: F401 - decided is a fixture

from analytics.core.catalog import read_catalog
from analytics.decide.analysis import analyse
from analytics.store.database import Store


def _decided_site_lift(db: Path, site: str) -> float:
    store = Store(db)
    ds = store.datasets()[0].id
    found = analyse(store, ds, read_catalog(store.cursor(), ds))
    store.close()
    (verdict,) = [
        v for v in found.site_verdicts if v.metric == "cost_per_case_eur" and v.site == site
    ]
    return -verdict.estimate  # lower cost is better


def test_a_site_turning_worse_is_compared_with_its_own_improvement_when_decided(
    decided: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    then = _decided_site_lift(decided, "P2")
    _, document = _watch(_scenario(decided, tmp_path, worse="P2"), tmp_path / "out")
    (alert,) = [a for a in document["alerts"] if a["kind"] == "site_worse"]
    assert alert["site"] == "P2" and alert["causal"]
    found = re.search(
        r"over its latest periods against ([+-][\d.]+)% when decided", alert["message"]
    )
    assert found is not None and abs(float(found.group(1)) - 100 * then) < 1.0
    assert alert["message"].startswith("Cost per case (EUR) at P2: the site's improvement is ")
    assert alert["message"].endswith(f"significantly worse since the period of {alert['since']}.")


def test_a_breached_guardrail_carries_its_threshold_on_the_alert_and_the_chart(
    decided: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    _, document = _watch(_scenario(decided, tmp_path, accuracy=0.7), tmp_path / "out")
    (guard,) = document["guardrails"]
    (alert,) = document["alerts"]
    assert guard["cusum_threshold"] == alert["threshold"] > 0
    assert alert["message"].startswith("Guardrail Accuracy is breached: ")
    assert (
        "in production over the latest periods, where it must be at least 0.8;"
        in (alert["message"])
    )  # accuracy: higher is better, so its limit is a floor
    after = [p for p in guard["points"] if p["after_decision"]]
    assert alert["statistic"] == max(p["cusum"] for p in after) > alert["threshold"]


def test_rows_since_the_decision_are_the_appended_rows_only(
    decided: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    import io

    import pandas as pd
    import rollout_rows as rr

    _, document = _watch(_scenario(decided, tmp_path), tmp_path / "out")
    appended = sum(len(pd.read_csv(io.BytesIO(b))) for b in (rr.weeks(36, 37), rr.weeks(38, 41)))
    assert document["data"]["rows_since_decision"] == appended  # not the decision's last day
    assert document["decision"]["data_until"] == "2025-09-14"
