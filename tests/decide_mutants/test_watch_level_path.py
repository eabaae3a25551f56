"""The watch when no comparison site is left (every plant went live after the decision): the
outcome is watched on its level against the decision-time level, which is not causal; a slip
is one alert whose since, statistic and threshold come from its own CUSUM points."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import rollout_rows as rr
from decided import decide_on_history
from test_watch import _kinds, _watch

from analytics.ingest.append import append_files
from analytics.ingest.load import Source
from analytics.store.database import Store


@pytest.fixture(scope="module")
def decided_lift(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """A go decision on the history, and the improvement in cost it recorded."""
    path = tmp_path_factory.mktemp("level") / "decided.duckdb"
    effect = decide_on_history(path).effect("cost_per_case_eur", "production_vs_baseline")
    assert effect is not None
    return path, -effect.lift  # lower cost is better: the improvement is the fall


def _all_live(decided: Path, tmp_path: Path, effect: float) -> Path:
    db = tmp_path / "watch.duckdb"
    shutil.copyfile(decided, db)
    store = Store(db)
    append_files(store, "Rollout", [Source.from_bytes("a.csv", rr.weeks(36, 37, all_live=True))])
    later = rr.weeks(38, 41, all_live=True, effect=effect)
    append_files(store, "Rollout", [Source.from_bytes("b.csv", later)])
    store.close()
    return db


def test_with_no_comparison_site_left_the_level_is_watched_and_holds(
    decided_lift: tuple[Path, float], tmp_path: Path
) -> None:
    decided, lift = decided_lift
    code, document = _watch(_all_live(decided, tmp_path, 0.15), tmp_path / "out")
    assert code == 0 and document["status"] == "hold" and document["alerts"] == []
    (outcome,) = document["outcomes"]
    assert (outcome["mode"], outcome["causal"], outcome["comparison_sites"]) == ("level", False, 0)
    assert outcome["reference_method"] == "level_vs_decision_time"
    assert outcome["snapshot_estimate"] == pytest.approx(lift, rel=1e-12)
    # The level is the mean of the last 8 periods before the decision, so their changes
    # against it average exactly zero (lower is better: improvement = -(mean / level - 1)).
    before = [p["value"] for p in outcome["points"] if not p["after_decision"]][-8:]
    assert sum(before) / 8 == pytest.approx(0.0, abs=1e-12)


def test_a_slip_in_level_is_one_alert_read_from_its_own_cusum(
    decided_lift: tuple[Path, float], tmp_path: Path
) -> None:
    decided, _ = decided_lift
    code, document = _watch(_all_live(decided, tmp_path, 0.0), tmp_path / "out")
    assert code == 3 and _kinds(document) == [("outcome_level_declined", "cost_per_case_eur", None)]
    (outcome,) = document["outcomes"]
    (alert,) = document["alerts"]
    after = [p for p in outcome["points"] if p["after_decision"]]
    h = outcome["cusum_threshold"]
    assert alert["threshold"] == h and not alert["causal"]
    assert alert["statistic"] == max(p["cusum"] for p in after)
    assert alert["since"] == next(p["period"] for p in after if p["cusum"] > h)
    assert alert["message"].startswith("Cost per case (EUR): production is ")
    assert alert["message"].endswith(
        f"against its level when decided (better is positive), a significant slip since the "
        f"period of {alert['since']}; no comparison site is left, so this is not a causal "
        "estimate."
    )
