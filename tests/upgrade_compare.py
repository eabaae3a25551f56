"""Compare a results document recorded by an older version with today's analysis of the same
dataset, field by field, to 1e-9: every field the older version had must hold, except those
that changed on purpose since, which are named here once with the change that made them move.

Changed on purpose since schemas 4 and 5 were written:
- the production effects (adjusted, `production_vs_baseline` and `production_vs_pilot`): the
  two-way fixed-effects model (`twfe_*`) gave way to the imputation estimator
  (`imputation_*`, rollouts issue 12, commit b5247cb, merged in 468e6da). The pilot's model and
  every unadjusted comparison are unchanged.
- each verdict rests on that production effect: its estimate, interval, improvement, minimum
  detectable effect, method, assumption, reasons, summary, rows needed and the verdict itself
  follow it; its pilot half (pilot estimate, interval, verdict, reasons) and retention hold.
- the value delivered at scale is the production effect priced: `delivered`, `net`,
  `share_of_promise` and their intervals follow it; `promised` (the pilot's) holds. The
  not-counted reasons were reworded.
- `meta.created_at` is when the analysis ran.

Changed on purpose since schema 6 was written (6b6da66):
- each verdict's `retention` comes from the imputation estimator's production and pilot lifts
  (decide/retention.py) instead of the two-way model's;
- each verdict's `warnings` follow the event study, now counted from each site's production
  go-live (the pilot site joins its production wave, not its pilot month).
"""

from __future__ import annotations

import math
from typing import Any

VERDICT_CHANGED = {
    "estimate", "ci", "improvement", "improvement_ci", "mde", "method", "assumption",
    "reasons", "summary", "verdict", "rows_needed",
}  # fmt: skip
SINCE_6 = {"retention", "warnings"}  # verdict fields moved since schema 6 (see above)
VALUE_CHANGED = {"delivered", "delivered_ci", "net", "net_ci", "share_of_promise"}


def differences(was: Any, now: Any, path: str = "") -> list[str]:
    """The paths where `now` does not hold what `was` held (numbers to 1e-9 relative; a key
    `was` lacks is not compared: later versions add fields)."""
    if isinstance(was, dict):
        if not isinstance(now, dict):
            return [path]
        out = []
        for key, value in was.items():
            out += (
                [f"{path}.{key}"]
                if key not in now
                else differences(value, now[key], f"{path}.{key}")
            )
        return out
    if isinstance(was, list):
        if not isinstance(now, list) or len(was) != len(now):
            return [path]
        return [
            p
            for i, (a, b) in enumerate(zip(was, now, strict=True))
            for p in differences(a, b, f"{path}[{i}]")
        ]
    if isinstance(was, float) and isinstance(now, int | float) and not isinstance(now, bool):
        return [] if math.isclose(was, now, rel_tol=1e-9, abs_tol=1e-12) else [path]
    return [] if was == now else [path]


def _without(row: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in keys}


def without_since_6(was: dict[str, Any]) -> dict[str, Any]:
    """A document recorded at schema 6 without the verdict fields that moved since."""
    return dict(was, verdicts=[_without(v, SINCE_6) for v in was["verdicts"]])


def changed_on_purpose(was: dict[str, Any], now: dict[str, Any]) -> dict[str, int]:
    """Check every recorded field of `was` against `now` (today's to_dict, effects of the
    overall slice); return how many effect rows and verdicts moved on purpose. Raises
    AssertionError naming the first path that differs without a reason above."""
    moved = {"effects": 0, "verdicts": 0}
    assert differences(_without(was["meta"], {"created_at"}), now["meta"], "meta") == []
    assert differences(was["dataset"], now["dataset"], "dataset") == []
    assert len(was["effects"]) == len(now["effects"])
    for a, b in zip(was["effects"], now["effects"], strict=True):
        key = ("metric", "comparison", "adjusted", "slice_type", "slice")
        assert [a[k] for k in key] == [b[k] for k in key]
        if a["method"] == b["method"]:
            assert differences(a, b, f"effect {a['metric']} {a['comparison']}") == []
            continue
        assert a["adjusted"] and a["comparison"].startswith("production_vs_")
        assert a["method"].startswith("twfe_") and b["method"].startswith("imputation_")
        moved["effects"] += 1
    assert [v["metric"] for v in was["verdicts"]] == [v["metric"] for v in now["verdicts"]]
    for a, b in zip(was["verdicts"], now["verdicts"], strict=True):
        kept = _without(a, VERDICT_CHANGED | SINCE_6)
        assert differences(kept, b, f"verdict {a['metric']}") == []
        moved["verdicts"] += a["method"] != b["method"]
    assert [r["metric"] for r in was["value_at_scale"]] == [
        r["metric"] for r in now["value_at_scale"]
    ]
    for a, b in zip(was["value_at_scale"], now["value_at_scale"], strict=True):
        assert differences(_without(a, VALUE_CHANGED), b, f"value {a['metric']}") == []
    if was["value_total"] is not None:
        total = _without(was["value_total"], VALUE_CHANGED | {"not_counted"})
        assert differences(total, now["value_total"], "value_total") == []
        was_out = [r["metric"] for r in was["value_total"]["not_counted"]]
        assert was_out == [r["metric"] for r in now["value_total"]["not_counted"]]
    return moved
