"""A date under a name that does not say so is read as the date, never as a number; a number
written with separators out of place is counted as unreadable, never read with them dropped."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from analytics.ingest.load import Source, load_files
from analytics.store.database import Store


def _german_export(header: str) -> bytes:
    """A semicolon export, day-first dates with dots, under `header`: 60 days at two sites."""
    lines = [f"{header};Standort;Stufe;Bearbeitungszeit"]
    start = date(2024, 1, 1)
    for i in range(60):
        day = start + timedelta(days=i)
        for j, site in enumerate(("Nord", "Süd")):
            stage = "Vor KI" if i < 20 else ("Pilot" if j == 0 and i < 40 else "Produktion")
            stage = "Vor KI" if (j == 1 and i < 40) else stage
            lines.append(f"{day:%d.%m.%Y};{site};{stage};{10 + i % 7 + j},{i % 10}")
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("header", ["Zeitraum", "Reported", "Stichtag"])
def test_dotted_day_first_dates_under_any_header_are_the_date(header: str) -> None:
    store = Store(":memory:")
    report = load_files(store, [Source.from_bytes("de.csv", _german_export(header))]).report
    assert list(report.metrics) == ["bearbeitungszeit"]  # the dates are no metric
    days = store.cursor().execute("SELECT min(date), max(date), count(DISTINCT date) FROM obs_1")
    assert days.fetchone() == (date(2024, 1, 1), date(2024, 2, 29), 60)
    assert any(
        f"{header} was taken for the date" in n and "DD.MM.YYYY" in n
        for n in (*report.notes, *report.warnings)
    )
    # 10 + i % 7 + j, with the decimal comma read right ("12,5" is 12.5).
    got = store.cursor().execute("SELECT sum(bearbeitungszeit) FROM obs_1").fetchone()[0]
    want = sum(10 + i % 7 + j + (i % 10) / 10 for i in range(60) for j in range(2))
    assert got == pytest.approx(want, rel=1e-12)


def test_separators_out_of_place_are_unreadable_not_dropped() -> None:
    text = "date,phase,site,Handle time\n"
    values = ["1,234.5", "12", "1,2,3", "7.5", "12,34", "2,500"]  # 1,2,3 and 12,34: no number
    phases = ["baseline", "baseline", "pilot", "pilot", "production", "production"]
    text += "".join(
        f'2024-01-0{i + 1},{p},A,"{v}"\n'
        for i, (p, v) in enumerate(zip(phases, values, strict=True))
    )
    store = Store(":memory:")
    report = load_files(store, [Source.from_bytes("h.csv", text.encode())]).report
    got = store.cursor().execute("SELECT handle_time FROM obs_1 ORDER BY date").fetchall()
    assert [v for (v,) in got] == [1234.5, 12.0, None, 7.5, None, 2500.0]
    assert report.missing_values["handle_time"].unreadable == 2
