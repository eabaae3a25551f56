"""A file of baseline and production only (no pilot phase, as many exports are): the pages say
there is no pilot, instead of a pilot verdict ("Pilot alone: need more data") or a retention
note about a pilot interval that does not exist. Found by a new-user run in Chromium."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest
from test_first_impression import rollout_csv
from test_pages import PAGES, ROOT

from analytics.ingest.load import Source, load_files
from analytics.store.database import open_store


def test_without_a_pilot_the_pages_say_so(own_db: Path) -> None:
    store = open_store(own_db)
    load_files(store, [Source.from_bytes("no_pilot.csv", rollout_csv())], name="No pilot")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception, [e.message for e in at.exception]
    home = [c.value for c in at.caption]
    assert "Pilot alone: no pilot in the data" in home
    assert not [c for c in home if c.startswith("Pilot alone: Need")]
    at.switch_page(PAGES["scorecard"]).run()
    assert not at.exception
    assert "Pilot alone: no pilot in the data." in [c.value for c in at.caption]
    at.switch_page(PAGES["pilot"]).run()
    assert not at.exception
    captions = [c.value for c in at.caption]
    assert "Retention is not reported: no pilot in the data, so no promise to keep." in captions
    assert not [c for c in captions if "pilot's own interval" in c]
