"""The bundled sample tells the story it is meant to, checked without Scalegate's engine.

Row-level statsmodels fits, as DESIGN.md's "Comparisons" and "Verdict rules" describe them:
``value ~ pilot + production + C(plant) + C(month)``, cluster-robust by plant with t on G-1
degrees of freedom, the adjusted lift beta / (mean_production - beta) with a delta-method CI at
the Bonferroni level 1 - 0.05/5, and per-plant (or per-channel) production effects from the
model with production x plant terms, HC1, Holm across plants.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.multitest import multipletests

from data import generate as gen

ROOT = Path(__file__).resolve().parents[1]
ALPHA = 0.05
DELTA = 0.05
# Outcome metrics and the sign that makes a positive lift good.
OUTCOMES: dict[str, int] = {
    "Cost per case (EUR)": -1,
    "Minutes saved": 1,
    "Error rate": -1,
    "Revenue per case (EUR)": 1,
    "Support tickets": -1,
}
INTENDED = {
    "Cost per case (EUR)": "scale",
    "Minutes saved": "fix_first",
    "Error rate": "do_not_scale",
    "Revenue per case (EUR)": "need_more_data",
    "Support tickets": "scale",
}
M = len(OUTCOMES)


@dataclass(frozen=True)
class Adjusted:
    lift: float  # good-signed adjusted production lift
    lo: float  # its Bonferroni CI
    hi: float
    pilot_lift: float  # good-signed adjusted pilot lift
    n_production: int
    production_sites: int


class Story:
    """Row-level fits of the sample, each computed once.

    The design matrices are built with pandas dummies rather than formulas (same columns as
    ``value ~ pilot + production + C(plant) + C(month)``; patsy is slow on 150k rows).
    """

    def __init__(self, df: pd.DataFrame) -> None:
        self.df = df
        self._adjusted: dict[str, Adjusted] = {}
        self._worse: dict[tuple[str, str], list[str]] = {}

    def rows(self, metric: str) -> pd.DataFrame:
        cols = ["plant", "channel", "month", "phase", "pilot", "production"]
        d = self.df[cols].assign(value=self.df[metric].astype(float))
        return d.dropna(subset=["value"]).reset_index(drop=True)

    @staticmethod
    def _fixed_effects(d: pd.DataFrame, dims: list[str]) -> pd.DataFrame:
        return pd.get_dummies(d[dims], drop_first=True, dtype=float)

    def adjusted(self, metric: str) -> Adjusted:
        if metric not in self._adjusted:
            d = self.rows(metric)
            x = pd.concat(
                [d[["pilot", "production"]], self._fixed_effects(d, ["plant", "month"])], axis=1
            )
            x.insert(0, "const", 1.0)
            groups = pd.factorize(d["plant"])[0]
            fit = sm.OLS(d["value"].to_numpy(), x).fit(
                cov_type="cluster", cov_kwds={"groups": groups}, use_t=True
            )
            beta, se = float(fit.params["production"]), float(fit.bse["production"])
            y_prod = float(d.loc[d["production"] == 1, "value"].mean())
            lift = beta / (y_prod - beta)
            se_lift = y_prod / (y_prod - beta) ** 2 * se
            t = stats.t.ppf(1 - ALPHA / M / 2, d["plant"].nunique() - 1)
            b_pilot = float(fit.params["pilot"])
            y_pilot = float(d.loc[d["pilot"] == 1, "value"].mean())
            sign = OUTCOMES[metric]
            self._adjusted[metric] = Adjusted(
                lift=sign * lift,
                lo=sign * lift - t * se_lift,
                hi=sign * lift + t * se_lift,
                pilot_lift=sign * b_pilot / (y_pilot - b_pilot),
                n_production=int(d["production"].sum()),
                production_sites=int(d.loc[d["production"] == 1, "plant"].nunique()),
            )
        return self._adjusted[metric]

    def significantly_worse(self, metric: str, by: str) -> list[str]:
        """Plants (or channels) whose own production effect is significantly bad (HC1, Holm).

        The model with production x ``by`` terms: value ~ pilot + production:C(by) + C(plant)
        + C(month) (+ C(channel) when ``by`` is the channel).
        """
        key = (metric, by)
        if key not in self._worse:
            d = self.rows(metric)
            levels = sorted(d[by].unique())
            inter = pd.DataFrame(
                {lvl: d["production"] * (d[by] == lvl) for lvl in levels}, dtype=float
            )
            dims = ["plant", "month"] + (["channel"] if by == "channel" else [])
            x = pd.concat([d[["pilot"]], inter, self._fixed_effects(d, dims)], axis=1)
            x.insert(0, "const", 1.0)
            fit = sm.OLS(d["value"].to_numpy(), x).fit(cov_type="HC1")
            p_holm = multipletests(fit.pvalues[levels].to_numpy(), alpha=ALPHA, method="holm")[1]
            good = OUTCOMES[metric] * fit.params[levels].to_numpy()
            self._worse[key] = [
                lvl for lvl, p, g in zip(levels, p_holm, good, strict=True) if p < ALPHA and g < 0
            ]
        return self._worse[key]

    def verdict(self, metric: str) -> str:
        """DESIGN.md's rules 1-5 (no guardrail is set; retention is checked separately)."""
        a = self.adjusted(metric)
        if a.n_production < 30 or a.production_sites < 2:
            return "need_more_data"
        if a.hi < DELTA:
            return "do_not_scale"
        if self.significantly_worse(metric, "plant") or self.significantly_worse(metric, "channel"):
            return "fix_first"
        if a.lo > 0 and a.lift >= DELTA:
            return "scale"
        return "need_more_data"


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    df = gen.generate()
    df["pilot"] = (df["phase"] == "pilot").astype(float)
    df["production"] = (df["phase"] == "production").astype(float)
    df["month"] = df["date"].str[:7]
    return df


@pytest.fixture(scope="module")
def story(sample: pd.DataFrame) -> Story:
    return Story(sample)


def test_shape_and_identifiers(sample: pd.DataFrame) -> None:
    assert len(sample) == gen.DEFAULT_ROWS
    assert list(sample.columns[: len(gen.COLUMNS)]) == list(gen.COLUMNS)
    assert sample["case_id"].is_unique
    assert sample["case_id"].dtype == np.int64
    assert set(sample["phase"]) == {"baseline", "pilot", "production"}
    assert sample["plant"].nunique() == 12
    assert set(sample["channel"]) == {"phone", "email", "chat", "portal"}
    assert sample["date"].min() == "2024-01-01"
    assert sample["date"].max() == "2025-01-31"
    assert pd.to_datetime(sample["date"], format="%Y-%m-%d").notna().all()
    for name in gen.METRICS:
        assert pd.api.types.is_numeric_dtype(sample[name]), name


def test_timeline(sample: pd.DataFrame) -> None:
    pilot = sample[sample["phase"] == "pilot"]
    assert set(pilot["plant"]) == {gen.PILOT_PLANT}
    assert set(pilot["month"]) == {"2024-04", "2024-05", "2024-06"}
    assert set(sample.loc[sample["month"] <= "2024-03", "phase"]) == {"baseline"}
    first = sample[sample["phase"] == "production"].groupby("plant")["date"].min()
    waves = first.groupby(first).size()
    assert list(waves.index) == ["2024-07-01", "2024-09-01", "2024-11-01"]
    assert list(waves) == [4, 4, 4]
    assert first[gen.PILOT_PLANT] == "2024-07-01"
    # Staggered: in July-October some plants are live and some are still on baseline.
    for month in ("2024-07", "2024-08", "2024-09", "2024-10"):
        assert set(sample.loc[sample["month"] == month, "phase"]) == {"baseline", "production"}


def test_data_quality(sample: pd.DataFrame) -> None:
    metrics = [m for m in gen.METRICS if m != "Revenue per case (EUR)"]
    missing = sample[metrics].isna().groupby(sample["plant"]).mean().mean(axis=1)
    assert missing[gen.PILOT_PLANT] == 0.0
    assert 0.13 < missing[gen.MESSY_PLANT] < 0.17
    assert missing.drop([gen.PILOT_PLANT, gen.MESSY_PLANT]).max() < 0.01
    days = sample.groupby("plant")["date"].nunique()
    assert days[gen.MESSY_PLANT] < 0.93 * days.max()
    assert (days.drop(gen.MESSY_PLANT) == days.max()).all()
    recorded = sample["Revenue per case (EUR)"].notna().mean()
    assert 0.01 < recorded < 0.02


def test_process_story(sample: pd.DataFrame) -> None:
    by_phase = sample.groupby("phase")
    accuracy = by_phase["Maintenance model accuracy"].mean()
    assert accuracy["pilot"] == pytest.approx(0.94, abs=0.02)
    assert accuracy["production"] == pytest.approx(0.61, abs=0.02)
    resolution = by_phase["Chatbot resolution"].mean()
    assert resolution["pilot"] == pytest.approx(0.80, abs=0.02)
    peak = sample["month"].isin(["2024-11", "2024-12"]) & (sample["phase"] == "production")
    assert sample.loc[peak, "Chatbot resolution"].mean() == pytest.approx(0.55, abs=0.02)
    uptime = sample["Uptime"].dropna()
    assert uptime.max() <= 1.0
    assert uptime.mean() == pytest.approx(0.999, abs=0.0006)
    assert uptime.groupby(sample["phase"]).std().max() < 0.0007
    assert (sample["Latency ms"].dropna() > 0).all()


def test_cost_scales(story: Story) -> None:
    a = story.adjusted("Cost per case (EUR)")
    assert a.lift >= 0.10  # cost cut by at least 10% (good-signed)
    assert a.lo > DELTA
    assert story.significantly_worse("Cost per case (EUR)", "plant") == []


def test_cost_naive_before_after_is_biased_by_season(story: Story) -> None:
    df = story.df
    cost = df["Cost per case (EUR)"]
    naive = cost[df["phase"] == "production"].mean() / cost[df["phase"] == "baseline"].mean() - 1
    adjusted = -story.adjusted("Cost per case (EUR)").lift
    assert naive > adjusted + 0.05  # the peak season hides much of the cut


def test_minutes_saved_fix_first(story: Story) -> None:
    baseline = story.df.loc[story.df["phase"] == "baseline", "Minutes saved"]
    assert baseline.mean() > 15  # against the manual standard time: a sound denominator
    a = story.adjusted("Minutes saved")
    assert a.lift > 0 and a.hi >= DELTA  # good on average, not "no meaningful effect"
    worse = story.significantly_worse("Minutes saved", "plant")
    assert len(worse) >= 2
    assert worse == ["Brno", "Porto", "Tampere"]
    assert story.significantly_worse("Minutes saved", "channel") == []


def test_error_rate_no_meaningful_effect(story: Story) -> None:
    a = story.adjusted("Error rate")
    assert a.hi < DELTA
    assert a.hi - a.lo < 0.2
    assert a.pilot_lift > 0.1  # the pilot alone looked like a win


def test_revenue_inconclusive(story: Story) -> None:
    a = story.adjusted("Revenue per case (EUR)")
    assert a.lo < 0 < DELTA < a.hi
    assert a.n_production >= 30 and a.production_sites >= 2
    assert story.df["Revenue per case (EUR)"].std() > story.df["Revenue per case (EUR)"].mean()


@pytest.mark.parametrize("metric", list(OUTCOMES))
def test_intended_verdict(story: Story, metric: str) -> None:
    assert story.verdict(metric) == INTENDED[metric]


@pytest.mark.parametrize("metric", ["Cost per case (EUR)", "Support tickets"])
def test_scaled_metrics_keep_most_of_the_pilot(story: Story, metric: str) -> None:
    # Retention (production lift / pilot lift) well above the 0.5 floor, so rule 3 stays quiet.
    a = story.adjusted(metric)
    assert a.pilot_lift > 0
    assert a.lift / a.pilot_lift > 0.6


def test_deterministic_and_chunking_invariant(tmp_path: Path) -> None:
    a = gen.generate(rows=20_000, seed=5)
    b = gen.generate(rows=20_000, seed=5)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(gen.generate(rows=20_000, seed=6))
    chunks = list(gen.iter_chunks(rows=20_000, seed=5, chunk_rows=3_000))
    assert len(chunks) > 5
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), a)

    path = tmp_path / "s.csv"
    assert gen.write_sample(path, rows=20_000, seed=5) == 20_000
    back = pd.read_csv(path)
    assert list(back.columns) == list(gen.COLUMNS)
    assert len(back) == 20_000
    np.testing.assert_array_equal(back["case_id"].to_numpy(), a["case_id"].to_numpy())
    for name in gen.METRICS:
        np.testing.assert_array_equal(
            back[name].to_numpy(dtype=float), a[name].to_numpy(dtype=float, na_value=np.nan)
        )


def test_cli_small(tmp_path: Path) -> None:
    out = tmp_path / "tiny.csv"
    assert gen.main(["--out", str(out), "--rows", "500", "--seed", "3"]) == 0
    assert len(pd.read_csv(out)) == 500


def test_bundled_csv_is_the_default_sample(sample: pd.DataFrame) -> None:
    bundled = pd.read_csv(ROOT / "data" / "sample.csv")
    assert list(bundled.columns) == list(gen.COLUMNS)
    assert len(bundled) == gen.DEFAULT_ROWS
    for name in ("date", "phase", "plant", "channel"):
        assert (bundled[name].to_numpy() == sample[name].to_numpy()).all(), name
    np.testing.assert_array_equal(bundled["case_id"].to_numpy(), sample["case_id"].to_numpy())
    for name in gen.METRICS:
        np.testing.assert_array_equal(
            bundled[name].to_numpy(dtype=float),
            sample[name].to_numpy(dtype=float, na_value=np.nan),
            err_msg=name,
        )
