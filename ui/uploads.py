"""Uploaded files written to disk once per upload, for every rerun that reads them.

DuckDB reads files, not Python bytes: an upload used to be copied and written to a temporary
file by the detection, then again by the load (62 MB twice, on every rerun of the Data page).
Here each uploaded file (by Streamlit's file id) is written once into a private temporary file
held in the session; the detection and the load read that path. A file leaves the disk when
the upload is removed or replaced, or when the session that held it is gone.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import streamlit as st

from analytics.ingest.load import Source

_SPOOLED = "data_spooled_uploads"  # file id -> _Spooled


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass  # already gone


SHM = Path("/dev/shm")  # memory-backed where the system has it (Linux)


def spool_dir(size: int, shm: Path | None = None) -> str | None:
    """Where an upload of `size` bytes is written: the memory-backed /dev/shm when it has room
    for it four times over (an upload is already held in memory; written there it costs a copy,
    not a disk write: 0.03 s instead of 0.1-0.2 s for 62 MB), else the usual temporary folder."""
    shm = shm or SHM
    try:
        room = shutil.disk_usage(shm).free if os.access(shm, os.W_OK) else 0
    except OSError:
        room = 0
    return str(shm) if room >= 4 * size else None


def _prefix(pid: int | None = None) -> str:
    """Uploads' file names carry the server's process id: a server that died without removing
    them (memory, in /dev/shm) is found out by the next one (remove_orphans)."""
    return f"scalegate-upload-{os.getpid() if pid is None else pid}-"


def remove_orphans(folder: Path | None = None) -> int:
    """Remove the uploads left by servers that are gone (their process no longer exists);
    how many were removed."""
    removed = 0
    for path in (folder or SHM).glob("scalegate-upload-*-*"):
        pid = path.name.removeprefix("scalegate-upload-").split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            _remove(str(path))
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's process: alive
        return True
    return True


class _Spooled:
    """One uploaded file written out (to /dev/shm when it has room: spool_dir); removed when
    dropped, at the latest when the process ends, or by the next server if this one dies."""

    def __init__(self, data: memoryview) -> None:
        handle, path = tempfile.mkstemp(prefix=_prefix(), dir=spool_dir(data.nbytes))
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        self.path = Path(path)
        self._remove = weakref.finalize(self, _remove, path)

    def remove(self) -> None:
        self._remove()


def spooled_sources(uploads: Sequence[Any]) -> list[Source]:
    """The uploaded files as Sources that read a file on disk, under their uploaded names."""
    held: dict[str, _Spooled] = st.session_state.setdefault(_SPOOLED, {})
    wanted = {f.file_id for f in uploads}
    for file_id in [k for k in held if k not in wanted]:
        held.pop(file_id).remove()
    for upload in uploads:
        if upload.file_id not in held:
            held[upload.file_id] = _Spooled(upload.getbuffer())
    return [Source(name=f.name, path=held[f.file_id].path) for f in uploads]
