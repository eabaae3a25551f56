"""Home's answer made during the staged pass (ui/handover.py): once Load commits, the analysis
made on the staged tables must be exactly the analysis of the stored dataset (every field of
its results, the dataset's final id and name included), on every CSV shape of the export corpus
and on rollouts in waves whose benefit ramps up, with rows set aside and gaps; and it is handed
over only for the content, catalog and filters it was made of."""

from __future__ import annotations

import json
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from exports import make_corpus
from rollouts import Rollout, RowPlan, simulate_rows
from streamlit.testing.v1 import AppTest
from test_pages import PAGES, ROOT, small_csv

from analytics.core.catalog import read_catalog
from analytics.decide.analysis import analyse
from analytics.decide.results import Results
from analytics.ingest.load import Source, detect, reusable_plan
from analytics.ingest.staged import StagedLoad
from analytics.present.ui_state import catalog_to_json, filters_to_json
from analytics.store.database import Store, open_store
from ui import handover
from ui.handover import default_inputs


def _doc(results: Results) -> str:
    doc = results.to_dict()
    doc["meta"].pop("created_at")
    return json.dumps(doc, sort_keys=True, default=str)


def _load_ahead(store: Store, path: Path, name: str) -> tuple[StagedLoad, int]:
    sources = [Source.from_path(path)]
    plan = reusable_plan(detect(sources), None)
    assert plan is not None, path.name
    stage = StagedLoad(store, sources, plan, ahead=handover.home_ahead(plan.catalog))
    result = stage.commit(name=name, strict=False)
    assert result is not None and not result.already_loaded, path.name
    return stage, result.dataset_id


def _asked(store: Store, db: str, dataset_id: int) -> tuple[tuple[str, ...], Results]:
    """The keys Home asks the cache with after the load, and the analysis it would compute."""
    info = store.dataset(dataset_id)
    catalog, filters = default_inputs(read_catalog(store.cursor(), dataset_id))
    keys = (db, dataset_id, info.sha256, info.name, catalog_to_json(catalog))
    fresh = analyse(store, dataset_id, catalog, filters, with_counterfactual=False)
    return (*keys, filters_to_json(filters)), fresh


def answer_of(results: Results) -> Results:
    """The analysis less its why sections: Home's answer."""
    return replace(
        results, gaps=(), representativeness=(), load_curve=None, data_quality=(), adoption=None
    )


def _ramped_rollout(path: Path) -> Path:
    """Three waves whose benefit ramps up over six months, a site that never goes live, one
    that opens with the AI, site shocks, rows set aside (unknown phase) and days without rows;
    UK dates, as a spreadsheet exports them."""
    design = Rollout(
        starts=(6, 6, 10, 10, 14, None, 0), periods=20, shock_sd=1.5, ar=0.5, opens_live=(6,),
        effect=lambda h, g: -4.0 * min(1.0, (h + 1) / 6),
    )  # fmt: skip
    volume = np.full((7, 20), 30)
    plan = RowPlan(volume=volume, rejected=(0, 3, 0, 0, 0, 2, 0), gap_days=(0, 0, 4, 0, 0, 0, 0))
    rows = simulate_rows(design, plan, np.random.default_rng(7))
    rows["date"] = [d.strftime("%d/%m/%Y") for d in rows["date"]]
    rows.to_csv(path, index=False)
    return path


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    corpus = [p for _, p in make_corpus(tmp_path) if not p.name.endswith(".xlsx")]
    return [*corpus, _ramped_rollout(tmp_path / "ramped_waves.csv")]


def test_the_analysis_made_during_the_pass_is_the_stored_datasets(
    files: list[Path], tmp_path: Path
) -> None:
    handed = 0
    for k, path in enumerate(files):
        db = str(tmp_path / f"h{k}.duckdb")
        store = Store(db)
        if reusable_plan(detect([Source.from_path(path)]), None) is None:
            continue
        stage, dataset_id = _load_ahead(store, path, f"file {k}")
        handover.offer(db, dataset_id, stage.ahead_result)
        keys, fresh = _asked(store, db, dataset_id)
        found = handover.take(keys)
        assert found is not None, path.name  # made of what Home asks for
        assert found.meta["dataset_id"] == dataset_id and found.meta["dataset_name"] == f"file {k}"
        assert len(found.verdicts) == len(fresh.verdicts)
        assert _doc(found) == _doc(answer_of(fresh)), path.name  # Home's: no why sections
        whole = handover.take(keys, why=True)  # the pages that show them: completed
        assert whole is not None and _doc(whole) == _doc(fresh), path.name
        assert handover.take(keys, why=True) is None  # handed over once
        handed += 1
    assert handed >= 9


def test_it_is_handed_only_for_the_content_catalog_and_filters_it_was_made_of(
    files: list[Path], tmp_path: Path
) -> None:
    db = str(tmp_path / "h.duckdb")
    store = Store(db)
    stage, dataset_id = _load_ahead(store, files[-1], "waves")
    handover.offer(db, dataset_id, stage.ahead_result)
    (db_, id_, sha, name, catalog_json, filters_json), _ = _asked(store, db, dataset_id)
    weekly = filters_json.replace('"month"', '"week"')
    assert weekly != filters_json
    assert handover.take((db_, id_, sha, name, catalog_json, weekly)) is None
    assert handover.take((db_, id_, "0" * 64, name, catalog_json, filters_json)) is None
    other = catalog_to_json(default_inputs(read_catalog(store.cursor(), id_))[0]).replace(
        '"min_effect": 0.0', '"min_effect": 0.5'
    )
    if other != catalog_json:
        assert handover.take((db_, id_, sha, name, other, filters_json)) is None
    assert handover.take((db_, id_ + 1, sha, name, catalog_json, filters_json)) is None
    assert handover.take((db_, id_, sha, name, catalog_json, filters_json)) is not None


def test_a_failed_analysis_ahead_leaves_the_load_and_the_usual_analysis(
    files: list[Path], tmp_path: Path
) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("no")

    db = str(tmp_path / "h.duckdb")
    store = Store(db)
    sources = [Source.from_path(files[-1])]
    plan = reusable_plan(detect(sources), None)
    assert plan is not None
    stage = StagedLoad(store, sources, plan, ahead=broken)  # type: ignore[arg-type]
    result = stage.commit(name="w", strict=False)
    assert result is not None and store.dataset(result.dataset_id).name == "w"
    assert isinstance(stage.ahead_result.exception(), RuntimeError)
    handover.offer(db, result.dataset_id, stage.ahead_result)
    keys, _ = _asked(store, db, result.dataset_id)
    assert handover.take(keys) is None
    failed: Future[object] = Future()
    failed.set_result(None)  # a pass that failed computes nothing ahead
    handover.offer(db, result.dataset_id, failed)
    assert handover.take(keys) is None


def test_after_load_home_shows_the_analysis_made_during_the_pass(own_db, monkeypatch) -> None:
    from ui import cached

    calls: list[tuple[int, bool]] = []
    real, real_answer = cached.analyse, cached.answer_first

    def counted(store, dataset_id, *args, **kwargs):
        calls.append((dataset_id, kwargs.get("with_counterfactual", True)))
        return real(store, dataset_id, *args, **kwargs)

    def counted_answer(stored, *args, **kwargs):
        calls.append((stored.info.id, kwargs.get("with_counterfactual", True)))
        return real_answer(stored, *args, **kwargs)

    monkeypatch.setattr(cached, "analyse", counted)
    monkeypatch.setattr(cached, "answer_first", counted_answer)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page(PAGES["data"]).run()
    at.file_uploader(key="data_upload_0").set_value(("rollout.csv", small_csv(), "text/csv")).run()
    at.button(key="data_load_button").click().run()
    assert not at.exception, [e.message for e in at.exception]
    new = open_store(own_db).datasets()[0]
    assert at.title[0].value == "Does the pilot's evidence justify scaling?"
    assert [c.value for c in at.caption if c.value.startswith(f"Dataset {new.name}, one of")]
    assert (new.id, False) not in calls  # Home's answer was made during the pass


def test_homes_answer_is_completed_for_the_pages_that_show_why_not_made_again(
    own_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Home asks for the answer alone; a page that shows the why sections then gets the same
    analysis completed (the why sections added to the same fits), never analysed again."""
    from ui import cached

    store = cached.store()  # the bundled sample, as the first session finds it
    cached.results.clear()
    dataset_id = store.datasets()[0].id
    keys, fresh = _asked(store, str(own_db), dataset_id)
    again: list[int] = []
    monkeypatch.setattr(cached, "analyse", lambda *a, **k: again.append(1))
    answer = cached.results(*keys, False, False)
    whole = cached.results(*keys, False, True)
    assert again == []
    assert answer.verdicts and not answer.gaps and answer.load_curve is None
    assert whole.gaps and whole.load_curve is not None and whole.data_quality
    assert _doc(answer) == _doc(answer_of(fresh))
    assert _doc(whole) == _doc(fresh)
    cached.results.clear()
