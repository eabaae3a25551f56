"""Where the table starts: exports put title lines, notes and blank lines above their header.

The header is the first row whose width matches the body below it and whose cells read as names
rather than values (numbers, dates). Only the first 64 KB of a file are looked at, in Python;
the rows themselves are always read by DuckDB (told to skip the lines above the header).
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

DELIMITERS = (",", ";", "\t", "|")

# A cell that is a value, not a name: a number (with currency, separators, percent) or a date.
_VALUE = re.compile(
    r"^[-+(]?[$€£¥]?\s*\d[\d,.\s']*%?\)?$|^\d{1,4}[/.\-]\d{1,2}[/.\-]\d{1,4}([ T].*)?$"
)


@dataclass(frozen=True, slots=True)
class TableStart:
    """The delimiter, the header's line (0-based, blank lines included) and the non-blank lines
    above it that were set aside."""

    delimiter: str
    header: int
    set_aside: tuple[str, ...] = ()


def _cells(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return line.split(delimiter)


def _names(cells: Sequence[str]) -> int:
    """How many filled cells of a row read as names (when the row reads as a header)."""
    return sum(1 for c in cells if c and c.strip()) if looks_like_header(cells) else 0


def looks_like_header(cells: Sequence[str]) -> bool:
    """Names, not values: at least two filled cells and half the row, fewer than a third of
    them numbers or dates."""
    filled = [c.strip() for c in cells if c and c.strip()]
    values = sum(1 for c in filled if _VALUE.match(c))
    return len(filled) >= 2 and len(filled) * 2 >= len(cells) and values * 3 < len(filled)


def _header_at(widths: list[int], rows: list[list[str]], width: int) -> int | None:
    """The first row of the body's width that reads as names and is followed by a row of the
    same width (or ends the head); failing that, the first such row; None if there is none."""
    fallback = None
    for i, w in enumerate(widths):
        if w != width or not looks_like_header(rows[i]):
            continue
        fallback = i if fallback is None else fallback
        following = next((v for v in widths[i + 1 :] if v), None)
        if following is None or following == width:
            return i
    return fallback


def _score(lines: Sequence[str], delimiter: str) -> tuple[float, int, int] | None:
    """(agreement of the body with the header's width, that width, header line) for one
    delimiter; None when no line splits into two or more columns."""
    rows = [_cells(line, delimiter) if line.strip() else [] for line in lines]
    widths = [len(r) if r else 0 for r in rows]
    common = Counter(w for w in widths if w >= 2)
    if not common:
        return None
    width = max(common, key=lambda w: (common[w], w))
    header = _header_at(widths, rows, width)
    if header is None:
        header = next(i for i, w in enumerate(widths) if w >= 2)
    # A full row of names above it is the header of a ragged table, not a title.
    header = next(
        (i for i in range(header) if widths[i] * 2 >= width and _names(rows[i]) >= 3), header
    )
    width = widths[header]
    body = [w for w in widths[header + 1 :] if w]
    agree = sum(1 for w in body if w == width) / len(body) if body else 1.0
    return agree, width, header


def find_table(lines: Sequence[str]) -> TableStart | None:
    """The delimiter and header line of a text table; None when no delimiter splits any line."""
    best: tuple[tuple[float, int, int], str, int] | None = None
    for rank, delimiter in enumerate(DELIMITERS):
        found = _score(lines, delimiter)
        if found is None:
            continue
        agree, width, header = found
        key = (agree, width, -rank)
        if best is None or key > best[0]:
            best = (key, delimiter, header)
    if best is None:
        return None
    _, delimiter, header = best
    above = tuple(line.strip() for line in lines[:header] if line.strip())
    return TableStart(delimiter, header, above)


def find_sheet_header(rows: Sequence[Sequence[str]]) -> int:
    """The header row of a sheet: the first row of names filling most of the body's width (a
    merged title cell fills one)."""
    filled = [sum(1 for c in row if c.strip()) for row in rows[:200]]
    widest = max(filled, default=0)
    for i, n in enumerate(filled):
        if n >= 2 and n * 5 >= widest * 3 and looks_like_header(rows[i]):
            return i
    return next((i for i, n in enumerate(filled) if n), 0)


def title_note(name: str, set_aside: Sequence[str], start_line: int) -> str:
    """The sentence the report gives for lines set aside above the header."""
    n = len(set_aside)
    shown = "; ".join(f'"{line[:60]}"' for line in set_aside[:2]) + ("; …" if n > 2 else "")
    first = "The first line" if n == 1 else f"The first {n} lines"
    verb = "looks" if n == 1 else "look"
    return (
        f"{first} of {name} {verb} like a title or notes ({shown}) and {'was' if n == 1 else 'were'} "
        f"set aside; the table starts on line {start_line}."
    )


def with_what_was_seen(error: Exception, name: str, set_aside: Sequence[str], start: int) -> str:
    """A refusal's sentence, told where the table was found when lines above it were set
    aside: "... (the first 3 lines look like a title; the table starts on line 4)."."""
    sentence = str(error).rstrip(".")
    n = len(set_aside)
    lines = "the first line" if n == 1 else f"the first {n} lines"
    return (
        f"{sentence} ({lines} of {name} {'looks' if n == 1 else 'look'} like a title; "
        f"the table starts on line {start})."
    )
