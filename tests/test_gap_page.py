"""The Sites & Channels page says why production falls short of the pilot: the caption carries
the sentence of results.json's gaps section for the chosen outcome, the representativeness
sentence and mix table follow, and the Decision page repeats each outcome's sentence (AppTest,
bundled sample)."""

from __future__ import annotations

from test_pages import PAGES, app, no_problem, sample_db  # noqa: F401 (fixture)

from analytics.present.gap_text import gap_caption, representativeness_sentence, why_sentence
from ui.text import plain


def _found(sample_db):  # noqa: F811
    """The results the pages show (the app loads the sample on its first run)."""
    from analytics.core.catalog import read_catalog
    from analytics.decide.analysis import analyse
    from analytics.store.database import open_store

    store = open_store(sample_db)
    (dataset,) = store.datasets()
    catalog = read_catalog(store.cursor(), dataset.id)
    return analyse(store, dataset.id, catalog, with_counterfactual=False)


def test_sites_page_shows_the_gap_sentence_of_the_results(sample_db):  # noqa: F811
    at = app().run()
    found = _found(sample_db)
    at.switch_page(PAGES["sites"]).run()
    no_problem(at)
    metric = at.selectbox(key="sites_metric").value
    captions = [c.value for c in at.caption]
    shown = [c for c in captions if c.startswith("Pilot to production, taken apart")]
    assert len(shown) == 1
    assert shown[0] == plain(gap_caption(found, metric))
    assert plain(representativeness_sentence(found, metric)) in captions
    mix = next(f.value for f in at.dataframe if "Condition" in f.value.columns)
    row = next(r for r in found.representativeness if r.metric == metric)
    assert len(mix) == len(row.rep.mix)
    assert set(mix["Condition"]) == {"Site", "Channel", "Load"}


def test_decision_page_names_the_largest_factor_for_each_outcome(sample_db):  # noqa: F811
    at = app().run()
    found = _found(sample_db)
    at.switch_page(PAGES["decision"]).run()
    no_problem(at)
    captions = [c.value for c in at.caption]
    for v in found.verdicts:
        why = why_sentence(found, v.metric)
        if why:
            assert f"{plain(v.label)}. {plain(why)}" in captions
