"""The validation report of a load: what was read, what was set aside and why, and the
warnings a user should read, every sentence made from the counts it sits beside."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Reasons a whole row is set aside (the keys of ValidationReport.rejected).
UNKNOWN_PHASE = "unknown phase value"
NO_PHASE = "no phase"
NO_METRIC_NAME = "no metric name"
WRONG_COLUMNS = "wrong number of columns"
LINE_TOO_LONG = "line too long"
BAD_CHARACTERS = "unreadable characters"
STRAY_QUOTE = "misplaced quote"
REPEATED_HEADER = "the header repeated mid-file"
TOTAL_ROW = "a total or subtotal row"
NO_VOLUME = "volume missing, zero or negative"
LEFT_OUT = "phase value left out as chosen"

# The marks a load gives rows it sets aside whole (sql.row_phase_sql), and their reasons.
WHOLE_ROW_MARKS = {
    "!header": REPEATED_HEADER,
    "!total": TOTAL_ROW,
    "!weight": NO_VOLUME,
    "!left": LEFT_OUT,
}

# The key of ValidationReport.rejected_by_site for lines DuckDB could not parse into columns
# (wrong number of columns, too long, bad characters, stray quote): such a line has no site.
UNREADABLE_LINE = "(unreadable line)"

LONG_TEXT = 200  # site or channel names longer than this are flagged
EXAMPLES = 5  # example line numbers kept per reason


@dataclass(frozen=True, slots=True)
class Rejection:
    """Rows set aside for one reason: how many, and the first line numbers (header = line 1)."""

    count: int
    lines: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "lines": list(self.lines)}


@dataclass(frozen=True, slots=True)
class MissingValues:
    """Values of one metric that are missing on loaded rows, by cause."""

    empty: int = 0
    unreadable: int = 0  # text that is not a number
    not_finite: int = 0  # NaN or infinity, set aside
    lines: tuple[int, ...] = ()  # first lines with an unreadable or non-finite value

    @property
    def total(self) -> int:
        return self.empty + self.unreadable + self.not_finite

    def to_dict(self) -> dict[str, Any]:
        return {
            "empty": self.empty,
            "unreadable": self.unreadable,
            "not_finite": self.not_finite,
            "total": self.total,
            "lines": list(self.lines),
        }


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _is(n: int, singular: str, plural: str) -> str:
    return singular if n == 1 else plural


def _lines(lines: tuple[int, ...]) -> str:
    if not lines:
        return ""
    label = "line" if len(lines) == 1 else "lines"
    return f" ({label} {', '.join(str(n) for n in lines)})"


def _names(names: tuple[str, ...] | list[str], limit: int = 8) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """Everything a load found in its files. JSON-ready through to_dict(); to_text() is what
    `python -m analytics load` prints."""

    files: tuple[str, ...]
    encoding: str
    delimiter: str  # comma, semicolon, tab, pipe; "" for Parquet and Excel
    form: str  # wide or long
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    rejected: dict[str, Rejection] = field(default_factory=dict)
    # rows set aside per site, most first; lines with no readable site under UNREADABLE_LINE
    rejected_by_site: dict[str, int] = field(default_factory=dict)
    unknown_phases: dict[str, int] = field(default_factory=dict)
    phases: dict[str, int] = field(default_factory=dict)
    metrics: dict[str, str] = field(default_factory=dict)  # metric id -> label
    missing_values: dict[str, MissingValues] = field(default_factory=dict)
    unreadable_dates: int = 0
    date_lines: tuple[int, ...] = ()
    blank_dates: int = 0  # loaded rows whose date cell is empty
    volume: dict[str, Any] = field(default_factory=dict)  # column, total, min, max
    duplicate_rows: int = 0
    sites_without_baseline: tuple[str, ...] = ()
    sites_only_in_production: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()
    ignored_columns: tuple[str, ...] = ()
    renamed_headers: dict[str, str] = field(default_factory=dict)  # new name -> as written
    blank_sites: int = 0
    blank_channels: int = 0
    long_names: int = 0
    notes: tuple[str, ...] = ()  # sentences from detection and the catalog
    warnings: tuple[str, ...] = ()

    @classmethod
    def build(cls, **facts: Any) -> ValidationReport:
        """A report whose warnings are written from its own numbers."""
        draft = cls(**facts)
        return cls(**{**facts, "warnings": draft.compose_warnings()})

    def compose_warnings(self) -> tuple[str, ...]:
        """The report's warnings, in reading order: rows and values, dates and repeats, names."""
        return (
            *self._value_warnings(),
            *self._date_warnings(),
            *self._name_warnings(),
            *self.notes,
        )

    def _value_warnings(self) -> list[str]:
        out: list[str] = []
        for reason, rej in self.rejected.items():
            out.append(f"{_plural(rej.count, 'row')} set aside: {reason}{_lines(rej.lines)}.")
        if self.unknown_phases:
            values = [f"{v} ({n:,})" for v, n in self.unknown_phases.items()]
            out.append(
                f"Unknown phase values {_names(values)}: map each to baseline, pilot or "
                "production to use those rows."
            )
        for metric, miss in self.missing_values.items():
            if miss.unreadable:
                out.append(
                    f"{_plural(miss.unreadable, 'value')} of {metric} could not be read as numbers "
                    f"and count as missing{_lines(miss.lines)}."
                )
            if miss.not_finite:
                out.append(
                    f"{_plural(miss.not_finite, 'value')} of {metric} "
                    f"{_is(miss.not_finite, 'is', 'are')} NaN or infinite and "
                    f"{_is(miss.not_finite, 'was', 'were')} set aside as missing."
                )
        return out

    def _date_warnings(self) -> list[str]:
        out: list[str] = []
        if self.unreadable_dates:
            out.append(
                f"{_plural(self.unreadable_dates, 'date')} could not be read and "
                f"{_is(self.unreadable_dates, 'is', 'are')} left empty"
                f"{_lines(self.date_lines)}."
            )
        if self.blank_dates:
            out.append(
                f"{_plural(self.blank_dates, 'row')} {_is(self.blank_dates, 'has', 'have')} "
                "no date: kept, but left out of every analysis over time."
            )
        if self.duplicate_rows:
            out.append(self._repeat_warning())
        return out

    def _repeat_warning(self) -> str:
        """Rows equal to an earlier one in every loaded column. Columns not loaded (an
        identifier such as a case number) were not compared: rows that differ only there are
        different cases with the same values, which a large file holds by chance."""
        rows = self.duplicate_rows
        head = f"{_plural(rows, 'row')} {_is(rows, 'repeats', 'repeat')} an earlier row"
        kept = f"{_is(rows, 'was', 'were')} kept"
        unread = [*self.identifiers, *self.ignored_columns]
        if not unread:
            return f"{head} exactly and {kept} (check the file was not exported twice)."
        return (
            f"{head} in every loaded column and {kept}; {_names(unread)}, not loaded, "
            f"{_is(len(unread), 'was', 'were')} not compared (different cases with the same "
            "values are expected; a file exported twice is not)."
        )

    def _name_warnings(self) -> list[str]:
        out: list[str] = []
        if self.sites_only_in_production:
            out.append(
                f"Sites seen only in production: {_names(list(self.sites_only_in_production))}; "
                "they have no baseline or pilot to compare with."
            )
        if self.renamed_headers:
            pairs = [f"{old} -> {new}" for new, old in self.renamed_headers.items()]
            out.append(f"Repeated column names were renamed: {_names(pairs)}.")
        if self.blank_sites:
            out.append(
                f"{_plural(self.blank_sites, 'row')} {_is(self.blank_sites, 'has', 'have')} "
                "no site and kept the site name (blank)."
            )
        if self.blank_channels:
            out.append(
                f"{_plural(self.blank_channels, 'row')} {_is(self.blank_channels, 'has', 'have')} "
                "no channel and kept the channel name (blank)."
            )
        if self.long_names:
            out.append(
                f"{_plural(self.long_names, 'row')} {_is(self.long_names, 'has', 'have')} "
                "a site or channel name longer than "
                f"{LONG_TEXT} characters: check the columns are the right ones."
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": list(self.files),
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "form": self.form,
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_rejected": self.rows_rejected,
            "rejected": {k: v.to_dict() for k, v in self.rejected.items()},
            "rejected_by_site": dict(self.rejected_by_site),
            "unknown_phases": dict(self.unknown_phases),
            "phases": dict(self.phases),
            "metrics": dict(self.metrics),
            "missing_values": {k: v.to_dict() for k, v in self.missing_values.items()},
            "unreadable_dates": self.unreadable_dates,
            "date_lines": list(self.date_lines),
            "blank_dates": self.blank_dates,
            "volume": dict(self.volume),
            "duplicate_rows": self.duplicate_rows,
            "sites_without_baseline": list(self.sites_without_baseline),
            "sites_only_in_production": list(self.sites_only_in_production),
            "identifiers": list(self.identifiers),
            "ignored_columns": list(self.ignored_columns),
            "renamed_headers": dict(self.renamed_headers),
            "blank_sites": self.blank_sites,
            "blank_channels": self.blank_channels,
            "long_names": self.long_names,
            "warnings": list(self.warnings),
        }

    def to_text(self) -> str:
        how = self.encoding + (f", {self.delimiter}-separated" if self.delimiter else "")
        lines = [
            f"Read {_plural(self.rows_read, 'row')} from {_names(list(self.files))} "
            f"({how}, {self.form} form).",
            f"Loaded {_plural(self.rows_loaded, 'row')}; set aside {self.rows_rejected:,}.",
        ]
        if self.rejected_by_site:
            by_site = [f"{site} {n:,}" for site, n in self.rejected_by_site.items()]
            lines.append(f"Set aside by site: {_names(by_site)}.")
        if self.volume:
            v = self.volume
            lines.append(
                f"Each row is a group: its volume is {v['column']} ({v['total']:,.0f} in all, "
                f"{v['min']:,.0f} to {v['max']:,.0f} a row)."
            )
        if self.phases:
            lines.append("Phases: " + ", ".join(f"{p} {n:,}" for p, n in self.phases.items()) + ".")
        if self.metrics:
            shown = [m if m == label else f"{m} ({label})" for m, label in self.metrics.items()]
            lines.append(f"Metrics ({len(shown)}): {', '.join(shown)}.")
        missing = [f"{m} {v.total:,}" for m, v in self.missing_values.items() if v.total]
        if missing:
            lines.append(f"Missing values: {', '.join(missing)}.")
        if self.sites_without_baseline:
            lines.append(f"Sites with no baseline: {_names(list(self.sites_without_baseline))}.")
        if self.identifiers:
            lines.append(f"Identifier columns set aside: {', '.join(self.identifiers)}.")
        if self.ignored_columns:
            lines.append(f"Columns not used: {_names(list(self.ignored_columns))}.")
        if self.warnings:
            lines.append("Warnings:")
            lines += [f"  - {w}" for w in self.warnings]
        return "\n".join(lines)
