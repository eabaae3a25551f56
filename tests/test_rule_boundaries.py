"""Each verdict rule and safety rule at its exact boundary, so that a mutated comparison fails.

Every test here is listed in tests/mutants.py with the mutation it kills (`make mutants`).
"""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import openpyxl
import pandas as pd
import pytest
from rollouts import Rollout, simulate
from scipy import stats as sps
from test_charts import make_catalog, make_results
from test_verdict import SAVED, SETTINGS, evidence

from analytics.core.catalog import Catalog, Metric
from analytics.core.errors import ScalegateError
from analytics.decide.evidence import _site_verdicts
from analytics.decide.metric_fit import _Means
from analytics.decide.rollout import MetricRollout, SliceTest, analyse_rollout, correct_family
from analytics.decide.rollout import significantly_worse as rollout_significantly_worse
from analytics.decide.rollout import worse_slices as rollout_worse_slices
from analytics.decide.verdict import decide
from analytics.engine.staggered import RolloutEstimate
from analytics.ingest.load import Source, load_files
from analytics.present import export, pack
from analytics.store.database import Store

# -- rule 1: fewer than min_production_rows (30) rows --------------------------------------------


@pytest.mark.parametrize(("rows", "judged"), [(29, False), (30, True), (31, True)])
def test_rule1_boundary_is_strictly_fewer_than_the_minimum(rows: int, judged: bool) -> None:
    assert SETTINGS.min_production_rows == 30
    d = decide(evidence(n_rows=rows), SETTINGS)
    assert (d.verdict == "scale") is judged
    if not judged:
        assert d.verdict == "need_more_data" and d.rows_needed == 30 - rows
        assert d.reasons[0].startswith(f"Only {rows} production rows")


@pytest.mark.parametrize(("sites", "judged"), [(1, False), (2, True), (3, True)])
def test_rule1_site_boundary_is_strictly_fewer_than_the_minimum(sites: int, judged: bool) -> None:
    assert SETTINGS.min_production_sites == 2
    d = decide(evidence(n_sites=sites), SETTINGS)
    assert (d.verdict == "scale") is judged
    if not judged:
        assert (
            d.reasons[0]
            == "Production runs at 1 site(s); at least 2 are needed to tell the AI from the site."
        )


# -- rule 2: the top of the interval strictly below δ --------------------------------------------


def test_rule2_top_of_interval_equal_to_the_threshold_is_not_do_not_scale() -> None:
    at = decide(evidence(lift=0.0, lift_low=-0.05, lift_high=0.05), SETTINGS)
    assert SAVED.min_effect == 0.05
    assert at.verdict == "need_more_data"  # 0.05 is not below 0.05: rule 5, not rule 2
    below = decide(evidence(lift=0.0, lift_low=-0.05, lift_high=0.0499), SETTINGS)
    assert below.verdict == "do_not_scale"


# -- rule 4: lo strictly above 0 and the estimate at least δ ---------------------------------------


def test_rule4_boundaries_lower_bound_above_zero_and_estimate_at_least_the_threshold() -> None:
    assert decide(evidence(lift=0.10, lift_low=0.0, lift_high=0.20), SETTINGS).verdict == (
        "need_more_data"  # an interval touching 0 does not exclude no effect
    )
    at = decide(evidence(lift=0.05, lift_low=0.01, lift_high=0.09), SETTINGS)
    assert at.verdict == "scale"  # an improvement of exactly δ clears it
    assert decide(evidence(lift=0.0499, lift_low=0.01, lift_high=0.09), SETTINGS).verdict == (
        "need_more_data"
    )


# -- rule 3, retention: the top of its interval against the floor --------------------------------


def test_retention_rule_compares_the_top_of_the_interval_with_the_floor() -> None:
    assert SETTINGS.retention_floor == 0.5
    # The point is below the floor but the interval reaches above it: not proven, not flagged.
    unsure = decide(evidence(retention=0.40, retention_high=0.55), SETTINGS)
    assert unsure.verdict == "scale"
    # The whole interval below the floor: fix first.
    low = decide(evidence(retention=0.40, retention_high=0.49), SETTINGS)
    assert low.verdict == "fix_first" and "at most 49%" in low.reasons[0]
    # Exactly at the floor is not below it.
    assert decide(evidence(retention=0.40, retention_high=0.50), SETTINGS).verdict == "scale"


# -- rule 3, worse slices: Holm-adjusted p, not raw p --------------------------------------------


def _slice(name: str, p: float, estimate: float = -1.0) -> SliceTest:
    """A site whose production effect is `estimate` with two-sided p-value `p` (t, 30 df)."""
    se = abs(estimate) / sps.t.isf(p / 2, 30)
    est = RolloutEstimate(
        method="imputation",
        estimate=estimate,
        se=se,
        df=30.0,
        lift=estimate / 10,
        lift_se=se / 10,
        treated_mean=10 + estimate,
        counterfactual_mean=10.0,
        coverage=1.0,
        rows=200,
        rows_selected=200,
        treated_sites=1,
        clusters=31,
    )
    return SliceTest("site", name, est)


def _family(*ps: float) -> MetricRollout:
    sites = tuple(_slice(f"S{k}", p) for k, p in enumerate(ps))
    roll = MetricRollout(None, sites[0].estimate, None, None, sites=sites)  # type: ignore[arg-type]
    return correct_family({"m": roll})["m"]


def test_worse_slices_read_holm_adjusted_p_values_not_raw_ones() -> None:
    roll = _family(0.02, 0.03, 0.04)
    raw = [s.estimate.p_value for s in roll.sites]
    assert raw == pytest.approx([0.02, 0.03, 0.04])
    # Holm by hand: 3 × 0.02 = 0.06, max(0.06, 2 × 0.03) = 0.06, max(0.06, 0.04) = 0.06.
    assert [s.p_family for s in roll.sites] == pytest.approx([0.06, 0.06, 0.06])
    assert rollout_worse_slices(roll, 1, 0.05) == ()  # every raw p < 0.05, no Holm p
    mixed = _family(0.001, 0.03, 0.04)
    assert [s.p_family for s in mixed.sites] == pytest.approx([0.003, 0.06, 0.06])
    assert [s.name for s in rollout_worse_slices(mixed, 1, 0.05)] == ["S0"]
    assert rollout_worse_slices(mixed, -1, 0.05) == ()  # lower is better: a fall is no harm


# -- per-site verdicts apply rule 1 to the site's own rows ----------------------------------------


def test_per_site_verdicts_apply_rule_1_to_the_sites_own_rows() -> None:
    starts = (6, 8, 10, 12) + (None,) * 20
    sizes = (40, 40, 40, 2) + (40,) * 20
    design = Rollout(starts=starts, sizes=sizes, effect=lambda h, g: 8.0)
    cells = simulate(design, np.random.default_rng(3))
    roll = correct_family({"m": analyse_rollout(cells, 0.05)})["m"]  # type: ignore[dict-item]
    metric = Metric("m", "Minutes", "outcome", "higher", "", 0.05, 1.0)
    verdicts = _site_verdicts(metric, roll, Catalog((metric,)), _Means(cells.assign(metric="m")))
    small = next(v for v in verdicts if v.site == "S03")
    assert (small.verdict, small.reasons[0]) == (
        "need_more_data",
        "Only 24 S03 rows of Minutes; at least 30 are needed to judge.",
    )  # 2 rows a month over the 12 months after its go-live
    big = {v.site: v.verdict for v in verdicts if v.site != "S03"}
    assert big == {"S00": "scale", "S01": "scale", "S02": "scale"}


# -- ingest: a metric with no finite value is refused --------------------------------------------


def test_a_file_whose_metric_is_all_nan_or_infinite_is_refused(store: Store) -> None:
    text = b"phase,cost\nbaseline,nan\npilot,inf\nproduction,-inf\nproduction,NaN\n"
    with pytest.raises(ScalegateError, match="Every metric column is empty or unreadable"):
        load_files(store, [Source.from_bytes("bad.csv", text)])
    assert store.datasets() == []
    fine = b"phase,cost\nbaseline,nan\npilot,inf\nproduction,2\n"
    assert load_files(store, [Source.from_bytes("ok.csv", fine)]).report.rows_loaded == 3


# -- the pack's worst slices: the verdict's own "significantly worse" (rule 3) -----------------


def _site_effect(results, site: str, diff: float, p_holm: float, p_raw: float = 0.001):
    rows = []
    for e in results.effects:
        if e.slice_type == "site" and e.slice == site:
            e = replace(e, diff=diff, lift=diff / 10, p_value=p_raw, p_adjusted=p_holm)
        rows.append(e)
    return replace(results, effects=tuple(rows))


@pytest.mark.parametrize("direction", ["higher", "lower"])
def test_pack_worst_slices_flag_exactly_what_the_verdict_rule_flags(direction: str) -> None:
    base = make_results()
    porto = next(e for e in base.effects if e.slice_type == "site" and e.slice == "Porto")
    catalog = make_catalog()
    metrics = tuple(
        replace(m, direction=direction) if m.id == porto.metric else m for m in catalog.metrics
    )
    catalog = replace(catalog, metrics=metrics)
    alpha, sign = catalog.settings.alpha, catalog.get(porto.metric).sign

    def status(results) -> str:
        rows = pack.worst_slices(results, catalog)
        return next(r[-1] for r in rows[1:] if r[1] == "site Porto")

    for diff in (-2.0, 2.0):
        for p_holm in (alpha * 0.999, alpha, 0.2):
            flagged = "significantly worse" in status(_site_effect(base, "Porto", diff, p_holm))
            assert flagged == rollout_significantly_worse(p_holm, sign * diff, alpha)
            # Holm p below alpha with the effect going the wrong way, and only then.
            assert flagged == (p_holm < alpha and sign * diff < 0)
    # The raw p-value never decides: a raw p below alpha with a Holm p above it is not flagged.
    wrong_way = -2.0 * sign
    assert "significantly worse" not in status(_site_effect(base, "Porto", wrong_way, 0.2, 0.001))
    assert "significantly worse" in status(_site_effect(base, "Porto", wrong_way, 0.001, 0.2))


# -- exports: formula starters neutralised in headers, cells and list cells -----------------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_csv_and_xlsx_neutralise_formulas_in_headers_cells_and_list_cells(start: str) -> None:
    evil = f"{start}SUM(A1:A9)"
    frame = pd.DataFrame({evil: [evil, 1.5], "sites": [[evil, "Lyon"], ["Lyon", evil]]})
    csv = pd.read_csv(io.BytesIO(export.to_csv_bytes(frame)), encoding="utf-8-sig", dtype=str)
    assert list(csv.columns) == ["'" + evil, "sites"]
    assert csv.iloc[0].tolist() == ["'" + evil, f"'{evil}, Lyon"]
    assert csv.iloc[1].tolist() == ["1.5", f"Lyon, {evil}"]  # only a leading starter is live
    book = openpyxl.load_workbook(io.BytesIO(export.to_xlsx_bytes({"t": frame})))
    rows = list(book["t"].iter_rows(values_only=True))
    assert rows == [("'" + evil, "sites"), ("'" + evil, f"'{evil}, Lyon"), (1.5, f"Lyon, {evil}")]
    assert all(c.data_type != "f" for row in book["t"].iter_rows() for c in row)


def test_non_finite_numbers_become_empty_cells() -> None:
    frame = pd.DataFrame({"lift": [float("inf"), -float("inf"), float("nan"), 0.25]})
    csv = export.to_csv_bytes(frame).decode("utf-8-sig").split("\r\n")
    assert csv[:5] == ["lift", '""', '""', '""', "0.25"]  # empty, quoted
    book = openpyxl.load_workbook(io.BytesIO(export.to_xlsx_bytes({"t": frame})))
    assert [r[0] for r in book["t"].iter_rows(values_only=True)] == ["lift", None, None, None, 0.25]


def test_a_placebo_test_without_any_comparison_says_so_without_a_count() -> None:
    """No site on the baseline shares the live sites' periods: no placebo, and no invented
    number of sites to add (a new user saw 'the smallest p-value 0 placebo comparisons can
    give is 1 ... with 117 more comparison sites')."""
    from analytics.decide.verdict import few_sites_reason
    from analytics.engine.placebo import PlaceboTest

    test = PlaceboTest(t_real=2.5, placebo_t=(), assignments=0)
    assert (test.rank, test.size) == (1, 1)
    e = evidence(placebo=test, treated_sites=3, ci_level=0.975)
    reason = few_sites_reason(e)
    assert reason.startswith("3 live site(s) cannot be tested against site-to-site variation")
    assert "more comparison site" not in reason and "p-value" not in reason
