"""A damaged or foreign database file is one sentence naming it, exit 2, on every command and every
page, and nothing is written to it (byte for byte the same afterwards, no .wal left behind).

Each kind of damage is made from the schema-2 fixture (a real Scalegate database) the way it
happens to users: cut short by a full disk or a copy taken while open, zeroed, replaced by
another kind of file, a DuckDB file of another program, a file written by a newer DuckDB or a
newer Scalegate, a file held open by another process.
"""

from __future__ import annotations

import hashlib
import shutil
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from analytics.__main__ import main
from analytics.store import migrations
from ui.pages import REGISTRY
from ui.text import plain

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "schema2.duckdb"
HELPDESK = ROOT / "tests" / "fixtures" / "helpdesk_weekly.csv"
_M64 = (1 << 64) - 1


def _checksum(block: bytes) -> int:
    """DuckDB's block checksum (5381 xor each 8-byte word times 0xbf58476d1ce4e5b9), so a header
    can be edited and still be read as DuckDB's own; checked below against the fixture."""
    result = 5381
    for (word,) in struct.iter_unpack("<Q", block):
        result ^= (word * 0xBF58476D1CE4E5B9) & _M64
    return result


def test_the_checksum_helper_reads_a_real_header() -> None:
    data = FIXTURE.read_bytes()
    assert struct.unpack("<Q", data[:8])[0] == _checksum(data[8:4096])


def _newer_duckdb(path: Path) -> None:
    data = bytearray(FIXTURE.read_bytes())
    data[12:20] = struct.pack("<Q", 1000)  # the storage version, after the magic word
    data[0:8] = struct.pack("<Q", _checksum(bytes(data[8:4096])))
    path.write_bytes(bytes(data))


def _foreign(path: Path) -> None:
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE invoices (id INTEGER, amount DOUBLE)")
    con.execute("INSERT INTO invoices VALUES (1, 9.5), (2, 12.0)")
    con.close()


def _newer_scalegate(path: Path) -> None:
    shutil.copyfile(FIXTURE, path)
    con = duckdb.connect(str(path))
    con.execute("UPDATE schema_info SET version = $v", {"v": migrations.current_version() + 1})
    con.close()


def _cut(size: Callable[[int], int]) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        data = FIXTURE.read_bytes()
        path.write_bytes(data[: size(len(data))])

    return make


KINDS: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated in the data": (_cut(lambda n: n // 2), "is damaged"),
    "truncated by one block": (_cut(lambda n: n - 4096), "is damaged"),
    "truncated in the header": (_cut(lambda n: 5000), "is not a database"),
    "empty": (_cut(lambda n: 0), "is not a database"),
    "zeroed": (lambda p: p.write_bytes(b"\0" * FIXTURE.stat().st_size), "is not a database"),
    "a CSV": (lambda p: p.write_bytes(HELPDESK.read_bytes()), "is not a database"),
    "another program's DuckDB": (_foreign, "was not made by Scalegate"),
    "a newer DuckDB": (_newer_duckdb, "newer version of DuckDB"),
    "a newer Scalegate": (_newer_scalegate, "newer Scalegate"),
    "locked": (lambda p: shutil.copyfile(FIXTURE, p), "in use by another program"),
}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(params=list(KINDS))
def bad_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """(a damaged database file, the words its refusal must hold); a locked one is held open
    by another process for the length of the test."""
    make, words = KINDS[request.param]
    path = tmp_path / "scalegate.duckdb"
    make(path)
    holder = None
    if request.param == "locked":
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True
        )
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    before = _digest(path)
    yield path, words
    if holder is not None:
        holder.kill()
        holder.wait()
    assert _digest(path) == before, "the refused file was written to"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(path.name)) == [
        path.name
    ], "something was left beside the refused file"


HOLD = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
HOLD += "time.sleep(600)"


def _commands(db: Path, tmp: Path) -> list[list[str]]:
    tmp.mkdir(exist_ok=True)
    log = tmp / "log.jsonl"
    log.write_text("", encoding="utf-8")
    out = str(tmp / "out")
    return [
        ["load", str(HELPDESK), "--db", str(db)],
        ["load", str(HELPDESK), "--append", "1", "--db", str(db)],
        ["watch", "--db", str(db), "--out", out],
        ["report", "--db", str(db), "--out", out],
        ["pack", "--db", str(db), "--out", out],
        ["init-sample", "--db", str(db)],
        ["decisions", "export", "--db", str(db), "--out", str(tmp / "export.jsonl")],
        ["decisions", "import", str(log), "--db", str(db)],
    ]


def test_every_command_refuses_it_in_one_sentence(
    bad_db: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, words = bad_db
    for argv in _commands(path, tmp_path / "work"):
        code = main(argv)
        err = capsys.readouterr().err.strip()
        assert code == 2, (argv[0], err)
        assert words in err and str(path) in err, err
        assert "\n" not in err and "Traceback" not in err
    assert not (tmp_path / "work" / "export.jsonl").exists()


def test_a_truncated_file_is_a_sentence_from_a_fresh_process(tmp_path: Path) -> None:
    """The case of the issue: `report --db FILE` on a file cut short, as a user runs it."""
    path = tmp_path / "cut.duckdb"
    _cut(lambda n: n // 2)(path)
    before = _digest(path)
    done = subprocess.run(
        [sys.executable, "-m", "analytics", "report", "--db", str(path), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 2
    assert done.stderr.strip().startswith(f"The database {path} is damaged")
    assert "Traceback" not in done.stderr
    assert _digest(path) == before


def test_every_page_refuses_it_in_one_sentence(
    bad_db: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, words = bad_db
    monkeypatch.setenv("SCALEGATE_DB", str(path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    for page in REGISTRY:
        at.switch_page(page.path).run()
        assert not at.exception, page.path
        errors = [e.value for e in at.error]
        assert len(errors) == 1, (page.path, errors)
        assert plain(words) in errors[0] and plain(str(path)) in errors[0], errors[0]


def _overwrite_a_data_block(path: Path) -> None:
    """A database at today's schema with one data block overwritten (a bad sector, a stray
    write): the headers and bookkeeping read fine, the damage shows only when the rows are read.

    The file is the fixture brought up to date (the block layout moves with every schema step),
    and the block is the first one past the headers whose damage the report meets."""
    current = path.with_name("current.duckdb")
    shutil.copyfile(FIXTURE, current)
    done = subprocess.run(
        [sys.executable, "-m", "analytics", "init-sample", "--db", str(current)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    clean = current.read_bytes()
    for block in range(1, len(clean) // 262144):
        data = bytearray(clean)
        start = 3 * 4096 + block * 262144 + 8  # past the headers, after the block's checksum
        data[start : start + 262144 - 8] = b"\x5a" * (262144 - 8)
        path.write_bytes(bytes(data))
        probe = subprocess.run(
            [
                sys.executable,
                "-m",
                "analytics",
                "report",
                "--db",
                str(path),
                "--out",
                str(path.with_name("probe")),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 2 and "is damaged" in probe.stderr:
            path.write_bytes(bytes(data))  # as it was before the probe
            return
    raise AssertionError("no data block of the fixture is read by the report")


def test_damage_met_while_reading_is_a_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "scalegate.duckdb"
    _overwrite_a_data_block(path)
    before = _digest(path)
    for verb in ("report", "pack"):
        code = main([verb, "--db", str(path), "--out", str(tmp_path / "out")])
        err = capsys.readouterr().err.strip()
        assert code == 2, err
        assert err.startswith(f"The database {path} is damaged") and "\n" not in err
    monkeypatch.setenv("SCALEGATE_DB", str(path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    shown = []
    for page in REGISTRY:
        at.switch_page(page.path).run()
        assert not at.exception, page.path
        shown += [e.value for e in at.error]
    assert shown and all(plain(f"The database {path} is damaged") in e for e in shown), shown
    from analytics.store.database import _STORES

    for store in [_STORES.pop(k) for k in list(_STORES) if k == str(path)]:
        store.close()  # the CLI's store in this process, before the file is compared
    assert _digest(path) == before


def test_a_file_that_shed_its_free_blocks_is_not_damaged(tmp_path: Path) -> None:
    """DuckDB cuts free blocks off the end of a file and keeps counting them in its header: a
    database whose last dataset was deleted is shorter than that count, and whole."""
    from analytics.ingest.load import Source, load_files
    from analytics.store.database import Store

    path = tmp_path / "scalegate.duckdb"
    store = Store(path)
    kept = load_files(store, [Source.from_path(HELPDESK)])
    gone = load_files(store, [Source.from_path(FIXTURE.with_name("sample_every25th.csv.gz"))])
    store.close()
    store = Store(path)
    store.delete(gone.dataset_id)
    store.close()
    data = path.read_bytes()
    # The newer database header: (iteration, meta block, free list, block count, block size).
    newer = max(struct.unpack_from("<QQQQQ", data, start + 8) for start in (4096, 8192))
    counted = (newer[3], newer[4])
    assert path.stat().st_size < 3 * 4096 + counted[0] * counted[1]  # the case in point
    store = Store(path)
    assert [d.id for d in store.datasets()] == [kept.dataset_id]
    store.close()
