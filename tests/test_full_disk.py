"""A disk that fills up during a load: one sentence, exit 2, and the database as it was.

Two real failing writes, no mock: a size-limited tmpfs holding the database (mounted when the
tests run as root, as CI does), and a process whose file-size limit (RLIMIT_FSIZE) stops the
database file from growing, which makes DuckDB's write fail the same way on any machine.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from analytics.__main__ import main
from analytics.ingest.load import Source, load_files
from analytics.store.database import Store
from analytics.store.migrations import current_version

ROOT = Path(__file__).resolve().parent.parent
HELPDESK = ROOT / "tests" / "fixtures" / "helpdesk_weekly.csv"
BIG = ROOT / "data" / "sample.csv"  # 150,000 rows: several MB once stored
FULL = "is full: nothing was stored and the database is as it was; free some space and try again."


Snapshot = Callable[[Store], dict[str, Any]]


def _contents(path: Path, snapshot: Snapshot) -> dict[str, Any]:
    """Every table and view of the database, read in a store that is then closed."""
    store = Store(path)
    found = snapshot(store)
    store.close()
    del store
    gc.collect()  # no cursor left holding the file
    return found


def _small_db(path: Path, snapshot: Snapshot) -> dict[str, Any]:
    store = Store(path)
    load_files(store, [Source.from_path(HELPDESK)])
    store.close()
    return _contents(path, snapshot)


LIMITED = """
import resource, sys
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from analytics.__main__ import main
sys.exit(main(["load", sys.argv[2], "--db", sys.argv[3]]))
"""


def test_a_file_size_limit_during_a_load_changes_nothing(
    tmp_path: Path, snapshot: Snapshot
) -> None:
    db = tmp_path / "scalegate.duckdb"
    before = _small_db(db, snapshot)
    limit = db.stat().st_size + (1 << 18)  # room for one more block, not for the load
    done = subprocess.run(
        [sys.executable, "-c", LIMITED, str(limit), str(BIG), str(db)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=600,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == f"The disk holding {db} {FULL}"
    assert _contents(db, snapshot) == before
    assert not Path(f"{db}.wal").exists()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MB tmpfs, unmounted afterwards; skipped where mounting is not allowed (not root)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(
            f"cannot mount a small tmpfs here ({done.stderr.strip()}); "
            "the file-size-limit test covers the same failure"
        )
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def test_a_full_disk_during_a_load_changes_nothing(
    small_disk: Path, capsys: pytest.CaptureFixture[str], snapshot: Snapshot
) -> None:
    db = small_disk / "scalegate.duckdb"
    before = _small_db(db, snapshot)
    assert main(["load", str(BIG), "--db", str(db)]) == 2
    assert capsys.readouterr().err.strip() == f"The disk holding {db} {FULL}"
    from analytics.store.database import _STORES

    store = _STORES.pop(str(db))  # the CLI's store in this process: still usable, then closed
    assert [d.name for d in store.datasets()] == ["helpdesk_weekly"]
    store.close()
    del store
    gc.collect()
    assert _contents(db, snapshot) == before


LIMITED_ARGV = """
import resource, sys
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from analytics.__main__ import main
sys.exit(main(sys.argv[2:]))
"""


def _limited(limit: int, argv: list[str]) -> subprocess.CompletedProcess[str]:
    """The command line in a process whose files cannot grow past `limit` bytes."""
    return subprocess.run(
        [sys.executable, "-c", LIMITED_ARGV, str(limit), *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=600,
    )


def test_a_file_size_limit_during_an_append_changes_nothing(
    tmp_path: Path, snapshot: Snapshot
) -> None:
    """`load --append --replace-overlap` of the whole sample onto its every-25th row: the
    append's scratch load and its rewrite of the cells stop at the limit, and nothing changes."""
    db = tmp_path / "scalegate.duckdb"
    store = Store(db)
    load_files(store, [Source.from_path(HELPDESK.with_name("sample_every25th.csv.gz"))])
    store.close()
    before = _contents(db, snapshot)
    limit = db.stat().st_size + (1 << 18)
    done = _limited(limit, ["load", str(BIG), "--append", "1", "--replace-overlap",
                            "--db", str(db)])  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == f"The disk holding {db} {FULL}"
    assert _contents(db, snapshot) == before
    assert not Path(f"{db}.wal").exists()


def test_a_file_size_limit_during_an_upgrade_changes_nothing(tmp_path: Path) -> None:
    """An old database (schema 2) whose upgrade copy cannot be written: one sentence, exit 2,
    the file byte for byte as it was, no working copy or backup left beside it."""
    db = tmp_path / "scalegate.duckdb"
    fixture = ROOT / "tests" / "fixtures" / "schema2.duckdb"
    db.write_bytes(fixture.read_bytes())
    done = _limited(db.stat().st_size // 2, ["report", "--db", str(db), "--out", str(tmp_path)])
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        f"The database {db} could not be brought up to date (schema 2 to {current_version()}): "
        "nothing in it was "
        "changed. Free some disk space and open it again, or point --db at another file."
    )
    assert db.read_bytes() == fixture.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scalegate.duckdb"]
