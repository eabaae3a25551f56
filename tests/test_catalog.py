"""The metric catalog: ids, inferred defaults, TOML overrides, persistence."""

from __future__ import annotations

import pytest

from analytics.core.catalog import (
    apply_overrides,
    infer_catalog,
    infer_metric,
    metric_id,
    parse_toml,
    read_catalog,
    save_catalog,
)
from analytics.core.errors import ScalegateError
from analytics.store.database import Store


def test_metric_ids_are_lower_snake_case_and_unique() -> None:
    assert metric_id("Cost per case (EUR)") == "cost_per_case_eur"
    assert metric_id("Coût moyen") == "cout_moyen"
    assert metric_id("cost per case eur", ["cost_per_case_eur"]) == "cost_per_case_eur_2"
    assert metric_id("2024 revenue") == "m_2024_revenue"
    assert metric_id("Site") == "site_2"  # never collides with a dimension column
    assert metric_id("!!!") == "metric"


@pytest.mark.parametrize(
    ("header", "kind", "direction"),
    [
        ("Cost per case (EUR)", "outcome", "lower"),
        ("Cost saved", "outcome", "higher"),  # "saved" is matched before "cost"
        ("Time saved (min)", "outcome", "higher"),
        ("Minutes saved by the assistant", "outcome", "higher"),  # a result, though the AI's
        ("Error rate", "outcome", "lower"),
        ("Support tickets", "outcome", "lower"),
        ("Revenue", "outcome", "higher"),
        # Business results an owner reads are outcomes (issue 11).
        ("Resolution rate %", "outcome", "higher"),
        ("Resolved first time", "outcome", "higher"),
        ("First contact resolution", "outcome", "higher"),
        ("Conversion rate", "outcome", "higher"),
        ("CSAT", "outcome", "higher"),
        ("NPS", "outcome", "higher"),
        ("AHT (s)", "outcome", "lower"),
        # The AI's own performance is process.
        ("Chatbot resolution", "process", "higher"),
        ("Bot containment rate", "process", "higher"),
        ("AI accuracy", "process", "higher"),
        ("Model accuracy", "process", "higher"),
        ("Exception rate", "process", "lower"),
        ("Escalation rate", "process", "lower"),
        ("Override rate", "process", "lower"),
        ("Uptime", "process", "higher"),
        ("Latency ms", "process", "lower"),
        ("Aim score", "outcome", "higher"),  # "ai" is a whole word only
        ("Widgets", "outcome", "higher"),
    ],
)
def test_defaults_come_from_the_ordered_keyword_tables(
    header: str, kind: str, direction: str
) -> None:
    metric = infer_catalog([header]).metrics[0]
    # A default from the name, keyword or not, is a guess until a person confirms it.
    assert (metric.kind, metric.direction, metric.guessed) == (kind, direction, True)


def test_a_catalog_file_confirms_what_it_pins_and_keeps_guesses_marked() -> None:
    catalog, _ = apply_overrides(
        infer_catalog(["Cost", "Accuracy"]), parse_toml('[metrics.cost]\nkind = "outcome"\n')
    )
    assert [m.guessed for m in catalog.metrics] == [False, True]
    again, _ = apply_overrides(infer_catalog(["Cost", "Accuracy"]), parse_toml(catalog.to_toml()))
    assert [m.guessed for m in again.metrics] == [False, True]


def test_toml_overrides_by_id_or_header_and_settings() -> None:
    catalog = infer_catalog(["Cost per case (EUR)", "Accuracy", "Widgets"])
    text = """
[metrics.cost_per_case_eur]
value_per_unit = 1.0
min_effect = 0.1
[metrics."Accuracy"]
guardrail = 0.8
guards = ["cost_per_case_eur"]
[metrics.widgets]
direction = "lower"
[metrics.unknown_thing]
kind = "process"
[settings]
alpha = 0.1
grain = "week"
annual_volume = 5000
"""
    new, warnings = apply_overrides(catalog, parse_toml(text))
    cost, acc, widgets = new.metrics
    assert cost.value_per_unit == 1.0 and cost.min_effect == 0.1
    assert acc.guardrail == 0.8 and acc.guards == ("cost_per_case_eur",)
    assert acc.guards_metric("cost_per_case_eur") and not acc.guards_metric("widgets")
    assert widgets.direction == "lower" and not widgets.guessed
    assert new.settings.alpha == 0.1 and new.settings.grain == "week"
    assert new.settings.annual_volume == 5000
    assert warnings == ["The catalog names unknown_thing, which this dataset does not have."]


@pytest.mark.parametrize(
    "text",
    [
        "[metrics.widgets]\nkind = 'both'",
        "[metrics.widgets]\ndirection = 'up'",
        "[metrics.widgets]\nmin_effect = 'big'",
        "[metrics.widgets]\ncolour = 'red'",
        "[settings]\nalpha = 2",
        "[settings]\nspeed = 1",
        "[metrics.widgets\nkind=",
    ],
)
def test_bad_catalogs_are_refused_with_a_sentence(text: str) -> None:
    catalog = infer_catalog(["Widgets"])
    with pytest.raises(ScalegateError) as err:
        apply_overrides(catalog, parse_toml(text))
    assert err.value.sentence.endswith((".", ")."))
    assert "\n" not in err.value.sentence


def test_guardrail_sides() -> None:
    catalog = infer_catalog(["Accuracy", "Latency ms"])
    acc, lat = apply_overrides(
        catalog,
        parse_toml("[metrics.accuracy]\nguardrail = 0.8\n[metrics.latency_ms]\nguardrail = 200"),
    )[0].metrics
    assert acc.guardrail_breached(0.61) and not acc.guardrail_breached(0.85)
    assert lat.guardrail_breached(250) and not lat.guardrail_breached(150)


def test_catalog_round_trips_through_the_database_and_toml() -> None:
    store = Store(":memory:")
    catalog, _ = apply_overrides(
        infer_catalog(["Cost per case (EUR)", "Accuracy"]),
        parse_toml("[metrics.accuracy]\nguardrail = 0.8\n[settings]\nretention_floor = 0.6"),
    )
    with store.transaction() as cur:
        cur.execute(
            "INSERT INTO datasets VALUES (1, 'd', 's', 'h', 0, 0, now(), 'obs_1', NULL, NULL)"
        )
        save_catalog(cur, 1, catalog)
    assert read_catalog(store.cursor(), 1) == catalog
    again, warnings = apply_overrides(
        infer_catalog(["Cost per case (EUR)", "Accuracy"]), parse_toml(catalog.to_toml())
    )
    assert again.metrics == tuple(m for m in catalog.metrics) and not warnings
    assert again.settings == catalog.settings


def test_money_columns_have_no_value_per_unit_until_someone_gives_one() -> None:
    catalog = infer_catalog(["Cost per case (EUR)", "Total cost (£)", "Revenue (USD)"])
    assert [m.value_per_unit for m in catalog.metrics] == [None, None, None]
    assert catalog.settings.annual_volume is None and catalog.source == "keyword guesses"


def test_adds_to_total_and_overlaps_survive_a_toml_round_trip() -> None:
    base = infer_catalog(["Cost per case (EUR)", "Minutes saved"])
    doc = parse_toml(
        "[metrics.cost_per_case_eur]\nadds_to_total = true\nvalue_per_unit = 1.0\n"
        '[metrics.minutes_saved]\noverlaps = ["cost_per_case_eur"]\n'
        '[settings]\nannual_volume = 5000\ncurrency = "EUR"\n'
    )
    catalog, _ = apply_overrides(base, doc)
    assert catalog.get("cost_per_case_eur").adds_to_total
    assert catalog.get("minutes_saved").overlaps == ("cost_per_case_eur",)
    again, _ = apply_overrides(base, parse_toml(catalog.to_toml()))
    assert again.metrics == catalog.metrics and again.settings == catalog.settings
    unpriced, _ = apply_overrides(base, parse_toml(infer_catalog(["x"]).to_toml()))
    assert "annual_volume" not in infer_catalog(["x"]).to_toml()  # not given: left out
    assert unpriced.settings.annual_volume is None


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ('[metrics.minutes_saved]\noverlaps = ["nothing"]\n', "lacks"),
        ("[metrics.minutes_saved]\nadds_to_total = 1\n", "true or false"),
        ("[settings]\nannual_volume = -5\n", "at least 0"),
    ],
)
def test_bad_money_inputs_are_one_sentence(spec: str, words: str) -> None:
    base = infer_catalog(["Cost per case (EUR)", "Minutes saved"])
    with pytest.raises(ScalegateError, match=words):
        apply_overrides(base, parse_toml(spec))


@pytest.mark.parametrize(
    ("name", "beside"),
    [("sample.csv", "sample.catalog.toml"), ("export.csv.gz", "export.catalog.toml"),
     ("week 3.xlsx", "week 3.catalog.toml")],
)  # fmt: skip
def test_report_finds_the_catalog_beside_the_file(tmp_path, name: str, beside: str) -> None:
    from analytics.cli.commands import catalog_beside

    data = tmp_path / name
    data.write_text("x")
    assert catalog_beside([str(data)]) is None
    (tmp_path / beside).write_text("")
    assert catalog_beside([str(data)]) == tmp_path / beside


@pytest.mark.parametrize(
    ("header", "direction"),
    [
        ("Returned within 30 days", "lower"),
        ("Avg cycle time (days)", "lower"),
        ("Resolution time (h)", "lower"),
        ("Resolution rate %", "higher"),
        ("Return on investment", "higher"),
        ("Bearbeitungszeit (Min.)", "lower"),
        ("Kosten je Fall (€)", "lower"),
        ("Time saved per case", "higher"),
    ],
)
def test_times_returns_and_german_costs_are_better_lower(header: str, direction: str) -> None:
    """Names a new user's exports used, which the keyword table read the wrong way round."""
    assert infer_metric(header).direction == direction


def test_a_recommendation_shown_is_the_ais_own_process() -> None:
    assert infer_metric("Recommendation shown").kind == "process"
