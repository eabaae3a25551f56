"""Load, data quality and adoption in words (issue 14, items 3-5): the Sites & Channels page
shows the lines made from results.json's sections for the chosen outcome (AppTest, bundled
sample), and the pack's slide carries the same sentences."""

from __future__ import annotations

from test_pages import PAGES, app, no_problem, sample_db  # noqa: F401 (fixture)

from analytics.core.catalog import read_catalog
from analytics.decide.analysis import analyse
from analytics.present.pack import build_slides
from analytics.present.why_text import SLIDE_TITLE, pack_lines, why_lines
from analytics.store.database import open_store
from ui.text import plain


def test_sites_page_and_pack_say_what_the_sections_say(sample_db):  # noqa: F811
    at = app().run()
    at.switch_page(PAGES["sites"]).run()
    no_problem(at)
    metric = at.selectbox(key="sites_metric").value
    captions = [c.value for c in at.caption]
    store = open_store(sample_db)
    (dataset,) = store.datasets()
    catalog = read_catalog(store.cursor(), dataset.id)
    found = analyse(store, dataset.id, catalog, with_counterfactual=False)
    doc = found.to_dict()
    lines = why_lines(found, metric)
    shown = [plain(x) for x in lines]
    at_ = captions.index(shown[0])
    assert captions[at_ : at_ + len(shown)] == shown  # together, in this order
    # The sample: 1.3× at most, so 10× is answered as not observed; no adoption column.
    assert (
        doc["load_curve"]["asked"]["answer"] == "10× volume: not observed: the data reaches 1.3×."
    )
    assert lines[1] == doc["load_curve"]["asked"]["answer"]
    assert lines[-1] == doc["adoption"]["sentence"]
    quality = next(q for q in doc["data_quality"] if q["metric"] == metric)
    assert quality["sentence"] in lines
    (slide,) = [s for s in build_slides(found, catalog) if s.title == SLIDE_TITLE]
    assert slide.lines == pack_lines(found)
    assert doc["load_curve"]["observed"] == slide.lines[0]
