"""The decision log outside the database: every decision with its snapshot, as JSON Lines or CSV,
and back in.

A decision travels with the name and content hash (sha256) of its dataset, never the local ids,
so a log exported from one database imports into another that holds the same data. Importing
is idempotent: a decision already in the log is skipped, and a file is refused whole (one
sentence, nothing written) when it names data this database does not hold, holds the same
decision twice, or cannot be read.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from analytics.core.errors import ScalegateError
from analytics.decide.decisions import DECISION_KINDS, list_decisions
from analytics.store.database import Store

Format = Literal["jsonl", "csv"]
FIELDS = (
    "dataset_name",
    "dataset_sha256",
    "decided_at",
    "decision",
    "owner",
    "rationale",
    "answers",
    "snapshot",
)
_JSON_FIELDS = ("answers", "snapshot")
# Text a spreadsheet would evaluate gets a leading apostrophe; one already starting with an
# apostrophe gets another, so that import can take exactly one off and give back the text.
_INERT_START = ("=", "+", "-", "@", "\t", "\r", "'")
# Add one decision; ids are taken under the store's write lock.
_INSERT = (
    "INSERT INTO decisions VALUES ($id, $dataset_id, $decided_at, $decision, $owner, $rationale, "
    "$answers, $snapshot)"
)


def format_of(path: str | Path) -> Format:
    """JSON Lines (.jsonl, .ndjson, .json) or CSV (.csv), by the file's extension."""
    suffix = Path(path).suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    raise ScalegateError(
        f"{Path(path).name}: a decision log is a .jsonl (JSON Lines) or a .csv file."
    )


def export_records(store: Store) -> list[dict[str, Any]]:
    """Every decision as a plain record, oldest first."""
    datasets = {d.id: d for d in store.datasets()}
    records = []
    for d in sorted(list_decisions(store), key=lambda d: (d.decided_at, d.id)):
        info = datasets.get(d.dataset_id)
        records.append(
            {
                "dataset_name": info.name if info else "",
                "dataset_sha256": info.sha256 if info else "",
                "decided_at": d.decided_at.isoformat(),
                "decision": d.decision,
                "owner": d.owner,
                "rationale": d.rationale,
                "answers": d.answers,
                "snapshot": d.snapshot,
            }
        )
    return records


def _canonical(record: dict[str, Any]) -> str:
    return json.dumps({k: record[k] for k in FIELDS}, sort_keys=True, allow_nan=False)


def _identity(record: dict[str, Any]) -> str:
    """What makes two records the same decision: everything but the dataset's local name."""
    return json.dumps(
        {k: record[k] for k in FIELDS if k != "dataset_name"}, sort_keys=True, allow_nan=False
    )


def _inert(text: str) -> str:
    return "'" + text if text.startswith(_INERT_START) else text


def _restore(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(_INERT_START) else text


def to_bytes(records: Sequence[dict[str, Any]], fmt: Format) -> bytes:
    """The records as JSON Lines (one decision a line) or CSV (JSON in the answers and snapshot
    columns, formula-like text made inert, a BOM so spreadsheets read accents)."""
    if fmt == "jsonl":
        return "".join(_canonical(r) + "\n" for r in records).encode("utf-8")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(FIELDS)
    for r in records:
        writer.writerow(
            [
                json.dumps(r[k], sort_keys=True) if k in _JSON_FIELDS else _inert(r[k])
                for k in FIELDS
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")


def export_bytes(store: Store, fmt: Format) -> bytes:
    return to_bytes(export_records(store), fmt)


def export_file(store: Store, out: Path) -> int:
    """Write the whole log to `out` (format by extension); returns how many decisions."""
    fmt = format_of(out)
    records = export_records(store)
    data = to_bytes(records, fmt)
    partial = out.with_name(out.name + ".partial")
    try:
        partial.write_bytes(data)
        partial.replace(out)  # a failed write never leaves half a log under the real name
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ScalegateError(
            f"{out} cannot be written ({exc.strerror}): pick another --out."
        ) from exc
    return len(records)


@dataclass(frozen=True, slots=True)
class ImportResult:
    imported: int
    already_there: int


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a decision log holds")


def _strict_json(text: str) -> Any:
    """JSON as the export writes it: NaN and Infinity, which it never writes, are refused."""
    return json.loads(text, parse_constant=_no_constant)


def _rows(path: Path, fmt: Format) -> list[tuple[str, dict[str, Any]]]:
    """(where it is: "line 3" of a JSON Lines file, "row 2" of a CSV's records; raw record)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScalegateError(f"{path} cannot be read as a decision log: export it again.") from exc
    if fmt == "csv":
        reader = csv.DictReader(io.StringIO(text))
        return [(f"row {i}", row) for i, row in enumerate(reader, start=1)]
    out = []
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append((f"line {i}", _strict_json(line)))
        except ValueError as exc:
            raise ScalegateError(f"Line {i} of {path} is not JSON: export the log again.") from exc
    return out


def _record(raw: Any, fmt: Format, where: str) -> dict[str, Any]:
    """A raw line as a checked record, or a sentence saying what is wrong with it."""
    if not isinstance(raw, dict) or any(raw.get(k) is None for k in FIELDS):
        missing = [k for k in FIELDS if not isinstance(raw, dict) or raw.get(k) is None]
        raise ScalegateError(f"{where} lacks {', '.join(missing)}: export the log again.")
    record = dict(raw)
    if fmt == "csv":
        try:
            for k in FIELDS:
                value = record[k]
                record[k] = _strict_json(value) if k in _JSON_FIELDS else _restore(value)
        except ValueError as exc:
            raise ScalegateError(f"{where} holds broken JSON: export the log again.") from exc
    if record["decision"] not in DECISION_KINDS:
        raise ScalegateError(f"{where}: {record['decision']!r} is not a decision.")
    if not all(isinstance(record[k], dict) for k in _JSON_FIELDS):
        raise ScalegateError(f"{where}: answers and snapshot must be JSON objects.")
    if not all(isinstance(record[k], str) for k in FIELDS if k not in _JSON_FIELDS):
        raise ScalegateError(f"{where}: names, dates and text must be strings.")
    try:
        datetime.fromisoformat(record["decided_at"])
    except ValueError as exc:
        raise ScalegateError(f"{where}: {record['decided_at']!r} is not a date.") from exc
    if not record["owner"].strip():
        raise ScalegateError(f"{where} has no owner: every decision needs one.")
    return {k: record[k] for k in FIELDS}


def read_log(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """Every decision in an exported log, checked, with its line number. Raises ScalegateError
    for a file that is not a whole log or holds the same decision twice."""
    fmt = format_of(path)
    if not path.is_file():
        raise ScalegateError(f"There is no file {path}: check the path.")
    records = [(n, _record(raw, fmt, f"{n.capitalize()} of {path}")) for n, raw in _rows(path, fmt)]
    first: dict[str, str] = {}
    for n, record in records:
        key = _identity(record)
        if key in first:
            raise ScalegateError(
                f"{first[key].capitalize()} and {n} of {path} hold the same decision: remove one and "
                "import again."
            )
        first[key] = n
    return records


def import_file(store: Store, path: Path) -> ImportResult:
    """Add the decisions of an exported log that this database does not hold yet, in one
    transaction. Raises ScalegateError (nothing added) when any names data not stored here."""
    records = read_log(path)
    by_hash = {d.sha256: d.id for d in reversed(store.datasets())}  # the oldest holder wins
    for n, record in records:
        if record["dataset_sha256"] not in by_hash:
            raise ScalegateError(
                f"{n.capitalize()} of {path} is a decision on the dataset {record['dataset_name']!r}, "
                "which this database does not hold: load that data first, then import again."
            )
    with store.transaction() as cur:
        stored = {_identity(r) for r in export_records(store)}
        row = cur.execute("SELECT coalesce(max(id), 0) FROM decisions").fetchone()
        next_id = int(row[0]) + 1 if row else 1
        added = 0
        for _, record in records:
            if _identity(record) in stored:
                continue
            cur.execute(_INSERT, _params(record, next_id + added, by_hash))
            added += 1
    return ImportResult(added, len(records) - added)


def _params(record: dict[str, Any], new_id: int, by_hash: dict[str, int]) -> dict[str, Any]:
    return {
        "id": new_id,
        "dataset_id": by_hash[record["dataset_sha256"]],
        "decided_at": datetime.fromisoformat(record["decided_at"]),
        "decision": record["decision"],
        "owner": record["owner"],
        "rationale": record["rationale"],
        "answers": json.dumps(record["answers"], allow_nan=False),
        "snapshot": json.dumps(record["snapshot"], allow_nan=False),
    }
