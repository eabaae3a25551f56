"""The decision log leaves the database and comes back: export -> import into a fresh database ->
export again gives the same file (JSON Lines and CSV), importing twice adds nothing, and a log
naming data the database does not hold, or holding a decision twice, is refused whole.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics.__main__ import main
from analytics.core.catalog import read_catalog
from analytics.core.errors import ScalegateError
from analytics.decide.analysis import analyse
from analytics.decide.decision_export import export_bytes, export_file, import_file
from analytics.decide.decisions import list_decisions, record_decision
from analytics.ingest.load import Source, load_files
from analytics.store.database import Store

ROOT = Path(__file__).resolve().parent.parent
HELPDESK = ROOT / "tests" / "fixtures" / "helpdesk_weekly.csv"
SAMPLE = ROOT / "tests" / "fixtures" / "sample_every25th.csv.gz"
CATALOG = (ROOT / "data" / "sample.catalog.toml").read_text(encoding="utf-8")

# Text a spreadsheet would evaluate, text already starting with an apostrophe, accents, quotes,
# a comma and a line break: each must come back exactly as typed.
DECISIONS = [
    ("sample", "go", "Åsa Lindqvist", '=SUM(A1:A9) looks fine, "really"', datetime(2025, 2, 3, 9)),
    (
        "helpdesk",
        "fix_first",
        "'quoted owner",
        "-5% in the north;\nrevisit in May",
        datetime(2025, 3, 1, 14, 5, 7, 250),
    ),
    ("sample", "no_go", "@cfo", "'=not a formula", datetime(2025, 4, 2)),
]


def _load(store: Store, order: tuple[str, ...]) -> dict[str, int]:
    ids = {}
    for key in order:
        if key == "sample":
            ids[key] = load_files(
                store, [Source.from_path(SAMPLE)], catalog_text=CATALOG
            ).dataset_id
        else:
            ids[key] = load_files(store, [Source.from_path(HELPDESK)]).dataset_id
    return ids


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database holding both datasets and three decisions, each with its snapshot."""
    path = tmp_path_factory.mktemp("log") / "scalegate.duckdb"
    store = Store(path)
    ids = _load(store, ("sample", "helpdesk"))
    for key, kind, owner, rationale, when in DECISIONS:
        found = analyse(store, ids[key], read_catalog(store.cursor(), ids[key]))
        record_decision(
            store,
            ids[key],
            decision=kind,
            owner=owner,
            rationale=rationale,
            results=found,
            answers={"owner_named": True, "note": rationale},
            decided_on=when,
        )
    store.close()
    return path


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_export_import_export_gives_the_same_file(logged: Path, tmp_path: Path, suffix: str):
    first = tmp_path / f"first{suffix}"
    assert main(["decisions", "export", "--db", str(logged), "--out", str(first)]) == 0
    fresh = tmp_path / "fresh.duckdb"
    store = Store(fresh)
    _load(store, ("helpdesk", "sample"))  # other local ids than in the first database
    store.close()
    assert main(["decisions", "import", str(first), "--db", str(fresh)]) == 0
    second = tmp_path / f"second{suffix}"
    assert main(["decisions", "export", "--db", str(fresh), "--out", str(second)]) == 0
    assert second.read_bytes() == first.read_bytes()


def test_the_export_holds_each_decision_with_its_snapshot(logged: Path) -> None:
    store = Store(logged)
    stored = {d.decided_at: d for d in list_decisions(store)}
    names = {d.id: d for d in store.datasets()}
    lines = export_bytes(store, "jsonl").decode("utf-8").splitlines()
    rows = list(csv.DictReader(io.StringIO(export_bytes(store, "csv").decode("utf-8-sig"))))
    store.close()
    assert len(lines) == len(rows) == 3
    for line, row, (_, kind, owner, rationale, when) in zip(lines, rows, DECISIONS, strict=True):
        record = json.loads(line)
        original = stored[when]
        assert record["decided_at"] == when.isoformat()
        assert (record["decision"], record["owner"], record["rationale"]) == (
            kind,
            owner,
            rationale,
        )
        assert record["snapshot"] == original.snapshot and record["answers"] == original.answers
        assert record["dataset_sha256"] == names[original.dataset_id].sha256
        assert json.loads(row["snapshot"]) == original.snapshot
        for column in ("owner", "rationale"):  # inert in a spreadsheet
            assert not row[column].startswith(("=", "+", "-", "@")), row[column]
    assert rows[0]["rationale"].startswith("'=SUM")
    assert rows[1]["owner"] == "''quoted owner"


def test_importing_twice_adds_nothing(logged: Path, tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    store = Store(logged)
    export_file(store, log)
    before = list_decisions(store)
    found = import_file(store, log)
    assert (found.imported, found.already_there) == (0, 3)
    assert list_decisions(store) == before
    store.close()


def test_a_log_on_data_this_database_lacks_is_refused_whole(
    logged: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "log.csv"
    store = Store(logged)
    export_file(store, log)
    store.close()
    fresh = tmp_path / "fresh.duckdb"
    store = Store(fresh)
    _load(store, ("sample",))
    store.close()
    assert main(["decisions", "import", str(log), "--db", str(fresh)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"Row 2 of {log} is a decision on the dataset 'helpdesk_weekly', which this database "
        "does not hold: load that data first, then import again."
    )
    store = Store(fresh)
    assert list_decisions(store) == ()
    store.close()


def test_a_log_holding_a_decision_twice_is_refused(logged: Path, tmp_path: Path) -> None:
    store = Store(logged)
    lines = export_bytes(store, "jsonl").decode("utf-8").splitlines(keepends=True)
    log = tmp_path / "twice.jsonl"
    log.write_text(lines[0] + lines[1] + lines[0], encoding="utf-8")
    with pytest.raises(
        ScalegateError,
        match=r"^Line 1 and line 3 of .* hold the same decision: remove one and import again\.$",
    ):
        import_file(store, log)
    store.close()


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json\n", "Line 1 of .* is not JSON"),
        ('{"owner": "x"}\n', "Line 1 of .* lacks dataset_name"),
    ],
)
def test_a_broken_log_is_one_sentence(
    tmp_path: Path, content: str, words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "broken.jsonl"
    log.write_text(content, encoding="utf-8")
    assert main(["decisions", "import", str(log), "--db", str(tmp_path / "x.duckdb")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert re.search(words, err), err
    assert not (tmp_path / "x.duckdb").exists()  # refused before the database was opened


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_a_log_whose_answers_hold_nan_is_one_sentence(
    logged: Path, tmp_path: Path, token: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The export never writes NaN (allow_nan=False); a log that holds one was edited or made
    elsewhere, and is refused with a sentence, in JSON Lines and in CSV alike."""
    store = Store(logged)
    line = export_bytes(store, "jsonl").decode("utf-8").splitlines()[0]
    store.close()
    record = json.loads(line)
    record["answers"] = {"pipeline": "__X__"}
    log = tmp_path / "edited.jsonl"
    log.write_text(json.dumps(record).replace('"__X__"', token) + "\n", encoding="utf-8")
    assert main(["decisions", "import", str(log), "--db", str(logged)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and re.search(r"Line 1 of .* is not JSON", err), err
    as_csv = tmp_path / "edited.csv"
    fields = dict(
        record, answers='{"pipeline": ' + token + "}", snapshot=json.dumps(record["snapshot"])
    )
    with as_csv.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(fields))
        writer.writeheader()
        writer.writerow(fields)
    assert main(["decisions", "import", str(as_csv), "--db", str(logged)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and re.search(r"Row 1 of .* holds broken JSON", err), err


def test_the_decision_page_offers_the_same_download(logged: Path, monkeypatch) -> None:
    monkeypatch.setenv("SCALEGATE_DB", str(logged))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("app_pages/decision.py").run()
    assert not at.exception
    labels = [b.label for b in at.download_button]
    assert "Decision log (JSON Lines)" in labels and "Decision log (CSV)" in labels
