"""The day cells computed on Spark (a local Spark Connect session, the same client code a
cluster gets) against the same rows loaded from CSV by DuckDB.

One local session is shared by the whole module (the JVM is heavy on a 2-core machine). The
rows come from the sample's generator (a staggered rollout at 12 plants), with phase values
spelled as exports spell them (POC, Pre-AI), some unknown and some blank, and with timestamps
late in the UTC day read by a session set to Tokyo time: the cells must still fall on UTC days.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from rollouts import weighted_rows
from weighted_panels import CATALOG as WEIGHTED_CATALOG
from weighted_panels import store_weighted

from analytics.__main__ import main
from analytics.core.catalog import read_catalog
from analytics.core.errors import ScalegateError
from analytics.ingest.load import Source, load_files
from analytics.store.database import Store, open_store
from analytics.store.migrations import SCHEMA_VERSION
from data.generate import generate

pytestmark = pytest.mark.spark

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "data" / "sample.catalog.toml"
ROWS = 100_000
KEYS = ["phase", "site", "channel", "date"]


def _rows() -> pd.DataFrame:
    """The generator's rows, with the phase spellings and gaps of a real export."""
    frame = generate(rows=ROWS, seed=11)
    rng = np.random.default_rng(11)
    pick = rng.random(len(frame))
    phase = frame["phase"].to_numpy(dtype=object)
    phase[(phase == "pilot") & (pick < 0.3)] = "POC"
    phase[(phase == "baseline") & (pick < 0.1)] = "Pre-AI"
    phase[pick > 0.999] = "test"  # unknown: set aside and counted
    phase[(pick > 0.998) & (pick <= 0.999)] = None  # blank: set aside and counted
    return frame.assign(phase=phase)


@pytest.fixture(scope="module")
def spark() -> Any:
    from analytics.ingest import spark_session

    session = spark_session.session(None)
    yield session
    spark_session.stop_all()


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same rows as a CSV (dates as text) and as Parquet (timestamps at 22:30 UTC)."""
    folder = tmp_path_factory.mktemp("lake")
    frame = _rows()
    csv = folder / "cases.csv"
    frame.to_csv(csv, index=False)
    stamps = pd.to_datetime(frame["date"]).dt.tz_localize("UTC") + pd.Timedelta("22h30min")
    table = pa.Table.from_pandas(frame.assign(date=stamps), preserve_index=False)
    parquet = folder / "cases"
    parquet.mkdir()
    half = len(frame) // 2  # a folder of two files, as a lake holds them
    pq.write_table(table.slice(0, half), parquet / "part-0.parquet")
    pq.write_table(table.slice(half), parquet / "part-1.parquet")
    return {"csv": csv, "parquet": parquet, "folder": folder}


@pytest.fixture(scope="module")
def loaded(spark: Any, lake: dict[str, Path]) -> dict[str, Any]:
    """One database holding the CSV load and the Spark load of the same rows."""
    db = lake["folder"] / "scalegate.duckdb"
    store = open_store(db)
    by_csv = load_files(
        store, [Source.from_path(lake["csv"])], catalog_text=CATALOG.read_text(encoding="utf-8")
    )
    spark.conf.set("spark.sql.session.timeZone", "Asia/Tokyo")
    try:
        code = main(
            ["load", str(lake["parquet"]), "--engine", "spark", "--db", str(db)]
            + ["--catalog", str(CATALOG), "--name", "Lake"]
        )
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
    assert code == 0
    lake_id = next(d.id for d in store.datasets() if d.name == "Lake")
    return {"db": db, "store": store, "csv": by_csv.dataset_id, "spark": lake_id}


def _cells(store: Store, dataset_id: int) -> pd.DataFrame:
    cells = store.cursor().execute(f"SELECT * FROM cells_{dataset_id}").df()
    return cells.sort_values(KEYS, kind="stable").reset_index(drop=True)


def test_the_catalog_given_is_named_with_the_dataset(loaded: dict[str, Any]) -> None:
    """`--catalog FILE` is applied and named, as a CSV load names it (it said keyword guesses)."""
    catalog = read_catalog(loaded["store"].cursor(), loaded["spark"])
    assert catalog.source == CATALOG.name
    assert catalog.get("error_rate").value_per_unit == 40.0


def test_spark_cells_equal_duckdb_cells(loaded: dict[str, Any]) -> None:
    store = loaded["store"]
    # The same days (UTC whatever the session's zone), counts and sums.
    _same_cells(_cells(store, loaded["spark"]), _cells(store, loaded["csv"]))
    csv_info = store.dataset(loaded["csv"])
    spark_info = store.dataset(loaded["spark"])
    assert (spark_info.rows, spark_info.rejected) == (csv_info.rows, csv_info.rejected)
    assert spark_info.rejected > 0 and spark_info.obs_table is None
    ours_report, theirs_report = store.report(loaded["spark"]), store.report(loaded["csv"])
    for key in ("phases", "unknown_phases", "rows_loaded", "rows_rejected", "metrics"):
        assert ours_report[key] == theirs_report[key], key
    for metric, missing in theirs_report["missing_values"].items():
        assert ours_report["missing_values"][metric]["total"] == missing["total"], metric


def _results(db: Path, dataset_id: int, out: Path) -> dict[str, Any]:
    assert main(["report", "--db", str(db), "--dataset", str(dataset_id), "--out", str(out)]) == 0
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


def _close(a: Any, b: Any, path: str) -> None:
    """Equal JSON values, numbers to 1e-6 relative."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            _close(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9), (path, a, b)
    else:
        assert a == b, (path, a, b)


def test_the_same_verdicts_and_effects_as_the_csv(loaded: dict[str, Any], tmp_path: Path) -> None:
    ours = _results(loaded["db"], loaded["spark"], tmp_path / "spark")
    theirs = _results(loaded["db"], loaded["csv"], tmp_path / "csv")
    assert [v["verdict"] for v in ours["verdicts"]] == [v["verdict"] for v in theirs["verdicts"]]
    assert {v["verdict"] for v in ours["verdicts"]} >= {"scale", "fix_first"}
    for key in ("verdicts", "effects", "site_verdicts", "retention", "dataset"):
        _close(ours[key], theirs[key], key)
    # A second analysis of the Spark dataset says the same (nothing is read from rows).
    _close(
        _results(loaded["db"], loaded["spark"], tmp_path / "again")["verdicts"],
        ours["verdicts"],
        "again",
    )


def test_the_pages_render_on_the_spark_dataset(
    loaded: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    from ui.pages import PAGES

    monkeypatch.setenv("SCALEGATE_DB", str(loaded["db"]))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert at.sidebar.selectbox(key="f_dataset").value == loaded["spark"]  # the newest
    for key in ("home", "scorecard", "pilot", "sites", "baseline", "decision", "data"):
        at.switch_page(PAGES[key]).run()
        assert not at.exception, (key, [e.message for e in at.exception])
        assert not at.error, (key, [e.value for e in at.error])
    at.switch_page(PAGES["home"]).run()
    status = {m.label: m.value for m in at.metric}
    assert status["Rows"] == f"{open_store(loaded['db']).dataset(loaded['spark']).rows:,}"


def test_the_long_view_deleting_and_appending(loaded: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "copy.duckdb"
    shutil.copyfile(loaded["db"], path)
    store = Store(path)
    cur = store.cursor()
    count = "SELECT count(*) FROM telemetry WHERE dataset_id = $id"
    assert cur.execute(count, {"id": loaded["spark"]}).fetchone() == (0,)  # no local rows
    csv_values = cur.execute(count, {"id": loaded["csv"]}).fetchone()[0]
    cells = _cells(store, loaded["csv"])
    assert csv_values == sum(int(cells[c].sum()) for c in cells if c.startswith("n:"))
    with pytest.raises(ScalegateError, match="computed on Spark and its rows stay there"):
        store.require_rows(loaded["spark"], "append to")
    store.require_rows(loaded["csv"], "append to")  # a local dataset has its rows
    store.delete(loaded["spark"])
    tables = {r[0] for r in cur.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert f"cells_{loaded['spark']}" not in tables
    assert cur.execute("SELECT count(*) FROM dataset_sources").fetchone() == (0,)
    assert cur.execute(count, {"id": loaded["csv"]}).fetchone() == (csv_values,)
    store.close()


def test_an_upgrade_keeps_the_spark_cells(loaded: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    shutil.copyfile(loaded["db"], path)
    store = Store(path)
    before = _cells(store, loaded["spark"])
    with store.transaction() as cur:  # as if every step since the first had to run again
        cur.execute("UPDATE schema_info SET version = 1")
    store.close()
    reopened = Store(path)
    cur = reopened.cursor()
    assert cur.execute("SELECT max(version) FROM schema_info").fetchone() == (SCHEMA_VERSION,)
    pd.testing.assert_frame_equal(_cells(reopened, loaded["spark"]), before)
    assert reopened.dataset(loaded["spark"]).obs_table is None
    reopened.close()


def test_the_same_source_again_changes_nothing(
    loaded: dict[str, Any], lake: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    before = len(open_store(loaded["db"]).datasets())
    code = main(["load", str(lake["parquet"]), "--engine", "spark", "--db", str(loaded["db"])])
    assert code == 0
    assert "already loaded as dataset Lake" in capsys.readouterr().out
    assert len(open_store(loaded["db"]).datasets()) == before


def _same_cells(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    assert list(ours.columns) == list(theirs.columns)
    assert ours[KEYS].equals(theirs[KEYS])
    for column in ours.columns[4:]:
        a, b = ours[column].to_numpy(float), theirs[column].to_numpy(float)
        if column == "rows" or column.startswith("n:"):
            np.testing.assert_array_equal(a, b, err_msg=column)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9, err_msg=column)


def test_a_weighted_source_gives_the_cells_of_the_local_load(spark: Any, tmp_path: Path) -> None:
    """Rows that each summarise `weight` contacts: Spark's two-pass sums equal those DuckDB
    stores for the same rows in an observation table with its weight column, and the
    analyses agree (weighted: the volumes are reported)."""
    from analytics.cli.report import effective_catalog
    from analytics.decide.analysis import analyse

    rows = weighted_rows()
    rows.loc[5, "weight"] = 0.0  # a row of no volume counts in no sum
    local, local_id = store_weighted(rows)
    pq.write_table(pa.Table.from_pandas(rows, preserve_index=False), tmp_path / "w.parquet")
    (tmp_path / "w.toml").write_text(WEIGHTED_CATALOG, encoding="utf-8")
    db = tmp_path / "w.duckdb"
    code = main(
        ["load", str(tmp_path / "w.parquet"), "--engine", "spark", "--db", str(db)]
        + ["--catalog", str(tmp_path / "w.toml")]
    )
    assert code == 0
    store = open_store(db)
    (info,) = store.datasets()
    _same_cells(_cells(store, info.id), _cells(local, local_id))
    ours = analyse(store, info.id, effective_catalog(store, info.id)).to_dict()
    theirs = analyse(local, local_id, effective_catalog(local, local_id)).to_dict()
    assert ours["dataset"]["volume"] == pytest.approx(rows["weight"].sum())
    for key in ("dataset", "verdicts", "effects"):
        _close(ours[key], theirs[key], key)


def test_a_table_of_the_catalog_loads_like_its_files(
    spark: Any, lake: dict[str, Path], loaded: dict[str, Any], tmp_path: Path
) -> None:
    """`--table NAME` reads a table (here a view over the same Parquet folder): the same cells,
    and the source recorded as a table."""
    spark.read.parquet(str(lake["parquet"])).createOrReplaceTempView("lake_cases")
    db = tmp_path / "table.duckdb"
    code = main(
        ["load", "--table", "lake_cases", "--engine", "spark", "--db", str(db)]
        + ["--catalog", str(CATALOG)]
    )
    assert code == 0
    store = open_store(db)
    (info,) = store.datasets()
    _same_cells(_cells(store, info.id), _cells(loaded["store"], loaded["spark"]))
    source = store.cursor().execute("SELECT uri, table_name, engine FROM dataset_sources")
    assert source.fetchall() == [(None, "lake_cases", "spark")]


def _refused(args: list[str], capsys: pytest.CaptureFixture[str], db: Path) -> str:
    code = main(["load", *args, "--engine", "spark", "--db", str(db)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert Store(db).datasets() == []  # nothing stored
    return err


def test_a_text_metric_column_is_refused(
    spark: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime(["2024-01-01", "2024-01-02"] * 20).date,
            "phase": ["baseline", "production"] * 20,
            "site": ["A", "B"] * 20,
            "Cost per case": [f"{x:.2f}" for x in np.linspace(10, 20, 40)],
            "Minutes saved": np.linspace(1, 2, 40),
        }
    )
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "t.parquet")
    err = _refused([str(tmp_path / "t.parquet")], capsys, tmp_path / "db.duckdb")
    assert "Cost per case holds text, not numbers" in err


def test_a_missing_path_or_table_is_a_sentence(
    spark: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _refused([str(tmp_path / "nowhere")], capsys, tmp_path / "db.duckdb")
    assert err.startswith("There is no data at")
    err = _refused(["--table", "sales.no_such_table"], capsys, tmp_path / "db.duckdb")
    assert err.startswith("Spark has no table called sales.no_such_table")


def test_an_unreachable_server_fails_in_seconds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pyspark.sql.connect.client.retries import DefaultPolicy

    from analytics.ingest import spark_session

    err = _refused(
        ["s3://lake/cases/", "--spark-remote", "sc://127.0.0.1:9"], capsys, tmp_path / "db.duckdb"
    )
    assert err.startswith("The Spark Connect server does not answer")
    # The default policy waits ten minutes in all before it gives up; the one the session was
    # given waits about a second (50 + 200 + 800 ms, below the jitter threshold), whatever the
    # machine's load: the sum of its waits, not a stopwatch.
    client = spark_session._SESSIONS["sc://127.0.0.1:9"].client
    (policy,) = client.get_retry_policies()
    assert _longest_wait(DefaultPolicy()) > 600
    assert _longest_wait(policy) == 1.05


def _longest_wait(policy: Any) -> float:
    """Seconds a retry policy can wait in all: each backoff, grown and capped, with its jitter."""
    wait, total = policy.initial_backoff, 0.0
    for _ in range(policy.max_retries):
        total += wait + (policy.jitter if wait >= policy.min_jitter_threshold else 0)
        wait = min(policy.max_backoff, wait * policy.backoff_multiplier)
    return total / 1000
