"""The load's pass run ahead while the columns are reviewed (analytics/ingest/staged.py): what
Load then stores must be exactly what the same load without it stores, on every CSV shape of the export
corpus; nothing of it may be seen or kept before Load; and whenever it cannot be trusted (the
store changed, the pass failed) the commit gives way to a plain load."""

from __future__ import annotations

from pathlib import Path

import pytest
from exports import Shape, make_corpus
from test_detected_plan import _stored

from analytics.core.errors import ScalegateError
from analytics.ingest.load import Source, detect, load_files, reusable_plan
from analytics.ingest.staged import StagedLoad
from analytics.store.database import Store


def _tables(store: Store) -> list[str]:
    rows = store.cursor().execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()
    return [r[0] for r in rows]


def _staged(store: Store, path: Path) -> StagedLoad:
    sources = [Source.from_path(path)]
    plan = reusable_plan(detect(sources), None)
    assert plan is not None
    return StagedLoad(store, sources, plan)


@pytest.fixture
def corpus(tmp_path: Path) -> list[tuple[Shape, Path]]:
    return [(s, p) for s, p in make_corpus(tmp_path) if not p.name.endswith(".xlsx")]


def test_a_staged_load_stores_what_a_plain_load_stores(
    corpus: list[tuple[Shape, Path]], tmp_path: Path
) -> None:
    staged = 0
    for shape, path in corpus:
        sources = [Source.from_path(path)]
        detection = detect(sources)
        plan = reusable_plan(detection, None)
        if plan is None:
            continue
        staged += 1
        phases = {v: p for v, p in detection.phase_values.items() if p is not None}
        plain, ahead = (
            Store(tmp_path / f"{shape.name}_plain.duckdb"),
            Store(tmp_path / f"{shape.name}_ahead.duckdb"),
        )
        a = load_files(plain, sources, phase_map=phases, name="x", planned=plan)
        b = StagedLoad(ahead, sources, plan).commit(name="x", strict=False)
        assert b is not None, shape.name
        assert (b.dataset_id, b.name, b.already_loaded) == (a.dataset_id, "x", False)
        assert _stored(ahead, b.dataset_id) == _stored(plain, a.dataset_id), shape.name
        assert b.report.to_dict() == a.report.to_dict(), shape.name
        for sql in (
            "SELECT id, name, source, sha256, rows, rejected, obs_table FROM datasets",
            "SELECT * FROM metrics ORDER BY ALL",
            "SELECT * EXCLUDE (loaded_at) FROM loads ORDER BY ALL",
        ):
            assert ahead.cursor().execute(sql).fetchall() == plain.cursor().execute(sql).fetchall()
        assert _tables(ahead) == _tables(plain), shape.name  # no staging table left behind
    assert staged >= 8


def test_nothing_is_seen_or_kept_before_load(
    corpus: list[tuple[Shape, Path]], tmp_path: Path
) -> None:
    db = tmp_path / "s.duckdb"
    store = Store(db)
    before = _tables(store)
    stage = _staged(store, corpus[0][1])
    stage.wait()  # the pass is over, its tables written but not committed
    assert _tables(store) == before
    assert store.datasets() == []
    stage.discard()
    assert stage.commit(name=None, strict=False) is None  # a discarded pass is not stored
    store.close()
    again = Store(db)
    assert _tables(again) == before and again.datasets() == []


def test_a_pass_discarded_while_running_stores_nothing(tmp_path: Path) -> None:
    from bench.staggered import write

    path = tmp_path / "big.csv"
    write(path, rows=200_000)
    store = Store(tmp_path / "s.duckdb")
    before = _tables(store)
    stage = _staged(store, path)
    stage.discard()  # at once: the pass is interrupted (or had not begun)
    stage.wait()
    assert _tables(store) == before and store.datasets() == []


def test_a_store_changed_meanwhile_gives_way_to_a_plain_load(
    corpus: list[tuple[Shape, Path]], tmp_path: Path
) -> None:
    store = Store(tmp_path / "s.duckdb")
    (_, first), (_, second) = corpus[0], corpus[1]
    stage = _staged(store, first)
    stage.wait()
    other = load_files(store, [Source.from_path(second)])  # another session loads meanwhile
    assert stage.commit(name=None, strict=False) is None
    assert [d.id for d in store.datasets()] == [other.dataset_id]
    staging = [t for t in _tables(store) if t.startswith(("obs_", "cells_"))]
    assert staging == [f"cells_{other.dataset_id}", f"obs_{other.dataset_id}"]


def test_the_same_bytes_again_are_named_not_stored_twice(
    corpus: list[tuple[Shape, Path]], tmp_path: Path
) -> None:
    store = Store(tmp_path / "s.duckdb")
    path = corpus[0][1]
    first = load_files(store, [Source.from_path(path)])
    before = _tables(store)
    twin = _staged(store, path).commit(name="again", strict=False)
    assert twin is not None and twin.already_loaded
    assert (twin.dataset_id, twin.name) == (first.dataset_id, first.name)
    assert _tables(store) == before and len(store.datasets()) == 1


def test_strict_refuses_as_a_plain_load_does_and_stores_nothing(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    lines = ["phase,site,date,handle_minutes"]
    lines += [
        f"{'pilot' if i % 2 else 'baseline'},A,2024-01-{1 + i % 28:02d},{5 + i % 7}"
        for i in range(200)
    ]
    lines.insert(50, "pilot,A,2024-01-05,7,surplus")
    path.write_text("\n".join(lines) + "\n")
    plain = Store(tmp_path / "plain.duckdb")
    with pytest.raises(ScalegateError) as expected:
        load_files(plain, [Source.from_path(path)], strict=True)
    store = Store(tmp_path / "s.duckdb")
    before = _tables(store)
    with pytest.raises(ScalegateError) as refused:
        _staged(store, path).commit(name=None, strict=True)
    assert str(refused.value) == str(expected.value)
    assert _tables(store) == before and store.datasets() == []


def test_a_pass_that_failed_gives_way_to_a_plain_load(
    corpus: list[tuple[Shape, Path]], tmp_path: Path
) -> None:
    path = tmp_path / "moving.csv"
    path.write_bytes(corpus[0][1].read_bytes())
    sources = [Source.from_path(path)]
    plan = reusable_plan(detect(sources), None)
    assert plan is not None
    path.unlink()  # the file went away after the detection: the pass fails
    store = Store(tmp_path / "s.duckdb")
    stage = StagedLoad(store, sources, plan)
    assert stage.commit(name=None, strict=False) is None
    assert store.datasets() == [] and not [t for t in _tables(store) if t.startswith("obs_")]


def test_the_data_page_commits_the_pass_it_ran_while_the_columns_were_shown(own_db: Path) -> None:
    from test_pages import PAGES, app, no_problem, small_csv

    from analytics.store.database import open_store

    at = app().run()
    at.switch_page(PAGES["data"]).run()
    before = [d.name for d in open_store(own_db).datasets()]
    at.file_uploader(key="data_upload_0").set_value(("rollout.csv", small_csv(), "text/csv")).run()
    no_problem(at)
    _, stage = at.session_state["data_staged"]  # started with the detection shown
    stage.wait()
    assert [d.name for d in open_store(own_db).datasets()] == before  # nothing stored yet
    assert at.text_input(key="data_load_name").placeholder == "rollout"  # the name it would get
    at.text_input(key="data_load_name").set_value("Four sites")
    at.button(key="data_load_button").click().run()
    no_problem(at)
    assert "data_staged" not in at.session_state
    assert stage.commit(name=None, strict=False) is None  # committed once, by the page
    stored = open_store(own_db)
    assert [d.name for d in stored.datasets()] == ["Four sites", *before]
    assert not [t for t in _tables(stored) if t.startswith(("obs_2000", "cells_2000"))]


def test_a_finished_pass_is_committed_by_loads_click_not_by_the_run_after_it(
    own_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Load's callback commits a pass that is over before the page runs again (a callback makes
    no Streamlit call, so a click on another page right after Load cannot cut it short); the
    page's run then only lands on Home. A pass still running loads in the run, with progress."""
    from test_pages import PAGES, app, no_problem, small_csv

    from analytics.store.database import open_store
    from ui import load_panel

    def no_run_load(*_: object, **__: object) -> None:
        raise AssertionError("the click had committed it")

    at = app().run()
    at.switch_page(PAGES["data"]).run()
    at.file_uploader(key="data_upload_0").set_value(("rollout.csv", small_csv(), "text/csv")).run()
    _, stage = at.session_state["data_staged"]
    stage.wait()
    real = load_panel._load_with_progress
    monkeypatch.setattr(load_panel, "_load_with_progress", no_run_load)
    at.text_input(key="data_load_name").set_value("By the click")
    at.button(key="data_load_button").click().run()
    no_problem(at)
    assert at.title[0].value == "Does the pilot's evidence justify scaling?"
    assert open_store(own_db).datasets()[0].name == "By the click"
    assert at.session_state["f_dataset"] == open_store(own_db).datasets()[0].id
    monkeypatch.setattr(load_panel, "_load_with_progress", real)  # (undo() would drop own_db)

    # The same file again: already stored, said on the Data page, nothing stored twice.
    at.switch_page(PAGES["data"]).run()
    upload = at.file_uploader(key="data_upload_1")
    upload.set_value(("rollout.csv", small_csv(), "text/csv")).run()
    at.session_state["data_staged"][1].wait()
    at.button(key="data_load_button").click().run()
    no_problem(at)
    assert at.title[0].value == "Data"
    assert [i.value for i in at.info if "already loaded as dataset By the click" in i.value]
    assert [d.name for d in open_store(own_db).datasets()].count("By the click") == 1


def test_a_strict_refusal_at_loads_click_is_said_and_stores_nothing(own_db: Path) -> None:
    from test_pages import PAGES, app, small_csv

    from analytics.store.database import open_store

    text = small_csv().decode() + "2024-07-01,tbd,North,phone,1,2\n"  # a row to set aside
    at = app().run()
    at.switch_page(PAGES["data"]).run()
    at.file_uploader(key="data_upload_0").set_value(("strict.csv", text.encode(), "text/csv")).run()
    at.session_state["data_staged"][1].wait()
    before = len(open_store(own_db).datasets())
    at.checkbox(key="data_load_strict").check()
    at.button(key="data_load_button").click().run()
    assert not at.exception
    assert [e.value for e in at.error if "load without strict mode" in e.value]
    assert len(open_store(own_db).datasets()) == before


def test_files_over_the_size_cap_are_loaded_only_when_load_is_pressed(
    own_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_pages import PAGES, app, no_problem, small_csv

    from analytics.store.database import open_store
    from ui import load_panel

    monkeypatch.setattr(load_panel, "STAGE_MAX_BYTES", 1000)  # the small rollout is larger
    at = app().run()
    at.switch_page(PAGES["data"]).run()
    at.file_uploader(key="data_upload_0").set_value(("rollout.csv", small_csv(), "text/csv")).run()
    no_problem(at)
    assert "data_staged" not in at.session_state
    at.text_input(key="data_load_name").set_value("Four sites")
    at.button(key="data_load_button").click().run()
    no_problem(at)
    assert open_store(own_db).datasets()[0].name == "Four sites"


def test_a_click_elsewhere_during_a_load_waits_until_it_is_stored() -> None:
    """Streamlit raises its rerun at the progress bar's next update when the person clicks
    another page: the load keeps going, and the click is honoured once it is stored."""
    from streamlit.runtime.scriptrunner_utils.exceptions import RerunException

    from analytics.ingest.progress import Progress
    from ui.load_panel import HeldBack

    class Bar:
        def __init__(self) -> None:
            self.shown: list[float] = []

        def progress(self, fraction: float, text: str) -> None:
            if len(self.shown) == 2:
                raise click
            self.shown.append(fraction)

    click = RerunException(None)
    bar = Bar()
    held = HeldBack(bar)
    for k in range(5):
        held(Progress("pass", k / 5, None, None))
    assert bar.shown == [0.0, 0.2] and held.request is click  # kept, not raised mid-load
    held.quietly(bar.progress, 1.0, text="done")  # later calls are skipped
    with pytest.raises(RerunException) as raised:
        held.honour()
    assert raised.value is click
    HeldBack(Bar()).honour()  # nothing held: nothing raised
