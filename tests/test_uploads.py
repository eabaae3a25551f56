"""Uploaded files are written to disk once per upload (ui/uploads.py): the detection and the
load of every rerun read that one file, which leaves the disk with its upload."""

from __future__ import annotations

import gc
import io
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics.ingest.load import detect  # noqa: E402
from ui import uploads  # noqa: E402


class FakeUpload(io.BytesIO):
    """What st.file_uploader hands over: bytes with a name and a file id."""

    def __init__(self, name: str, data: bytes, file_id: str) -> None:
        super().__init__(data)
        self.name, self.file_id = name, file_id


def test_an_upload_is_written_once_read_from_disk_and_removed_with_it(monkeypatch):
    state: dict = {}
    monkeypatch.setattr(uploads.st, "session_state", state)
    data = b"date,phase,site,Cost per case (EUR)\n2024-01-01,baseline,Oslo,41.5\n"
    data += b"2024-03-01,production,Oslo,38.25\n2024-03-02,pilot,Bergen,39\n"
    first = FakeUpload("export.csv", data, "id-1")
    (source,) = uploads.spooled_sources([first])
    assert source.name == "export.csv" and source.data is None
    assert source.path.read_bytes() == data
    written = source.path.stat().st_mtime_ns
    (again,) = uploads.spooled_sources([first])  # a rerun: the same file, not written again
    assert again.path == source.path and again.path.stat().st_mtime_ns == written
    found = detect([again])
    exact = pd.read_csv(io.BytesIO(data))["phase"].value_counts().to_dict()
    assert found.phase_counts == exact
    other = FakeUpload("next.csv", data, "id-2")
    (replaced,) = uploads.spooled_sources([other])  # a new upload takes the old one's place
    assert not source.path.exists() and replaced.path.exists()
    assert uploads.spooled_sources([]) == []
    assert not replaced.path.exists()


def test_a_session_that_is_gone_takes_its_files_with_it(monkeypatch):
    state: dict = {}
    monkeypatch.setattr(uploads.st, "session_state", state)
    (source,) = uploads.spooled_sources([FakeUpload("a.csv", b"a,b\n1,2\n", "id-3")])
    assert source.path.exists()
    state.clear()
    gc.collect()
    assert not source.path.exists()


def test_an_upload_goes_to_memory_backed_space_only_when_it_has_room(tmp_path, monkeypatch):
    shm = tmp_path / "shm"
    shm.mkdir()
    free = uploads.shutil.disk_usage(shm).free
    assert uploads.spool_dir(free // 8, shm) == str(shm)  # room four times over
    assert uploads.spool_dir(free, shm) is None  # less: the usual temporary folder
    assert uploads.spool_dir(10, tmp_path / "absent") is None
    state: dict = {}
    monkeypatch.setattr(uploads.st, "session_state", state)
    monkeypatch.setattr(uploads, "SHM", shm)
    (source,) = uploads.spooled_sources([FakeUpload("a.csv", b"a,b\n1,2\n", "id-4")])
    assert source.path.parent == shm and source.path.read_bytes() == b"a,b\n1,2\n"


def test_uploads_left_by_a_server_that_died_are_removed_by_the_next(tmp_path):
    import subprocess

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead = tmp_path / f"{uploads._prefix(int(gone.stdout))}abc"
    mine = tmp_path / f"{uploads._prefix()}def"
    other = tmp_path / "scalegate-upload-notapid-x"
    for path in (dead, mine, other):
        path.write_bytes(b"a,b\n1,2\n")
    assert uploads.remove_orphans(tmp_path) == 1
    assert not dead.exists() and mine.exists() and other.exists()
