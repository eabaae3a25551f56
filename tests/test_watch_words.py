"""Plain words on the watch: method codes named, and nothing said to hold before any period."""

from __future__ import annotations

import pytest

from analytics.core import fmt
from analytics.decide.watch_report import WatchReport


@pytest.mark.parametrize(
    "code", ["imputation_cluster_site", "imputation_placebo", "imputation_hc_cells"]
)
def test_every_imputation_code_reads_as_words(code: str) -> None:
    words = fmt.method_name(code)
    assert "_" not in words and words == fmt.METHOD_NAMES[code]


def test_lists_of_codes_are_joined_in_words() -> None:
    assert fmt.method_name("imputation_placebo, welch").endswith(fmt.METHOD_NAMES["welch"])


def _report(periods: int) -> WatchReport:
    meta = {"periods_since_decision": periods, "grain": "week"}
    decision = {"decided_at": "2025-09-15T10:00:00", "data_until": "2025-09-14"}
    return WatchReport(meta, decision, (), (), ())


def test_no_period_since_the_decision_is_nothing_to_watch_not_all_hold() -> None:
    assert _report(0).lines() == [
        "Nothing to watch yet: no week of production since the decision of 2025-09-15 (data to "
        "2025-09-14); add the next period's file and watch again."
    ]
    assert _report(0).nothing_yet and not _report(1).nothing_yet
    assert _report(1).lines() == ["All hold since the decision of 2025-09-15."]
