"""Which column is the usage share: the one the catalog names (by id or label), else the first
metric whose name reads as one; none when the named one is not in the data."""

from __future__ import annotations

from analytics.core.catalog import Catalog, Metric, Settings
from analytics.decide.site_links_report import NO_ADOPTION, AdoptionSection, adoption_metric

AHT = Metric("aht", "Handle time")
USE = Metric("handled_by_ai", "Share handled by AI", kind="process")
OTHER = Metric("adoption", "Adoption", kind="process")


def test_the_named_column_wins_by_id_or_label() -> None:
    assert adoption_metric(Catalog((AHT, USE, OTHER), Settings(adoption="adoption"))) == OTHER
    named_by_label = Catalog((AHT, USE, OTHER), Settings(adoption="Share handled by AI"))
    assert adoption_metric(named_by_label) == USE
    assert adoption_metric(Catalog((AHT, USE), Settings(adoption="missing"))) is None


def test_without_a_name_the_first_usage_share_is_taken() -> None:
    assert adoption_metric(Catalog((AHT, USE, OTHER))) == USE
    assert adoption_metric(Catalog((AHT,))) is None


def test_no_column_says_so_in_one_sentence() -> None:
    none = AdoptionSection(None, ())
    assert none.sentence == NO_ADOPTION and none.to_dict() == {"sentence": NO_ADOPTION}
    empty = AdoptionSection("handled_by_ai", ())
    assert empty.sentence == "" and empty.to_dict() == {"column": "handled_by_ai", "outcomes": []}
