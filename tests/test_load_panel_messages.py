"""What the dashboard says around a load: a load ends on Home, which says once what it did; a
replacement says so; the Data page keeps the report until the next upload, which is reviewed on
its own (found confusing in the new-user Chromium run)."""

from __future__ import annotations

from pathlib import Path

from test_pages import PAGES, app, no_problem, small_csv

from analytics.store.database import open_store


def test_a_replacement_says_it_took_the_old_contents_place(own_db: Path) -> None:
    at = app().run()
    at.switch_page(PAGES["data"]).run()
    (first,) = open_store(own_db).datasets()
    at.file_uploader(key="data_upload_0").set_value(("rollout.csv", small_csv(), "text/csv")).run()
    no_problem(at)
    at.selectbox(key="data_load_target").set_value(first.id).run()
    at.button(key="data_load_button").click().run()
    no_problem(at)
    said = f"Loaded as dataset {first.name}, in the place of its old content."
    assert [s.value for s in at.success] == [f"{said} Rows read 1,456, loaded 1,456, set aside 0."]
    at.switch_page(PAGES["data"]).run()
    assert [s.value for s in at.success] == [said]
    (now,) = open_store(own_db).datasets()
    assert (now.id, now.name) == (first.id, first.name) and now.sha256 != first.sha256


def test_the_next_upload_is_reviewed_without_the_last_report(own_db: Path) -> None:
    at = app().run()
    at.switch_page(PAGES["data"]).run()
    at.file_uploader(key="data_upload_0").set_value(("rollout.csv", small_csv(), "text/csv")).run()
    at.button(key="data_load_button").click().run()
    no_problem(at)
    at.switch_page(PAGES["data"]).run()
    assert [s.value for s in at.success] == ["Loaded as dataset rollout."]
    other = small_csv(("A", "B", "C", "D"))
    at.file_uploader(key="data_upload_1").set_value(("other.csv", other, "text/csv")).run()
    no_problem(at)
    assert not [s.value for s in at.success if "Loaded as dataset" in s.value]
    assert at.button(key="data_load_button")  # the review of the new file


def test_after_a_load_the_next_weeks_file_goes_to_the_new_dataset(own_db: Path) -> None:
    at = app().run()
    at.switch_page(PAGES["data"]).run()
    at.file_uploader(key="data_upload_0").set_value(("rollout.csv", small_csv(), "text/csv")).run()
    at.button(key="data_load_button").click().run()
    no_problem(at)
    new = next(d for d in open_store(own_db).datasets() if d.name == "rollout")
    at.switch_page(PAGES["data"]).run()
    assert at.selectbox(key="data_append_target").value == new.id
    assert at.selectbox(key="data_manage_dataset").value == new.id
