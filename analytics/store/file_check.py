"""Look at a database file before opening it for writing, and refuse it in one sentence when it
is damaged, foreign, newer than this version, or held by another program.

Everything here reads only: the header bytes, then a read-only DuckDB connection (which neither
writes to the file nor leaves a .wal behind), so a refused file stays byte for byte as it was.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from analytics.core.errors import ScalegateError
from analytics.store import migrations

# A DuckDB file starts with a main header block and two database headers of 4 KiB each; the
# main header holds the magic word at byte 8.
_HEADER = 4096
_MAGIC = b"DUCK"
# Tables every Scalegate schema has: read whole, they are cheap and prove their blocks readable.
_BOOKKEEPING = ("schema_info", "datasets", "metrics", "decisions")
ALREADY_OPEN = -1  # the file is open in this process already (it was checked then)


def _where_to_go(path: str) -> str:
    return "point --db or SCALEGATE_DB at another file"


def not_duckdb(path: str) -> ScalegateError:
    return ScalegateError(
        f"The file {path} is not a database (it is empty, zeroed or another kind of file): "
        f"{_where_to_go(path)}, or move this one away to start afresh."
    )


def damaged(path: str) -> ScalegateError:
    return ScalegateError(
        f"The database {path} is damaged (cut short or overwritten): restore it from a backup, "
        f"or {_where_to_go(path)}."
    )


def in_use(path: str, message: str = "") -> ScalegateError:
    pid = re.search(r"PID (\d+)", message)
    who = f" (process {pid.group(1)})" if pid else ""
    return ScalegateError(
        f"The database {path} is in use by another program{who}, such as a running dashboard: "
        "stop it, or pass another --db."
    )


def locked(exc: BaseException) -> bool:
    """Whether DuckDB refused a file because another process holds its lock (not a word inside
    "block", which its damage messages hold)."""
    text = str(exc)
    return "Could not set lock" in text or "Conflicting lock" in text


def corrupt(exc: BaseException) -> bool:
    """Whether a DuckDB error met a damaged block while reading (a file that passed the checks
    at opening can still hold one in the middle)."""
    text = str(exc)
    return "Corrupt database file" in text or "Could not read enough bytes" in text


def disk_full(exc: BaseException) -> bool:
    """Whether a DuckDB error says a write failed for want of space (a full disk, a quota, a
    file-size limit)."""
    text = str(exc)
    return any(
        words in text
        for words in ("No space left", "File too large", "Disk quota", "not enough space")
    )


def _check_bytes(path: str) -> None:
    """Refuse a file that does not start as DuckDB's files do."""
    with open(path, "rb") as f:
        header = f.read(3 * _HEADER)
    if len(header) < 3 * _HEADER or header[8:12] != _MAGIC:
        raise not_duckdb(path)


def _check_length(con: duckdb.DuckDBPyConnection, path: str, tables: set[str]) -> None:
    """Refuse a file cut short: it must reach past the last block any table's data lies in.

    The header's block count is no measure (DuckDB cuts free blocks off the end and keeps
    counting them); the blocks the tables point to are, and reading where they are costs only
    metadata, never the data itself.
    """
    row = con.execute("SELECT block_size FROM pragma_database_size()").fetchone()
    block_size = int(row[0]) if row else 0
    last = -1
    for table in tables:
        # The highest block holding a segment of this table (-1: none on disk).
        found = con.execute(
            "SELECT max(block_id) FROM pragma_storage_info($t) WHERE persistent", {"t": table}
        ).fetchone()
        if found and found[0] is not None:
            last = max(last, int(found[0]))
    if Path(path).stat().st_size < 3 * _HEADER + (last + 1) * block_size:
        raise damaged(path)


def _probe(path: str) -> int | None:
    """The file's Scalegate schema version through a read-only connection (None: no tables)."""
    try:
        con = duckdb.connect(path, read_only=True)
    except duckdb.ConnectionException as exc:
        if "different configuration" in str(exc):
            return ALREADY_OPEN
        raise damaged(path) from exc
    except duckdb.Error as exc:
        text = str(exc)
        if locked(exc):
            raise in_use(path, text) from exc
        if "newer version" in text or "storage version" in text:
            raise ScalegateError(
                f"The database {path} was written by a newer version of DuckDB than this "
                "Scalegate uses: upgrade Scalegate to open it."
            ) from exc
        if "not a valid DuckDB database" in text:
            raise not_duckdb(path) from exc
        raise damaged(path) from exc
    try:
        return _schema_version(con, path)
    except duckdb.Error as exc:
        raise damaged(path) from exc
    finally:
        con.close()


def _schema_version(con: duckdb.DuckDBPyConnection, path: str) -> int | None:
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if not tables:
        return None
    if "schema_info" not in tables:
        raise ScalegateError(
            f"The database {path} was not made by Scalegate: {_where_to_go(path)}."
        )
    for table in _BOOKKEEPING:
        if table in tables:
            con.execute(f"SELECT * FROM {table}").fetchall()  # noqa: S608 (fixed names)
    _check_length(con, path, tables)
    row = con.execute("SELECT max(version) FROM schema_info").fetchone()
    version = row[0] if row else None
    newest = migrations.current_version()
    if version is not None and version > newest:
        raise ScalegateError(
            f"The database {path} was written by a newer Scalegate (schema {version}, this "
            f"one reads up to {newest}): upgrade Scalegate to open it."
        )
    return version


def check_file(path: str) -> int | None:
    """The schema version of the Scalegate database at `path` (None: no file yet, or a DuckDB
    file with nothing in it; ALREADY_OPEN: this process holds it). Raises ScalegateError for a
    file that must not be opened; never writes to it."""
    file = Path(path)
    if not file.exists():
        return None
    if not file.is_file():
        raise not_duckdb(path)
    _check_bytes(path)
    return _probe(path)
