"""A peak calendar the user gives in the catalog (``[settings] peak_periods``), for the gap's
load factor (engine/gap.py): months ("2024-11"), days ("2024-12-24") or ranges of either
("2024-11-25..2024-12-31", "2024-11..2024-12"). A period is peak when its first day falls in
one of them. Without a calendar the gap finds peak periods from baseline-period volume."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from analytics.core.errors import ScalegateError

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
HOW = 'write months as "2024-11", days as "2024-12-24", ranges as "2024-11-25..2024-12-31"'


def _bounds(text: str) -> tuple[date, date]:
    """First and last day of one month or day."""
    try:
        if m := _MONTH.match(text):
            first = date(int(m[1]), int(m[2]), 1)
            after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
            return first, after - timedelta(days=1)
        if m := _DAY.match(text):
            day = date(int(m[1]), int(m[2]), int(m[3]))
            return day, day
    except ValueError:
        pass
    raise ScalegateError(f"In the catalog, peak_periods has {text!r}, which is not a date: {HOW}.")


def parse_peak_periods(value: object) -> tuple[str, ...]:
    """The calendar as given, checked (one sentence for anything unreadable)."""
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ScalegateError(f"In the catalog, peak_periods is a list of dates: {HOW}.")
    out = []
    for entry in value:
        text = entry.strip()
        first, _, last = text.partition("..")
        lo, hi = _bounds(first.strip())[0], _bounds((last or first).strip())[1]
        if hi < lo:
            raise ScalegateError(f"In the catalog, peak_periods has {text!r}, which ends first.")
        out.append(text)
    return tuple(out)


def is_peak(starts: Iterable[date], calendar: Sequence[str]) -> list[bool]:
    """Per period (its first day): does it fall in the calendar?"""
    spans = []
    for text in parse_peak_periods(list(calendar)):
        first, _, last = text.partition("..")
        spans.append((_bounds(first.strip())[0], _bounds((last or first).strip())[1]))
    return [any(lo <= d <= hi for lo, hi in spans) for d in starts]
