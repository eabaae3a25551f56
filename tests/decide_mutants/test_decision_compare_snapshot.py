"""A decision's snapshot beside today's results, from hand-made documents: snapshot metrics first
in their order, then new ones; labels, verdicts, lifts and intervals from the right side; the
sign from either side's catalog."""

from __future__ import annotations

import math

from analytics.decide.decisions import compare_snapshot
from analytics.decide.results import MetricVerdict, Results


def _verdict(metric: str, label: str, verdict: str, est: float, ci: tuple) -> MetricVerdict:
    return MetricVerdict(
        metric, label, verdict, est, ci, 0.99, "twfe", "", "scale", 0.1, (0.0, 0.2), (), (), None,
        None, "",
    )  # fmt: skip


def _today(*verdicts: MetricVerdict, catalog: dict | None = None) -> Results:
    meta = {"catalog": catalog or {}}
    return Results(meta, {}, (), (), verdicts, (), (), (), (), ())


SNAPSHOT = {
    "meta": {"catalog": {"aht": {"direction": "lower"}, "gone": {"direction": "lower"}}},
    "verdicts": [
        {"metric": "gone", "label": "Old metric", "verdict": "scale", "estimate": -0.3,
         "ci": [-0.4, -0.2]},
        {"metric": "aht", "label": "Handle time (then)", "verdict": "scale", "estimate": -0.12,
         "ci": [-0.2, -0.04]},
    ],
}  # fmt: skip


def test_then_and_now_side_by_side_in_the_snapshots_order() -> None:
    today = _today(
        _verdict("csat", "Satisfaction", "need_more_data", 0.02, (-0.01, 0.05)),
        _verdict("aht", "Handle time", "fix_first", -0.05, (-0.09, -0.01)),
        catalog={"csat": {"direction": "higher"}},
    )
    gone, aht, csat = compare_snapshot(SNAPSHOT, today)
    assert [c.metric for c in (gone, aht, csat)] == ["gone", "aht", "csat"]
    assert (aht.label, aht.verdict_then, aht.verdict_now, aht.sign) == (
        "Handle time", "scale", "fix_first", -1,
    )  # fmt: skip
    assert (aht.lift_then, aht.ci_then, aht.lift_now, aht.ci_now) == (
        -0.12, (-0.2, -0.04), -0.05, (-0.09, -0.01),
    )  # fmt: skip
    assert aht.changed
    assert (gone.label, gone.verdict_then, gone.verdict_now, gone.sign) == (
        "Old metric", "scale", None, -1,
    )  # fmt: skip
    assert (gone.lift_then, gone.ci_then) == (-0.3, (-0.4, -0.2))
    assert math.isnan(gone.lift_now) and all(math.isnan(v) for v in gone.ci_now)
    assert (csat.label, csat.verdict_then, csat.verdict_now, csat.sign) == (
        "Satisfaction", None, "need_more_data", 1,
    )  # fmt: skip
    assert math.isnan(csat.lift_then) and all(math.isnan(v) for v in csat.ci_then)
    assert (csat.lift_now, csat.ci_now) == (0.02, (-0.01, 0.05))


def test_a_snapshot_without_labels_or_numbers_reads_as_missing() -> None:
    snapshot = {"verdicts": [{"metric": "fcr", "verdict": "do_not_scale", "estimate": None}]}
    [fcr] = compare_snapshot(snapshot, _today())
    assert fcr.label == "fcr" and fcr.sign == 1
    assert math.isnan(fcr.lift_then) and all(math.isnan(v) for v in fcr.ci_then)
    assert compare_snapshot({}, _today()) == ()
