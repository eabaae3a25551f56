"""An upgrade keeps everything: a copy of the file as it was (`<file>.bak-<old version>`), a message
saying where it is, the datasets and the decision log intact, and a failed upgrade changes
nothing.

No step after 2 exists on this branch yet, so each test registers one of its own in the ledger
(a real schema change: a new column with its values written for every dataset), which is what
every later step does to a user's file.
"""

from __future__ import annotations

import hashlib
import math
import shutil
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from analytics.__main__ import main
from analytics.core.catalog import read_catalog
from analytics.core.errors import ScalegateError
from analytics.decide.analysis import analyse
from analytics.decide.decisions import compare_snapshot, list_decisions, snapshot_filters
from analytics.store import migrations
from analytics.store.database import Store
from ui.text import plain

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "schema2.duckdb"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _add_rows_column(cur: duckdb.DuckDBPyConnection) -> None:
    """A trial step: each dataset's row count copied into a new column of its own."""
    cur.execute("ALTER TABLE datasets ADD COLUMN rows_again BIGINT")
    cur.execute("UPDATE datasets SET rows_again = rows")


def _fail(cur: duckdb.DuckDBPyConnection) -> None:
    cur.execute("ALTER TABLE datasets ADD COLUMN half_done BIGINT")
    raise duckdb.IOException("No space left on device")


@pytest.fixture
def next_step(monkeypatch: pytest.MonkeyPatch) -> int:
    """Register the trial step as the ledger's next version; returns that version."""
    version = migrations.current_version() + 1
    monkeypatch.setitem(migrations.LEDGER, version, ("trial step", _add_rows_column))
    return version


@pytest.fixture
def old_db(tmp_path: Path) -> Path:
    path = tmp_path / "scalegate.duckdb"
    shutil.copyfile(FIXTURE, path)
    return path


def test_the_upgrade_keeps_the_file_as_it_was_and_says_where(old_db: Path, next_step: int):
    store = Store(old_db)
    backup = Path(f"{old_db}.bak-2")
    assert _digest(backup) == _digest(FIXTURE)  # the backup is the original, byte for byte
    assert store.notice == (
        f"The database {old_db} was upgraded from schema 2 to {next_step}; the file as it was "
        f"is kept at {backup}."
    )
    cur = store.cursor()
    assert cur.execute("SELECT max(version) FROM schema_info").fetchone() == (next_step,)
    assert cur.execute("SELECT sum(rows_again) FROM datasets").fetchone() == (6000 + 24,)
    assert sorted(p.name for p in old_db.parent.iterdir()) == [old_db.name, backup.name]
    store.close()
    again = Store(old_db)  # already up to date: no second upgrade, no new backup
    assert again.notice is None
    assert sorted(p.name for p in old_db.parent.iterdir()) == [old_db.name, backup.name]
    again.close()


def test_after_the_upgrade_the_decision_is_listed_and_compares_with_today(
    old_db: Path, next_step: int
) -> None:
    """What `watch` does after an upgrade: the fixture's decision, its snapshot set beside
    today's analysis under the snapshot's own filters."""
    store = Store(old_db)
    sample = store.dataset("Sample every 25th row")
    (decision,) = list_decisions(store, sample.id)
    assert (decision.decision, decision.owner) == ("go", "Fixture CFO")
    today = analyse(
        store,
        sample.id,
        read_catalog(store.cursor(), sample.id),
        snapshot_filters(decision.snapshot),
    )
    changes = compare_snapshot(decision.snapshot, today)
    assert [c.metric for c in changes] == [v["metric"] for v in decision.snapshot["verdicts"]]
    recorded = {v["metric"]: v["estimate"] for v in decision.snapshot["verdicts"]}
    for change in changes:  # the snapshot as recorded, beside today's method on the same data
        assert change.lift_then == pytest.approx(recorded[change.metric], rel=1e-12)
        assert math.isfinite(change.lift_now)
    store.close()


def test_a_failed_upgrade_leaves_the_file_unchanged(old_db: Path, monkeypatch) -> None:
    monkeypatch.setitem(
        migrations.LEDGER, migrations.current_version() + 1, ("failing step", _fail)
    )
    with pytest.raises(ScalegateError, match="could not be brought up to date.*nothing in it"):
        Store(old_db)
    assert _digest(old_db) == _digest(FIXTURE)
    assert [p.name for p in old_db.parent.iterdir()] == [old_db.name]  # no backup, copy, .wal


def test_the_command_line_says_where_the_backup_is(
    old_db: Path, next_step: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "report",
            "--db",
            str(old_db),
            "--dataset",
            "Sample every 25th row",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 0
    assert f"the file as it was is kept at {old_db}.bak-2" in err
    assert (tmp_path / "out" / "results.json").is_file()


def test_the_dashboard_says_where_the_backup_is(
    old_db: Path, next_step: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCALEGATE_DB", str(old_db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception
    notices = [i.value for i in at.info if "kept at" in i.value]
    assert notices == [
        plain(
            f"The database {old_db} was upgraded from schema 2 to {next_step}; "
            f"the file as it was is kept at {old_db}.bak-2."
        )
    ]
    assert Path(f"{old_db}.bak-2").is_file()
