"""Method names a person reads come from one table of plain words (core/fmt.py METHOD_NAMES).

results.json keeps the machine ids; every id the engine can write must have plain words in the
table, so no footer, page, export or slide falls back to the id with its underscores replaced.
"""

from __future__ import annotations

import pytest

from analytics.core import fmt
from analytics.engine.contrasts import ASSUMPTIONS
from analytics.engine.staggered import METHOD_ASSUMPTIONS
from analytics.present.chart_base import ChartContext

# Every method id the engine writes: the adjusted model's {mode}_{covariance}, the rollout
# estimators, the unadjusted comparison, the forecasts (monthly and weekly), and "none".
ENGINE_IDS = sorted(
    {*ASSUMPTIONS, *METHOD_ASSUMPTIONS, "welch", "local_linear_trend",
     "local_linear_trend_weekly", "none"}
)  # fmt: skip


@pytest.mark.parametrize("code", ENGINE_IDS)
def test_every_engine_method_has_plain_words(code: str) -> None:
    assert code in fmt.METHOD_NAMES
    name = fmt.method_name(code)
    assert name == fmt.METHOD_NAMES[code]
    assert "_" not in name and code not in name


def test_a_chart_footer_names_the_verdicts_estimator_in_words_and_its_section() -> None:
    ctx = ChartContext("d", "", "", "", "1", 0.95, "imputation_placebo,twfe_hc1_cells", 10)
    method_line = ctx.footnote_lines[-1]
    assert "imputation_placebo" not in method_line and "twfe_hc1_cells" not in method_line
    assert method_line == (
        "Method: live sites against what they would have done without the AI (imputation), "
        "judged against placebo go-lives at sites still on the baseline, site and period "
        "adjusted, cell-level errors (few sites) (Methods page, section 3a. The estimate behind "
        "every verdict: rollouts as they really happen)"
    )
