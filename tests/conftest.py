"""Shared fixtures: an in-memory store, a file writer, and a snapshot of a whole database.

Hypothesis runs under a fixed profile: "ci" (the default) draws the same examples on every run
(derandomize, no example database) and has no deadline, so a slow shared machine never fails a
test; `HYPOTHESIS_PROFILE=explore` draws new examples each run, to look for new failures.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from analytics.store.database import Store

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("explore", deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True, scope="session")
def background_work_ends_before_the_interpreter() -> Iterator[None]:
    """Scalegate's background threads (a load's pass run ahead, the warm-up after a load) run
    DuckDB queries; one still inside DuckDB when the interpreter exits aborts the process
    ("FATAL: exception not rethrown", seen once at the end of a run of one test file). The
    session waits for them at its end."""
    yield
    for thread in threading.enumerate():
        if thread.name.startswith("scalegate-") and thread.is_alive():
            thread.join(timeout=120)


@pytest.fixture
def store() -> Store:
    """A fresh in-memory database."""
    return Store(":memory:")


@pytest.fixture
def own_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A dashboard database of this test's own (SCALEGATE_DB), with local paths not allowed."""
    path = tmp_path / "scalegate.duckdb"
    monkeypatch.setenv("SCALEGATE_DB", str(path))
    monkeypatch.delenv("SCALEGATE_ALLOW_LOCAL_PATHS", raising=False)
    return path


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """write(name, text_or_bytes, encoding="utf-8") -> the path of a new file in tmp_path."""

    def _write(name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
        return path

    return _write


@pytest.fixture
def snapshot() -> Callable[[Store], dict[str, Any]]:
    """snapshot(store) -> every table and view with all its rows, in a comparable form."""
    return take_snapshot


def take_snapshot(store: Store) -> dict[str, Any]:
    """Every table and view of the database with all its rows, in a comparable form."""
    cur = store.cursor()
    names = cur.execute(
        "SELECT table_name FROM duckdb_tables() WHERE NOT temporary "
        "UNION ALL SELECT view_name FROM duckdb_views() WHERE NOT internal AND NOT temporary "
        "ORDER BY 1"
    ).fetchall()
    out: dict[str, Any] = {}
    for (name,) in names:
        quoted = '"' + name.replace('"', '""') + '"'
        columns = [r[0] for r in cur.execute(f"DESCRIBE {quoted}").fetchall()]
        rows = cur.execute(f"SELECT * FROM {quoted} ORDER BY ALL").fetchall()
        out[name] = (columns, [tuple(map(repr, r)) for r in rows])
    return out
