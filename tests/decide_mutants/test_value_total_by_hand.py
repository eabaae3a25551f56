"""Value at scale worked by hand: the currency, what is still needed, the verdicts' Bonferroni
alpha, why an outcome is not counted, and a total of two outcomes whose intervals add up (the
upper bound used without site scores), net of the running cost once."""

from __future__ import annotations

import math

import pytest

from analytics.core.catalog import Catalog, Metric, Settings
from analytics.decide.results import MetricVerdict, ValueRow
from analytics.decide.value import (
    UPPER_BOUND,
    VALUE_NEEDED,
    VOLUME_NEEDED,
    _why_not,
    currency_of,
    money_needs,
    value_total,
    verdict_alpha,
)

SAVED = Metric("saved", "Minutes saved", unit="EUR", value_per_unit=2.0, adds_to_total=True)
SALES = Metric("sales", "Sales", unit="eur", value_per_unit=5.0, adds_to_total=True)
AHT = Metric("aht", "Handle time", direction="lower", overlaps=("saved",))
SPEED = Metric("speed", "Speed", kind="process")


def _catalog(*metrics: Metric, **settings: object) -> Catalog:
    return Catalog(metrics, Settings(**settings))  # type: ignore[arg-type]


def test_the_currency_is_the_catalogs_else_the_one_the_metrics_share() -> None:
    assert currency_of(_catalog(SAVED, currency="USD")) == "USD"
    assert currency_of(_catalog(SAVED, SALES)) == "EUR"  # EUR and eur are one currency
    assert currency_of(_catalog(SAVED, Metric("x", "X", unit="USD"))) == ""
    assert currency_of(_catalog(SPEED)) == ""


def test_money_needs_a_volume_and_a_value_per_unit_on_an_outcome() -> None:
    assert money_needs(_catalog(SAVED, annual_volume=1000.0)) == ()
    assert money_needs(_catalog(SAVED)) == (VOLUME_NEEDED,)
    priced_process = Metric("speed", "Speed", kind="process", value_per_unit=3.0)
    assert money_needs(_catalog(AHT, priced_process, annual_volume=1.0)) == (VALUE_NEEDED,)
    assert money_needs(_catalog(AHT)) == (VOLUME_NEEDED, VALUE_NEEDED)


def test_the_verdict_alpha_is_shared_by_the_outcomes_only() -> None:
    assert verdict_alpha(_catalog(SAVED, SALES, AHT, SPEED, alpha=0.06)) == pytest.approx(0.02)
    assert verdict_alpha(_catalog(SPEED, alpha=0.05)) == 0.05


def test_why_an_outcome_is_not_counted_lists_every_reason() -> None:
    catalog = _catalog(SAVED, AHT, SPEED)
    assert _why_not(AHT, "fix_first", catalog, priced=False) == (
        "no value per unit given; fix first; overlaps with Minutes saved"
    )
    lone = Metric("csat", "Satisfaction")
    assert _why_not(lone, "need_more_data", catalog, priced=True) == (
        "inconclusive; not marked as a separate benefit (adds_to_total)"
    )
    assert _why_not(lone, "odd", catalog, priced=True).startswith("odd; ")
    assert _why_not(SAVED, "scale", catalog, priced=True) == ""


def _verdict(metric: str, verdict: str, pilot: str = "scale") -> MetricVerdict:
    return MetricVerdict(
        metric, metric, verdict, 0.1, (0.0, 0.2), 0.975, "twfe", "", pilot, 0.1, (0.0, 0.2), (),
        (), None, None, "",
    )  # fmt: skip


def test_a_total_of_two_outcomes_adds_their_intervals_and_nets_the_cost_once() -> None:
    catalog = _catalog(SAVED, SALES, AHT, annual_volume=1000.0, run_cost_per_year=50.0)
    rows = [
        ValueRow("saved", 300.0, 200.0, (150.0, 250.0), math.nan, math.nan),
        ValueRow("sales", 500.0, 400.0, (300.0, 500.0), math.nan, math.nan),
        ValueRow("aht", 90.0, 80.0, (60.0, 100.0), math.nan, math.nan),
    ]
    verdicts = [_verdict("saved", "scale"), _verdict("sales", "scale"), _verdict("aht", "scale")]
    total = value_total(rows, verdicts, catalog, {}, {})
    assert total.counted == ("saved", "sales")
    assert total.not_counted == (("aht", "overlaps with Minutes saved"),)
    # delivered 200 + 400 = 600; half-widths 50 + 100 = 150, added as an upper bound
    assert total.delivered == 600.0 and total.delivered_ci == (450.0, 750.0)
    assert (total.run_cost, total.net, total.net_ci) == (50.0, 550.0, (400.0, 700.0))
    assert total.interval_method == UPPER_BOUND
    assert total.ci_level == pytest.approx(1 - 0.05 / 3)
    assert total.currency == "EUR" and total.needs == ()
    # promised 300 + 500 on the same two outcomes: 600 / 800 of the promise
    assert total.promised == 800.0 and total.promised_counted == ("saved", "sales")
    assert total.share_of_promise == pytest.approx(0.75)


def test_a_total_with_nothing_counted_has_no_amount_and_no_share() -> None:
    catalog = _catalog(SAVED, SALES, annual_volume=1000.0, run_cost_per_year=50.0)
    rows = [
        ValueRow("saved", 300.0, 200.0, (150.0, 250.0), math.nan, math.nan),
        ValueRow("sales", 500.0, math.nan, (math.nan, math.nan), math.nan, math.nan),
    ]
    verdicts = [_verdict("saved", "fix_first"), _verdict("sales", "scale", pilot="fix_first")]
    total = value_total(rows, verdicts, catalog, {}, {})
    assert total.counted == () and total.interval_method == ""
    assert total.not_counted == (("saved", "fix first"), ("sales", "no value per unit given"))
    assert math.isnan(total.delivered) and all(math.isnan(v) for v in total.delivered_ci)
    assert total.promised == 300.0 and total.promised_counted == ("saved",)
    assert total.share_of_promise is None


def test_a_promise_of_nothing_gives_no_share_of_it() -> None:
    """The pilot promised 0 a year on the outcomes that count: a share of nothing is no share
    (it is not a division by zero)."""
    catalog = _catalog(SAVED, annual_volume=1000.0, run_cost_per_year=50.0)
    rows = [ValueRow("saved", 0.0, 200.0, (150.0, 250.0), math.nan, math.nan)]
    total = value_total(rows, [_verdict("saved", "scale")], catalog, {}, {})
    assert total.counted == total.promised_counted == ("saved",)
    assert total.promised == 0.0 and total.share_of_promise is None
