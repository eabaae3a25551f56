"""The Sites & Channels page says why production falls short of the pilot: the caption carries
the sentence of results.json's gaps section for the chosen outcome (AppTest, bundled sample)."""

from __future__ import annotations

from test_pages import PAGES, app, no_problem, sample_db  # noqa: F401 (fixture)

from analytics.present.gap_text import gap_caption
from ui.text import plain


def test_sites_page_shows_the_gap_sentence_of_the_results(sample_db):  # noqa: F811
    at = app().run()
    at.switch_page(PAGES["sites"]).run()
    no_problem(at)
    metric = at.selectbox(key="sites_metric").value
    captions = [c.value for c in at.caption]
    shown = [c for c in captions if c.startswith("Pilot to production, taken apart")]
    assert len(shown) == 1
    from analytics.core.catalog import read_catalog
    from analytics.decide.analysis import analyse
    from analytics.store.database import open_store

    store = open_store(sample_db)
    (dataset,) = store.datasets()
    catalog = read_catalog(store.cursor(), dataset.id)
    found = analyse(store, dataset.id, catalog, with_counterfactual=False)
    assert shown[0] == plain(gap_caption(found, metric))
