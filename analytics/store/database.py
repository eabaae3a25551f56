"""The DuckDB database: one connection per process, its schema, datasets and transactions.

DuckDB lets one process write a database file; inside the process, one connection is shared and
each thread takes its own cursor. Writes are serialised by a lock so that two loads never race
to rebuild the `telemetry` view (measured: two unserialised rebuilds fail with a write-write
conflict). Every write happens in one transaction, so readers see a dataset whole or not at all.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from analytics.core.errors import ScalegateError
from analytics.store.file_check import check_file, damaged, disk_full, in_use, locked
from analytics.store.history import TABLES as HISTORY_TABLES
from analytics.store.migrations import current_version
from analytics.store.upgrade import upgrade_file

PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the checkout, or site-packages


def default_db(package: Path = PACKAGE_ROOT) -> Path:
    """Where the database lives when no path is given: data/scalegate.duckdb in a checkout
    (beside its pyproject.toml, as `make run` uses it), else the user's data folder for
    Scalegate (an installed copy must not write inside site-packages)."""
    if (package / "pyproject.toml").is_file():
        return package / "data" / "scalegate.duckdb"
    from platformdirs import user_data_path

    return user_data_path("scalegate", appauthor=False) / "scalegate.duckdb"


DEFAULT_DB = default_db()

# A dataset whose day cells were computed where its rows are (Spark): the source it was read
# from, the engine, the rows counted there, a fingerprint of the source's metadata, and the
# column that weighted its rows (NULL: unweighted).
SOURCES_SCHEMA = """CREATE TABLE IF NOT EXISTS dataset_sources (
    dataset_id INTEGER NOT NULL, engine VARCHAR NOT NULL, uri VARCHAR, table_name VARCHAR,
    remote VARCHAR, rows_read BIGINT NOT NULL, fingerprint VARCHAR NOT NULL, weight VARCHAR)"""

# Schema: one row of bookkeeping per dataset, the metric catalog, the decision log.
# No PRIMARY KEY/UNIQUE constraints: DuckDB checks them eagerly on UPDATE; uniqueness is kept
# by code under the write lock instead.
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS schema_info (version INTEGER NOT NULL)",
    """CREATE TABLE IF NOT EXISTS datasets (
        id INTEGER NOT NULL, name VARCHAR NOT NULL, source VARCHAR, sha256 VARCHAR NOT NULL,
        rows BIGINT NOT NULL, rejected BIGINT NOT NULL, loaded_at TIMESTAMP NOT NULL,
        obs_table VARCHAR, report JSON, settings JSON)""",
    # Where a dataset's cells were computed when its rows stay elsewhere (obs_table is NULL).
    SOURCES_SCHEMA,
    """CREATE TABLE IF NOT EXISTS metrics (
        dataset_id INTEGER NOT NULL, position INTEGER NOT NULL, metric_id VARCHAR NOT NULL,
        label VARCHAR NOT NULL, unit VARCHAR, kind VARCHAR NOT NULL, direction VARCHAR NOT NULL,
        min_effect DOUBLE NOT NULL, value_per_unit DOUBLE, guardrail DOUBLE, guards JSON,
        guessed BOOLEAN NOT NULL, adds_to_total BOOLEAN DEFAULT false, overlaps_with JSON)""",
    """CREATE TABLE IF NOT EXISTS decisions (
        id INTEGER NOT NULL, dataset_id INTEGER NOT NULL, decided_at TIMESTAMP NOT NULL,
        decision VARCHAR NOT NULL, owner VARCHAR NOT NULL, rationale VARCHAR, answers JSON,
        snapshot JSON)""",
    *HISTORY_TABLES,
)

# The long view over no dataset at all: the right columns, no rows.
_EMPTY_TELEMETRY = (
    "SELECT NULL::INTEGER AS dataset_id, NULL::DATE AS date, NULL::VARCHAR AS phase, "
    "NULL::VARCHAR AS site, NULL::VARCHAR AS channel, NULL::VARCHAR AS metric, "
    "NULL::DOUBLE AS value WHERE false"
)


# The columns of an observation table that are not metrics (SQL text made by code).
_NOT_METRICS = "['date', 'phase', 'site', 'channel', 'weight']"


def rebuild_view(cur: duckdb.DuckDBPyConnection) -> None:
    """The long view of every dataset, built from the wide tables with UNPIVOT.

    Metric names never appear in the SQL text: UNPIVOT takes every column but the dimensions
    and the rows' volume (`weight`, present in weighted datasets only).
    """
    parts = []
    for dataset_id in with_rows(cur):  # datasets computed elsewhere have no rows here
        table = obs_table_name(dataset_id)
        parts.append(
            f"SELECT {int(dataset_id)}::INTEGER AS dataset_id, date, phase, site, channel, "  # noqa: S608 (table name from an int)
            "metric, value FROM (UNPIVOT "
            f"{table} ON COLUMNS(lambda c: NOT list_contains({_NOT_METRICS}, c)) "
            "INTO NAME metric VALUE value)"
        )
    body = " UNION ALL ".join(parts) if parts else _EMPTY_TELEMETRY
    cur.execute("CREATE OR REPLACE VIEW telemetry AS " + body)


def quote_ident(name: str) -> str:
    """Quote a name that came from a file as a DuckDB identifier (doubling inner quotes)."""
    return '"' + name.replace('"', '""') + '"'


def obs_table_name(dataset_id: int) -> str:
    """The wide observation table of a dataset; the name is made by code from an integer."""
    return f"obs_{int(dataset_id)}"


def cells_table_name(dataset_id: int) -> str:
    """The stored day cells of a dataset (see day_cells.py); made by code from an integer."""
    return f"cells_{int(dataset_id)}"


@dataclass(frozen=True, slots=True)
class DatasetInfo:
    """One stored dataset, as listed to a user."""

    id: int
    name: str
    source: str
    sha256: str
    rows: int
    rejected: int
    loaded_at: datetime
    obs_table: str | None  # None: the rows stay where the cells were computed (Spark)

    @property
    def has_rows(self) -> bool:
        return self.obs_table is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "source": self.source,
            "sha256": self.sha256,
            "rows": self.rows,
            "rejected": self.rejected,
            "loaded_at": self.loaded_at.isoformat(timespec="seconds"),
        }


class Store:
    """The process's DuckDB database, with serialised writes and a cursor per read."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = str(path if path is not None else os.environ.get("SCALEGATE_DB", DEFAULT_DB))
        # What opening did that the user should hear of (an upgrade and its backup), or None.
        self.notice: str | None = None
        if self.path != ":memory:":
            try:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ScalegateError(
                    f"The folder of {self.path} cannot be made ({exc.strerror}): choose another "
                    "file with --db or SCALEGATE_DB."
                ) from exc
            version = check_file(self.path)  # refuses a damaged or foreign file, reading only
            if version is not None and 0 <= version < current_version():
                self.notice = upgrade_file(self.path, version, rebuild_view)
        try:
            self._con = duckdb.connect(self.path)
        except duckdb.IOException as exc:
            if locked(exc):
                raise in_use(self.path, str(exc)) from exc
            raise damaged(self.path) from exc
        except duckdb.Error as exc:
            raise damaged(self.path) from exc
        self._write_lock = threading.RLock()
        try:
            self._ensure_schema()
        except BaseException:
            self._con.close()  # a refused file is not left open (nor locked) by this process
            raise

    # -- connections -------------------------------------------------------------------------

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for this thread's reads (DuckDB connections are not shared across threads)."""
        return self._con.cursor()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One serialised write transaction: it commits whole or rolls back whole. A disk that
        fills up part way is one sentence, and the database is left as it was."""
        with self._write_lock:
            cur = self._con.cursor()
            cur.begin()
            try:
                with self._finished(cur):
                    yield cur
            finally:
                cur.close()

    @contextmanager
    def adopt(self, cur: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
        """Finish, as `transaction` would (under the write lock, whole or not at all), a
        transaction begun earlier on `cur` without the lock (a staged load's pass, which writes
        only tables of its own)."""
        with self._write_lock, self._finished(cur):
            yield cur

    @contextmanager
    def _finished(self, cur: duckdb.DuckDBPyConnection) -> Iterator[None]:
        """Commit `cur`'s transaction when the block ends well, roll it back when it raises."""
        try:
            yield
        except BaseException as exc:
            with suppress(duckdb.Error):  # a failed write may have ended it already
                cur.rollback()
            if isinstance(exc, duckdb.Error) and disk_full(exc):
                raise self._full() from exc
            raise
        else:
            try:
                cur.commit()
            except duckdb.Error as exc:
                raise (self._full() if disk_full(exc) else exc) from exc

    def _full(self) -> ScalegateError:
        return ScalegateError(
            f"The disk holding {self.path} is full: nothing was stored and the database is as "
            "it was; free some space and try again."
        )

    def close(self) -> None:
        self._con.close()

    # -- schema ------------------------------------------------------------------------------

    def _ensure_schema(self) -> None:
        """A new file gets the schema; an existing one was checked (and upgraded) before opening."""
        with self.transaction() as cur:
            tables = {
                r[0] for r in cur.execute("SELECT table_name FROM duckdb_tables()").fetchall()
            }
            if tables and "schema_info" not in tables:  # only reached for `:memory:` misuse
                raise ScalegateError(
                    f"The database {self.path} was not made by Scalegate: "
                    "point --db or SCALEGATE_DB at another file."
                )
            if "schema_info" in tables:
                return
            for statement in _SCHEMA:
                cur.execute(statement)
            cur.execute("INSERT INTO schema_info VALUES ($v)", {"v": current_version()})
            rebuild_view(cur)

    def _rebuild_view(self, cur: duckdb.DuckDBPyConnection) -> None:
        rebuild_view(cur)

    rebuild_view = _rebuild_view

    # -- datasets ----------------------------------------------------------------------------

    def next_dataset_id(self, cur: duckdb.DuckDBPyConnection) -> int:
        row = cur.execute("SELECT coalesce(max(id), 0) + 1 FROM datasets").fetchone()
        return int(row[0]) if row else 1

    def datasets(self) -> list[DatasetInfo]:
        """Every stored dataset, newest first."""
        rows = (
            self.cursor()
            .execute(
                "SELECT id, name, source, sha256, rows, rejected, loaded_at, obs_table "
                "FROM datasets ORDER BY id DESC"
            )
            .fetchall()
        )
        return [DatasetInfo(*r) for r in rows]

    def dataset(self, ref: str | int | None = None) -> DatasetInfo:
        """A dataset by id or name; None means the latest. Raises ScalegateError if absent."""
        found = self.datasets()
        if not found:
            raise ScalegateError("No dataset is loaded yet: load a CSV first.")
        if ref is None:
            return found[0]
        for info in found:
            if info.name == str(ref) or str(info.id) == str(ref):
                return info
        raise ScalegateError(f"There is no dataset called {ref!s}; load it or pick another.")

    def find_by_hash(self, sha256: str) -> DatasetInfo | None:
        for info in self.datasets():
            if info.sha256 == sha256:
                return info
        return None

    def report(self, dataset_id: int) -> dict[str, Any]:
        row = (
            self.cursor()
            .execute("SELECT report FROM datasets WHERE id = $id", {"id": dataset_id})
            .fetchone()
        )
        return json.loads(row[0]) if row and row[0] else {}

    def rename(self, dataset_id: int, name: str) -> None:
        name = name.strip()
        if not name:
            raise ScalegateError("A dataset needs a name: type one.")
        with self.transaction() as cur:
            clash = cur.execute(
                "SELECT count(*) FROM datasets WHERE name = $n AND id <> $id",
                {"n": name, "id": dataset_id},
            ).fetchone()
            if clash and clash[0]:
                raise ScalegateError(f"Another dataset is already called {name}: pick another.")
            cur.execute(
                "UPDATE datasets SET name = $n WHERE id = $id", {"n": name, "id": dataset_id}
            )

    def delete(self, dataset_id: int) -> None:
        """Remove a dataset, its observations, catalog and decisions, in one transaction."""
        with self.transaction() as cur:
            self.delete_in(cur, dataset_id)
            self._rebuild_view(cur)

    def delete_in(self, cur: duckdb.DuckDBPyConnection, dataset_id: int) -> None:
        cur.execute("DROP TABLE IF EXISTS " + obs_table_name(dataset_id))
        cur.execute("DROP TABLE IF EXISTS " + cells_table_name(dataset_id))
        for table in ("datasets", "metrics", "decisions", "loads", "dataset_sources"):
            key = "id" if table == "datasets" else "dataset_id"
            cur.execute(f"DELETE FROM {table} WHERE {key} = $id", {"id": dataset_id})  # noqa: S608 (fixed names)

    def require_rows(self, dataset_id: int, doing: str) -> None:
        """Refuse, with a sentence, what needs a dataset's rows (appending to it, rebuilding
        its cells) when its rows stayed on the engine that computed its cells."""
        row = (
            self.cursor()
            .execute(
                "SELECT d.name, s.engine FROM datasets d JOIN dataset_sources s "
                "ON s.dataset_id = d.id WHERE d.id = $id AND d.obs_table IS NULL",
                {"id": dataset_id},
            )
            .fetchone()
        )
        if row:
            raise ScalegateError(
                f"The dataset {row[0]} was computed on {row[1].capitalize()} and its rows stay "
                f"there, so Scalegate cannot {doing} it: load the whole source again with "
                f"--engine {row[1]}."
            )

    def settings_json(self, dataset_id: int) -> dict[str, Any]:
        row = (
            self.cursor()
            .execute("SELECT settings FROM datasets WHERE id = $id", {"id": dataset_id})
            .fetchone()
        )
        return json.loads(row[0]) if row and row[0] else {}


def with_rows(cur: duckdb.DuckDBPyConnection) -> list[int]:
    """The datasets whose observation table is here, by id: a dataset computed elsewhere
    (obs_table NULL) or one whose table is missing never breaks a rebuild of the view or of
    the cells."""
    return [
        int(r[0])
        for r in cur.execute(
            "SELECT id FROM datasets WHERE obs_table IS NOT NULL AND obs_table IN "
            "(SELECT table_name FROM duckdb_tables()) ORDER BY id"
        ).fetchall()
    ]


_STORES: dict[str, Store] = {}
_STORES_LOCK = threading.Lock()


def open_store(path: str | os.PathLike[str] | None = None) -> Store:
    """The process's one Store per database file (`:memory:` always gets a fresh one)."""
    key = str(path if path is not None else os.environ.get("SCALEGATE_DB", DEFAULT_DB))
    if key == ":memory:":
        return Store(key)
    with _STORES_LOCK:
        store = _STORES.get(key)
        if store is None:
            store = _STORES[key] = Store(key)
        return store
