"""The bundled sample, loaded as the dashboard loads it, tells the story it was built for."""

from __future__ import annotations

import pytest

from analytics.cli.commands import load_sample_if_empty
from analytics.core.catalog import read_catalog
from analytics.decide.analysis import analyse
from analytics.store.database import Store


@pytest.fixture(scope="module")
def sample():
    store = Store(":memory:")
    load_sample_if_empty(store)
    info = store.dataset()
    catalog = read_catalog(store.cursor(), info.id)
    return store, info, catalog, analyse(store, info.id, catalog)


def test_each_verdict_appears_for_the_metric_built_for_it(sample) -> None:
    *_, results = sample
    verdicts = {v.metric: v.verdict for v in results.verdicts}
    assert verdicts == {
        "cost_per_case_eur": "scale",
        "minutes_saved": "fix_first",  # three plants regress against their own counterfactual
        "error_rate": "do_not_scale",  # no meaningful effect
        "revenue_per_case_eur": "need_more_data",  # inconclusive: too few revenue rows
        "support_tickets": "fix_first",  # the chatbot's resolution guardrail is breached
    }


def test_the_pilot_alone_would_have_said_scale(sample) -> None:
    *_, results = sample
    pilot = {v.metric: v.pilot_verdict for v in results.verdicts}
    assert pilot["minutes_saved"] == "scale" and pilot["error_rate"] == "scale"


def test_reasons_name_the_regressing_plants_and_the_guardrail(sample) -> None:
    *_, results = sample
    saved = " ".join(results.verdict("minutes_saved").reasons)
    assert all(plant in saved for plant in ("Brno", "Porto", "Tampere"))
    tickets = " ".join(results.verdict("support_tickets").reasons)
    assert "Chatbot resolution" in tickets and "0.6" in tickets


def test_sample_process_metrics_fall_from_pilot_to_production(sample) -> None:
    *_, results = sample
    acc = results.effect("maintenance_model_accuracy", "production_vs_pilot", adjusted=False)
    assert acc.mean_b == pytest.approx(0.94, abs=0.01)
    assert acc.mean_a == pytest.approx(0.61, abs=0.01)


def test_value_at_scale_and_counterfactual_exist_for_the_sample(sample) -> None:
    *_, catalog, results = sample
    cost = next(v for v in results.value_at_scale if v.metric == "cost_per_case_eur")
    effect = results.effect("cost_per_case_eur", "production_vs_baseline")
    assert cost.delivered == pytest.approx(-effect.diff * 1.0 * 120_000)
    # The running cost comes off the counted total once (cost per case is the one outcome that
    # scales and is marked as a separate benefit), never off the outcome's own row.
    assert results.value_total.counted == ("cost_per_case_eur",)
    assert results.value_total.net == pytest.approx(cost.delivered - 150_000)
    assert {c.metric for c in results.counterfactual} >= {"cost_per_case_eur"}
    assert all(c.method.endswith("_weekly") for c in results.counterfactual)
