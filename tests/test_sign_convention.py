"""One sign convention: every effect table the app, the exports, the pack and the CLI produce has
an improvement (positive = better) and the raw change beside it, and on every row
Improvement = direction x Change."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analytics.cli.commands import load_sample_if_empty
from analytics.cli.report import verdict_table as cli_table
from analytics.core.catalog import read_catalog
from analytics.decide.analysis import analyse
from analytics.decide.decisions import changes_frame, compare_snapshot, record_decision
from analytics.present import export, pack
from analytics.present.ui_state import pilot_production_table, worst_slices
from analytics.store.database import Store
from ui.pages import PAGES

ROOT = Path(__file__).resolve().parent.parent
_PCT = re.compile(r"^([+-]?\d+(?:\.\d+)?)%$")


def _number(value: object) -> float | None:
    """A cell as a number: '+14.1%' -> 0.141, a float as itself; None for n/a."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return None if value != value else float(value)
    match = _PCT.match(str(value).strip())
    return float(match.group(1)) / 100 if match else None


def _pairs(columns: list[str]) -> Iterator[tuple[str, str]]:
    """(improvement column, change column) pairs: 'Improvement'/'Change', 'Pilot improvement'/
    'Pilot change', 'improvement'/'change', 'Improvement now'/'Change now'."""
    for column in columns:
        if re.search("improvement", column, re.I) and not re.search("interval|_ci", column, re.I):
            partner = re.sub("Improvement", "Change", re.sub("improvement", "change", column))
            if partner in columns:
                yield column, partner


def check(table: pd.DataFrame, name: str, direction: dict[str, int] | None = None) -> int:
    """Assert Improvement = direction x Change on every row; returns the rows checked."""
    columns = [str(c) for c in table.columns]
    pairs = list(_pairs(columns))
    assert pairs, f"{name}: no Improvement / Change columns in {columns}"
    better = next((c for c in columns if c.lower().replace("_", " ") == "better when"), None)
    assert better is not None or direction is not None, f"{name}: no direction"
    checked = 0
    for _, row in table.iterrows():
        sign = (1 if row[better] == "higher" else -1) if better else direction[row["metric"]]
        for improvement, change in pairs:
            i, c = _number(row[improvement]), _number(row[change])
            if i is None or c is None:
                assert i is None and c is None, (name, improvement, row.to_dict())
                continue
            assert i == pytest.approx(sign * c, abs=1e-12), (name, improvement, row.to_dict())
            checked += 1
    return checked


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    db = tmp_path_factory.mktemp("signs") / "scalegate.duckdb"
    store = Store(db)
    load_sample_if_empty(store)
    catalog = read_catalog(store.cursor(), 1)
    found = analyse(store, 1, catalog)
    record_decision(
        store, 1, decision="fix_first", owner="CFO", rationale="Sites first.", results=found
    )
    store.close()
    return db, found, catalog


def test_engine_tables_exports_and_pack(world) -> None:
    _, found, catalog = world
    assert check(pilot_production_table(found, catalog), "pilot vs production") >= 20
    for metric in (m.id for m in catalog.outcomes):
        assert check(worst_slices(found, catalog, metric), f"worst slices {metric}") == 5
    for name, table in export.tables(found).items():
        if name in ("effects", "verdicts", "site_verdicts"):
            assert check(table, f"export {name}") > 0  # rows without an interval are skipped
    verdicts = pack.verdict_table(found)
    assert check(pd.DataFrame(verdicts[1:], columns=verdicts[0]), "pack verdicts") == 10
    worst = pack.worst_slices(found, catalog)
    assert check(pd.DataFrame(worst[1:], columns=worst[0]), "pack worst") == 10
    snapshot_rows = changes_frame(compare_snapshot({"verdicts": []}, found))
    assert check(snapshot_rows, "decision changes") == 5


def test_results_json_improvement_fields(world) -> None:
    _, found, catalog = world
    doc = found.to_dict()
    assert doc["meta"]["sign_convention"].startswith("improvement = direction x change")
    for e in doc["effects"]:
        sign = catalog.get(e["metric"]).sign
        assert e["direction"] == sign
        if e["lift"] is not None:
            assert e["improvement"] == pytest.approx(sign * e["lift"])
            if None in e["lift_ci"]:  # no interval (a test that cannot give one): none either
                assert e["improvement_ci"] == [None, None]
            else:
                assert e["improvement_ci"] == pytest.approx(sorted(sign * x for x in e["lift_ci"]))
    for v in doc["verdicts"]:
        sign = catalog.get(v["metric"]).sign
        assert v["improvement"] == pytest.approx(sign * v["estimate"])
        assert v["pilot_improvement"] == pytest.approx(sign * v["pilot_estimate"])
    for s in doc["site_verdicts"]:
        if s["estimate"] is None:  # no estimate for this site: no improvement either
            assert s["improvement"] is None
        else:
            assert s["improvement"] == pytest.approx(catalog.get(s["metric"]).sign * s["estimate"])


def test_the_cli_table_prints_the_improvement_beside_the_change(world) -> None:
    _, found, catalog = world
    lines = cli_table(found).splitlines()
    assert "improvement" in lines[0] and "change" in lines[0]
    for v, line in zip(found.verdicts, lines[1:], strict=True):
        improvement, change = re.findall(r"[+-]\d+\.\d%", line)[:2]
        sign = catalog.get(v.metric).sign
        assert _number(improvement) == pytest.approx(sign * _number(change))


def test_every_effect_table_the_app_draws(world) -> None:
    db, found, _ = world
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SCALEGATE_DB", str(db))
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
        seen = {}
        for page in ("pilot", "sites", "decision"):
            at.switch_page(PAGES[page]).run()
            assert not at.exception, [e.message for e in at.exception]
            for frame in at.dataframe:
                table = frame.value
                if any(_pairs([str(c) for c in table.columns])):
                    seen[page] = seen.get(page, 0) + check(table, page)
    # Pilot vs Production's table, the worst slices, the decision's snapshot against today.
    assert set(seen) == {"pilot", "sites", "decision"}
    assert all(rows > 0 for rows in seen.values())
