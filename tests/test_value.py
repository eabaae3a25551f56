"""Value at scale: money only from given inputs, totals that count only outcomes that justify
scaling and are separate benefits, the running cost netted once, and the total's interval from
the joint site-clustered covariance (checked against statsmodels on row-level data)."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats as scipy_stats
from test_analysis import staggered_rows, store_rows

from analytics.core.catalog import read_catalog
from analytics.decide import value as value_mod
from analytics.decide.analysis import analyse
from analytics.decide.results import MetricVerdict, ValueRow
from analytics.engine import influence
from analytics.engine.aggregate import Filters, cells_from_days, summarise_days
from analytics.engine.cells import prepare_cells
from analytics.ingest.load import Source, load_files
from analytics.store.database import Store

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample.csv"
SAMPLE_CATALOG = ROOT / "data" / "sample.catalog.toml"
NAN = float("nan")


@pytest.fixture(scope="module")
def staggered():
    rows = staggered_rows()
    store, catalog = store_rows(rows)
    days = summarise_days(store.cursor(), 1, ["cost", "saved"], Filters())
    cells = cells_from_days(days, ["cost", "saved"], "month")
    per_metric = {
        m: prepare_cells(g.drop(columns="metric").reset_index(drop=True))
        for m, g in cells.groupby("metric")
    }
    return rows, per_metric


def _row_level_cluster(rows: pd.DataFrame, y: pd.Series):
    frame = rows.assign(
        y=y,
        pilot=(rows["phase"] == "pilot").astype(float),
        production=(rows["phase"] == "production").astype(float),
        period=pd.to_datetime(rows["date"]).dt.to_period("M").astype(str),
    )
    model = smf.ols("y ~ pilot + production + C(site) + C(period)", frame)
    groups = frame["site"].astype("category").cat.codes
    return model.fit(cov_type="cluster", cov_kwds={"groups": groups})


def test_site_scores_square_to_the_row_level_clustered_variance(staggered) -> None:
    rows, cells = staggered
    for metric in ("cost", "saved"):
        scores = influence.site_scores(cells[metric])
        fit = _row_level_cluster(rows, rows[metric])
        assert len(scores) == 10  # one score per site
        assert sum(v * v for v in scores.values()) == pytest.approx(
            fit.cov_params().loc["production", "production"], rel=1e-8
        )


@pytest.mark.parametrize(("a", "b"), [(-10_000.0, 5_000.0), (1.0, 1.0), (3.0, -2.0)])
def test_stacked_scores_give_the_variance_of_a_weighted_sum_of_effects(staggered, a, b) -> None:
    """Var(a b_cost + b b_saved) from stacked scores equals the clustered variance of the
    production coefficient of the row-level model of a cost + b saved (same design, same rows):
    the covariance between the two effects is counted, not assumed away."""
    rows, cells = staggered
    scores = {m: influence.site_scores(cells[m]) for m in ("cost", "saved")}
    fit = _row_level_cluster(rows, a * rows["cost"] + b * rows["saved"])
    expected = fit.cov_params().loc["production", "production"]
    assert influence.stacked_variance(scores, {"cost": a, "saved": b}) == pytest.approx(
        expected, rel=1e-8
    )
    separate = sum(w * w * sum(v * v for v in scores[m].values()) for m, w in zip(
        ("cost", "saved"), (a, b), strict=True))  # fmt: skip
    assert not math.isclose(expected, separate, rel_tol=1e-3)  # the covariance matters here


# -- the total's rules, on hand-built rows ---------------------------------------------------------


def _verdict(metric: str, verdict: str, pilot: str = "scale") -> MetricVerdict:
    return MetricVerdict(
        metric, metric.title(), verdict, 0.1, (0.05, 0.15), 0.99, "twfe_cluster_site", "",
        pilot, 0.12, (0.06, 0.18), (), ("Reason.",), None, None, "",
    )  # fmt: skip


def _catalog():
    from analytics.core.catalog import Catalog, Metric, Settings

    return Catalog(
        (
            Metric("cost", "Cost", "outcome", "lower", "EUR", 0.05, 1.0, adds_to_total=True),
            Metric("tickets", "Tickets", "outcome", "lower", "", 0.05, 18.0, adds_to_total=True),
            Metric("minutes", "Minutes", "outcome", "higher", "", 0.05, 0.75, overlaps=("cost",)),
            Metric("revenue", "Revenue", "outcome", "higher", "EUR", 0.05, 1.0, adds_to_total=True),
        ),
        Settings(annual_volume=1000.0, run_cost_per_year=50_000.0, alpha=0.04),
    )


ROWS = (
    ValueRow("cost", 300e3, 200e3, (150e3, 250e3), NAN, NAN),
    ValueRow("tickets", 100e3, 80e3, (60e3, 100e3), NAN, NAN),
    ValueRow("minutes", 90e3, 70e3, (10e3, 130e3), NAN, NAN),
    ValueRow("revenue", 50e3, 900e3, (-2e6, 3.8e6), NAN, NAN),
)


def test_a_total_counts_only_scaling_separate_benefits_and_nets_the_cost_once() -> None:
    verdicts = (
        _verdict("cost", "scale"),
        _verdict("tickets", "scale"),
        _verdict("minutes", "scale"),
        _verdict("revenue", "need_more_data", pilot="need_more_data"),
    )
    total = value_mod.value_total(ROWS, verdicts, _catalog(), {}, {})
    assert total.counted == ("cost", "tickets")
    assert dict(total.not_counted) == {
        "minutes": "overlaps with Cost",
        "revenue": "inconclusive",
    }
    assert total.delivered == 280e3
    assert total.net == 230e3  # 50k of running cost, once
    # No site scores: the intervals are added as if the outcomes moved together (upper bound).
    assert total.delivered_ci == (280e3 - 70e3, 280e3 + 70e3)  # half-widths 50k + 20k
    assert total.interval_method == value_mod.UPPER_BOUND
    # Both sides count the same outcomes (the pilot alone would have scaled cost and tickets).
    assert total.promised_counted == ("cost", "tickets")
    assert total.share_of_promise == pytest.approx(280 / 400)
    assert total.ci_level == pytest.approx(1 - 0.04 / 4)


def test_no_share_of_the_promise_when_the_sides_count_different_outcomes() -> None:
    verdicts = (
        _verdict("cost", "scale"),
        _verdict("tickets", "fix_first"),  # the pilot alone would have scaled it
        _verdict("minutes", "scale"),
        _verdict("revenue", "do_not_scale"),
    )
    total = value_mod.value_total(ROWS, verdicts, _catalog(), {}, {})
    assert total.counted == ("cost",)
    assert total.promised_counted == ("cost", "tickets", "revenue")
    assert total.share_of_promise is None
    assert dict(total.not_counted)["tickets"] == "fix first"
    assert dict(total.not_counted)["revenue"] == "no meaningful effect"


def test_a_clustered_total_uses_the_stacked_scores() -> None:
    verdicts = (_verdict("cost", "scale"), _verdict("tickets", "scale"))
    catalog = _catalog()
    scores = {"cost": {"A": 2.0, "B": -1.0, "C": 0.5}, "tickets": {"A": 0.1, "B": 0.3, "C": -0.2}}
    methods = dict.fromkeys(scores, "twfe_cluster_site")
    total = value_mod.value_total(ROWS[:2], verdicts, catalog, scores, methods)
    # Weights: direction x value per unit x volume = -1000 (cost), -18000 (tickets).
    per_site = [-1000 * 2.0 - 18000 * 0.1, -1000 * -1.0 - 18000 * 0.3, -1000 * 0.5 + 18000 * 0.2]
    half = scipy_stats.t.ppf(1 - 0.01 / 2, 2) * math.sqrt(sum(x * x for x in per_site))
    assert total.delivered_ci == pytest.approx((280e3 - half, 280e3 + half))
    assert total.interval_method == value_mod.COVARIANCE


# -- money only from given inputs ----------------------------------------------------------------


def test_without_a_volume_or_values_no_money_is_shown_and_the_needs_are_said() -> None:
    store = Store(":memory:")
    loaded = load_files(store, [Source.from_path(SAMPLE)])  # no catalog: keyword guesses
    catalog = read_catalog(store.cursor(), loaded.dataset_id)
    assert catalog.settings.annual_volume is None
    assert all(m.value_per_unit is None for m in catalog.metrics)  # not even money columns
    assert catalog.source == "keyword guesses"
    found = analyse(store, loaded.dataset_id, catalog)
    assert found.value_at_scale == ()
    assert found.value_total.needs == (value_mod.VOLUME_NEEDED, value_mod.VALUE_NEEDED)
    # The volume alone is not enough: a value per unit is still needed.
    with_volume = replace(catalog, settings=replace(catalog.settings, annual_volume=1000.0))
    found = analyse(store, loaded.dataset_id, with_volume)
    assert found.value_at_scale == () and found.value_total.needs == (value_mod.VALUE_NEEDED,)


def test_the_sample_counts_cost_per_case_alone() -> None:
    store = Store(":memory:")
    loaded = load_files(
        store,
        [Source.from_path(SAMPLE)],
        catalog_text=SAMPLE_CATALOG.read_text(encoding="utf-8"),
        catalog_name=SAMPLE_CATALOG.name,
    )
    found = analyse(store, loaded.dataset_id, read_catalog(store.cursor(), loaded.dataset_id))
    total = found.value_total
    verdicts = {v.metric: v.verdict for v in found.verdicts}
    assert verdicts["revenue_per_case_eur"] == "need_more_data"
    assert total.counted == ("cost_per_case_eur",)
    why = dict(total.not_counted)
    assert why["revenue_per_case_eur"] == "inconclusive"
    assert "overlaps with Cost per case (EUR)" in why["minutes_saved"]
    cost = next(r for r in found.value_at_scale if r.metric == "cost_per_case_eur")
    assert total.delivered == cost.delivered and total.currency == "EUR"
    assert total.net == pytest.approx(cost.delivered - 150_000)
    # One outcome counted: its own interval, from its own site scores.
    assert total.delivered_ci == pytest.approx(cost.delivered_ci, rel=1e-9)
    assert total.share_of_promise is None  # the pilot alone would have counted three outcomes
    assert np.isfinite(total.delivered_ci).all()


# -- no money without given inputs: CLI, pages and pack --------------------------------------------


def test_the_cli_prices_nothing_without_inputs_and_everything_with_flags(tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    helpdesk = ROOT / "tests" / "fixtures" / "helpdesk_weekly.csv"

    def report(*args: str) -> tuple[str, dict]:
        out = tmp_path / str(len(args))
        run = subprocess.run(
            [sys.executable, "-m", "analytics", "report", str(helpdesk), "--out", str(out), *args],
            capture_output=True, text=True, cwd=ROOT, env=dict(os.environ), timeout=300,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        return run.stdout, json.loads((out / "results.json").read_text())

    stdout, doc = report()
    assert doc["value_at_scale"] == [] and doc["meta"]["settings"]["annual_volume"] is None
    assert "Value at scale needs the annual volume" in stdout
    assert "Catalog: keyword guesses" in stdout
    stdout, doc = report("--annual-volume", "52000", "--value-per-unit", "handle_time_min=0.9")
    (row,) = doc["value_at_scale"]
    verdict = next(v for v in doc["verdicts"] if v["metric"] == "handle_time_min")
    effect = next(
        e
        for e in doc["effects"]
        if (e["metric"], e["comparison"], e["adjusted"], e["slice_type"])
        == ("handle_time_min", "production_vs_baseline", True, "overall")
    )
    # Handle time: lower is better, so the value is -diff x 0.9 x 52,000 a year.
    assert row["delivered"] == pytest.approx(-effect["diff"] * 0.9 * 52_000)
    assert row["ci_level"] == verdict["ci_level"]
    assert doc["value_total"]["counted"] == []  # inconclusive and not a separate benefit
    assert "not counted: inconclusive" in stdout


def test_the_pack_and_the_home_page_say_what_is_needed_instead_of_money(tmp_path: Path) -> None:
    from streamlit.testing.v1 import AppTest

    from analytics.present import pack

    db = tmp_path / "scalegate.duckdb"
    store = Store(db)
    loaded = load_files(store, [Source.from_path(SAMPLE)], name="No inputs")
    found = analyse(store, loaded.dataset_id, read_catalog(store.cursor(), loaded.dataset_id))
    store.close()
    lines = " ".join(pack.title_lines(found, pack.charts.context_from(found)))
    assert "Value at scale needs the annual volume" in lines
    assert " EUR" not in lines  # no amount anywhere on the first slide
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SCALEGATE_DB", str(db))
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
        assert not at.exception
        infos = " ".join(i.value for i in at.info).replace("\\", "")
        assert "Value at scale needs the annual volume" in infos
        # Every number Home shows is a percentage or a count: no amount of money.
        for metric in at.metric:
            assert not re.search(r"\d[kMB]\b|EUR", metric.value), metric.value
