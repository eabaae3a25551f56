"""Bring an older database file up to SCHEMA_VERSION without ever touching the file itself.

The ledger's steps run on a working copy beside it (`<file>.upgrading`). Only when every step
has committed is the original kept as `<file>.bak-<old version>` (byte for byte: a hard link,
or a copy) and the upgraded copy renamed over it, so the name never points at half a file. A
step that fails, a full disk or an interruption leaves the original as it was and removes the
working copy.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb

from analytics.core.errors import ScalegateError
from analytics.store import migrations

Finish = Callable[[duckdb.DuckDBPyConnection], None]


def backup_path(path: str | os.PathLike[str], version: int) -> Path:
    """Where the file as it was before an upgrade from `version` is kept."""
    return Path(f"{os.fspath(path)}.bak-{version}")


def _wal(path: Path) -> Path:
    return Path(f"{path}.wal")


def _remove(*paths: Path) -> None:
    for p in paths:
        p.unlink(missing_ok=True)


def _keep(original: Path, backup: Path) -> None:
    """The original (and its .wal, if any) as the backup: a hard link where the file system
    allows one (no second copy on disk), else a copy."""
    for src, dst in ((original, backup), (_wal(original), _wal(backup))):
        dst.unlink(missing_ok=True)
        if not src.exists():
            continue
        try:
            os.link(src, dst)
        except OSError:
            shutil.copyfile(src, dst)


def _migrate_copy(work: Path, version: int, finish: Finish) -> None:
    """Run every ledger step after `version` on the working copy, in one transaction."""
    con = duckdb.connect(str(work))
    try:
        con.begin()
        migrations.upgrade(con, version)
        con.execute("UPDATE schema_info SET version = $v", {"v": migrations.current_version()})
        finish(con)
        con.commit()
        con.execute("CHECKPOINT")  # everything in the file itself, no .wal to carry along
    finally:
        con.close()


def upgrade_file(path: str, version: int, finish: Finish) -> str:
    """Upgrade the file at `path` from schema `version`; return the sentence saying so and where
    the backup is. Raises ScalegateError (the original unchanged) when it cannot be done."""
    original = Path(path)
    work = Path(f"{path}.upgrading")
    backup = backup_path(path, version)
    _remove(work, _wal(work))
    try:
        shutil.copyfile(original, work)
        if _wal(original).exists():
            shutil.copyfile(_wal(original), _wal(work))
        _migrate_copy(work, version, finish)
        _keep(original, backup)
    except (duckdb.Error, OSError) as exc:
        _remove(work, _wal(work), backup, _wal(backup))
        raise ScalegateError(
            f"The database {path} could not be brought up to date (schema {version} to "
            f"{migrations.current_version()}): nothing in it was changed. Free some disk space "
            "and open it again, or point --db at another file."
        ) from exc
    except BaseException:
        _remove(work, _wal(work))
        raise
    _wal(original).unlink(missing_ok=True)  # its contents are in the upgraded copy and the backup
    os.replace(work, original)  # atomic: the name always holds a whole database
    return (
        f"The database {path} was upgraded from schema {version} to "
        f"{migrations.current_version()}; the file as it was is kept at {backup}."
    )
