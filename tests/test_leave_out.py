"""A phase value left out on purpose is left out: its rows are set aside under their own
reason (not loaded as the phase the words suggest, which the first Chromium try of a new user
found), the same from load_files, from the staged pass and from the Data page."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analytics.core.types import LEAVE_OUT
from analytics.ingest.load import Source, detect, load_files, reusable_plan
from analytics.ingest.report import LEFT_OUT
from analytics.ingest.staged import StagedLoad
from analytics.store.database import Store
from ui.load_panel import phase_choices

STAGES = {"Before AI": 150, "Pilot": 50, "Rolled out": 100}


def _export() -> bytes:
    """A deployment-stage column in a business's words, three sites, dated rows."""
    rows = []
    i = 0
    for stage, n in STAGES.items():
        for _ in range(n):
            rows.append(
                (stage, f"S{i % 3}", f"2024-{1 + i // 28 % 12:02d}-{1 + i % 28:02d}", 10 + i % 7)
            )
            i += 1
    frame = pd.DataFrame(rows, columns=["Deployment stage", "Site", "Date", "Handle time (min)"])
    return frame.to_csv(index=False).encode()


def _phases(store: Store, dataset_id: int) -> dict[str, int]:
    rows = (
        store.cursor()
        .execute(f"SELECT phase, count(*) FROM obs_{dataset_id} GROUP BY 1")
        .fetchall()
    )  # noqa: S608
    return dict(rows)


def test_a_value_left_out_is_set_aside_under_its_own_reason() -> None:
    store = Store(":memory:")
    source = Source.from_bytes("stages.csv", _export())
    found = load_files(store, [source], phase_map={"Pilot": LEAVE_OUT})
    assert _phases(store, found.dataset_id) == {"baseline": 150, "production": 100}
    report = found.report.to_dict()
    assert (report["rows_read"], report["rows_loaded"], report["rows_rejected"]) == (300, 250, 50)
    assert report["rejected"][LEFT_OUT]["count"] == 50
    assert report["rejected"][LEFT_OUT]["lines"] == [152, 153, 154, 155, 156]  # header is line 1
    shown = detect([source], {}, {"Pilot": LEAVE_OUT})
    assert shown.phase_values == {
        "Before AI": "baseline",
        "Rolled out": "production",
        "Pilot": None,
    }
    assert shown.phase_counts == STAGES


def test_the_staged_pass_leaves_it_out_too(tmp_path: Path) -> None:
    path = tmp_path / "stages.csv"
    path.write_bytes(_export())
    sources = [Source.from_path(path)]
    plan = reusable_plan(detect(sources, {}, {"Pilot": LEAVE_OUT}), None)
    assert plan is not None
    store = Store(tmp_path / "s.duckdb")
    found = StagedLoad(store, sources, plan).commit(name=None, strict=False)
    assert found is not None and _phases(store, found.dataset_id) == {
        "baseline": 150,
        "production": 100,
    }


@pytest.mark.parametrize(
    ("chosen", "before", "expected"),
    [
        # as detected: the map the load would make anyway
        ({"Before AI": "baseline", "Pilot": "pilot", "x": "(leave out)"}, {},
         {"Before AI": "baseline", "Pilot": "pilot"}),
        # Pilot left out in the table: it must be said, or the words would load it as pilot
        ({"Before AI": "baseline", "Pilot": "(leave out)", "x": "(leave out)"}, {},
         {"Before AI": "baseline", "Pilot": LEAVE_OUT}),
        # after "Check the corrected mapping" the detection shows Pilot unplaced: still left out
        ({"Before AI": "baseline", "Pilot": "(leave out)"}, {"Pilot": LEAVE_OUT},
         {"Before AI": "baseline", "Pilot": LEAVE_OUT}),
        # an unknown value placed by hand
        ({"x": "production"}, {}, {"x": "production"}),
    ],
)  # fmt: skip
def test_the_table_of_choices_becomes_the_phase_map(chosen, before, expected) -> None:
    detected = {"Before AI": "baseline", "Pilot": None if before else "pilot", "x": None}
    assert phase_choices(chosen, detected, before) == expected


def test_the_data_page_loads_without_the_values_left_out(own_db: Path) -> None:
    from test_pages import PAGES, app, no_problem

    from analytics.store.database import open_store

    at = app().run()
    at.switch_page(PAGES["data"]).run()
    at.file_uploader(key="data_upload_0").set_value(("stages.csv", _export(), "text/csv")).run()
    no_problem(at)
    table = at.dataframe[1].value  # the phase values, as detected
    assert dict(zip(table["Value in the file"], table["Phase"], strict=True)) == {
        "Before AI": "baseline",
        "Rolled out": "production",
        "Pilot": "pilot",
    }
    editor = f"data_phases_editor_{abs(hash(at.session_state['data_detected'][0]))}"
    row = list(table["Value in the file"]).index("Pilot")
    at.session_state[editor] = {
        "edited_rows": {row: {"Phase": "(leave out)"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert "You changed the mapping" in " ".join(c.value for c in at.caption)
    at.text_input(key="data_load_name").set_value("Stages")
    at.button(key="data_load_button").click().run()
    no_problem(at)
    stored = open_store(own_db)
    dataset = next(d for d in stored.datasets() if d.name == "Stages")
    assert _phases(stored, dataset.id) == {"baseline": 150, "production": 100}
    assert any("50 rows set aside: phase value left out as chosen" in w.value for w in at.warning)
