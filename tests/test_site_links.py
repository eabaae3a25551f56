"""Data quality and adoption against each site's effect (issue 14, items 4 and 5), on rollouts
drawn row by row by the one factory (rollouts.py), loaded as a CSV and analysed. Every number is
checked against an independent computation on the rows: pandas for missing values, set-aside
rows, gap days and adoption shares; statsmodels OLS of the baseline rows on site and month dummies
for each site's effect; scipy.stats.permutation_test and linregress, statsmodels' Holm."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from rollouts import Rollout, RowPlan, simulate_rows
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from analytics.core.catalog import read_catalog
from analytics.decide.analysis import analyse
from analytics.ingest.load import Source, load_files
from analytics.ingest.vocab import is_adoption_name
from analytics.store.database import Store

SCHEMA = json.loads((Path(__file__).parent.parent / "docs/results.schema.json").read_text())
STARTS = (None, None, 6, 6, 8, 8, 10, 10)
DESIGN = Rollout(starts=STARTS, periods=16, effect=lambda h, g: 5.0, noise_sd=3.0)
VOLUME = np.full((len(STARTS), 16), 60)


def _analyse(store: Store, rows: pd.DataFrame):
    out = io.StringIO()
    rows.to_csv(out, index=False)
    result = load_files(store, [Source.from_bytes("rollout.csv", out.getvalue().encode())])
    catalog = read_catalog(store.cursor(), result.dataset_id)
    doc = analyse(store, result.dataset_id, catalog, with_counterfactual=False).to_dict()
    jsonschema.validate(doc, SCHEMA)  # the new sections included
    return doc


def _site_effects(rows: pd.DataFrame) -> pd.Series:
    """Each live site's production effect: mean of y − (site + month levels on baseline rows)."""
    rows = rows[rows["phase"] != "tbd"].dropna(subset=["score"])
    rows = rows.assign(month=pd.to_datetime(rows["date"]).dt.strftime("%Y-%m"))
    fit = smf.ols("score ~ C(site) + C(month)", data=rows[rows["phase"] == "baseline"]).fit()
    prod = rows[rows["phase"] == "production"]
    return (prod["score"] - fit.predict(prod)).groupby(prod["site"]).mean()


def _scipy_p(x: np.ndarray, y: np.ndarray, n: int = 9999) -> float:
    res = sps.permutation_test(
        (x,), lambda a: sps.pearsonr(a, y).statistic, permutation_type="pairings",
        n_resamples=n, rng=np.random.default_rng(0),
    )  # fmt: skip
    return float(res.pvalue)


def _poor_recording() -> RowPlan:
    """Sites S02-S07 live; the worse a site records, the smaller its effect."""
    return RowPlan(
        volume=VOLUME,
        site_effect=(0, 0, 0.0, -0.6, -1.2, -2.0, -3.0, -4.0),
        missing=(0, 0.01, 0.0, 0.03, 0.06, 0.10, 0.16, 0.25),
        gap_days=(0, 0, 0, 1, 2, 4, 6, 9),
        rejected=(0, 0, 0, 2, 0, 5, 9, 20),
    )


def test_quality_beside_the_effect_equals_the_rows_and_scipy(store: Store) -> None:
    rng = np.random.default_rng(41)
    rows = simulate_rows(DESIGN, _poor_recording(), rng)
    (found,) = _analyse(store, rows)["data_quality"]
    loaded = rows[rows["phase"] != "tbd"]
    by = loaded.groupby("site")
    missing = by["score"].apply(lambda s: s.isna().mean())
    aside = rows[rows["phase"] == "tbd"].groupby("site").size()
    rejected = (aside / (by.size() + aside)).fillna(0.0)

    def gap_days(g: pd.DataFrame) -> int:
        d = pd.to_datetime(g["date"])
        return len(pd.date_range(d.min(), d.max())) - d.dt.normalize().nunique()

    gaps = by.apply(gap_days)
    effects = _site_effects(rows)
    sites = found["sites"]
    assert [s["site"] for s in sites] == sorted(effects.index)
    for s in sites:
        name = s["site"]
        assert s["missing_share"] == pytest.approx(missing[name], abs=1e-12)
        assert s["rejected_share"] == pytest.approx(rejected[name], abs=1e-12)
        assert s["gap_days"] == gaps[name]
        assert s["effect_improvement"] == pytest.approx(effects[name], abs=1e-6)
    y = effects.sort_index().to_numpy()
    p = []
    for test, col in zip(found["tests"], ("missing_share", "rejected_share", "gap_days"),
                         strict=True):  # fmt: skip
        x = np.array([s[col] for s in sites])
        assert test["exact"] and test["orderings"] == 720  # 6 sites: every ordering
        assert test["r"] == pytest.approx(sps.pearsonr(x, y).statistic, abs=1e-12)
        assert test["p_value"] == pytest.approx(_scipy_p(x, y), abs=1e-12)
        p.append(test["p_value"])
    holm = multipletests(p, method="holm")[1]
    assert [t["p_holm"] for t in found["tests"]] == pytest.approx(holm, abs=1e-12)
    assert min(holm) < 0.05
    assert found["sentence"].startswith(
        "The sites that record their data worst are the ones where the AI fails"
    )


def test_quality_unrelated_to_the_effect_is_said_not_to_be_shown(store: Store) -> None:
    rng = np.random.default_rng(42)
    plan = RowPlan(volume=VOLUME, missing=(0, 0, 0.05, 0.0, 0.2, 0.01, 0.1, 0.0))
    (found,) = _analyse(store, simulate_rows(DESIGN, plan, rng))["data_quality"]
    assert all(t["p_holm"] >= 0.05 for t in found["tests"])
    assert (
        found["sentence"] == "No link between data quality and the effect can be shown on 6 sites "
        "(permutation tests at the 95% level, Holm-corrected over 3 quality measures)."
    )


def test_many_sites_use_a_seeded_monte_carlo_with_its_count() -> None:
    from analytics.engine.site_links import RESAMPLES, permutation_r

    rng = np.random.default_rng(3)
    x = rng.normal(size=12)
    y = 0.5 * x + rng.normal(size=12)
    test = permutation_r(x, y)
    assert not test.exact and test.orderings == RESAMPLES
    assert "9,999 random orderings" in test.words()
    assert test.p == pytest.approx(_scipy_p(x, y), abs=0.02)  # two Monte Carlo draws


def _adoption_plan() -> RowPlan:
    return RowPlan(volume=VOLUME, adoption=(0, 0, 0.15, 0.3, 0.45, 0.6, 0.75, 0.95))


def test_adoption_dose_response_equals_row_level_regression(store: Store) -> None:
    rng = np.random.default_rng(43)
    rows = simulate_rows(DESIGN, _adoption_plan(), rng)
    d = _analyse(store, rows)["adoption"]
    assert d["column"] == "handled_by_ai"
    (out,) = d["outcomes"]
    prod = rows[rows["phase"] == "production"]
    share = prod.groupby("site")["handled_by_ai"].mean()
    effects = _site_effects(rows)
    for s in out["sites"]:
        assert s["adoption"] == pytest.approx(share[s["site"]], abs=1e-12)
        assert s["effect_improvement"] == pytest.approx(effects[s["site"]], abs=1e-6)
    x, y = share.loc[effects.index].to_numpy(), effects.to_numpy()
    fit = sps.linregress(x, y)
    q = sps.t.ppf(1 - (1 - out["level"]) / 2, len(x) - 2)
    assert out["slope"] == pytest.approx(fit.slope, abs=1e-6)
    assert out["se"] == pytest.approx(fit.stderr, abs=1e-6)
    assert out["ci"] == pytest.approx([fit.slope - q * fit.stderr, fit.slope + q * fit.stderr])
    assert out["ci"][0] < 5.0 < out["ci"][1]  # planted: 5 per unit share handled
    assert out["p_value"] == pytest.approx(_scipy_p(x, y), abs=1e-12)
    assert "teams routing around it" in out["sentence"]


def test_without_an_adoption_column_the_section_is_one_sentence(store: Store) -> None:
    rng = np.random.default_rng(44)
    rows = simulate_rows(DESIGN, RowPlan(volume=VOLUME), rng)
    assert _analyse(store, rows)["adoption"] == {
        "sentence": "The data has no adoption column (a usage share such as 'handled by AI')."
    }


@pytest.mark.parametrize(
    ("name", "is_adoption"),
    [
        ("adoption", True),
        ("ai_share", True),
        ("handled_by_ai", True),
        ("share_handled_by_the_ai", True),
        ("automation_rate", True),
        ("usage_rate", True),
        ("override_rate", False),
        ("escalation_rate", False),
        ("cost_per_case", False),
    ],
)
def test_adoption_names(name: str, is_adoption: bool) -> None:
    assert is_adoption_name(name) is is_adoption


def test_a_column_mapped_as_adoption_is_the_usage_share_not_an_outcome(tmp_path) -> None:
    """--map "Assisted share=adoption" on a name the vocabulary does not know: the column is
    read as a metric, named in the catalog's settings, kept out of the verdicts, and the
    dose-response uses it (the same numbers as under its recognised name)."""
    from test_cli import cli

    rng = np.random.default_rng(43)
    rows = simulate_rows(DESIGN, _adoption_plan(), rng)
    path = tmp_path / "rollout.csv"
    rows.rename(columns={"handled_by_ai": "Assisted share"}).to_csv(path, index=False)
    done = cli("report", str(path), "--map", "Assisted share=adoption", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    doc = json.loads((tmp_path / "results.json").read_text())
    assert doc["adoption"]["column"] == "assisted_share"
    assert doc["meta"]["settings"]["adoption"] == "assisted_share"
    assert [v["metric"] for v in doc["verdicts"]] == ["score"]
    (out,) = doc["adoption"]["outcomes"]
    share = rows[rows["phase"] == "production"].groupby("site")["handled_by_ai"].mean()
    for s in out["sites"]:
        assert s["adoption"] == pytest.approx(share[s["site"]], abs=1e-12)


def test_the_catalog_names_the_adoption_column_by_header_or_id() -> None:
    from analytics.core.catalog import apply_overrides, infer_catalog, parse_toml
    from analytics.core.errors import ScalegateError
    from analytics.decide.site_links_report import adoption_metric

    catalog = infer_catalog(["Score", "Assisted share"])
    assert catalog.get("assisted_share").kind == "outcome"  # guessed from a name it does not know
    assert adoption_metric(catalog) is None
    named, _ = apply_overrides(catalog, parse_toml('[settings]\nadoption = "Assisted share"'))
    assert named.settings.adoption == "assisted_share"
    assert named.get("assisted_share").kind == "process"
    assert adoption_metric(named).id == "assisted_share"
    assert 'adoption = "assisted_share"' in named.to_toml()
    with pytest.raises(ScalegateError, match="adoption names a metric"):
        apply_overrides(catalog, parse_toml("[settings]\nadoption = 3"))
