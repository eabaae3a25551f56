"""The decision log's files, written and read back without a database: JSON Lines with sorted keys
and no NaN token, CSV text that a spreadsheet cannot evaluate and that reads back letter for letter."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest

from analytics.decide.decision_export import read_log, to_bytes


def _record(**kw: object) -> dict:
    base = {
        "snapshot": {"verdicts": [{"metric": "aht", "verdict": "scale"}], "b": 1, "a": 2},
        "answers": {"support": "yes", "owner": "@cfo"},
        "rationale": "Faster everywhere.",
        "owner": "@cfo",
        "decision": "go",
        "decided_at": "2025-02-03T10:00:00",
        "dataset_sha256": "ab" * 32,
        "dataset_name": "pilot.csv",
    }
    return base | kw


def test_a_json_lines_record_has_its_keys_sorted_at_every_depth() -> None:
    line = to_bytes([_record()], "jsonl").decode("utf-8")
    assert line.endswith("\n") and line.count("\n") == 1
    assert line.startswith('{"answers": {"owner": "@cfo", "support": "yes"}, "dataset_name": ')
    assert '"snapshot": {"a": 2, "b": 1, "verdicts": ' in line
    keys = list(json.loads(line))
    assert keys == sorted(keys)


def test_a_nan_in_a_snapshot_is_refused_not_written_as_a_bare_token() -> None:
    with pytest.raises(ValueError):
        to_bytes([_record(snapshot={"lift": math.nan})], "jsonl")
    with pytest.raises(ValueError):
        to_bytes([_record(snapshot={"lift": math.inf})], "jsonl")


@pytest.mark.parametrize(
    "text",
    ["'quoted' on purpose", "a-team", "x=1", "=SUM(A1)", "'=already inert", "-3 sites", "plain"],
)
def test_csv_text_reads_back_letter_for_letter(tmp_path: Path, text: str) -> None:
    out = tmp_path / "log.csv"
    out.write_bytes(to_bytes([_record(owner=text, rationale=text)], "csv"))
    row = next(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert not row["owner"].startswith(("=", "+", "-", "@"))
    assert row["owner"] == (("'" + text) if text.startswith(("=", "-", "'")) else text)
    [(where, back)] = read_log(out)
    assert where == "row 1"
    assert back["owner"] == text and back["rationale"] == text
