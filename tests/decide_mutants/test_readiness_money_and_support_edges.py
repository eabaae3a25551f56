"""Readiness on hand-made results, at the edges the first tests left open: the value sentence
with its currency, a net interval starting just above zero, nothing counted, what could be
priced; support from several ticket measures, an escalation measure, a ticket measure without
an effect and a process trend of exactly zero."""

from __future__ import annotations

import pandas as pd

from analytics.core.catalog import Catalog, Metric
from analytics.decide.readiness import _money, _support
from analytics.decide.results import EffectRow, Results, TrendRow
from analytics.decide.value import ValueTotal

COST = Metric("cost_per_case", "Cost per case", direction="lower", unit="EUR")
REVENUE = Metric("revenue", "Revenue per order", unit="EUR")
TICKETS = Metric("tickets", "Tickets per agent", direction="lower")
ESCALATIONS = Metric("escalations", "Escalations", direction="lower")
INCIDENTS = Metric("incidents", "Incidents a week", direction="lower")
HANDLE = Metric("handle", "Handle time", kind="process", direction="lower")


def _total(**changes: object) -> ValueTotal:
    fields = {
        "currency": "EUR",
        "ci_level": 0.95,
        "counted": ("cost_per_case",),
        "not_counted": (),
        "delivered": 1_234_567.0,
        "delivered_ci": (1_000_000.0, 1_500_000.0),
        "run_cost": 200_000.0,
        "net": 1_034_567.0,
        "net_ci": (500.0, 2_000_000.0),
        "promised": 0.0,
        "promised_counted": (),
        "share_of_promise": None,
        "interval_method": "delta",
        "needs": (),
    }
    return ValueTotal(**{**fields, **changes})  # type: ignore[arg-type]


def _results(total: ValueTotal | None = None, effects: tuple = (), trends: tuple = ()) -> Results:
    meta = {"settings": {"alpha": 0.05}}
    return Results(meta, {}, effects, (), (), (), (), (), trends, (), value_total=total)


def test_the_value_sentence_names_its_currency_and_a_net_just_above_zero_is_good() -> None:
    evidence, signal = _money(_results(_total()), Catalog((COST,)))
    assert evidence == (
        "Counted (Cost per case): 1.23M EUR a year delivered at scale, 1.03M EUR net of the "
        "running cost (95% interval 500 to 2M EUR).",
    )
    assert signal == "good"  # the interval starts at 500 EUR, above zero
    low = _money(_results(_total(net_ci=(0.5, 2_000_000.0))), Catalog((COST,)))
    assert low[1] == "good"  # half a euro a year is still above zero
    at_zero = _money(_results(_total(net_ci=(0.0, 2_000_000.0))), Catalog((COST,)))
    assert at_zero[1] == "concern"


def test_nothing_counted_is_said_as_a_sentence() -> None:
    evidence, signal = _money(_results(_total(counted=())), Catalog((COST,)))
    assert evidence == (
        "No outcome both justifies scaling and adds to a total, so no value is counted.",
    )
    assert signal == "concern"


def test_what_is_not_priced_yet_names_every_outcome_that_could_be() -> None:
    needs = ("an annual volume", "a running cost")
    evidence, signal = _money(_results(_total(needs=needs)), Catalog((REVENUE, HANDLE, COST)))
    assert evidence == (
        "Nothing is priced yet: value at scale needs an annual volume; and a running cost "
        "(Revenue per order, Cost per case could be priced).",
    )
    assert signal == "unknown"


def _effect(metric: str, lift: float, ci: tuple[float, float]) -> EffectRow:
    return EffectRow(
        metric, "production_vs_baseline", "overall", None, True, "twfe", 100, 100, 1.0, 1.0,
        0.0, (0.0, 0.0), lift, ci, 0.01, 0.01,
    )  # fmt: skip


def test_one_ticket_measure_worse_keeps_support_a_concern_whatever_comes_after() -> None:
    worse = _effect("tickets", 0.2, (0.1, 0.3))  # more tickets: worse
    better = _effect("incidents", -0.2, (-0.3, -0.1))  # fewer incidents: better
    results = _results(effects=(worse, better))
    evidence, signal = _support(results, Catalog((TICKETS, INCIDENTS)), pd.DataFrame())
    assert len(evidence) == 2 and signal == "concern"


def test_an_escalation_measure_counts_as_support() -> None:
    results = _results(effects=(_effect("escalations", -0.2, (-0.3, -0.1)),))
    evidence, signal = _support(results, Catalog((ESCALATIONS,)), pd.DataFrame())
    assert evidence == (
        "Escalations: an improvement of +20.0% in production against the baseline "
        "(change -20.0%; 95% interval +10.0% to +30.0%).",
    )
    assert signal == "good"


def test_a_ticket_measure_without_an_effect_and_a_flat_trend_say_nothing() -> None:
    flat = TrendRow("handle", 0.0, (-1.0, 1.0), 0.01, 8, "")
    results = _results(trends=(flat,))
    assert _support(results, Catalog((TICKETS, HANDLE)), pd.DataFrame()) == (
        ("The data holds no ticket or incident measure and no process decline.",),
        "unknown",
    )


def test_without_any_value_total_every_money_word_is_named_and_the_need_is_inputs() -> None:
    # Each of the words that make an outcome priceable, alone in its metric's name.
    worded = (
        Metric("monthly_savings", "Monthly savings", unit="EUR"),
        Metric("error_rate", "Error rate", direction="lower"),
        Metric("risk_score", "Risk score", direction="lower"),
        Metric("gross_margin", "Gross margin", unit="EUR"),
        Metric("minutes_saved", "Minutes saved"),
        Metric("csat", "CSAT"),  # no money word
        Metric("cost_model", "Model cost", kind="process", direction="lower"),  # not an outcome
    )
    evidence, signal = _money(_results(None), Catalog(worded))
    assert evidence == (
        "Nothing is priced yet: value at scale needs inputs (Monthly savings, Error rate, "
        "Risk score, Gross margin, Minutes saved could be priced).",
    )
    assert signal == "unknown"
    bare = _money(_results(None), Catalog((Metric("csat", "CSAT"),)))
    assert bare == (("Nothing is priced yet: value at scale needs inputs.",), "unknown")
