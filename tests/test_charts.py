"""Charts: one theme, titles that state the finding computed from known numbers, aggregates only.

Most tests build `Results` by hand (`make_results`, also used by test_export.py) so the expected
titles and values can be worked out on paper; one test runs on the bundled sample.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import json
import re
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import pytest

from analytics.core.catalog import Catalog, Metric, Settings
from analytics.decide import value as value_mod
from analytics.decide.results import (
    CounterfactualRow,
    EffectRow,
    MetricVerdict,
    Results,
    RetentionRow,
    SiteVerdict,
    ValueRow,
)
from analytics.decide.verdict import VERDICT_LABELS
from analytics.present import charts

NAN = float("nan")
EVIL = '=HYPERLINK("http://x","y")'
SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample.csv"


# -- hand-built results --------------------------------------------------------------------------


def make_catalog() -> Catalog:
    return Catalog(
        (
            Metric(
                "cost_per_case_eur",
                "Cost per case (EUR)",
                "outcome",
                "lower",
                "EUR",
                0.05,
                1.0,
                adds_to_total=True,
            ),
            Metric(
                "minutes_saved",
                "Minutes saved",
                "outcome",
                "higher",
                "min",
                0.05,
                0.75,
                adds_to_total=True,
            ),  # fmt: skip
            Metric("error_rate", "Error rate", "outcome", "lower", "share", 0.05),
            Metric("revenue_per_case_eur", "Revenue per case (EUR)", "outcome", "higher", "EUR"),
            Metric("accuracy", "Maintenance model accuracy", "process", "higher", guardrail=0.8),
        ),
        Settings(run_cost_per_year=100_000.0, annual_volume=120_000.0, currency="EUR"),
    )


def effect(
    metric: str,
    comparison: str,
    lift: float,
    ci: tuple[float, float],
    *,
    slice_type: str = "overall",
    name: Any = None,
    adjusted: bool = True,
    n_a: int = 400,
    n_b: int = 900,
    method: str = "twfe_cluster_site",
    p_adjusted: float = 0.02,
) -> EffectRow:
    mean_b = 40.0
    return EffectRow(
        metric=metric,
        comparison=comparison,
        slice_type=slice_type,
        slice=name,
        adjusted=adjusted,
        method=method if adjusted else "welch",
        n_a=n_a,
        n_b=n_b,
        mean_a=mean_b * (1 + lift),
        mean_b=mean_b,
        diff=mean_b * lift,
        diff_ci=(mean_b * ci[0], mean_b * ci[1]),
        lift=lift,
        lift_ci=ci,
        p_value=0.01,
        p_adjusted=p_adjusted,
    )


# (metric, label, verdict, lift, ci, pilot verdict, pilot lift, pilot ci, retention)
VERDICTS = (
    ("cost_per_case_eur", "Cost per case (EUR)", "scale", -0.15, (-0.19, -0.11), "scale", -0.20,
     (-0.26, -0.14), 0.75),
    ("minutes_saved", "Minutes saved", "fix_first", 0.15, (0.08, 0.22), "scale", 0.30,
     (0.20, 0.40), 0.5),
    ("error_rate", "Error rate", "do_not_scale", -0.01, (-0.03, 0.01), "scale", -0.12,
     (-0.20, -0.04), None),
    ("revenue_per_case_eur", "Revenue per case (EUR)", "need_more_data", 0.04, (-0.10, 0.18),
     "need_more_data", 0.06, (-0.2, 0.3), None),
)  # fmt: skip
SITES = (
    ("Aarhus", "scale", 0.30, (0.20, 0.40)),
    ("Lyon", "scale", 0.25, (0.15, 0.35)),
    ("Porto", "fix_first", -0.15, (-0.25, -0.05)),
    ("Brno", "need_more_data", 0.05, (-0.10, 0.20)),
    (EVIL, "do_not_scale", 0.0, (-0.02, 0.02)),
)
CELLS = (
    ("Aarhus", "phone", 0.31),
    ("Aarhus", "chat", 0.28),
    ("Porto", "phone", -0.12),
    ("Porto", "chat", -0.20),
    (EVIL, "phone", 0.01),
    (EVIL, "chat", NAN),
)


def make_results(**changes: Any) -> Results:
    """Four outcomes (one per verdict), five sites of minutes saved, six site × channel cells."""
    catalog = make_catalog()
    verdicts, effects, retention = [], [], []
    for mid, label, verdict, lift, ci, p_verdict, p_lift, p_ci, kept in VERDICTS:
        verdicts.append(
            MetricVerdict(
                metric=mid,
                label=label,
                verdict=verdict,
                estimate=lift,
                ci=ci,
                ci_level=1 - 0.05 / 4,
                method="twfe_cluster_site",
                assumption="Assumes sites would have moved in parallel without the AI.",
                pilot_verdict=p_verdict,
                pilot_estimate=p_lift,
                pilot_ci=p_ci,
                pilot_reasons=(f"The pilot lift of {label} is {charts.pct(p_lift)}.",),
                reasons=(f"The production lift of {label} is {charts.pct(lift)}.", "Second."),
                rows_needed=1200 if verdict == "need_more_data" else None,
                retention=kept,
                worse_summary=f"No site of 5 is significantly worse than before the AI on {label}.",
            )
        )
        effects.append(effect(mid, "pilot_vs_baseline", p_lift, p_ci, n_a=300))
        effects.append(effect(mid, "production_vs_baseline", lift, ci, n_a=5000))
        diff = lift - p_lift
        effects.append(
            effect(mid, "production_vs_pilot", diff, (diff - 0.05, diff + 0.05), n_a=5000, n_b=300)
        )
        if kept is not None:
            retention.append(RetentionRow(mid, "overall", None, kept, (kept - 0.2, kept + 0.2)))
    site_verdicts = []
    for site, verdict, lift, ci in SITES:
        site_verdicts.append(
            SiteVerdict("minutes_saved", site, verdict, lift, ci, (f"Site {site} said so.",))
        )
        effects.append(
            effect(
                "minutes_saved",
                "production_vs_baseline",
                lift,
                ci,
                slice_type="site",
                name=site,
                method="twfe_hc1_cells",
                p_adjusted=0.01 if site == "Porto" else 0.5,
            )
        )
    for site, channel, lift in CELLS:
        effects.append(
            effect(
                "minutes_saved",
                "production_vs_baseline",
                lift,
                (lift - 0.1, lift + 0.1),
                slice_type="site_channel",
                name=(site, channel),
                adjusted=False,
                n_a=120,
            )
        )
    points = (
        ("2024-07-01", 34.0, 40.0, 38.0, 42.0),
        ("2024-08-01", 34.0, 40.0, 37.5, 42.5),
        ("2024-09-01", 34.0, 40.0, 37.0, 43.0),
    )
    meta = {
        "version": "0.1.0",
        "created_at": "2025-02-01T00:00:00+00:00",
        "input_hashes": ["abcdef0123456789" * 4],
        "dataset_id": 1,
        "dataset_name": "Hand-built",
        "settings": dataclasses.asdict(catalog.settings),
        "filters": {
            "date_from": None,
            "date_to": None,
            "sites": [],
            "channels": [],
            "grain": "month",
            "metrics": [],
        },
        "catalog": catalog.to_dict()["metrics"],
    }
    dataset = {
        "rows": 12345,
        "rows_rejected": 3,
        "sites": sorted(s[0] for s in SITES),
        "channels": ["chat", "phone"],
        "phases": {"baseline": 6000, "pilot": 1345, "production": 5000},
        "date_min": "2024-01-01",
        "date_max": "2025-01-31",
    }
    results = Results(
        meta=meta,
        dataset=dataset,
        effects=tuple(effects),
        retention=tuple(retention),
        verdicts=tuple(verdicts),
        site_verdicts=tuple(site_verdicts),
        value_at_scale=(
            ValueRow(
                "cost_per_case_eur", 960_000.0, 720_000.0, (528_000.0, 912_000.0), 1e5, 620_000.0
            ),
        ),
        counterfactual=(
            CounterfactualRow(
                "cost_per_case_eur", "site_trend", 3, -18.0, (-24.0, -12.0), points, ""
            ),
        ),
        trends=(),
        notes=(),
    )
    results = dataclasses.replace(results, **changes)
    if "value_total" in changes:
        return results
    # No site scores: the total's interval is the upper bound (intervals added).
    total = value_mod.value_total(results.value_at_scale, results.verdicts, catalog, {}, {})
    return dataclasses.replace(results, value_total=total)


def make_series() -> pd.DataFrame:
    """Period means of cost per case, shaped like analysis.time_series output."""
    rows = [
        ("baseline", "2024-01-01", 100, 40.0),
        ("baseline", "2024-02-01", 100, 41.0),
        ("pilot", "2024-04-01", 50, 33.0),
        ("baseline", "2024-04-01", 50, 40.0),
        ("production", "2024-07-01", 150, 34.0),
        ("production", "2024-08-01", 50, 30.0),
    ]
    frame = pd.DataFrame(rows, columns=["phase", "period", "n", "mean"])
    frame.insert(0, "metric", "cost_per_case_eur")
    frame["period"] = pd.to_datetime(frame["period"])
    frame["m2"] = 4.0 * (frame["n"] - 1)
    frame["se"] = (frame["m2"] / (frame["n"] - 1) / frame["n"]) ** 0.5
    other = frame.assign(metric="minutes_saved")
    return pd.concat([frame, other], ignore_index=True)


@pytest.fixture(scope="module")
def results() -> Results:
    return make_results()


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return make_catalog()


@pytest.fixture(scope="module")
def ctx(results: Results) -> charts.ChartContext:
    return charts.context_from(results)


# -- helpers over chart specs --------------------------------------------------------------------


def rows_of(spec: dict[str, Any]) -> int:
    """Every data row a spec carries, wherever it sits."""
    count = sum(len(v) for v in spec.get("datasets", {}).values())

    def inline(node: Any) -> int:
        if isinstance(node, dict):
            here = len(node["values"]) if isinstance(node.get("values"), list) else 0
            return here + sum(inline(v) for k, v in node.items() if k != "datasets")
        if isinstance(node, list):
            return sum(inline(v) for v in node)
        return 0

    return count + inline(spec)


def data_of(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of a spec's one dataset."""
    (values,) = spec["datasets"].values()
    return values


def title_of(spec: dict[str, Any]) -> str:
    return spec["title"]["text"]


# -- theme and context ---------------------------------------------------------------------------


def test_theme_is_registered_once_and_enabled() -> None:
    importlib.import_module("analytics.present.charts")  # importing again registers nothing new
    assert alt.theme.names().count("scalegate") == 1
    assert alt.theme.active == "scalegate"
    assert alt.theme.get() is charts.scalegate_theme
    config = alt.Chart(pd.DataFrame({"x": [1]})).mark_point().encode(x="x:Q").to_dict()["config"]
    assert config["font"] == charts.FONT
    assert config["range"]["category"] == list(charts.OKABE_ITO)


def test_colours_are_fixed_and_distinct() -> None:
    assert len(set(charts.PHASE_COLOURS.values())) == 3
    verdict_colours = set(charts.VERDICT_COLOURS.values())
    assert len(verdict_colours) == 4
    assert verdict_colours.isdisjoint(charts.PHASE_COLOURS.values())
    # "No meaningful effect" and "inconclusive" never differ by hue alone.
    assert charts.VERDICT_SHAPES["do_not_scale"] != charts.VERDICT_SHAPES["need_more_data"]
    assert set(charts.VERDICT_COLOURS) == set(VERDICT_LABELS) == set(charts.VERDICT_SHAPES)


def test_context_subtitle_and_footnote(ctx: charts.ChartContext) -> None:
    assert (
        ctx.subtitle == "Hand-built · 2024-01-01 to 2025-01-31 · all sites, all channels, by month"
    )
    # The method is named in words with the Methods page section, never as a code.
    assert ctx.footnote_lines == [
        "n = 12,345 rows · 98.8% intervals · Scalegate 0.1.0 · data abcdef01",
        "Method: site and period adjusted, clustered by site (Methods page, section 3. The "
        "adjusted model)",
    ]


def test_context_names_filters_and_dates() -> None:
    base = make_results()
    meta = base.meta | {
        "filters": base.meta["filters"] | {"sites": ["Lyon", "Porto"], "date_from": "2024-03-01"}
    }
    ctx = charts.context_from(dataclasses.replace(base, meta=meta))
    assert ctx.subtitle == (
        "Hand-built · 2024-03-01 to 2025-01-31 · sites Lyon, Porto, all channels, by month"
    )


def test_formatters() -> None:
    assert charts.pct(0.1234) == "+12.3%"
    assert charts.pct(-0.15) == "-15.0%"
    assert charts.pct(NAN) == "n/a"
    assert charts.money(1_234_567, "EUR") == "1.23M EUR"
    assert charts.money(-720_000) == "-720k"
    assert charts.num(41023.4) == "41,023"
    assert charts.num(0.9991) == "0.999"


# -- each chart: the title states the finding, the data are the engine's numbers -----------------


def test_scorecard(results: Results, catalog: Catalog, ctx: charts.ChartContext) -> None:
    spec = charts.scorecard_chart(results, catalog, ctx).to_dict()
    # 1 of 4 is scale; the pilot alone said scale for cost, minutes and errors.
    assert title_of(spec) == "1 of 4 outcomes justifies scaling (the pilot alone said 3)"
    assert spec["title"]["subtitle"][0] == ctx.subtitle
    assert spec["vconcat"][0]["title"]["text"] == ctx.footnote_lines
    rows = data_of(spec)
    assert len(rows) == len(results.verdicts)
    for row, v in zip(rows, results.verdicts, strict=True):
        sign = catalog.get(v.metric).sign
        assert row["lift"] == pytest.approx(sign * v.estimate)  # good-signed
        assert row["pilot_lift"] == pytest.approx(sign * v.pilot_estimate)
        assert (row["lift_low"], row["lift_high"]) == pytest.approx(sorted(sign * x for x in v.ci))
        assert row["verdict"] == VERDICT_LABELS[v.verdict]
        assert row["min_effect"] == catalog.get(v.metric).min_effect


def test_scorecard_grammar_and_pilot_contrast() -> None:
    verdicts = tuple(dataclasses.replace(v, verdict="scale") for v in make_results().verdicts)
    assert charts.scorecard_title(make_results(verdicts=verdicts)) == (
        "4 of 4 outcomes justify scaling (the pilot alone said 3)"
    )


def test_value_chart(results: Results, catalog: Catalog, ctx: charts.ChartContext) -> None:
    spec = charts.value_chart(results, catalog, ctx).to_dict()
    # Cost per case scales and the pilot alone would have scaled it: both sides count the same
    # outcome, so the share is given. 720k / 960k = 75%; net = 720k - 100k, once.
    assert title_of(spec) == (
        "Production delivers 75% of the value the pilot promised on the same outcomes (Cost per "
        "case (EUR)): 720k EUR of 960k EUR a year (98.8% interval 528k to 912k EUR); 620k EUR "
        "net of the running cost"
    )
    row, total = data_of(spec)
    assert (row["promised"], row["delivered"]) == (960_000.0, 720_000.0)
    assert (row["delivered_low"], row["delivered_high"], row["net"]) == (528e3, 912e3, None)
    assert row["label"] == "Cost per case (EUR) (counted)"
    assert (total["label"], total["delivered"], total["net"]) == (charts.TOTAL, 720e3, 620e3)


def test_value_chart_totals_only_scaling_outcomes_and_nets_the_cost_once(
    catalog: Catalog, ctx: charts.ChartContext
) -> None:
    rows = (
        ValueRow("cost_per_case_eur", 900e3, 600e3, (500e3, 700e3), NAN, NAN),
        ValueRow("minutes_saved", 300e3, 400e3, (100e3, 700e3), NAN, NAN),
    )
    costly = dataclasses.replace(
        catalog, settings=dataclasses.replace(catalog.settings, run_cost_per_year=250e3)
    )
    results = make_results(value_at_scale=rows)
    results = dataclasses.replace(
        results,
        value_total=value_mod.value_total(rows, results.verdicts, costly, {}, {}),
    )
    spec = charts.value_chart(results, costly, ctx).to_dict()
    # Minutes saved is "fix first": not counted, so the total is cost per case alone, and no
    # share of the promise is given (the pilot alone would have counted both).
    assert title_of(spec) == (
        "Cost per case (EUR) justifies scaling: 600k EUR a year (98.8% interval 500k to 700k "
        "EUR); 350k EUR net of the running cost"
    )
    frame = data_of(spec)
    # The chart draws what counts; the rest is listed under it, so an inconclusive outcome's
    # wide interval never sets the scale.
    assert [r["label"] for r in frame] == ["Cost per case (EUR) (counted)", charts.TOTAL]
    assert (frame[1]["delivered"], frame[1]["net"], frame[1]["promised"]) == (600e3, 350e3, None)
    assert spec["title"]["subtitle"][2].startswith(
        "Not counted: Minutes saved: fix first; Error rate: no value per unit given; no "
        "meaningful effect; not marked as a separate benefit (adds_to_total); "
    )


def test_value_chart_says_what_it_needs_without_inputs(
    catalog: Catalog, ctx: charts.ChartContext
) -> None:
    unpriced = dataclasses.replace(
        catalog, settings=dataclasses.replace(catalog.settings, annual_volume=None)
    )
    results = make_results(value_at_scale=())
    results = dataclasses.replace(
        results, value_total=value_mod.value_total((), results.verdicts, unpriced, {}, {})
    )
    spec = charts.value_chart(results, unpriced, ctx).to_dict()
    assert title_of(spec) == charts.NO_DATA
    assert "annual volume" in spec["title"]["subtitle"][1]


def test_pilot_vs_production(results: Results, ctx: charts.ChartContext) -> None:
    spec = charts.pilot_vs_production_chart(results, "minutes_saved", ctx).to_dict()
    assert title_of(spec) == "Production keeps 50% of the pilot's improvement on Minutes saved"
    rows = data_of(spec)
    assert [r["phase"] for r in rows] == ["Pilot", "Production"]
    # The verdict's numbers, improvements: the same interval as on the scorecard.
    assert [r["lift"] for r in rows] == [0.30, 0.15]
    assert [(r["low"], r["high"]) for r in rows] == [(0.20, 0.40), (0.08, 0.22)]
    cost = data_of(charts.pilot_vs_production_chart(results, "cost_per_case_eur", ctx).to_dict())
    assert [(r["lift"], r["change"]) for r in cost] == [(0.20, -0.20), (0.15, -0.15)]
    assert [(r["low"], r["high"]) for r in cost] == [(0.14, 0.26), (0.11, 0.19)]
    assert "Verdict: Fix first; the pilot alone said Scale." in spec["title"]["subtitle"][1]
    # Without a clear pilot promise there is no retention: the title says what stands instead.
    assert charts.pilot_vs_production_title(results, "error_rate") == (
        "The pilot showed no clear improvement on Error rate to keep; production: +1.0%"
    )


def test_site_verdict_chart(results: Results, ctx: charts.ChartContext) -> None:
    spec = charts.site_verdict_chart(results, "minutes_saved", ctx).to_dict()
    assert title_of(spec) == (
        "Minutes saved: 2 of 5 sites are ready to scale; 1 needs fixing first, "
        "1 shows no meaningful effect, 1 is inconclusive"
    )
    rows = data_of(spec)
    assert len(rows) == len(SITES)
    by_site = {r["site"]: r for r in rows}
    for site, verdict, lift, ci in SITES:
        assert by_site[site]["lift"] == lift
        assert (by_site[site]["low"], by_site[site]["high"]) == ci
        assert by_site[site]["verdict"] == VERDICT_LABELS[verdict]
    assert "cell-level errors (few sites)" in spec["vconcat"][0]["title"]["text"][1]


def test_site_heatmap_lift_and_retention(results: Results, ctx: charts.ChartContext) -> None:
    spec = charts.site_heatmap(results, "minutes_saved", ctx).to_dict()
    # Five cells have a lift; three are above baseline; Porto · chat is the weakest at -20%.
    assert title_of(spec) == (
        "Production beats baseline on Minutes saved in 3 of 5 site × channel cells; "
        "weakest: Porto · chat (-20%)"
    )
    assert len(data_of(spec)) == len(CELLS)
    spec = charts.site_heatmap(results, "minutes_saved", ctx, measure="retention").to_dict()
    # Retention per cell = cell lift / pilot lift 0.30; median of (1.033, 0.933, -0.4, -0.667,
    # 0.033) is 0.033.
    assert title_of(spec) == (
        "The median site × channel keeps 3% of the pilot's improvement on Minutes saved; "
        "lowest: Porto · chat (-67%)"
    )
    values = {(r["site"], r["channel"]): r["value"] for r in data_of(spec)}
    assert values[("Aarhus", "phone")] == pytest.approx(0.31 / 0.30)


def test_trend_chart(catalog: Catalog, ctx: charts.ChartContext) -> None:
    series = make_series()
    spec = charts.trend_chart(series, catalog.get("cost_per_case_eur"), ctx).to_dict()
    # Production: (150·34 + 50·30) / 200 = 33.0; baseline: (100·40 + 100·41 + 50·40) / 250 = 40.4.
    assert title_of(spec) == (
        "Cost per case (EUR) averages 33.0 EUR in production against 40.4 EUR before the AI"
    )
    rows = data_of(spec)
    assert len(rows) == 6  # only this metric's periods
    first = rows[0]
    assert first["low"] == pytest.approx(40.0 - 1.959963984540054 * 0.2)
    assert "n = 500 rows · 95% intervals" in spec["vconcat"][0]["title"]["text"][0]


def test_baseline_chart(results: Results, catalog: Catalog, ctx: charts.ChartContext) -> None:
    metric = catalog.get("cost_per_case_eur")
    chart = charts.baseline_chart(make_series(), results.counterfactual[0], metric, ctx)
    spec = chart.to_dict()
    # Observed 3 × 34 against projected 3 × 40: 15% below, and lower cost is better.
    assert title_of(spec) == (
        "Cost per case (EUR) ran 15% below its projection without the AI (better)"
    )
    assert rows_of(spec) == 6 + 3
    # The same gap with a cumulative interval holding 0 is not called better.
    unsure = dataclasses.replace(results.counterfactual[0], ci=(-30.0, 6.0))
    assert charts.baseline_title(unsure, metric) == (
        "Cost per case (EUR) ran 15% below its projection without the AI, within the "
        "projection's uncertainty"
    )


def test_charts_carry_no_more_rows_than_aggregates(
    results: Results, catalog: Catalog, ctx: charts.ChartContext
) -> None:
    cells = sum(1 for e in results.effects if e.slice_type == "site_channel")
    built = [
        (charts.scorecard_chart(results, catalog, ctx), len(results.verdicts)),
        (charts.value_chart(results, catalog, ctx), len(results.value_at_scale) + 1),  # + total
        (charts.pilot_vs_production_chart(results, "minutes_saved", ctx), 2),
        (charts.site_verdict_chart(results, "minutes_saved", ctx), len(SITES)),
        (charts.site_heatmap(results, "minutes_saved", ctx), cells),
        (charts.trend_chart(make_series(), catalog.get("minutes_saved"), ctx), 6),
    ]
    for chart, aggregates in built:
        assert 0 < rows_of(chart.to_dict()) <= aggregates


def test_empty_inputs_say_so(catalog: Catalog, ctx: charts.ChartContext) -> None:
    empty = make_results(
        effects=(),
        retention=(),
        verdicts=(),
        site_verdicts=(),
        value_at_scale=(),
        counterfactual=(),
    )
    metric = catalog.get("minutes_saved")
    built = [
        charts.scorecard_chart(empty, catalog, ctx),
        charts.value_chart(empty, catalog, ctx),
        charts.pilot_vs_production_chart(empty, "minutes_saved", ctx),
        charts.site_verdict_chart(empty, "minutes_saved", ctx),
        charts.site_heatmap(empty, "minutes_saved", ctx),
        charts.site_heatmap(make_results(), "error_rate", ctx, measure="retention"),
        charts.trend_chart(pd.DataFrame(), metric, ctx),
        charts.baseline_chart(pd.DataFrame(), None, metric, ctx),
        charts.pilot_vs_production_chart(make_results(), "no_such_metric", ctx),
    ]
    for chart in built:
        spec = chart.to_dict()
        assert title_of(spec) == charts.NO_DATA
        assert spec["title"]["subtitle"][0] == ctx.subtitle


def test_missing_numbers_do_not_break_titles(catalog: Catalog, ctx: charts.ChartContext) -> None:
    base = make_results()
    verdicts = tuple(
        dataclasses.replace(v, estimate=NAN, ci=(NAN, NAN), pilot_estimate=NAN, pilot_ci=(NAN, NAN))
        for v in base.verdicts
    )
    spec = charts.scorecard_chart(dataclasses.replace(base, verdicts=verdicts), catalog, ctx)
    rows = data_of(spec.to_dict())
    assert all(r["lift"] is None and r["lift_low"] is None for r in rows)


# -- the real sample -----------------------------------------------------------------------------


def sample_results() -> tuple[Results, Catalog, Any, int]:
    """Results of the bundled sample (data/sample.csv is part of the repository)."""
    assert SAMPLE.is_file(), "data/sample.csv is missing: run `make sample`."
    return _analyse_sample()


@functools.cache
def _analyse_sample() -> tuple[Results, Catalog, Any, int]:
    from analytics.core.catalog import read_catalog
    from analytics.decide.analysis import analyse
    from analytics.ingest import load as ingest
    from analytics.store.database import Store

    store = Store(":memory:")
    loaded = ingest.load_files(store, [ingest.Source.from_path(SAMPLE)])
    catalog = read_catalog(store.cursor(), loaded.dataset_id)
    return analyse(store, loaded.dataset_id, catalog), catalog, store, loaded.dataset_id


def test_sample_charts_state_the_engines_numbers() -> None:
    from analytics.decide.analysis import time_series

    results, catalog, store, dataset_id = sample_results()
    ctx = charts.context_from(results)
    scale = sum(v.verdict == "scale" for v in results.verdicts)
    spec = charts.scorecard_chart(results, catalog, ctx).to_dict()
    assert title_of(spec).startswith(f"{scale} of {len(results.verdicts)} outcomes")
    assert ctx.n == results.dataset["rows"]
    series = time_series(store, dataset_id, catalog)
    for v in results.verdicts:
        metric = catalog.get(v.metric)
        for chart in (
            charts.pilot_vs_production_chart(results, v.metric, ctx),
            charts.site_verdict_chart(results, v.metric, ctx),
            charts.site_heatmap(results, v.metric, ctx),
            charts.trend_chart(series, metric, ctx),
        ):
            spec = chart.to_dict()
            assert rows_of(spec) <= 5000
            title = title_of(spec)
            assert title != charts.NO_DATA and v.label in title, (v.metric, title)
        retention = next(
            (r for r in results.retention if r.metric == v.metric and r.slice_type == "overall"),
            None,
        )
        if retention is not None and retention.retention >= 0:
            assert charts.pilot_vs_production_title(results, v.metric).startswith(
                f"Production keeps {retention.retention:.0%} of the pilot's improvement"
            )


def test_axis_labels_never_use_si_prefixes_for_small_numbers(ctx: charts.ChartContext) -> None:
    """0.52 reads 0.52 on an axis, never 520m (d3's "~s" format); large amounts keep k / M."""
    from analytics.present.export import chart_bytes

    metric = Metric("score", "Score", "outcome", "higher", "points")
    series = pd.DataFrame(
        {
            "metric": "score",
            "phase": ["baseline", "baseline", "production"],
            "period": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
            "n": [100, 100, 100],
            "mean": [0.50, 0.52, 0.56],
            "se": [0.01, 0.01, 0.01],
        }
    )
    svg = chart_bytes(charts.trend_chart(series, metric, ctx), "svg").decode()
    labels = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert "0.52" in labels or "0.5" in labels
    assert not [t for t in labels if re.fullmatch(r"-?\d+(\.\d+)?[mµu]", t)], labels


def test_site_chart_names_no_interval_level_where_it_draws_none(results: Results) -> None:
    # A site judged alone against too few comparison sites has no bounded interval: the chart
    # then draws its point only and must not print "95% intervals" under it (from a new-user
    # run in Chromium: a caption naming intervals the chart did not draw).
    nan = float("nan")
    unbounded = [
        dataclasses.replace(s, ci=(nan, nan)) if s.metric == "minutes_saved" else s
        for s in results.site_verdicts
    ]
    none = dataclasses.replace(results, site_verdicts=tuple(unbounded))
    ctx = charts.context_from(none)
    footer = json.dumps(charts.site_verdict_chart(none, "minutes_saved", ctx).to_dict())
    assert "No interval is drawn" in footer and "% intervals" not in footer
    some = [*unbounded[:1], *[s for s in results.site_verdicts if s.metric == "minutes_saved"][1:]]
    part = dataclasses.replace(results, site_verdicts=tuple(some))
    footer = json.dumps(charts.site_verdict_chart(part, "minutes_saved", ctx).to_dict())
    assert "1 of 5 sites show their point only" in footer and "% intervals" in footer
    full = json.dumps(charts.site_verdict_chart(results, "minutes_saved", ctx).to_dict())
    assert "point only" not in full and "No interval is drawn" not in full
