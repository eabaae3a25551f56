"""The plan of a load: every column's role and cleaning, decided once by detect.py and read by the
SQL that loads, checks and reports (sql.py, check.py, load.py), and how several files' columns
line up."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from analytics.core.catalog import (
    Catalog,
)
from analytics.core.errors import ScalegateError
from analytics.core.types import Phase
from analytics.ingest.read import (
    DATE_TYPES,
    NUMERIC_TYPES,
    FileSpec,
)
from analytics.ingest.sql import (
    NumberStyle,
)

ROLES = ("phase", "site", "channel", "date", "metric", "value", "weight", "ignore")


Form = Literal["wide", "long"]


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything a load needs to know about its files, decided before any data is stored."""

    files: tuple[FileSpec, ...]
    positions: tuple[tuple[int, ...], ...]  # per file, the position of each canonical column
    headers: tuple[str, ...]
    roles: dict[str, str]  # header -> phase/site/channel/date/metric/value/ignore/identifier
    form: Form
    phase: int | None
    site: int | None
    channel: int | None
    date: int | None
    metrics: tuple[int, ...]  # wide: the metric columns, in file order
    name_col: int | None  # long: the column naming the metric
    value_col: int | None  # long: the column holding the value
    metric_names: tuple[str, ...]  # long: the metric names found, in order of appearance
    catalog: Catalog
    styles: dict[int, NumberStyle]
    date_format: str
    phase_keys: dict[Phase, tuple[str, ...]]
    identifiers: tuple[str, ...]
    ignored: tuple[str, ...]
    renamed: dict[str, str]
    padded: frozenset[int] = frozenset()  # dimension columns whose cells need trimming
    warnings: tuple[str, ...] = ()
    weight: int | None = None  # the rows' volume (contacts handled, cases, ...)
    per_unit: frozenset[int] = frozenset()  # metric columns of row totals, divided by weight
    guesses: dict[str, str] = field(default_factory=dict)  # unplaced column -> best guess
    params: dict[str, Any] = field(default_factory=dict)

    def col(self, f: int, k: int) -> tuple[str, str]:
        """Internal column name and DuckDB type of canonical column k in file f."""
        pos = self.positions[f][k]
        return f"c{pos}", self.files[f].types[pos]

    def needs_cleaning(self) -> bool:
        """Whether any value needs text cleaning or line-by-line accounting (the slow path)."""
        cols = list(self.metrics) + [
            c for c in (self.date, self.value_col, self.weight) if c is not None
        ]
        return self.form == "long" or any(
            self.col(f, k)[1] not in NUMERIC_TYPES | DATE_TYPES | {"BOOLEAN"}
            for k in cols
            for f in range(len(self.files))
        )


def effective_types(files: Sequence[FileSpec], positions: Sequence[Sequence[int]]) -> list[str]:
    """Each column's type over all files: the common one, else VARCHAR (cleaned as text)."""
    out = []
    for k in range(len(positions[0])):
        types = {spec.types[positions[f][k]] for f, spec in enumerate(files)}
        out.append(types.pop() if len(types) == 1 else "VARCHAR")
    return out


def align_files(files: Sequence[FileSpec]) -> tuple[tuple[int, ...], ...]:
    """Per file, where each of the first file's columns is; files must share their columns."""
    first = [h.lower() for h in files[0].headers]
    positions = [tuple(range(len(first)))]
    for spec in files[1:]:
        mine = [h.lower() for h in spec.headers]
        if sorted(mine) != sorted(first):
            missing = [h for h in files[0].headers if h.lower() not in mine]
            extra = [h for h in spec.headers if h.lower() not in first]
            detail = f"it lacks {', '.join(missing)}" if missing else ""
            if extra:
                detail += ("; " if detail else "") + f"it has {', '.join(extra)} in addition"
            raise ScalegateError(
                f"The files do not share their columns: {spec.name} differs from "
                f"{files[0].name} ({detail}); load files with the same columns together."
            )
        positions.append(tuple(mine.index(h) for h in first))
    return tuple(positions)
