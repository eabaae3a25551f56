"""Appending a new period's file to a stored dataset, in one transaction.

The file is read by the ordinary load (load_files) into a scratch in-memory database, with the
dataset's own column roles, phase values and date format (from its first load's plan, stored in
`loads`), so it is cleaned and counted exactly as the first file was and its day cells are built
by the same code. Then, in one write transaction on the store:

- days the dataset already holds are refused, or, with replace_overlap, their rows and day cells
  are deleted first (a day is replaced whole: every site and channel of it);
- the new rows and the new day cells are inserted: only the days of the file are computed, the
  stored cells of every other day are left as they are;
- the dataset's fingerprint (datasets.sha256, the caches' key) becomes the hash of the old
  fingerprint and the file's hash, its row counts grow, and a `loads` record says what was added.

A process killed part way leaves the dataset as it was: nothing is committed before the end.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from dataclasses import replace as dc_replace
from datetime import date
from typing import Any

import duckdb
import pyarrow as pa

from analytics.core.errors import ScalegateError
from analytics.ingest.load import Source, load_files
from analytics.ingest.plan import ROLES, Plan
from analytics.ingest.read import open_source
from analytics.ingest.report import ValidationReport
from analytics.store import history
from analytics.store.database import (
    DatasetInfo,
    Store,
    cells_table_name,
    obs_table_name,
    quote_ident,
)


@dataclass(frozen=True, slots=True)
class AppendResult:
    """What an append did to a dataset."""

    dataset_id: int
    name: str
    report: ValidationReport  # the appended file's own validation report
    rows_added: int
    rows_replaced: int
    days_added: int
    days_replaced: int
    date_min: date | None
    date_max: date | None
    sha256: str  # the dataset's new fingerprint
    already_appended: bool = False

    def summary(self) -> str:
        """One sentence on what changed, for the CLI and the Data page."""
        if self.already_appended:
            return f"This file was already added to {self.name}: nothing changed."
        span = f" ({self.date_min} to {self.date_max})" if self.date_min else ""
        text = (
            f"Added {self.rows_added:,} rows over {self.days_added} days{span} "
            f"to dataset {self.name} (id {self.dataset_id})"
        )
        if self.days_replaced:
            text += f", replacing {self.rows_replaced:,} rows of {self.days_replaced} days"
        return text + "."

    def to_text(self) -> str:
        return self.report.to_text() + "\n" + self.summary()


def _headers(sources: Sequence[Source]) -> tuple[str, ...]:
    """The first file's headers, as the load would read them (no data is read)."""
    with ExitStack() as stack:
        con = duckdb.connect(":memory:")
        stack.callback(con.close)
        return open_source(con, sources[0], stack).headers


def _check_headers(info: DatasetInfo, plan: dict[str, Any], sources: Sequence[Source]) -> None:
    want = {h.lower(): h for h in plan["headers"]}
    have = {h.lower(): h for h in _headers(sources)}
    missing = [h for k, h in want.items() if k not in have]
    extra = [h for k, h in have.items() if k not in want]
    if missing or extra:
        detail = f"it lacks {', '.join(missing)}" if missing else ""
        if extra:
            detail += ("; " if detail else "") + f"it has {', '.join(extra)} in addition"
        raise ScalegateError(
            f"The file {sources[0].name} does not have the columns of dataset {info.name} "
            f"({detail}): add a file with the same columns, or load it as a new dataset."
        )


def _same_reading(plan: dict[str, Any]):
    """The dataset's mapping and the plan adapter that reuses its phase values and date format."""
    mapping = {h: (r if r in ROLES else "ignore") for h, r in plan.get("roles", {}).items()}

    def adapt(new: Plan) -> Plan:
        return dc_replace(
            new,
            date_format=plan["date_format"],
            phase_keys={k: tuple(v) for k, v in plan["phase_keys"].items()},
        )

    return mapping, adapt


@dataclass(frozen=True, slots=True)
class _Staged:
    """The file read and cleaned in a scratch database: rows, day cells, report, hash."""

    rows: pa.Table
    cells: pa.Table
    report: ValidationReport
    sha256: str


def _stage(
    info: DatasetInfo, plan: dict[str, Any], sources: Sequence[Source], strict: bool
) -> _Staged:
    mapping, adapt = _same_reading(plan) if plan else ({}, None)
    scratch = Store(":memory:")
    try:
        loaded = load_files(scratch, sources, mapping=mapping, adapt=adapt, strict=strict)  # type: ignore[arg-type]
        cur = scratch.cursor()
        table = obs_table_name(loaded.dataset_id)
        rows = cur.sql(f"SELECT * FROM {table}").to_arrow_table()  # noqa: S608 (name from an int)
        cells = cur.sql(
            f"SELECT * FROM {cells_table_name(loaded.dataset_id)}"  # noqa: S608 (name from an int)
        ).to_arrow_table()
        sha = cur.execute(
            "SELECT sha256 FROM datasets WHERE id = $id", {"id": loaded.dataset_id}
        ).fetchone()
    finally:
        scratch.close()
    assert sha is not None
    return _Staged(rows, cells, loaded.report, str(sha[0]))


def _columns(cur: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [
        r[0]
        for r in cur.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = $t ORDER BY column_index",
            {"t": table},
        ).fetchall()
    ]


def _check_columns(cur: duckdb.DuckDBPyConnection, info: DatasetInfo, staged: _Staged) -> None:
    """The file must give exactly the dataset's metrics (same ids, so the same columns)."""
    stored = set(_columns(cur, obs_table_name(info.id)))
    new = set(staged.rows.column_names)
    if stored != new:
        missing, extra = sorted(stored - new), sorted(new - stored)
        detail = f"it lacks {', '.join(missing)}" if missing else ""
        if extra:
            detail += ("; " if detail else "") + f"it has {', '.join(extra)} in addition"
        raise ScalegateError(
            f"The file does not hold the metrics of dataset {info.name} ({detail}): add a file "
            "with the same columns, or load it as a new dataset."
        )
    if not cur.execute(
        f"SELECT count(date) FROM {cells_table_name(info.id)}"  # noqa: S608 (name from an int)
    ).fetchall()[0][0]:
        raise ScalegateError(
            f"Dataset {info.name} has no dates, so new rows cannot be told from old ones: "
            "load the combined file as a replacement instead."
        )


def append_files(
    store: Store,
    dataset: int | str,
    sources: Sequence[Source],
    *,
    replace_overlap: bool = False,
    strict: bool = False,
) -> AppendResult:
    """Add the files' rows to a stored dataset in one transaction (see the module docstring).

    Raises ScalegateError, with nothing changed, when the files do not have the dataset's
    columns, or repeat days it holds and replace_overlap is not given.
    """
    if not sources:
        raise ScalegateError("Give at least one file to add.")
    info = store.dataset(dataset)
    store.require_rows(info.id, "append to")  # a dataset computed on Spark has no rows here
    plan = history.stored_plan(store.cursor(), info.id)
    if plan:
        _check_headers(info, plan, sources)
    staged = _stage(info, plan, sources, strict)
    with store.transaction() as cur:
        info = store.dataset(info.id)  # as it is now, under the write lock
        _check_columns(cur, info, staged)
        earlier = cur.execute(
            "SELECT count(*) FROM loads WHERE dataset_id = $id AND sha256 = $h",
            {"id": info.id, "h": staged.sha256},
        ).fetchall()
        if earlier[0][0]:
            return _unchanged(info, staged)
        return _apply(cur, info, staged, replace_overlap)


def _unchanged(info: DatasetInfo, staged: _Staged) -> AppendResult:
    return AppendResult(
        info.id, info.name, staged.report, 0, 0, 0, 0, None, None, info.sha256, True
    )


def _overlap(cur: duckdb.DuckDBPyConnection, info: DatasetInfo) -> list[date]:
    """The days of the staged file that the dataset already holds."""
    rows = cur.execute(
        f"SELECT DISTINCT date FROM {cells_table_name(info.id)} "  # noqa: S608 (name from an int)
        "WHERE date IN (SELECT date FROM staged_cells) ORDER BY date"
    ).fetchall()
    return [r[0] for r in rows]


def _apply(
    cur: duckdb.DuckDBPyConnection, info: DatasetInfo, staged: _Staged, replace_overlap: bool
) -> AppendResult:
    cur.register("staged_rows", staged.rows)
    cur.register("staged_cells", staged.cells)
    overlap = _overlap(cur, info)
    if overlap and not replace_overlap:
        raise ScalegateError(
            f"The file repeats {len(overlap)} days that dataset {info.name} already holds "
            f"({overlap[0]} to {overlap[-1]}): add only new days, or replace those days "
            "(--replace-overlap)."
        )
    replaced = _replace_days(cur, info, overlap)
    _insert(cur, info)
    span = cur.execute(
        "SELECT min(date), max(date), count(DISTINCT date) FROM staged_cells"
    ).fetchone()
    assert span is not None
    added = staged.report.rows_loaded
    sha = hashlib.sha256(f"{info.sha256}\n{staged.sha256}".encode()).hexdigest()
    cur.execute(
        "UPDATE datasets SET sha256 = $sha, rows = rows + $added - $replaced, "
        "rejected = rejected + $rejected, source = concat_ws(', ', source, $source) "
        "WHERE id = $id",
        {
            "sha": sha,
            "added": added,
            "replaced": replaced,
            "rejected": staged.report.rows_rejected,
            "source": ", ".join(staged.report.files),
            "id": info.id,
        },
    )
    history.record(
        cur,
        info.id,
        kind="append",
        source=", ".join(staged.report.files),
        sha256=staged.sha256,
        rows_added=added,
        rows_rejected=staged.report.rows_rejected,
        dates=(span[0], span[1]),
        plan=None,
        report=staged.report.to_dict(),
        rows_replaced=replaced,
        days_replaced=len(overlap),
    )
    return AppendResult(
        info.id, info.name, staged.report, added, replaced, int(span[2]), len(overlap),
        span[0], span[1], sha,
    )  # fmt: skip


def _replace_days(cur: duckdb.DuckDBPyConnection, info: DatasetInfo, days: list[date]) -> int:
    """Delete the rows and day cells of whole days; the number of rows deleted."""
    if not days:
        return 0
    obs, cells = obs_table_name(info.id), cells_table_name(info.id)
    found = cur.execute(
        f"SELECT count(*) FROM {obs} WHERE list_contains($days, date)",  # noqa: S608 (name from an int)
        {"days": days},
    ).fetchone()
    cur.execute(f"DELETE FROM {obs} WHERE list_contains($days, date)", {"days": days})  # noqa: S608 (name from an int)
    cur.execute(f"DELETE FROM {cells} WHERE list_contains($days, date)", {"days": days})  # noqa: S608 (name from an int)
    return int(found[0]) if found else 0


def _insert(cur: duckdb.DuckDBPyConnection, info: DatasetInfo) -> None:
    """The staged rows and their day cells into the dataset's tables, matched by name."""
    for table, staged in (
        (obs_table_name(info.id), "staged_rows"),
        (cells_table_name(info.id), "staged_cells"),
    ):
        names = ", ".join(quote_ident(c) for c in _columns(cur, table))
        cur.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {staged}")  # noqa: S608 (names quoted)
