"""Load, data quality and adoption in words (issue 14, items 3-5): the Sites & Channels page
shows the lines made from results.json's sections for the chosen outcome (AppTest, bundled
sample), and the pack's slide carries the same sentences."""

from __future__ import annotations

import pytest
from test_pages import PAGES, app, no_problem, sample_db  # noqa: F401 (fixture)

from analytics.core.catalog import read_catalog
from analytics.decide.analysis import analyse
from analytics.present.pack import build_slides
from analytics.present.why_text import pack_lines, why_lines
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
    (slide,) = [s for s in build_slides(found, catalog) if s.lines == pack_lines(found)]
    assert slide.lines == pack_lines(found)
    assert doc["load_curve"]["observed"] == slide.lines[0]


def test_load_chart_draws_each_site_month_volume_and_mean_as_the_rows_give_them(sample_db):  # noqa: F811
    """The chart's points against pandas on data/sample.csv: rows per plant and month (all
    phases; the largest over metrics is every row here) and the metric's mean per plant, month
    and phase; the title answers 10× from the observed multiple."""
    from pathlib import Path

    import pandas as pd

    from analytics.present.charts import context_from
    from analytics.present.load_chart import load_curve_chart

    store = open_store(sample_db)
    (dataset,) = store.datasets()
    found = analyse(store, dataset.id, read_catalog(store.cursor(), dataset.id))
    spec = load_curve_chart(found, "cost_per_case_eur", context_from(found)).to_dict()
    (data,) = spec["datasets"].values()
    drawn = pd.DataFrame(data).set_index(["site", "period", "phase"]).sort_index()
    rows = pd.read_csv(Path(__file__).parent.parent / "data" / "sample.csv")
    rows["period"] = pd.to_datetime(rows["date"]).dt.strftime("%Y-%m-01")
    volume = rows.groupby(["plant", "period"]).size()
    mean = rows.groupby(["plant", "period", "phase"])["Cost per case (EUR)"].mean()
    assert len(drawn) == len(mean)
    labels = {"baseline": "Baseline", "pilot": "Pilot", "production": "Production"}
    for (plant, period, phase), value in mean.items():
        point = drawn.loc[(plant, period, labels[phase])]
        assert point["mean"] == pytest.approx(value, rel=1e-9)
        assert point["volume"] == volume[(plant, period)]
    assert spec["title"]["text"] == "10× volume: not observed: the data reaches 1.3×."
