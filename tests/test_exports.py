"""Real exports, read right: every shape of tests/exports.py loads through `python -m analytics
load FILE` with no flags, and what is stored equals the truth the file was made from (rows,
dates, phases, sites, metric means, volumes). Dates are decided over the whole column."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest
from exports import SHAPES, Shape, day_first_contacts, make_corpus

from analytics.core.errors import ScalegateError
from analytics.ingest.load import Source, detect, load_files
from analytics.store.database import Store

ROOT = Path(__file__).resolve().parent.parent


def _cli_load(path: Path, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "analytics", "load", str(path), "--db", str(db)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Shape, Path, str]]:
    """Every shape loaded by the CLI into its own database: name -> (shape, database, stdout)."""
    folder = tmp_path_factory.mktemp("exports")
    loaded = {}
    for shape, path in make_corpus(folder):
        db = folder / f"{path.stem}.duckdb"
        done = _cli_load(path, db)
        assert done.returncode == 0, f"{shape.name}: {done.stderr}"
        loaded[shape.name] = (shape, db, done.stdout)
    return loaded


NAMES = [make.__name__ for make in SHAPES]


def _stored(db: Path) -> tuple[duckdb.DuckDBPyConnection, dict]:
    con = duckdb.connect(str(db), read_only=True)
    report = json.loads(con.execute("SELECT report FROM datasets").fetchone()[0])
    return con, report


def test_the_corpus_has_at_least_ten_shapes(corpus) -> None:
    assert len(corpus) >= 10


@pytest.mark.parametrize("index", range(len(SHAPES)), ids=NAMES)
def test_each_export_loads_with_no_flags_as_its_truth(corpus, index: int) -> None:
    shape, db, stdout = list(corpus.values())[index]
    truth = shape.truth
    con, report = _stored(db)
    try:
        rows, lo, hi = con.execute("SELECT count(*), min(date), max(date) FROM obs_1").fetchone()
        assert rows == truth.rows
        assert (lo, hi) == (truth.date_min, truth.date_max)
        phases = dict(con.execute("SELECT phase, count(*) FROM obs_1 GROUP BY ALL").fetchall())
        assert phases == {p: n for p, n in truth.phases.items() if n}
        sites = {r[0] for r in con.execute("SELECT DISTINCT site FROM obs_1").fetchall()}
        assert sites == truth.sites
        for metric, mean in truth.means.items():
            got = con.execute(f'SELECT avg("{metric}") FROM obs_1').fetchone()[0]  # noqa: S608
            assert got == pytest.approx(mean, rel=1e-9), metric
        columns = {r[0] for r in con.execute("DESCRIBE obs_1").fetchall()}
        assert ("weight" in columns) == (truth.weight_total is not None)
        assert report["rows_rejected"] == truth.set_aside
    finally:
        con.close()


def test_the_volume_is_stored_as_weight_and_row_totals_are_not_metrics(corpus) -> None:
    shape, db, stdout = corpus["weekly aggregates with volume"]
    con, report = _stored(db)
    try:
        weights = [r[0] for r in con.execute("SELECT weight FROM obs_1 ORDER BY weight").fetchall()]
        assert tuple(weights) == shape.truth.weights
        metrics = [r[0] for r in con.execute("SELECT metric_id FROM metrics").fetchall()]
        assert metrics == ["resolution_rate", "cost_per_contact"]  # no total, no volume
    finally:
        con.close()
    assert report["volume"]["column"] == "Contacts handled"
    assert report["volume"]["total"] == shape.truth.weight_total
    assert "Total cost (£) equals Cost per contact (£) times Contacts handled" in stdout


def test_a_named_total_without_its_twin_is_offered_per_unit(store: Store) -> None:
    text = "week,stage,region,Contacts handled,Total cost\n"
    rows = [("2024-01-01", "baseline", "N", 100, 420.0), ("2024-01-08", "pilot", "N", 50, 190.0)]
    rows += [("2024-01-15", "production", "N", 80, 296.0)]
    text += "".join(f"{d},{p},{s},{w},{c}\n" for d, p, s, w, c in rows)
    result = load_files(store, [Source.from_bytes("w.csv", text.encode())])
    got = store.cursor().execute("SELECT weight, total_cost_per_contacts_handled FROM obs_1")
    assert sorted(got.fetchall()) == sorted((float(w), c / w) for *_, w, c in rows)
    assert result.report.metrics == {
        "total_cost_per_contacts_handled": "Total cost per contacts handled"
    }


def test_rows_without_a_volume_are_set_aside_and_counted(store: Store) -> None:
    text = "date,phase,site,Cases,Cost per case\n2024-01-01,baseline,A,10,5\n"
    text += "2024-01-02,baseline,A,,6\n2024-01-03,pilot,A,-3,7\n2024-01-04,pilot,A,0,8\n"
    text += "".join(f"2024-02-{d:02d},pilot,A,{d + 1},{d}\n" for d in range(1, 29))
    report = load_files(store, [Source.from_bytes("c.csv", text.encode())]).report
    assert report.rows_loaded == 29
    assert report.rejected["volume missing, zero or negative"].count == 3
    assert report.rejected["volume missing, zero or negative"].lines == (3, 4, 5)
    assert report.volume["total"] == 10 + sum(d + 1 for d in range(1, 29))


def test_a_volume_can_be_mapped_by_hand(store: Store) -> None:
    text = (
        "date,phase,site,Agents on shift,Cost\n2024-01-01,baseline,A,12,5\n2024-01-02,pilot,A,9,6\n"
    )
    load_files(
        store, [Source.from_bytes("m.csv", text.encode())], mapping={"Agents on shift": "weight"}
    )
    got = store.cursor().execute("SELECT weight, cost FROM obs_1 ORDER BY weight").fetchall()
    assert got == [(9.0, 6.0), (12.0, 5.0)]


# -- negative cases ---------------------------------------------------------------------------


def test_status_and_group_are_not_the_phase_and_live_chat_is_a_channel(corpus) -> None:
    shape, db, stdout = corpus["ticket export"]
    con, _ = _stored(db)
    try:
        channels = {r[0] for r in con.execute("SELECT DISTINCT channel FROM obs_1").fetchall()}
    finally:
        con.close()
    assert channels == {"Live chat", "Email"}
    detection = detect([Source.from_bytes(shape.file, shape.data)])
    assert detection.phase_column == "AI rollout"
    assert detection.roles["Status"] == "ignore" and detection.roles["Group"] == "ignore"
    assert set(detection.guesses) == {"Status", "Group"}


def test_a_ticket_export_without_a_rollout_column_is_refused_with_what_was_seen() -> None:
    text = "Ticket ID,Status,Group,Channel,Handle time\n"
    text += "".join(
        f"{i},{('Open', 'Closed')[i % 2]},{('Tier 1', 'Billing')[i % 2]},Live chat,{i % 9}\n"
        for i in range(40)
    )
    with pytest.raises(ScalegateError) as caught:
        load_files(Store(":memory:"), [Source.from_bytes("t.csv", text.encode())])
    message = caught.value.sentence
    assert message.startswith("No column says which phase")
    assert "Status: text with 2 values (Closed, Open)" in message
    assert "Group" in message
    assert detect([Source.from_bytes("t.csv", text.encode())]).phase_column is None


def test_live_chat_alone_never_reads_as_the_live_phase(store: Store) -> None:
    text = "phase,channel,cost\nbaseline,Live chat,1\nlive,Live chat,2\nLive chat,web,3\n"
    report = load_files(store, [Source.from_bytes("l.csv", text.encode())]).report
    assert report.phases == {"baseline": 1, "pilot": 0, "production": 1}
    assert report.unknown_phases == {"Live chat": 1}


def test_a_phase_column_found_by_values_needs_two_phases_over_the_whole_file(store: Store) -> None:
    # Sorted by date: the sample's first 10,000 rows are all "Before AI".
    lines = ["date,Programme,Cost"]
    lines += [f"2024-01-01,Before AI,{i % 7}" for i in range(10_500)]
    lines += [f"2024-06-01,Rolled out,{i % 5}" for i in range(600)]
    result = load_files(store, [Source.from_bytes("p.csv", "\n".join(lines).encode())])
    assert result.report.phases == {"baseline": 10_500, "pilot": 0, "production": 600}


# -- dates over the whole column ----------------------------------------------------------------


def test_a_date_sorted_day_first_file_of_100k_rows_reads_every_date(store: Store) -> None:
    data, bad, days = day_first_contacts(120_000)
    assert bad == 0
    report = load_files(store, [Source.from_bytes("contacts.csv", data)]).report
    assert report.unreadable_dates == 0 and report.blank_dates == 0
    lo, hi, n = (
        store.cursor()
        .execute("SELECT min(date), max(date), count(DISTINCT date) FROM obs_1")
        .fetchone()
    )
    assert (lo, hi, n) == (date(2024, 1, 1), date(2024, 12, 31), days)


def test_two_percent_unreadable_dates_are_refused_with_examples() -> None:
    data, bad, _ = day_first_contacts(20_000, unreadable=0.02)
    store = Store(":memory:")
    with pytest.raises(ScalegateError) as caught:
        load_files(store, [Source.from_bytes("contacts.csv", data)])
    assert caught.value.sentence.startswith(f"{bad:,} of the 20,000 dates in the column Date")
    assert '"32/13/2024"' in caught.value.sentence and "(2.0%)" in caught.value.sentence
    assert store.datasets() == []


def test_half_a_percent_unreadable_dates_load_with_their_count(store: Store) -> None:
    data, bad, _ = day_first_contacts(20_000, unreadable=0.005)
    report = load_files(store, [Source.from_bytes("contacts.csv", data)]).report
    assert report.unreadable_dates == bad == 100
    assert any(w.startswith("100 dates could not be read") for w in report.warnings)
    assert report.rows_loaded == 20_000


def test_blank_dates_are_counted_apart_from_unreadable_ones(store: Store) -> None:
    text = "date,phase,cost\n" + "".join(f"2024-01-{d:02d},baseline,{d}\n" for d in range(1, 29))
    text += ",pilot,1\n,pilot,2\n"
    report = load_files(store, [Source.from_bytes("b.csv", text.encode())]).report
    assert (report.blank_dates, report.unreadable_dates) == (2, 0)


def test_when_both_orders_read_every_date_the_spacing_decides_and_says_so(store: Store) -> None:
    # Weeks commencing on Mondays, month first, every day of the month 12 or less (so every
    # date reads both ways): 1, 8 Jan, 5, 12 Feb. Day first they scatter over four weekdays.
    weeks = [(1, 1), (1, 8), (2, 5), (2, 12)]
    text = "Week,Stage,Cost\n"
    text += "".join(f"{m:02d}/{d:02d}/2024,pilot,1\n" for m, d in weeks)
    text += "".join(f"{m:02d}/{d:02d}/2024,baseline,2\n" for m, d in weeks)
    result = load_files(store, [Source.from_bytes("w.csv", text.encode())])
    got = [
        r[0]
        for r in store.cursor().execute("SELECT DISTINCT date FROM obs_1 ORDER BY 1").fetchall()
    ]
    assert got == [date(2024, m, d) for m, d in weeks]
    note = next(w for w in result.report.warnings if w.startswith("Every date reads both"))
    assert "read month first because the dates then fall at regular intervals" in note
    assert '(such as "01/08/2024", read as 01 August 2024)' not in note
    other = Store(":memory:")
    load_files(other, [Source.from_bytes("w.csv", text.encode())], date_order="day-first")
    got = other.cursor().execute("SELECT min(date), max(date) FROM obs_1").fetchone()
    assert got == (date(2024, 1, 1), date(2024, 12, 2))  # 01/01 and 02/12 read day first


def test_the_cli_switches_the_date_order(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("date,phase,cost\n01/02/2024,baseline,1\n03/04/2024,pilot,2\n")
    done = subprocess.run(
        [sys.executable, "-m", "analytics", "load", str(path), "--db", str(tmp_path / "d.db")]
        + ["--dates", "day-first"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    con = duckdb.connect(str(tmp_path / "d.db"), read_only=True)
    got = [r[0] for r in con.execute("SELECT date FROM obs_1 ORDER BY date").fetchall()]
    con.close()
    assert got == [date(2024, 2, 1), date(2024, 4, 3)]


def test_a_refusal_says_where_the_table_was_found_below_a_title() -> None:
    text = "Weekly export\r\nAll regions\r\n\r\nWeek,Region,Handle time\r\n2024-01-01,North,5\r\n"
    with pytest.raises(ScalegateError) as caught:
        load_files(Store(":memory:"), [Source.from_bytes("w.csv", text.encode())])
    assert caught.value.sentence.startswith("No column says which phase")
    assert caught.value.sentence.endswith(
        "(the first 2 lines of w.csv look like a title; the table starts on line 4)."
    )


def test_a_volume_mapped_on_text_refuses_with_its_column() -> None:
    text = "date,phase,site,Agent,Cost\n2024-01-01,baseline,A,Ann,5\n2024-01-02,pilot,A,Bo,6\n"
    with pytest.raises(ScalegateError, match="No row of m.csv has a volume above zero in the "):
        load_files(
            Store(":memory:"),
            [Source.from_bytes("m.csv", text.encode())],
            mapping={"Agent": "weight"},
        )


def test_a_period_column_of_pre_and_post_is_the_phase(store: Store) -> None:
    text = "Week,Period,Branch,Wait time\n" + "".join(
        f"2024-01-{d:02d},{'Pre' if d < 15 else 'Post'},B{d % 3},{d}\n" for d in range(1, 29)
    )
    result = load_files(store, [Source.from_bytes("p.csv", text.encode())])
    assert result.report.phases == {"baseline": 14, "pilot": 0, "production": 14}
    assert any(
        "taken for the phase because its values (Post, Pre)" in w for w in result.report.warnings
    )


def test_a_german_export_reads_without_a_mapping(tmp_path) -> None:
    """Datum (dd.mm.yyyy), Standort, Kanal, 'Vor KI' / 'Pilot' / 'Produktion' and 'Anzahl Fälle'
    as the volume, semicolons and decimal commas: read as the English words would be."""
    lines = ["Datum;Phase;Standort;Kanal;Kosten je Fall;Anzahl Fälle"]
    phases = {1: "Vor KI", 2: "Pilot", 3: "Produktion"}
    for day in (1, 15, 28):
        for month, phase in phases.items():
            for site in ("Berlin", "Köln"):
                current = phase if site == "Berlin" or month == 1 else "Vor KI"
                lines.append(f"{day:02d}.{month:02d}.2025;{current};{site};Telefon;12,50;{day}")
    path = tmp_path / "kosten.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    store = Store(":memory:")
    loaded = load_files(store, [Source.from_path(path)])
    report = loaded.report
    assert report.rows_loaded == 18 and report.rows_rejected == 0
    cur = store.cursor()
    table = f"obs_{loaded.dataset_id}"
    got = cur.execute(
        f"SELECT min(date), max(date), count(DISTINCT site), sum(weight) FROM {table}"  # noqa: S608
    ).fetchone()
    assert (str(got[0]), str(got[1]), got[2], got[3]) == ("2025-01-01", "2025-03-28", 2, 264.0)
    phases_seen = dict(
        cur.execute(f"SELECT phase, count(*) FROM {table} GROUP BY ALL").fetchall()  # noqa: S608
    )
    assert phases_seen == {"baseline": 12, "pilot": 3, "production": 3}
