"""Export shapes as business tools write them, made from known rows (seeded), so a test can load
each file with no flags and compare what was stored with the truth it was made from.

Every shape renders the same kind of truth differently: a title block above the header, UK and
US dates sorted by date, weekly aggregates with a volume column and a row total, Yes/No columns,
currency with thousands separators, percent strings, Total and repeated header rows, N/A markers,
an .xlsx with a merged title cell, semicolons with decimal commas, a helpdesk ticket export.
Values are rounded to what the file shows before the truth is taken from them.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

PHASE_WORDS = {
    "title": ("Before AI", "Pilot", "Rolled out"),
    "uk": ("Pre-AI", "PoC", "Live"),
    "us": ("Control", "Trial", "Go-live"),
    "weekly": ("BAU", "Pilot", "Production"),
    "semicolon": ("Legacy", "Pilot", "Wave 2"),
}


@dataclass(frozen=True)
class Truth:
    """What a correct load stores: rows, date range, rows per phase, sites, metric means (by
    metric id), the volume total and rows set aside."""

    rows: int
    date_min: date | None
    date_max: date | None
    phases: dict[str, int]
    sites: frozenset[str]
    means: dict[str, float]
    weight_total: float | None = None
    set_aside: int = 0
    channels: frozenset[str] = frozenset()
    weights: tuple[float, ...] = ()  # every row's volume, sorted


@dataclass
class Shape:
    name: str
    file: str
    data: bytes
    truth: Truth
    extra: dict[str, object] = field(default_factory=dict)


@dataclass
class _Row:
    day: date
    phase: str
    site: str
    channel: str
    values: dict[str, float | None]
    weight: int | None = None


def _phase_of(site_index: int, day: date, start: date) -> str:
    """Site 0 pilots from month 3, every site is live from month 6; before that, baseline."""
    months = (day.year - start.year) * 12 + day.month - start.month
    if months >= 6:
        return "production"
    if months >= 3 and site_index == 0:
        return "pilot"
    return "baseline"


def _rows(rng: random.Random, days: list[date], sites: list[str], channels: list[str], per: int):
    out = []
    for day in days:
        for s, site in enumerate(sites):
            for _ in range(per):
                out.append(_Row(day, _phase_of(s, day, days[0]), site, rng.choice(channels), {}))
    return out


def _truth(rows: list[_Row], ids: dict[str, str], *, weighted: bool = False, aside: int = 0):
    phases = {p: sum(1 for r in rows if r.phase == p) for p in ("baseline", "pilot", "production")}
    means = {}
    for key, metric_id in ids.items():
        vals = [r.values[key] for r in rows if r.values.get(key) is not None]
        means[metric_id] = sum(vals) / len(vals)  # type: ignore[arg-type]
    weights = tuple(sorted(float(r.weight) for r in rows)) if weighted else ()  # type: ignore[arg-type]
    return Truth(
        rows=len(rows),
        date_min=min(r.day for r in rows),
        date_max=max(r.day for r in rows),
        phases=phases,
        sites=frozenset(r.site for r in rows),
        channels=frozenset(r.channel for r in rows),
        means=means,
        weight_total=sum(weights) if weighted else None,
        set_aside=aside,
        weights=weights,
    )


def _csv(header: list[str], lines: list[list[str]], delimiter: str = ",", above: str = "") -> bytes:
    buffer = io.StringIO()
    buffer.write(above)
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(lines)
    return buffer.getvalue().encode("utf-8")


def _days(start: date, n: int, step: int = 1) -> list[date]:
    return [start + timedelta(days=step * i) for i in range(n)]


# -- the shapes ---------------------------------------------------------------------------------


def title_block(rng: random.Random) -> Shape:
    """Two title lines and a blank line above the header; 'Before AI' / 'Rolled out';
    a 'Live chat' channel that must stay a channel."""
    rows = _rows(
        rng,
        _days(date(2024, 1, 1), 270, 1),
        ["North", "South", "East"],
        ["Live chat", "Phone", "Email"],
        1,
    )
    words = dict(zip(("baseline", "pilot", "production"), PHASE_WORDS["title"], strict=True))
    lines = []
    for r in rows:
        r.values = {"aht": round(rng.gauss(9.0, 1.5), 2), "csat": float(rng.randint(1, 5))}
        lines.append(
            [
                r.day.isoformat(),
                words[r.phase],
                r.site,
                r.channel,
                f"{r.values['aht']:.2f}",
                f"{r.values['csat']:.0f}",
            ]
        )
    above = (
        "Contact centre KPI export\r\nGenerated 2024-10-01 by reporting.bot, all regions\r\n\r\n"
    )
    data = _csv(
        ["Date", "Deployment stage", "Region", "Contact channel", "Handle time (min)", "CSAT"],
        lines,
        above=above,
    )
    return Shape(
        "title block",
        "kpi_export.csv",
        data,
        _truth(rows, {"aht": "handle_time_min", "csat": "csat"}),
    )


def _dated(rng: random.Random, fmt: str, words: tuple[str, ...], name: str, file: str) -> Shape:
    """A contact-level export sorted by date: the first thousands of rows have days 1-12."""
    days = _days(date(2024, 1, 1), 366)
    rows = _rows(rng, days, ["Leeds", "York", "Hull", "Bath"], ["web", "phone"], 2)
    mapping = dict(zip(("baseline", "pilot", "production"), words, strict=True))
    lines = []
    for r in rows:
        r.values = {"cost": round(rng.uniform(20, 80), 2)}
        lines.append(
            [r.day.strftime(fmt), mapping[r.phase], r.site, r.channel, f"{r.values['cost']:.2f}"]
        )
    data = _csv(["Date", "Phase", "Store", "Channel", "Cost per case"], lines)
    return Shape(name, file, data, _truth(rows, {"cost": "cost_per_case"}))


def uk_dates(rng: random.Random) -> Shape:
    return _dated(rng, "%d/%m/%Y", PHASE_WORDS["uk"], "UK dates sorted by date", "uk_contacts.csv")


def us_dates(rng: random.Random) -> Shape:
    return _dated(rng, "%m/%d/%Y", PHASE_WORDS["us"], "US dates sorted by date", "us_contacts.csv")


def weekly_volume(rng: random.Random) -> Shape:
    """Weekly aggregates: 'Week commencing' dd/mm/yyyy, a quoted volume with a thousands
    separator, a percent rate, a row total (= cost per contact x contacts) and its per-unit twin."""
    rows = _rows(
        rng, _days(date(2024, 1, 1), 40, 7), ["North", "South", "East", "West"], ["all"], 1
    )
    words = dict(zip(("baseline", "pilot", "production"), PHASE_WORDS["weekly"], strict=True))
    lines = []
    for r in rows:
        r.weight = rng.randint(300, 2400)
        rate = round(rng.uniform(0.55, 0.8), 3)
        cpc = round(rng.uniform(3.5, 5.5), 2)
        r.values = {"rate": rate, "cpc": cpc}
        total = cpc * r.weight
        lines.append(
            [
                r.day.strftime("%d/%m/%Y"),
                words[r.phase],
                r.site,
                f"{r.weight:,}",
                f"{rate * 100:.1f}%",
                f"£{total:,.2f}",
                f"£{cpc:.2f}",
            ]
        )
    header = [
        "Week commencing",
        "Deployment stage",
        "Region",
        "Contacts handled",
        "Resolution rate %",
        "Total cost (£)",
        "Cost per contact (£)",
    ]
    truth = _truth(rows, {"rate": "resolution_rate", "cpc": "cost_per_contact"}, weighted=True)
    return Shape("weekly aggregates with volume", "weekly_kpis.csv", _csv(header, lines), truth)


def yes_no(rng: random.Random) -> Shape:
    """Yes/No, Y/N and True/False columns read as 0/1 metrics."""
    rows = _rows(rng, _days(date(2024, 2, 1), 240), ["Paris", "Lyon"], ["chat", "email"], 2)
    lines = []
    for r in rows:
        a, b, c = rng.random() < 0.6, rng.random() < 0.2, rng.random() < 0.5
        r.values = {"first": float(a), "esc": float(b), "bot": float(c)}
        lines.append(
            [
                r.day.isoformat(),
                r.phase,
                r.site,
                r.channel,
                "Yes" if a else "No",
                "Y" if b else "N",
                "TRUE" if c else "FALSE",
            ]
        )
    header = [
        "date",
        "phase",
        "site",
        "channel",
        "Resolved first time",
        "Escalated",
        "Handled by bot",
    ]
    ids = {"first": "resolved_first_time", "esc": "escalated", "bot": "handled_by_bot"}
    return Shape("Yes/No columns", "tickets_yes_no.csv", _csv(header, lines), _truth(rows, ids))


def currency(rng: random.Random) -> Shape:
    """Currency symbols and thousands separators, quoted in a comma file."""
    rows = _rows(rng, _days(date(2024, 1, 1), 250), ["Boston", "Austin", "Denver"], ["web"], 1)
    lines = []
    for r in rows:
        revenue, cost = round(rng.uniform(800, 25_000), 2), round(rng.uniform(1_000, 9_000), 2)
        r.values = {"revenue": revenue, "cost": cost}
        lines.append([r.day.isoformat(), r.phase, r.site, f"${revenue:,.2f}", f"€{cost:,.2f}"])
    header = ["Date", "Stage", "Branch", "Revenue per order", "Cost per order"]
    ids = {"revenue": "revenue_per_order", "cost": "cost_per_order"}
    return Shape("currency and thousands", "orders.csv", _csv(header, lines), _truth(rows, ids))


def percent(rng: random.Random) -> Shape:
    """Rates written as percent strings: '67.9%' is 0.679."""
    rows = _rows(rng, _days(date(2024, 1, 1), 250), ["Oslo", "Bergen"], ["app"], 1)
    lines = []
    for r in rows:
        conv, acc = round(rng.uniform(0.02, 0.09), 4), round(rng.uniform(0.8, 0.99), 3)
        r.values = {"conv": conv, "acc": acc}
        lines.append(
            [r.day.isoformat(), r.phase, r.site, f"{conv * 100:.2f}%", f"{acc * 100:.1f}%"]
        )
    header = ["date", "phase", "office", "Conversion rate", "Model accuracy"]
    ids = {"conv": "conversion_rate", "acc": "model_accuracy"}
    return Shape("percent strings", "conversion.csv", _csv(header, lines), _truth(rows, ids))


def totals_and_headers(rng: random.Random) -> Shape:
    """A header repeated mid-file (a paged export), Subtotal rows and a Total row at the end."""
    rows = _rows(rng, _days(date(2024, 1, 1), 200), ["A1", "B2"], ["web"], 1)
    header = ["date", "phase", "site", "Cost per case"]
    lines: list[list[str]] = []
    for i, r in enumerate(rows):
        r.values = {"cost": round(rng.uniform(10, 30), 2)}
        lines.append([r.day.isoformat(), r.phase, r.site, f"{r.values['cost']:.2f}"])
        if i in (70, 140):
            lines.append(list(header))
        if i == 99:
            lines.append(["Subtotal", "", "", "1999.00"])
    lines.append(["Total", "", "", f"{sum(r.values['cost'] for r in rows):.2f}"])  # type: ignore[misc]
    truth = _truth(rows, {"cost": "cost_per_case"}, aside=4)
    return Shape("Total and repeated header rows", "paged_export.csv", _csv(header, lines), truth)


def na_markers(rng: random.Random) -> Shape:
    """N/A, n/a, -, an em dash and blanks are missing values, not zeros."""
    rows = _rows(rng, _days(date(2024, 1, 1), 250), ["Kent", "Essex"], ["phone"], 1)
    lines = []
    markers = ["N/A", "n/a", "-", "—", ""]
    for r in rows:
        value: float | None = round(rng.uniform(50, 90), 1)
        cell = f"{value:.1f}"
        if rng.random() < 0.15:
            value, cell = None, rng.choice(markers)
        r.values = {"nps": value}
        lines.append([r.day.isoformat(), r.phase, r.site, cell])
    shape = Shape(
        "N/A markers",
        "nps.csv",
        _csv(["date", "phase", "site", "NPS"], lines),
        _truth(rows, {"nps": "nps"}),
    )
    shape.extra["missing"] = sum(1 for r in rows if r.values["nps"] is None)
    return shape


def merged_title_xlsx(rng: random.Random) -> Shape:
    """An Excel sheet with a merged title cell, a blank row, then the table."""
    import openpyxl

    rows = _rows(rng, _days(date(2024, 1, 1), 250), ["Plant 1", "Plant 2"], ["line"], 1)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"] = "Quality dashboard - monthly export"
    sheet.merge_cells("A1:E1")
    sheet.append([])
    sheet.append(["Date", "Deployment stage", "Plant", "Defect rate", "Scrap cost"])
    words = dict(zip(("baseline", "pilot", "production"), PHASE_WORDS["title"], strict=True))
    for r in rows:
        r.values = {
            "defect": round(rng.uniform(0.01, 0.05), 4),
            "scrap": round(rng.uniform(100, 400), 2),
        }
        sheet.append([r.day, words[r.phase], r.site, r.values["defect"], r.values["scrap"]])
    buffer = io.BytesIO()
    book.save(buffer)
    truth = _truth(rows, {"defect": "defect_rate", "scrap": "scrap_cost"})
    return Shape("xlsx with a merged title cell", "quality.xlsx", buffer.getvalue(), truth)


def semicolon_decimal_comma(rng: random.Random) -> Shape:
    """Semicolons with decimal commas and dd.mm.yyyy dates, as European spreadsheets save."""
    rows = _rows(rng, _days(date(2024, 1, 1), 250), ["Köln", "Wien"], ["Telefon"], 1)
    words = dict(zip(("baseline", "pilot", "production"), PHASE_WORDS["semicolon"], strict=True))
    lines = []
    for r in rows:
        r.values = {"time": round(rng.uniform(3, 12), 2), "cost": round(rng.uniform(1000, 3000), 2)}
        cost = f"{r.values['cost']:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")
        lines.append(
            [
                r.day.strftime("%d.%m.%Y"),
                words[r.phase],
                r.site,
                r.channel,
                f"{r.values['time']:.2f}".replace(".", ","),
                cost,
            ]
        )
    header = ["Date", "Phase", "Location", "Channel", "Handling time (min)", "Cost (EUR)"]
    ids = {"time": "handling_time_min", "cost": "cost_eur"}
    truth = _truth(rows, ids)
    return Shape("semicolons with decimal commas", "eu_export.csv", _csv(header, lines, ";"), truth)


def ticket_export(rng: random.Random) -> Shape:
    """A helpdesk ticket export: Status (Open/Closed) and Group are not the phase; the rollout
    column is; 'Live chat' is a channel value, not the phase 'live'."""
    rows = _rows(rng, _days(date(2024, 1, 1), 250), ["London", "Dublin"], ["Live chat", "Email"], 2)
    words = {"baseline": "Pre-AI", "pilot": "Pilot", "production": "Live"}
    lines = []
    for i, r in enumerate(rows):
        r.values = {"minutes": float(rng.randint(5, 90))}
        status = rng.choice(["Open", "Closed", "Closed"])
        group = rng.choice(["Tier 1", "Tier 2", "Billing"])
        lines.append(
            [
                str(10_000 + i),
                r.day.isoformat(),
                status,
                group,
                r.channel,
                words[r.phase],
                r.site,
                f"{r.values['minutes']:.0f}",
            ]
        )
    header = [
        "Ticket ID",
        "Created date",
        "Status",
        "Group",
        "Channel",
        "AI rollout",
        "Office",
        "Handle time minutes",
    ]
    truth = _truth(rows, {"minutes": "handle_time_minutes"})
    return Shape("ticket export", "tickets.csv", _csv(header, lines), truth)


SHAPES: tuple[Callable[[random.Random], Shape], ...] = (
    title_block,
    uk_dates,
    us_dates,
    weekly_volume,
    yes_no,
    currency,
    percent,
    totals_and_headers,
    na_markers,
    merged_title_xlsx,
    semicolon_decimal_comma,
    ticket_export,
)


def make_corpus(folder: Path, seed: int = 11) -> list[tuple[Shape, Path]]:
    """Write every shape into folder; return each with its path."""
    out = []
    for i, make in enumerate(SHAPES):
        shape = make(random.Random(seed * 100 + i))
        path = folder / shape.file
        path.write_bytes(shape.data)
        out.append((shape, path))
    return out


# -- dates at scale -------------------------------------------------------------------------


def day_first_contacts(n: int, unreadable: float = 0.0, seed: int = 5) -> tuple[bytes, int, int]:
    """A contact export of n rows sorted by date, dd/mm/yyyy over a year (its first ~8,000 rows
    read both ways); a share of dates replaced by unreadable text. Returns the bytes, the
    number of unreadable dates and the number of distinct days."""
    rng = random.Random(seed)
    start = date(2024, 1, 1)
    days = sorted(start + timedelta(days=int(i * 366 / n)) for i in range(n))
    bad = set(rng.sample(range(n), int(round(n * unreadable))))
    out = io.StringIO()
    out.write("Date,Phase,Region,Handle time\r\n")
    for i, day in enumerate(days):
        phase = "Before AI" if day.month < 5 else ("Pilot" if day.month < 8 else "Rolled out")
        cell = "32/13/2024" if i in bad else day.strftime("%d/%m/%Y")
        out.write(f"{cell},{phase},R{i % 4},{(i * 7919) % 600 / 10:.1f}\r\n")
    return out.getvalue().encode(), len(bad), len(set(days))
