"""Ingest: every file variant a business sends, loaded into the wide store with an exact report.

Each test writes its own small file; the expected counts are worked out by hand from the rows
written in the test.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import math
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analytics.core.catalog import read_catalog
from analytics.core.errors import ScalegateError
from analytics.ingest import load as ingest
from analytics.ingest.load import Source, detect, load_files
from analytics.store.database import Store

HEADER = "date,phase,site,channel,cost_per_case,accuracy"
ROWS = [
    "2024-01-01,baseline,Plant A,web,10.5,0.81",
    "2024-01-02,baseline,Plant B,phone,11,0.79",
    "2024-02-01,pilot,Plant A,web,9,0.9",
    "2024-02-02,pilot,Plant A,phone,8.5,0.92",
    "2024-03-01,production,Plant A,web,9.5,0.88",
    "2024-03-02,production,Plant B,phone,10,0.85",
]
BASIC = "\n".join([HEADER, *ROWS]) + "\n"


def expected_long(rows: list[str] = ROWS) -> list[tuple]:
    """The telemetry rows the BASIC file must give: one per (row, metric), values exact."""
    out = []
    for row in rows:
        d, phase, site, channel, cost, acc = row.split(",")
        day = dt.date.fromisoformat(d)
        out.append((day, phase, site, channel, "accuracy", float(acc)))
        out.append((day, phase, site, channel, "cost_per_case", float(cost)))
    return sorted(out)


def telemetry(store: Store, dataset_id: int) -> list[tuple]:
    return (
        store.cursor()
        .execute(
            "SELECT date, phase, site, channel, metric, value FROM telemetry "
            "WHERE dataset_id = $id ORDER BY ALL",
            {"id": dataset_id},
        )
        .fetchall()
    )


def load_text(
    store: Store, text: str | bytes, file_name: str = "data.csv", **kw
) -> ingest.LoadResult:
    data = text if isinstance(text, bytes) else text.encode()
    return load_files(store, [Source.from_bytes(file_name, data)], **kw)


# -- the clean file and its fast path --------------------------------------------------------


def test_a_clean_csv_is_stored_wide_and_read_back_exactly(store: Store) -> None:
    result = load_text(store, BASIC, "pilot.csv")
    report = result.report
    assert (result.dataset_id, result.name, result.already_loaded) == (1, "pilot", False)
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (6, 6, 0)
    assert report.phases == {"baseline": 2, "pilot": 2, "production": 2}
    assert report.metrics == {"cost_per_case": "cost_per_case", "accuracy": "accuracy"}
    assert (report.encoding, report.delimiter, report.form) == ("UTF-8", "comma", "wide")
    assert report.rejected == {} and report.duplicate_rows == 0 and report.warnings == ()
    assert report.sites_without_baseline == () and report.sites_only_in_production == ()
    assert all(m.total == 0 for m in report.missing_values.values())
    cur = store.cursor()
    columns = cur.execute("DESCRIBE obs_1").fetchall()
    assert [(c[0], c[1]) for c in columns] == [
        ("date", "DATE"),
        ("phase", "VARCHAR"),
        ("site", "VARCHAR"),
        ("channel", "VARCHAR"),
        ("cost_per_case", "DOUBLE"),
        ("accuracy", "DOUBLE"),
    ]
    row = cur.execute("SELECT id, name, source, rows, rejected, obs_table FROM datasets").fetchone()
    assert row == (1, "pilot", "pilot.csv", 6, 0, "obs_1")
    assert store.report(1)["rows_loaded"] == 6
    catalog = read_catalog(cur, 1)
    assert catalog.ids == ("cost_per_case", "accuracy")
    assert telemetry(store, 1) == expected_long()


def test_the_report_reads_as_text_and_json(store: Store) -> None:
    report = load_text(store, BASIC).report
    text = report.to_text()
    assert "Read 6 rows from data.csv (UTF-8, comma-separated, wide form)." in text
    assert "Loaded 6 rows; set aside 0." in text
    assert json.loads(json.dumps(report.to_dict()))["phases"]["pilot"] == 2


@pytest.mark.parametrize(
    ("encoding", "prefix", "label"),
    [
        ("utf-8", b"", "UTF-8"),
        ("utf-8", b"\xef\xbb\xbf", "UTF-8 with BOM"),
        ("latin-1", b"", "Latin-1"),
        ("utf-16-le", b"\xff\xfe", "UTF-16"),  # Excel's "Unicode text": BOM, then tabs
    ],
)
def test_encodings_are_read_by_duckdb(store: Store, encoding: str, prefix: bytes, label: str):
    sep = "\t" if encoding.startswith("utf-16") else ","
    text = (
        f"phase{sep}Standort{sep}Kosten (€){sep}Qualität\n"
        f"baseline{sep}Zürich{sep}1.5{sep}0.5\n"
        f"pilot{sep}München{sep}2.25{sep}0.75\r\n"
    )
    if encoding == "latin-1":
        text = text.replace("€", "EUR")
    result = load_text(store, prefix + text.encode(encoding), "enc.csv")
    assert result.report.encoding == label
    assert result.report.rows_loaded == 2
    # Standort is the German for site: its names survive every encoding.
    rows = telemetry(store, result.dataset_id)
    assert [r[5] for r in rows if r[4] == "qualitat"] == [0.5, 0.75]
    assert {r[2] for r in rows} == {"Zürich", "München"}
    assert result.report.ignored_columns == ()


def test_latin1_site_names_round_trip(store: Store) -> None:
    text = "phase,site,cost\nbaseline,Zürich,1\npilot,Genève,2\nproduction,Köln,3\n"
    result = load_text(store, text.encode("latin-1"))
    assert result.report.encoding == "Latin-1"
    sites = {r[2] for r in telemetry(store, result.dataset_id)}
    assert sites == {"Zürich", "Genève", "Köln"}


def test_a_latin1_byte_after_the_first_64_kb_is_read_as_latin1(store: Store) -> None:
    body = "baseline,Plant A,1\n" * 5000 + "pilot,Zürich,2\n"
    result = load_text(store, ("phase,site,cost\n" + body).encode("latin-1"))
    assert result.report.encoding == "Latin-1"
    assert result.report.rows_loaded == 5001 and result.report.rows_rejected == 0
    got = store.cursor().execute("SELECT site FROM obs_1 WHERE phase = 'pilot'").fetchall()
    assert got == [("Zürich",)]


@pytest.mark.parametrize(
    ("delimiter", "label"), [(",", "comma"), (";", "semicolon"), ("\t", "tab"), ("|", "pipe")]
)
def test_delimiters_are_sniffed(store: Store, delimiter: str, label: str) -> None:
    text = BASIC.replace(",", delimiter)
    result = load_text(store, text)
    assert result.report.delimiter == label
    assert result.report.rows_loaded == 6
    assert telemetry(store, result.dataset_id) == expected_long()


def test_crlf_line_endings(store: Store) -> None:
    result = load_text(store, BASIC.replace("\n", "\r\n"))
    assert result.report.rows_loaded == 6
    assert telemetry(store, result.dataset_id) == expected_long()


def test_mixed_line_endings_far_into_the_file_are_read_leniently(store: Store) -> None:
    head = "".join(f"{('baseline', 'pilot')[i % 2]},{i}\n" for i in range(30_000))
    tail = "".join(f"production,{i}\r\n" for i in range(5))
    result = load_text(store, "phase,cost\n" + head + tail)
    assert (result.report.rows_loaded, result.report.rows_rejected) == (30_005, 0)
    assert any("mixes line endings" in w for w in result.report.warnings)
    assert store.datasets()[0].rows == 30_005


def test_gzip_from_bytes_and_from_a_path(store: Store, write) -> None:
    packed = gzip.compress(BASIC.encode())
    first = load_text(store, packed, "pilot.csv.gz")
    assert (first.report.rows_loaded, first.name) == (6, "pilot")
    path = write("other.csv.gz", gzip.compress(BASIC.replace("10.5", "10.25").encode()))
    second = load_files(store, [Source.from_path(path)])
    assert second.report.rows_loaded == 6
    assert telemetry(store, first.dataset_id) == expected_long()


def test_parquet(store: Store, write) -> None:
    table = pa.table(
        {
            "Date": [dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 3, 1)],
            "Stage": ["Baseline", "Pilot", "Production"],
            "Plant": ["North", "North", "South"],
            "Cost": [1.5, 2.0, None],
            "Tickets": pa.array([3, 4, 5], pa.int64()),
        }
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    result = load_text(store, buffer.getvalue(), "export.parquet")
    report = result.report
    assert (report.encoding, report.delimiter, report.rows_loaded) == ("Parquet", "", 3)
    assert report.missing_values["cost"].empty == 1
    assert telemetry(store, result.dataset_id) == [
        (dt.date(2024, 1, 1), "baseline", "North", "all", "cost", 1.5),
        (dt.date(2024, 1, 1), "baseline", "North", "all", "tickets", 3.0),
        (dt.date(2024, 2, 1), "pilot", "North", "all", "cost", 2.0),
        (dt.date(2024, 2, 1), "pilot", "North", "all", "tickets", 4.0),
        (dt.date(2024, 3, 1), "production", "South", "all", "tickets", 5.0),
    ]
    path = write("same.parquet", buffer.getvalue())
    assert load_files(store, [Source.from_path(path)]).already_loaded


def test_excel_workbook(store: Store, write) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Date", "Phase", "Site", "Cost per case (EUR)", "Comment"])
    sheet.append([dt.date(2024, 1, 1), "baseline", 101, 12.5, "first"])
    sheet.append([dt.datetime(2024, 2, 1, 9, 30), "pilot", 102, 10, None])
    sheet.append([dt.date(2024, 3, 1), "production", 101, None, "x"])
    buffer = io.BytesIO()
    book.save(buffer)
    result = load_text(store, buffer.getvalue(), "book.xlsx")
    report = result.report
    assert (report.encoding, report.rows_loaded, report.rows_rejected) == ("Excel workbook", 3, 0)
    assert report.metrics == {"cost_per_case_eur": "Cost per case (EUR)"}
    assert report.ignored_columns == ("Comment",)
    assert report.missing_values["cost_per_case_eur"].empty == 1
    assert telemetry(store, result.dataset_id) == [
        (dt.date(2024, 1, 1), "baseline", "101", "all", "cost_per_case_eur", 12.5),
        (dt.date(2024, 2, 1), "pilot", "102", "all", "cost_per_case_eur", 10.0),
    ]
    # The same workbook under a .csv name is still read as a workbook.
    path = write("renamed.csv", buffer.getvalue())
    assert load_files(store, [Source.from_path(path)]).already_loaded


# -- long form, mappings, synonyms ------------------------------------------------------------


def test_long_form_is_stored_as_sparse_wide_rows(store: Store) -> None:
    text = (
        "date,phase,site,kpi,value\n"
        "2024-01-01,baseline,A,Cost per case,10\n"
        "2024-01-01,baseline,A,Accuracy,0.8\n"
        "2024-02-01,pilot,A,Cost per case,9\n"
        "2024-02-01,pilot,A,Accuracy,\n"
        "2024-03-01,production,B,Cost per case,n/a?\n"
        "2024-03-01,production,B,Accuracy,0.85\n"
        "2024-03-01,production,B,,0.1\n"
    )
    result = load_text(store, text)
    report = result.report
    assert report.form == "long"
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (7, 6, 1)
    assert report.rejected["no metric name"].count == 1
    assert report.rejected["no metric name"].lines == (8,)
    assert report.metrics == {"cost_per_case": "Cost per case", "accuracy": "Accuracy"}
    assert report.missing_values["accuracy"].empty == 1
    assert report.missing_values["cost_per_case"].unreadable == 1
    assert report.missing_values["cost_per_case"].lines == (6,)
    cur = store.cursor()
    # One stored row per input line, the other metric NULL.
    assert cur.execute(
        "SELECT count(*), count(cost_per_case), count(accuracy) FROM obs_1"
    ).fetchone() == (6, 2, 2)
    assert [r[4:] for r in telemetry(store, 1)] == [
        ("accuracy", 0.8),
        ("cost_per_case", 10.0),
        ("cost_per_case", 9.0),
        ("accuracy", 0.85),
    ]


def test_an_explicit_mapping_and_phase_map(store: Store) -> None:
    text = (
        "Stufe;Werk;Kanal;Kosten\n"
        "vorher;Nord;Web;10\n"
        "test;Nord;Web;9\n"
        "live;Süd;Web;8\n"
        "TEST;Süd;Telefon;7\n"
    )
    mapping = {"Stufe": "phase", "Werk": "site", "Kanal": "channel"}
    phase_map = {"vorher": "baseline", "test": "pilot"}
    result = load_text(store, text, mapping=mapping, phase_map=phase_map)
    assert result.report.phases == {"baseline": 1, "pilot": 2, "production": 1}
    assert telemetry(store, result.dataset_id) == [
        (None, "baseline", "Nord", "Web", "kosten", 10.0),
        (None, "pilot", "Nord", "Web", "kosten", 9.0),
        (None, "pilot", "Süd", "Telefon", "kosten", 7.0),
        (None, "production", "Süd", "Web", "kosten", 8.0),
    ]


def test_a_phase_map_can_overrule_a_synonym(store: Store) -> None:
    text = "phase,cost\ncontrol,1\nlive,2\npilot,3\n"
    result = load_text(store, text, phase_map={"pilot": "production", "control": "baseline"})
    assert result.report.phases == {"baseline": 1, "pilot": 0, "production": 2}


def test_synonyms_of_column_names_and_phase_values(store: Store) -> None:
    text = (
        "Period Start,Deployment-Phase,PLANT,Touch point,Handle time (min)\n"
        "2024-01-01,Pre-AI,P1,Chat,5\n"
        "2024-01-02,status quo,P1,Chat,6\n"
        "2024-01-03,Legacy,P1,Chat,7\n"
        "2024-02-01,PoC,P1,Chat,4\n"
        "2024-02-02,Proof of Concept,P1,Chat,4.5\n"
        "2024-02-03,trial,P1,Chat,4.25\n"
        "2024-03-01,Rollout,P2,Chat,3\n"
        "2024-03-02,GA,P2,Chat,3.5\n"
        "2024-03-03,Scaled,P2,Chat,3.75\n"
        "2024-03-04,test,P2,Chat,9\n"
    )
    det = detect([Source.from_bytes("s.csv", text.encode())])
    assert det.roles == {
        "Period Start": "date",
        "Deployment-Phase": "phase",
        "PLANT": "site",
        "Touch point": "channel",
        "Handle time (min)": "metric",
    }
    assert det.phase_values["test"] is None  # "test" is never taken for the pilot
    assert det.phase_values["Pre-AI"] == "baseline" and det.phase_values["GA"] == "production"
    report = load_text(store, text).report
    assert report.phases == {"baseline": 3, "pilot": 3, "production": 3}
    assert report.unknown_phases == {"test": 1}
    assert report.rejected["unknown phase value"].count == 1
    assert report.rejected["unknown phase value"].lines == (11,)
    assert report.metrics == {"handle_time_min": "Handle time (min)"}


def test_no_site_channel_or_date_columns(store: Store) -> None:
    result = load_text(store, "phase,cost\nbaseline,1\npilot,2\nproduction,3\n")
    assert telemetry(store, result.dataset_id) == [
        (None, "baseline", "all", "all", "cost", 1.0),
        (None, "pilot", "all", "all", "cost", 2.0),
        (None, "production", "all", "all", "cost", 3.0),
    ]


def test_identifier_columns_are_not_metrics(store: Store) -> None:
    lines = ["id,case_id,UUID,Year,week_number,row,phase,tickets,cost"]
    for i in range(30):
        phase = ("baseline", "pilot", "production")[i % 3]
        lines.append(f"{i},{1000 + i},u{i},2024,{i % 52},{i + 1},{phase},{100 + i * 7},{i % 4}")
    text = "\n".join(lines) + "\n"
    report = load_text(store, text).report
    assert report.identifiers == ("id", "case_id", "UUID", "Year", "week_number", "row")
    # tickets: distinct whole numbers, but named like a metric, so a metric.
    assert report.metrics == {"tickets": "tickets", "cost": "cost"}
    assert any("row holds a different whole number" in w for w in report.warnings)
    again = load_text(Store(":memory:"), text, mapping={"row": "metric"}).report
    assert list(again.metrics) == ["row", "tickets", "cost"]
    assert "row" not in again.identifiers


# -- numbers as business files write them ---------------------------------------------------


def test_thousands_currency_and_percent(store: Store) -> None:
    text = (
        "phase,revenue,share,fee\n"
        'baseline,"1,000.50",12.5%,€1.5\n'
        'pilot,"$2,000",50 %,EUR 2\n'
        'production,"£3,000.25",0.5%,(1.25)\n'
        "production,USD 4,100%,n/a\n"
        "production,oops,,12\n"
    )
    report = load_text(store, text).report
    got = store.cursor().execute("SELECT revenue, share, fee FROM obs_1 ORDER BY rowid").fetchall()
    assert got == [
        (1000.5, 0.125, 1.5),
        (2000.0, 0.5, 2.0),
        (3000.25, 0.005, -1.25),
        (4.0, 1.0, None),
        (None, None, 12.0),
    ]
    assert report.missing_values["revenue"].unreadable == 1
    assert report.missing_values["revenue"].lines == (6,)
    assert report.missing_values["fee"].empty == 1  # n/a is a way of writing "no value"
    assert report.missing_values["share"].empty == 1


def test_decimal_commas_in_a_semicolon_file(store: Store) -> None:
    text = (
        "phase;cost;rate;count\n"
        "baseline;1.000,50;12,5%;3\n"
        "pilot;2,25;3,5;4\n"
        "production;-1.234.567,8;0,5;5\n"
    )
    report = load_text(store, text).report
    # "count" (whole numbers above 1) is the rows' volume: stored as the weight, not a metric.
    got = store.cursor().execute("SELECT cost, rate, weight FROM obs_1 ORDER BY rowid").fetchall()
    assert got == [(1000.5, 0.125, 3.0), (2.25, 3.5, 4.0), (-1234567.8, 0.5, 5.0)]
    assert report.delimiter == "semicolon"


def test_a_late_text_cell_in_a_typed_number_column_is_cleaned_not_dropped(store: Store) -> None:
    body = "".join(f"{('baseline', 'pilot')[i % 2]},{i % 10}\n" for i in range(60_000))
    text = "phase,cost\n" + body + 'production,"1,234.5"\nproduction,bad\n'
    report = load_text(store, text).report
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (60_002, 60_002, 0)
    assert report.missing_values["cost"].unreadable == 1
    got = store.cursor().execute("SELECT cost FROM obs_1 WHERE phase = 'production'").fetchall()
    assert sorted(got, key=str) == [(1234.5,), (None,)]


def test_nan_and_infinity_are_set_aside_as_missing(store: Store) -> None:
    text = "phase,x,y\nbaseline,1.5,NaN\npilot,inf,2\nproduction,-Infinity,3\nproduction,2,4\n"
    report = load_text(store, text).report
    assert report.missing_values["x"].not_finite == 2
    assert report.missing_values["y"].not_finite == 1
    assert report.missing_values["x"].lines == (3, 4)
    got = store.cursor().execute("SELECT x, y FROM obs_1 ORDER BY rowid").fetchall()
    assert got == [(1.5, None), (None, 2.0), (None, 3.0), (2.0, 4.0)]
    assert not any(math.isnan(v[5]) for v in telemetry(store, 1))


def test_dates_in_several_formats_and_unreadable_dates(store: Store) -> None:
    text = (
        "date;phase;cost\n"
        "31/01/2024;baseline;1\n"
        "2024-02-15;pilot;2\n"
        "29/02/2024;pilot;3\n"
        "someday;production;4\n"
        ";production;5\n"
    ) + "2024-03-01;production;6\n" * 100
    report = load_text(store, text).report
    assert report.rows_loaded == 105
    assert report.unreadable_dates == 1 and report.date_lines == (5,)
    assert report.blank_dates == 1
    got = store.cursor().execute("SELECT date FROM obs_1 ORDER BY rowid LIMIT 5").fetchall()
    assert got == [
        (dt.date(2024, 1, 31),),
        (dt.date(2024, 2, 15),),
        (dt.date(2024, 2, 29),),
        (None,),
        (None,),
    ]
    # One unreadable date in five filled ones (more than 1%) means the format was misread.
    with pytest.raises(ScalegateError, match=r"1 of the 4 dates in the column date \(25\.0%\)"):
        load_text(Store(":memory:"), text.split("2024-03-01")[0])


@pytest.mark.parametrize(
    ("delimiter", "expected"),
    [
        (",", [dt.date(2024, 1, 2), dt.date(2024, 3, 4)]),
        (";", [dt.date(2024, 2, 1), dt.date(2024, 4, 3)]),
    ],
    ids=["comma file: month first", "semicolon file: day first"],
)
def test_ambiguous_dates_follow_the_files_conventions(store: Store, delimiter, expected) -> None:
    text = f"date{delimiter}phase{delimiter}cost\n01/02/2024{delimiter}baseline{delimiter}1\n"
    text += f"03/04/2024{delimiter}pilot{delimiter}2\n"
    load_text(store, text)
    got = store.cursor().execute("SELECT date FROM obs_1 ORDER BY rowid").fetchall()
    assert [r[0] for r in got] == expected


def test_an_unambiguous_day_decides_the_format(store: Store) -> None:
    load_text(store, "date,phase,cost\n01/02/2024,baseline,1\n25/12/2024,pilot,2\n")
    got = store.cursor().execute("SELECT date FROM obs_1 ORDER BY rowid").fetchall()
    assert [r[0] for r in got] == [dt.date(2024, 2, 1), dt.date(2024, 12, 25)]


# -- what is set aside, with line numbers ---------------------------------------------------


def test_ragged_rows_unknown_phases_and_other_warnings(store: Store) -> None:
    text = (
        "date,phase,site,cost,cost\n"  # a repeated header: cost_2
        "2024-01-02,baseline,A,1,10\n"
        "2024-01-02,baseline,A,1,10\n"
        "2024-01-02,baseline,A,1,10\n"  # lines 3 and 4 repeat line 2
        "2024-01-03,pilot,A,2\n"  # too few columns
        "2024-01-04,pilot,A,2,20,99\n"  # too many
        "2024-01-05,pilot,A,2,20\n"
        "2024-01-06,tbd,A,2,20\n"
        "2024-01-07,TBD,B,2,20\n"
        "2024-01-08,,A,2,20\n"
        "2024-01-09,production,C,3,30\n"
        f"2024-01-10,production,{'L' * 300},3,30\n"
        "2024-01-11,production,,3,30\n"
    )
    report = load_text(store, text).report
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (12, 7, 5)
    assert report.rejected["wrong number of columns"].count == 2
    assert report.rejected["wrong number of columns"].lines == (5, 6)
    assert report.rejected["unknown phase value"].count == 2
    assert report.rejected["unknown phase value"].lines == (8, 9)
    assert report.rejected["no phase"].count == 1
    assert report.rejected["no phase"].lines == (10,)
    assert report.unknown_phases == {"TBD": 1, "tbd": 1}
    assert report.renamed_headers == {"cost_2": "cost"}
    assert report.metrics == {"cost": "cost", "cost_2": "cost_2"}
    assert report.duplicate_rows == 2
    assert report.blank_sites == 1 and report.long_names == 1
    assert report.sites_only_in_production == ("(blank)", "C", "L" * 300)
    assert report.sites_without_baseline == ("(blank)", "C", "L" * 300)
    warnings = " ".join(report.warnings)
    assert "2 rows set aside: wrong number of columns (lines 5, 6)." in warnings
    assert "Sites seen only in production" in warnings
    assert store.cursor().execute("SELECT count(*) FROM obs_1").fetchone() == (7,)


def test_exact_duplicate_rows_are_counted_and_kept(store: Store) -> None:
    text = BASIC + ROWS[0] + "\n" + ROWS[0] + "\n" + ROWS[3] + "\n"
    report = load_text(store, text).report
    assert (report.rows_loaded, report.duplicate_rows) == (9, 3)
    assert "3 rows repeat an earlier row exactly and were kept" in " ".join(report.warnings)


def test_a_line_longer_than_duckdb_reads_is_set_aside(store: Store) -> None:
    text = b"phase,site,note,cost\nbaseline,A,x,1\npilot,B," + b"y" * 3_000_000 + b",2\n"
    report = load_text(store, text + b"production,C,z,3\n").report
    assert (report.rows_read, report.rows_loaded) == (3, 2)
    assert report.rejected["line too long"].lines == (3,)


def test_strict_refuses_a_file_with_a_rejected_row(store: Store) -> None:
    text = "phase,cost\nbaseline,1\npilot,2\nmaybe,3\n"
    with pytest.raises(ScalegateError, match="1 rows of data.csv cannot be used") as err:
        load_text(store, text, strict=True)
    assert "line 4" in str(err.value)
    assert store.datasets() == []
    assert load_text(store, text).report.rows_rejected == 1


# -- several files, repeats, names ----------------------------------------------------------


def test_several_files_make_one_dataset(store: Store) -> None:
    a = "\n".join([HEADER, *ROWS[:3]]) + "\n"
    reordered = "site,date,phase,accuracy,channel,cost_per_case\n" + "".join(
        f"{s},{d},{p},{acc},{ch},{cost}\n"
        for d, p, s, ch, cost, acc in (r.split(",") for r in ROWS[3:])
    )
    result = load_files(
        store,
        [
            Source.from_bytes("jan.csv", a.encode()),
            Source.from_bytes("feb.csv", reordered.encode()),
        ],
    )
    assert (result.name, result.report.rows_loaded) == ("jan", 6)
    assert result.report.files == ("jan.csv", "feb.csv")
    assert store.datasets()[0].source == "jan.csv, feb.csv"
    assert telemetry(store, result.dataset_id) == expected_long()


def test_files_with_different_columns_are_refused(store: Store, snapshot) -> None:
    load_text(store, BASIC)
    before = snapshot(store)
    other = "phase,site,revenue\nbaseline,A,1\n"
    with pytest.raises(ScalegateError, match="do not share their columns"):
        load_files(
            store,
            [
                Source.from_bytes("a.csv", BASIC.encode()),
                Source.from_bytes("b.csv", other.encode()),
            ],
        )
    assert snapshot(store) == before


def test_the_same_content_again_changes_nothing(store: Store, write, snapshot) -> None:
    first = load_text(store, BASIC, "q1.csv", name="Q1")
    before = snapshot(store)
    again = load_files(store, [Source.from_path(write("copy.csv", BASIC))], name="Other")
    assert again.already_loaded and (again.dataset_id, again.name) == (first.dataset_id, "Q1")
    assert again.report.rows_loaded == 6  # what the file holds, though nothing was stored
    assert snapshot(store) == before


def test_a_name_clash_gets_a_suffix(store: Store) -> None:
    names = [
        load_text(store, BASIC.replace("10.5", str(10 + i)), name="Pilot").name for i in range(3)
    ]
    assert names == ["Pilot", "Pilot (2)", "Pilot (3)"]


def test_rename_replace_and_delete(store: Store) -> None:
    first = load_text(store, BASIC, name="Q1")
    second = load_text(store, BASIC.replace("10.5", "99"), name="Q2")
    store.rename(first.dataset_id, "First quarter")
    newer = "\n".join([HEADER, *ROWS[:2]]) + "\n"
    replaced = load_text(store, newer, replace=first.dataset_id)
    assert (replaced.dataset_id, replaced.name) == (first.dataset_id, "First quarter")
    assert replaced.report.rows_loaded == 2
    assert telemetry(store, first.dataset_id) == expected_long(ROWS[:2])
    assert [d.name for d in store.datasets()] == ["Q2", "First quarter"]
    assert store.cursor().execute("SELECT count(*) FROM metrics").fetchone() == (4,)
    store.delete(second.dataset_id)
    assert [d.id for d in store.datasets()] == [first.dataset_id]
    assert telemetry(store, second.dataset_id) == []
    tables = {
        r[0] for r in store.cursor().execute("SELECT table_name FROM duckdb_tables()").fetchall()
    }
    assert "obs_2" not in tables and "obs_1" in tables
    assert "cells_2" not in tables and "cells_1" in tables
    with pytest.raises(ScalegateError, match="no dataset 7"):
        load_text(store, BASIC, replace=7)


def test_a_catalog_file_is_applied(store: Store) -> None:
    catalog = '[metrics.accuracy]\nkind = "process"\nguardrail = 0.8\n[settings]\nalpha = 0.1\n'
    result = load_text(store, BASIC, catalog_text=catalog)
    stored = read_catalog(store.cursor(), result.dataset_id)
    assert stored.get("accuracy").guardrail == 0.8
    assert stored.settings.alpha == 0.1


# -- safety: names and values from files never become SQL ----------------------------------


def test_quotes_semicolons_and_sql_in_names_and_values_round_trip(store: Store) -> None:
    nasty_metric = 'cost"; DROP TABLE datasets; --'
    nasty_site = "Plant 'A'; DROP TABLE obs_1; --"
    nasty_phase = "x'); DROP TABLE metrics; --"
    header = f'phase,site,channel,"{nasty_metric.replace(chr(34), chr(34) * 2)}",select\n'
    text = (
        header
        + f'baseline,"{nasty_site}","a""b",1,2\n'
        + f'pilot,"{nasty_site}",;,3,4\n'
        + f'"{nasty_phase}",x,y,5,6\n'
    )
    result = load_text(store, text, phase_map={nasty_phase: "production"})
    report = result.report
    assert report.rows_loaded == 3
    assert report.metrics == {"cost_drop_table_datasets": nasty_metric, "select": "select"}
    assert telemetry(store, result.dataset_id) == [
        (None, "baseline", nasty_site, 'a"b', "cost_drop_table_datasets", 1.0),
        (None, "baseline", nasty_site, 'a"b', "select", 2.0),
        (None, "pilot", nasty_site, ";", "cost_drop_table_datasets", 3.0),
        (None, "pilot", nasty_site, ";", "select", 4.0),
        (None, "production", "x", "y", "cost_drop_table_datasets", 5.0),
        (None, "production", "x", "y", "select", 6.0),
    ]
    labels = store.cursor().execute("SELECT label FROM metrics ORDER BY position").fetchall()
    assert labels == [(nasty_metric,), ("select",)]
    det = detect([Source.from_bytes("n.csv", text.encode())], phase_map={nasty_phase: "production"})
    assert det.phase_values[nasty_phase] == "production"


def test_a_metric_named_like_a_dimension_keeps_its_own_column(store: Store) -> None:
    result = load_text(store, "phase,Date (reported),cost\nbaseline,x,1\n")
    assert result.report.metrics == {"cost": "cost"}


# -- a failed load leaves the database as it was ----------------------------------------


@pytest.mark.parametrize("where", ["save_catalog", "rebuild_view", "report"])
def test_a_fault_part_way_through_a_load_changes_nothing(
    store: Store, monkeypatch, where, snapshot
):
    load_text(store, BASIC, name="Kept")
    before = snapshot(store)

    def boom(*args, **kwargs):
        raise RuntimeError("injected fault")

    if where == "save_catalog":
        monkeypatch.setattr(ingest, "save_catalog", boom)
    elif where == "rebuild_view":
        monkeypatch.setattr(store, "rebuild_view", boom)
    else:
        monkeypatch.setattr(ingest, "build_report", boom)  # after obs_2 exists, before datasets row
    with pytest.raises(RuntimeError, match="injected fault"):
        load_text(store, BASIC.replace("10.5", "1"), name="Lost")
    assert snapshot(store) == before
    assert store.cursor().execute("SELECT count(*) FROM telemetry").fetchone() == (12,)
    monkeypatch.undo()
    assert load_text(store, BASIC.replace("10.5", "1")).dataset_id == 2


def test_a_replace_that_fails_keeps_the_old_data(store: Store, monkeypatch, snapshot) -> None:
    first = load_text(store, BASIC)
    before = snapshot(store)
    monkeypatch.setattr(ingest, "save_catalog", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        load_text(store, BASIC.replace("10.5", "7"), replace=first.dataset_id)
    assert snapshot(store) == before


# -- detection without storing ------------------------------------------------------------


def test_detect_reports_roles_phases_and_metrics_without_storing(store: Store) -> None:
    text = "ID,Stage,Branch,Cost,Notes\n1,before,N,1,a\n2,poc,N,2,b\n3,maybe,S,3,c\n"
    det = detect([Source.from_bytes("d.csv", text.encode())])
    assert det.roles == {
        "ID": "identifier",
        "Stage": "phase",
        "Branch": "site",
        "Cost": "metric",
        "Notes": "ignore",
    }
    assert det.identifiers == ("ID",)
    assert det.phase_column == "Stage"
    assert det.phase_values == {"before": "baseline", "maybe": None, "poc": "pilot"}
    assert det.phase_counts == {"before": 1, "maybe": 1, "poc": 1}
    assert det.metrics == {"Cost": "cost"}
    assert (det.encoding, det.delimiter, det.form) == ("UTF-8", "comma", "wide")
    assert json.loads(json.dumps(det.to_dict()))["roles"]["ID"] == "identifier"
    assert store.datasets() == []


def test_detect_without_a_phase_column_asks_for_a_mapping() -> None:
    det = detect([Source.from_bytes("d.csv", b"Period,cost\na,1\nb,2\n")])
    assert det.phase_column is None and det.phase_values == {}
    det = detect(
        [Source.from_bytes("d.csv", b"Period,cost\na,1\nb,2\n")],
        {"Period": "phase"},
        {"a": "pilot"},
    )
    assert det.phase_values == {"a": "pilot", "b": None}


def test_a_path_source_keeps_its_file_name(write) -> None:
    path = write("Pilot results.csv", BASIC)
    source = Source.from_path(path)
    assert source.name == "Pilot results.csv" and source.path == Path(path)


def test_repeats_say_which_columns_were_not_compared(store: Store) -> None:
    # Two cases of the same day, site and cost differ only in their case number, which is not
    # loaded: the warning says so instead of suggesting a file exported twice.
    text = (
        "date,phase,site,case_id,cost\n2024-01-01,baseline,A,101,5\n2024-01-01,baseline,A,102,5\n"
    )
    text += "2024-02-01,production,A,103,4\n2024-01-01,baseline,B,104,6\n2024-02-01,production,B,105,3\n"
    report = load_text(store, text).report
    assert report.duplicate_rows == 1 and report.identifiers == ("case_id",)
    warning = next(w for w in report.warnings if "repeats an earlier row" in w)
    assert warning == (
        "1 row repeats an earlier row in every loaded column and was kept; case_id, not loaded, "
        "was not compared (different cases with the same values are expected; a file exported "
        "twice is not)."
    )
