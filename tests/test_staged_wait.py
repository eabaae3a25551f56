"""Load pressed while the pass run ahead is still going (analytics/ingest/staged.py,
ui/load_panel.py): how long it has left is estimated from the pace of its read; a pass about to
end is waited for by the click itself (the answer follows, no progress bar flashes by); a longer
one loads in the page's run, whose progress bar says the rows read so far."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import pytest

from analytics.ingest import staged as staged_module
from analytics.ingest.load import Source, detect, reusable_plan
from analytics.ingest.progress import STAGES, Progress, csv_lines
from analytics.ingest.staged import AFTER_READ, StagedLoad
from analytics.store.database import Store


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """The staged pass waits at this gate before reading any row, until it is set."""
    opened = threading.Event()
    real = staged_module.checked_pass

    def held(*args: object, **kwargs: object) -> object:
        assert opened.wait(30), "the test never opened the gate"
        return real(*args, **kwargs)

    monkeypatch.setattr(staged_module, "checked_pass", held)
    return opened


def _csv(tmp_path: Path) -> Path:
    from test_pages import small_csv

    path = tmp_path / "rollout.csv"
    path.write_bytes(small_csv())
    return path


def _stage(store: Store, path: Path) -> StagedLoad:
    sources = [Source.from_path(path)]
    plan = reusable_plan(detect(sources), None)
    assert plan is not None
    return StagedLoad(store, sources, plan)


def test_eta_follows_the_pace_of_the_read(
    tmp_path: Path, gate: threading.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    stage = _stage(Store(tmp_path / "s.duckdb"), _csv(tmp_path))
    assert not stage.wait(0.05) and stage.eta() is None  # held before its read: too early
    share: list[float | None] = [0.25]
    monkeypatch.setattr(StagedLoad, "_read_share", lambda self: share[0])
    now = time.perf_counter()
    # A quarter read in 1 s: 4 s for the read, 30% of that after it, 1 s already gone.
    stage._read = (now - 1.0, None)
    assert stage.eta() == pytest.approx(4.0 * (1 + AFTER_READ) - 1.0, abs=0.05)
    share[0] = None  # DuckDB has no figure yet
    assert stage.eta() is None
    # The read took 2 s and ended just now: 0.6 s of checks, day cells and hash are left.
    share[0] = 1.0
    stage._read = (now - 2.0, now)
    assert stage.eta() == pytest.approx(2.0 * AFTER_READ, abs=0.05)
    stage._read = (now - 10.0, now - 8.0)  # slower than expected: nothing is promised left
    assert stage.eta() == 0.0
    gate.set()
    assert stage.wait(30) and stage.eta() == 0.0
    stage.discard()


def test_a_commit_that_waits_reports_the_rows_read(
    tmp_path: Path, gate: threading.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _csv(tmp_path)
    store = Store(tmp_path / "s.duckdb")
    stage = _stage(store, path)
    figures = itertools.count()  # DuckDB has a figure every other time (none between queries)
    monkeypatch.setattr(StagedLoad, "_read_share", lambda self: None if next(figures) % 2 else 0.5)
    shown: list[Progress] = []
    threading.Timer(1.2, gate.set).start()  # four or so reports of half the rows read
    result = stage.commit(name="Halfway", strict=False, progress=shown.append)
    assert result is not None and result.name == "Halfway"
    total = csv_lines([Source.from_path(path)])
    assert total == result.report.rows_read == len(path.read_bytes().splitlines()) - 1
    halfway = [p for p in shown if p.stage == "pass" and p.rows is not None]
    assert len(halfway) >= 3 and next(figures) >= 3  # a report without a figure among them
    low, high = STAGES["pass"]
    for p in halfway:
        assert (p.rows, p.total, p.fraction) == (total // 2, total, low + (high - low) / 2)
        assert (
            p.text()
            == f"Reading and cleaning every row: about {total // 2:,} of {total:,} rows read…"
        )
    assert shown[-1].stage == "save" and shown[-1].rows == total


def _click_load_while_the_pass_runs(
    monkeypatch: pytest.MonkeyPatch, gate: threading.Event, eta: float | None
) -> tuple[object, list[str]]:
    """The Data page with the pass held at the gate (opened 0.3 s after Load's click), its eta
    made `eta`; returns the app after the click and how the load went ('run' when the page's
    run loaded it, with progress)."""
    from test_pages import PAGES, app, small_csv

    from ui import load_panel

    how: list[str] = []
    real = load_panel._load_with_progress

    def in_the_run(*args: object, **kwargs: object) -> object:
        how.append("run")
        return real(*args, **kwargs)

    monkeypatch.setattr(load_panel, "_load_with_progress", in_the_run)
    monkeypatch.setattr(StagedLoad, "eta", lambda self: eta)
    at = app().run()
    at.switch_page(PAGES["data"]).run()
    at.file_uploader(key="data_upload_0").set_value(("rollout.csv", small_csv(), "text/csv")).run()
    assert not at.session_state["data_staged"][1].over()
    threading.Timer(0.3, gate.set).start()
    at.button(key="data_load_button").click().run(timeout=30)
    return at, how


@pytest.mark.parametrize("eta", [0.3, None])  # about to end; too early for DuckDB to say
def test_a_pass_about_to_end_is_waited_for_by_loads_click(
    own_db: Path, gate: threading.Event, monkeypatch: pytest.MonkeyPatch, eta: float | None
) -> None:
    from test_pages import no_problem

    from analytics.store.database import open_store

    at, how = _click_load_while_the_pass_runs(monkeypatch, gate, eta=eta)
    no_problem(at)
    assert how == []  # committed by the click: no progress bar, the answer next
    assert at.title[0].value == "Does the pilot's evidence justify scaling?"
    assert at.session_state["f_dataset"] == open_store(own_db).datasets()[0].id
    assert open_store(own_db).datasets()[0].name == "rollout"


def test_a_longer_pass_loads_in_the_run_with_its_progress(
    own_db: Path, gate: threading.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_pages import no_problem

    from analytics.store.database import open_store

    at, how = _click_load_while_the_pass_runs(monkeypatch, gate, eta=60.0)
    no_problem(at)
    assert how == ["run"]  # the click did not wait: the run showed the load's progress
    assert at.title[0].value == "Does the pilot's evidence justify scaling?"
    assert open_store(own_db).datasets()[0].name == "rollout"
    assert at.session_state["f_dataset"] == open_store(own_db).datasets()[0].id
