"""A title block whose lines end otherwise than the table below it (a report tool writing its
title with LF above a CRLF table, or the reverse) loads every row; it used to be refused with
"No line ... has as many columns as its header" (found by the new-user Chromium run)."""

from __future__ import annotations

import pytest

from analytics.ingest.load import Source, load_files
from analytics.store.database import Store

ROWS = [
    ("02/01/2024", "Leeds", "Before AI", "Yes", "6.5"),
    ("02/01/2024", "Hull", "Pilot", "No", "5.9"),
    ("09/01/2024", "Leeds", "Before AI", "No", "7.1"),
    ("09/01/2024", "Hull", "Rolled out", "Yes", "5.2"),
    ("16/01/2024", "York", "Rolled out", "Yes", "4.8"),
    ("16/01/2024", "York", "Before AI", "Yes", "6.9"),
]
HEADER = "Week commencing,Site,Deployment stage,Resolved first time,Handle time (min)"


def _file(title_end: str, table_end: str) -> bytes:
    title = f"Contact centre weekly performance{title_end}Exported 20/01/2024{title_end}"
    table = table_end.join([HEADER, *(",".join(r) for r in ROWS)]) + table_end
    return (title + table).encode()


@pytest.mark.parametrize(
    ("title_end", "table_end", "lenient"),
    [("\n", "\r\n", True), ("\r\n", "\n", True), ("\r\n", "\r\n", False), ("\n", "\n", False)],
)
def test_every_row_loads_whatever_ends_the_title(title_end: str, table_end: str, lenient: bool):
    store = Store(":memory:")
    found = load_files(store, [Source.from_bytes("weekly.csv", _file(title_end, table_end))])
    report = found.report.to_dict()
    assert (report["rows_read"], report["rows_loaded"], report["rows_rejected"]) == (6, 6, 0)
    rows = (
        store.cursor()
        .execute(
            f"SELECT phase, count(*), sum(resolved_first_time), round(sum(handle_time_min), 2) "  # noqa: S608
            f"FROM obs_{found.dataset_id} GROUP BY 1 ORDER BY 1"
        )
        .fetchall()
    )
    assert rows == [
        ("baseline", 3, 2.0, 20.5),
        ("pilot", 1, 0.0, 5.9),
        ("production", 2, 2.0, 10.0),
    ]
    warned = any("mixes line endings" in w for w in report["warnings"])
    assert warned == lenient
