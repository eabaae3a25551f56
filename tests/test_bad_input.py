"""Bad input: every file a user can send that cannot be used is refused with one sentence and
leaves the database exactly as it was; files with problems that can be set aside load with
warnings; random bytes never produce anything but a sentence or a load."""

from __future__ import annotations

import gzip
import io
import random
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.core.errors import ScalegateError
from analytics.ingest.load import Source, load_files
from analytics.store.database import Store

ROOT = Path(__file__).resolve().parent.parent
GOOD = b"date,phase,site,cost\n2024-01-01,baseline,A,1\n2024-02-01,pilot,A,2\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "phase,cost\nbaseline,1\n")
    return buffer.getvalue()


def _empty_workbook() -> bytes:
    buffer = io.BytesIO()
    openpyxl.Workbook().save(buffer)
    return buffer.getvalue()


_RANDOM = random.Random(7).randbytes(4096)

# name -> (file name, bytes, words the sentence must contain)
REFUSED: dict[str, tuple[str, bytes, str]] = {
    "empty": ("empty.csv", b"", "empty"),
    "only blank lines": ("blank.csv", b"\n \n\t\n", "empty"),
    "header only": ("header.csv", b"date,phase,site,cost\n", "header but no rows"),
    "header without newline": ("header.csv", b"phase,cost", "header but no rows"),
    "random bytes": ("noise.csv", _RANDOM, "not a table"),
    "png renamed csv": ("chart.csv", PNG + _RANDOM[:200], "PNG image"),
    "gzip of random bytes": ("data.csv.gz", gzip.compress(_RANDOM), "not a table"),
    "gzip of a png": ("data.csv", gzip.compress(PNG + _RANDOM[:100]), "PNG image"),
    "damaged gzip": ("data.csv.gz", b"\x1f\x8b\x08\x00" + _RANDOM[:300], "damaged"),
    "json array": ("data.csv", b'[{"phase": "pilot", "cost": 1}]\n', "JSON"),
    "json object": ("data.csv", b'\n  {"rows": [1, 2, 3]}\n', "JSON"),
    "html": ("data.csv", b"<!DOCTYPE html><html><body><table></table></body></html>", "web page"),
    "zip archive": ("data.csv", _zip(), "ZIP archive"),
    "utf-16 big endian": ("be.csv", b"\xfe\xff" + "phase,cost\n".encode("utf-16-be"), "UTF-8"),
    "single column": ("one.csv", b"phase\nbaseline\npilot\n", "single column"),
    "no phase column": ("nophase.csv", b"date,site,cost\n2024-01-01,A,1\n", "phase"),
    "only unknown phases": ("ab.csv", b"phase,cost\ntest,1\nvariant b,2\n", "found"),
    "phase column empty": ("p.csv", b"phase,cost\n,1\n,2\n", "empty in every row"),
    "no numeric metric": (
        "text.csv",
        b"phase,site,comment\nbaseline,A,hi\npilot,B,yo\n",
        "numeric",
    ),
    "every metric empty": ("e.csv", b"phase,cost,accuracy\nbaseline,,\npilot,,\n", "empty"),
    "every metric unreadable": ("u.csv", b"phase,cost\nbaseline,abc\npilot,??\n", "numeric"),
    "every line ragged": ("r.csv", b"phase,site,cost\nbaseline\npilot\n", "as many columns"),
    "unterminated quote": (
        "q.csv",
        b'phase,site,cost\nbaseline,"Plant A,1\n' + b"pilot,B,2\n" * 50,
        "never closes",
    ),
}


def _refusal_cases() -> list:
    cases = [pytest.param(*v, id=k) for k, v in REFUSED.items()]
    cases.append(pytest.param("empty.xlsx", b"", "empty", id="empty workbook"))
    return cases


@pytest.fixture
def kept(store: Store) -> Store:
    """A store that already holds one dataset, so "unchanged" means something."""
    load_files(store, [Source.from_bytes("good.csv", GOOD)], name="Good")
    return store


def _assert_sentence(message: str) -> None:
    assert message and "\n" not in message and "Traceback" not in message
    assert message[0].isupper() and message.endswith(".")
    assert len(message) < 400


@pytest.mark.parametrize(("file_name", "data", "words"), _refusal_cases())
def test_refused_files_raise_one_sentence_and_store_nothing(
    kept: Store, snapshot, file_name: str, data: bytes, words: str
) -> None:
    if file_name == "empty.xlsx":
        data = _empty_workbook()
    before = snapshot(kept)
    with pytest.raises(ScalegateError) as err:
        load_files(kept, [Source.from_bytes(file_name, data)])
    _assert_sentence(str(err.value))
    assert words.lower() in str(err.value).lower()
    assert snapshot(kept) == before


def test_refusals_of_the_call_itself(kept: Store, snapshot) -> None:
    before = snapshot(kept)
    good = [Source.from_bytes("a.csv", GOOD)]
    calls = [
        (dict(sources=[]), "at least one file"),
        (dict(sources=good, mapping={"nosuch": "site"}), "does not have"),
        (dict(sources=good, mapping={"cost": "kpi"}), "use one of phase, site"),
        (
            dict(sources=good, mapping={"site": "phase", "phase": "phase"}),
            "Only one column can be the phase",
        ),
        (dict(sources=good, phase_map={"baseline": "later"}), "baseline, pilot or production"),
        (dict(sources=good, catalog_text="[metrics.cost]\nkind = 3\n"), "kind of cost"),
        (dict(sources=good, catalog_text="not toml ["), "not valid TOML"),
        (
            dict(sources=[*good, Source.from_bytes("b.csv", b"phase,x\npilot,1\n")]),
            "do not share their columns",
        ),
    ]
    for kwargs, words in calls:
        sources = kwargs.pop("sources")
        with pytest.raises(ScalegateError, match=words) as err:
            load_files(kept, sources, **kwargs)
        _assert_sentence(str(err.value))
    assert snapshot(kept) == before


def test_a_missing_path_is_a_sentence(kept: Store, tmp_path: Path) -> None:
    with pytest.raises(ScalegateError, match="cannot be read"):
        load_files(kept, [Source.from_path(tmp_path / "gone.csv")])


# -- the command line -----------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "analytics", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A database file holding one dataset, closed so a subprocess can open it."""
    path = tmp_path / "cli.duckdb"
    store = Store(path)
    load_files(store, [Source.from_bytes("good.csv", GOOD)], name="Good")
    store.close()
    return path


def _db_state(path: Path, snapshot) -> dict:
    store = Store(path)
    try:
        return snapshot(store)
    finally:
        store.close()


def test_the_cli_refuses_every_bad_file_with_exit_2_and_one_line(
    tmp_path: Path, db: Path, snapshot
) -> None:
    before = _db_state(db, snapshot)
    for key, (file_name, data, _) in REFUSED.items():
        bad = tmp_path / key.replace(" ", "_") / file_name
        bad.parent.mkdir()
        bad.write_bytes(data)
        done = _cli("load", str(bad), "--db", str(db))
        assert done.returncode == 2, (key, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in done.stderr, (key, done.stderr)
        _assert_sentence(lines[0])
        assert done.stdout == ""
    assert _db_state(db, snapshot) == before


WARNED: dict[str, tuple[bytes, int, int, str]] = {
    # name -> (file, rows loaded, rows set aside, words of a warning)
    "ragged rows": (b"phase,cost\nbaseline,1\npilot,2,3\nproduction,4\n", 2, 1, "columns"),
    "duplicated headers": (b"phase,cost,cost\nbaseline,1,2\npilot,3,4\n", 2, 0, "renamed"),
    # One date in 151 unreadable (0.7%) loads with a warning; more than 1% is refused.
    "mixed dates": (
        b"date,phase,cost\n2024-01-31,baseline,1\n31/01/2024,pilot,2\nsoon,pilot,3\n"
        + b"2024-02-01,pilot,4\n" * 148,
        151,
        0,
        "could not be read",
    ),
    "nan and inf": (b"phase,cost\nbaseline,nan\npilot,inf\npilot,1\n", 3, 0, "NaN"),
    "some unknown phases": (b"phase,cost\nbaseline,1\ntest,2\npilot,3\n", 2, 1, "Unknown phase"),
    "site only in production": (
        b"phase,site,cost\nbaseline,A,1\npilot,A,2\nproduction,A,3\nproduction,Z,4\n",
        4,
        0,
        "only in production",
    ),
    "very long strings": (
        b"phase,site,comment,cost\nbaseline,A,"
        + b"x" * 100_000
        + b",1\npilot,"
        + b"S" * 500
        + b",y,2\n",
        2,
        0,
        "longer than 200",
    ),
    "mixed line endings": (b"phase,cost\nbaseline,1\r\npilot,2\nproduction,3\r\n", 3, 0, "mixes"),
}


@pytest.mark.parametrize(("data", "loaded", "aside", "words"), WARNED.values(), ids=list(WARNED))
def test_the_cli_loads_files_with_problems_and_warns(
    tmp_path: Path, db: Path, data: bytes, loaded: int, aside: int, words: str
) -> None:
    path = tmp_path / "warn.csv"
    path.write_bytes(data)
    done = _cli("load", str(path), "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert f"Loaded {loaded:,} rows; set aside {aside:,}." in done.stdout
    assert words in done.stdout
    store = Store(db)
    try:
        (latest, _) = store.datasets()
        assert (latest.rows, latest.rejected) == (loaded, aside)
        count = store.cursor().execute(f"SELECT count(*) FROM {latest.obs_table}").fetchone()
        assert count == (loaded,)
    finally:
        store.close()


def test_the_cli_strict_flag_refuses_a_rejected_row(tmp_path: Path, db: Path) -> None:
    path = tmp_path / "strict.csv"
    path.write_bytes(b"phase,cost\nbaseline,1\nlater,2\n")
    done = _cli("load", str(path), "--db", str(db), "--strict")
    assert done.returncode == 2 and "line 3" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


# -- random bytes: a sentence or a load, never anything else ------------------------------

_CELLS = st.one_of(
    st.text(max_size=6),
    st.sampled_from(
        ["baseline", "pilot", "production", "prod", "1", "-2.5", "1,000.5", "12%", "NaN", "inf"]
        + ["", '"', '""', '"a', "\n", "\r\n", ";", "\t", "|", ",", "2024-01-31", "€3"]
    ),
    st.binary(max_size=4).map(lambda b: b.decode("latin-1")),
)
_HEADERS = st.sampled_from(
    ["phase,site,cost", "phase;cost;x", "a,b", "phase\tcost", "Stage|Plant|KPI|value", "", "phase"]
)


@st.composite
def csv_like(draw: st.DrawFn) -> bytes:
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    header = draw(st.one_of(_HEADERS, st.text(max_size=12)))
    rows = draw(st.lists(st.lists(_CELLS, max_size=5), max_size=6))
    text = newline.join([header, *(delimiter.join(r) for r in rows)])
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-16", "latin-1"]))
    data = text.encode(encoding, errors="replace")
    junk = draw(st.binary(max_size=8))
    return draw(st.sampled_from([data, data + junk, junk + data]))


def _consistent(store: Store) -> None:
    """Every dataset row has its full observation table, and the view reads."""
    cur = store.cursor()
    for info in store.datasets():
        assert cur.execute(f"SELECT count(*) FROM {info.obs_table}").fetchone() == (info.rows,)
    cur.execute("SELECT count(*) FROM telemetry").fetchone()
    tables = {r[0] for r in cur.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert {t for t in tables if t.startswith("obs_")} == {d.obs_table for d in store.datasets()}


_PROPERTY_STORE = Store(":memory:")


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(csv_like(), st.binary(max_size=64)))
def test_random_bytes_give_a_sentence_or_a_load(data: bytes) -> None:
    store = _PROPERTY_STORE  # one store for every example: a refusal must leave it as it was
    before = [d.id for d in store.datasets()]
    try:
        result = load_files(store, [Source.from_bytes("random.csv", data)])
    except ScalegateError as exc:
        _assert_sentence(str(exc))
        assert [d.id for d in store.datasets()] == before
    else:
        assert result.report.rows_loaded == store.dataset(result.dataset_id).rows
    _consistent(store)
    for info in store.datasets():  # keep the store small: deleting is part of the check
        store.delete(info.id)
    _consistent(store)
