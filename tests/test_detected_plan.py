"""A load pressed straight after the detection reuses the detection's plan (the Data page does
not plan the files twice): what is stored must be exactly what a load that plans again stores,
on every real-export shape of tests/exports.py, and the plan is reused only when it can be."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import duckdb
import pytest
from exports import Shape, make_corpus

from analytics.ingest.detect import make_plan
from analytics.ingest.load import Source, detect, load_files, reusable_plan
from analytics.store.database import Store


def _stored(store: Store, dataset_id: int) -> tuple[list[tuple], list[tuple], str]:
    """The dataset's rows and day cells, sorted, and its report."""
    con = store.cursor()
    rows = con.execute(f"SELECT * FROM obs_{dataset_id} ORDER BY ALL").fetchall()  # noqa: S608
    cells = con.execute(f"SELECT * FROM cells_{dataset_id} ORDER BY ALL").fetchall()  # noqa: S608
    (report,) = con.execute(
        "SELECT report FROM datasets WHERE id = $id", {"id": dataset_id}
    ).fetchone()
    return rows, cells, report


def _shapes(tmp_path: Path) -> list[tuple[Shape, Path]]:
    return [(s, p) for s, p in make_corpus(tmp_path) if not p.name.endswith(".xlsx")]


@pytest.fixture
def corpus(tmp_path: Path) -> list[tuple[Shape, Path]]:
    return _shapes(tmp_path)


def test_a_reused_plan_stores_what_planning_again_stores(
    corpus: list[tuple[Shape, Path]], tmp_path: Path
) -> None:
    reused = 0
    for shape, path in corpus:
        sources = [Source.from_path(path)]
        detection = detect(sources)
        planned = reusable_plan(detection, None)
        if planned is None:
            continue
        reused += 1
        phases = {v: p for v, p in detection.phase_values.items() if p is not None}
        again = Store(tmp_path / f"{shape.name}_again.duckdb")
        once = Store(tmp_path / f"{shape.name}_once.duckdb")
        a = load_files(again, sources, phase_map=phases)
        b = load_files(once, sources, phase_map=phases, planned=planned)
        assert _stored(again, a.dataset_id) == _stored(once, b.dataset_id), shape.name
        assert a.report.to_dict() == b.report.to_dict(), shape.name
    assert reused >= 8  # every CSV shape of the corpus (a title block, UK dates, volumes...)


def test_the_detection_plan_equals_the_loads_own_plan(corpus: list[tuple[Shape, Path]]) -> None:
    """The plan planning again would make with the phase values the page confirms: equal but
    for the phase words it knows (the detection's knows the whole vocabulary, the confirmed
    one only the values shown); the first test shows both map the file's rows alike."""
    for shape, path in corpus:
        detection = detect([Source.from_path(path)])
        if detection.plan is None or detection.plan.phase is None:
            continue
        phases = {v: p for v, p in detection.phase_values.items() if p is not None}
        con = duckdb.connect()
        again = make_plan(con, detection.plan.files, None, phases, None)
        assert replace(again, phase_keys={}) == replace(detection.plan, phase_keys={}), shape.name


def test_no_plan_is_reused_with_a_catalog_or_from_a_copy(corpus: list[tuple[Shape, Path]]) -> None:
    _, path = corpus[0]
    detection = detect([Source.from_path(path)])
    assert reusable_plan(detection, None) is detection.plan is not None
    assert reusable_plan(detection, "[metrics.x]\nlabel = 'X'\n") is None  # a catalog: plan again
    assert reusable_plan(None, None) is None
    uploaded = detect([Source.from_bytes(path.name, path.read_bytes())])  # read from a copy
    assert uploaded.plan is None
