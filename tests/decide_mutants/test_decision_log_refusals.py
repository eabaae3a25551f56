"""A decision log file that cannot be read is refused in one sentence naming the line or row and
what is wrong; read_log needs no database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analytics.core.errors import ScalegateError
from analytics.decide.decision_export import export_file, format_of, read_log, to_bytes

GOOD = {
    "dataset_name": "pilot.csv",
    "dataset_sha256": "ab",
    "decided_at": "2025-02-03T10:00:00",
    "decision": "go",
    "owner": "@cfo",
    "rationale": "",
    "answers": {},
    "snapshot": {},
}


def test_the_format_is_read_from_the_extension() -> None:
    for name in ("log.jsonl", "LOG.NDJSON", "log.json"):
        assert format_of(name) == "jsonl"
    assert format_of(Path("d/log.CSV")) == "csv"
    with pytest.raises(ScalegateError, match=r"^log\.txt: a decision log is a \.jsonl \(JSON "):
        format_of("some/dir/log.txt")


def _jsonl(tmp_path: Path, *records: object) -> Path:
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "sentence"),
    [
        ({"owner": None}, r"^Line 2 of .*log\.jsonl lacks owner: export the log again\.$"),
        ({"decision": "maybe"}, r"^Line 2 of .*log\.jsonl: 'maybe' is not a decision\.$"),
        ({"answers": []}, r"^Line 2 of .*: answers and snapshot must be JSON objects\.$"),
        ({"snapshot": "x"}, r"^Line 2 of .*: answers and snapshot must be JSON objects\.$"),
        ({"rationale": 3}, r"^Line 2 of .*: names, dates and text must be strings\.$"),
        ({"decided_at": "soon"}, r"^Line 2 of .*: 'soon' is not a date\.$"),
        ({"owner": "  "}, r"^Line 2 of .*log\.jsonl has no owner: every decision needs one\.$"),
    ],
)
def test_a_bad_record_is_refused_by_its_line(tmp_path: Path, change: dict, sentence: str) -> None:
    path = _jsonl(tmp_path, GOOD, GOOD | change)
    with pytest.raises(ScalegateError, match=sentence):
        read_log(path)


def test_blank_lines_are_skipped_and_line_numbers_kept(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text("\n" + json.dumps(GOOD) + "\n  \n" + json.dumps(GOOD | {"owner": "@b"}) + "\n")
    assert [where for where, _ in read_log(path)] == ["line 2", "line 4"]
    assert read_log(path)[1][1]["owner"] == "@b"


def test_a_record_that_is_not_an_object_lacks_everything(tmp_path: Path) -> None:
    with pytest.raises(ScalegateError, match=r"^Line 1 of .* lacks dataset_name, dataset_sha256, "):
        read_log(_jsonl(tmp_path, [1, 2]))


def test_a_missing_or_unreadable_file_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(ScalegateError, match=r"^There is no file .*none\.jsonl: check the path\.$"):
        read_log(tmp_path / "none.jsonl")
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ScalegateError, match=r"cannot be read as a decision log: export it again"):
        read_log(binary)


def test_broken_json_in_a_csv_cell_names_its_row(tmp_path: Path) -> None:
    text = to_bytes([GOOD], "csv").decode("utf-8-sig").replace("{}", "{oops", 1)
    path = tmp_path / "log.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScalegateError, match=r"^Row 1 of .*log\.csv holds broken JSON: export "):
        read_log(path)


def test_an_export_to_a_directory_that_does_not_exist_says_so(store, tmp_path: Path) -> None:
    out = tmp_path / "missing" / "log.jsonl"
    with pytest.raises(ScalegateError, match=r"log\.jsonl cannot be written \(.*\): pick another "):
        export_file(store, out)
    assert not out.with_name("log.jsonl.partial").exists()
    written = tmp_path / "log.csv"
    assert export_file(store, written) == 0
    assert written.read_bytes() == to_bytes([], "csv")
