"""Reading one input file the way DuckDB will: what it is (CSV, Parquet, Excel), its encoding,
delimiter and header, and the FROM clause that reads it with explicit options.

Only the first 64 KB are looked at in Python (magic numbers, encoding, delimiter, header); the
rows themselves are always read by DuckDB. Excel sheets are handed to DuckDB as a temporary
Parquet file built column by column through Arrow.

SQL text here is assembled from code-made pieces only (internal column names c0, c1, ...,
quote_ident-ed metric ids, allow-listed expressions); every value that comes from a file is a
bound parameter. That is what each `noqa: S608` vouches for.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import glob
import io
import os
import re
import tempfile
import zipfile
import zlib
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from analytics.core.errors import ScalegateError
from analytics.ingest.header import find_sheet_header, find_table

HEAD_BYTES = 1 << 16
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
NUMERIC_TYPES = frozenset(
    {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER"}
    | {"UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "REAL"}
)
INTEGER_TYPES = frozenset(t for t in NUMERIC_TYPES if "INT" in t)
DATE_TYPES = frozenset({"DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_NS"})
DATE_TYPES |= {"TIMESTAMP_MS", "TIMESTAMP_S"}

Format = Literal["csv", "parquet", "excel"]

_BINARY_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ", "an xz archive"),
    (b"\x28\xb5\x2f\xfd", "a zstd archive"),
    (b"SQLite format 3", "a SQLite database"),
    (b"\x7fELF", "a program file"),
)


@dataclass(frozen=True, slots=True)
class Source:
    """One input file: a local path, or bytes uploaded under a file name."""

    name: str
    path: Path | None = None
    data: bytes | None = None

    @classmethod
    def from_path(cls, path: str | Path) -> Source:
        return cls(name=Path(path).name, path=Path(path))

    @classmethod
    def from_bytes(cls, name: str, data: bytes) -> Source:
        return cls(name=name, data=bytes(data))

    def size(self) -> int:
        """Its bytes (0 when its file cannot be seen)."""
        if self.data is not None:
            return len(self.data)
        try:
            return self.path.stat().st_size if self.path is not None else 0
        except OSError:
            return 0

    def head(self) -> bytes:
        if self.data is not None:
            return self.data[:HEAD_BYTES]
        if self.path is None:
            raise ScalegateError(f"The file {self.name} has neither a path nor any content.")
        try:
            with open(self.path, "rb") as handle:
                return handle.read(HEAD_BYTES)
        except OSError as exc:
            raise ScalegateError(f"The file {self.name} cannot be read ({exc.strerror}).") from exc


@dataclass(frozen=True, slots=True)
class FileSpec:
    """How DuckDB reads one file: explicit options, internal column names c0, c1, ..."""

    name: str
    path: str
    format: Format
    headers: tuple[str, ...]  # as shown to the user, duplicates suffixed _2
    types: tuple[str, ...]  # DuckDB type per column
    encoding: str = "utf-8"  # what DuckDB is told
    encoding_label: str = ""  # what the report says
    compression: str = "none"
    delimiter: str = ""
    decimal_comma: bool = False
    dateformat: str | None = None
    timestampformat: str | None = None
    renamed: dict[str, str] = field(default_factory=dict)  # new header -> header as written
    strict: bool = True  # False after DuckDB met mixed line endings: read leniently
    data_lines: int = -1  # non-blank lines after the header in the first 64 KB (CSV only)
    skip: int = 0  # lines above the header (blank, titles, notes)
    preamble: tuple[str, ...] = ()  # the non-blank lines above the header, set aside

    @property
    def internal(self) -> tuple[str, ...]:
        return tuple(f"c{i}" for i in range(len(self.headers)))

    def with_types(self, types: Sequence[str]) -> FileSpec:
        return replace(self, types=tuple(types))

    def relation(self, prefix: str, *, rejects: str | None = None) -> tuple[str, dict[str, Any]]:
        """SQL text of a table function reading this file, and its bound parameters.

        Nothing from the file appears in the text: the path, the column list and every option
        value are parameters named `prefix_...`.
        """
        params: dict[str, Any] = {f"{prefix}_path": self.path}
        if self.format != "csv":
            columns = ", ".join(f"#{i + 1} AS c{i}" for i in range(len(self.headers)))
            return f"(SELECT {columns} FROM read_parquet(${prefix}_path))", params  # noqa: S608
        params |= {
            f"{prefix}_cols": dict(zip(self.internal, self.types, strict=True)),
            f"{prefix}_delim": self.delimiter,
            f"{prefix}_enc": self.encoding,
            f"{prefix}_comp": self.compression,
            f"{prefix}_dec": "," if self.decimal_comma else ".",
        }
        options = [
            f"columns=${prefix}_cols",
            f"delim=${prefix}_delim",
            f"encoding=${prefix}_enc",
            f"compression=${prefix}_comp",
            f"decimal_separator=${prefix}_dec",
            "quote='\"'",
            "escape='\"'",
            "header=true",
            "auto_detect=false",
            "null_padding=false",
            "ignore_errors=true",
        ]
        if not self.strict:
            options.append("strict_mode=false")
        if self.skip:
            options.append(f"skip={int(self.skip)}")
        if self.dateformat:
            params[f"{prefix}_df"] = self.dateformat
            options.append(f"dateformat=${prefix}_df")
        if self.timestampformat:
            params[f"{prefix}_tf"] = self.timestampformat
            options.append(f"timestampformat=${prefix}_tf")
        if rejects:
            # Code-made temporary table names, one pair per load.
            options += ["store_rejects=true", f"rejects_table='{rejects}'"]
            options.append(f"rejects_scan='{rejects}_scan'")
        return f"read_csv(${prefix}_path, {', '.join(options)})", params


# -- what kind of file is it ------------------------------------------------------------------


def _refuse(name: str, what: str) -> ScalegateError:
    return ScalegateError(
        f"The file {name} is {what}, not a table of data: export it as CSV, Excel or Parquet."
    )


def unclosed_quote(name: str, line: int) -> ScalegateError:
    """The sentence for a quote that swallows the rest of a file."""
    return ScalegateError(
        f'Line {line} of {name} opens a quote (") that never closes, so the rest of the file '
        "cannot be read: close or remove that quote."
    )


def _sniff_binary(name: str, head: bytes) -> None:
    for magic, what in _BINARY_MAGIC:
        if head.startswith(magic):
            raise _refuse(name, what)


def _decompressed_head(source: Source, head: bytes) -> bytes:
    """The first bytes inside a gzip file, or a sentence when it is not gzip after all."""
    try:
        inner = zlib.decompressobj(wbits=31).decompress(head, HEAD_BYTES)
    except zlib.error as exc:
        raise _refuse(source.name, "a damaged compressed file") from exc
    return inner


def _is_spreadsheet_zip(source: Source) -> bool:
    try:
        opened = zipfile.ZipFile(
            io.BytesIO(source.data) if source.data is not None else str(source.path)
        )
    except (zipfile.BadZipFile, OSError):
        return False
    with opened as archive:
        names = set(archive.namelist())
    return "xl/workbook.xml" in names or "content.xml" in names or "xl/workbook.bin" in names


def _text_encoding(head: bytes) -> tuple[str, str, str]:
    """(DuckDB encoding, label, head decoded) from a BOM or from whether the head is UTF-8."""
    if head.startswith(b"\xff\xfe\x00\x00") or head.startswith(b"\x00\x00\xfe\xff"):
        raise ScalegateError("UTF-32 text is not supported: save the file as UTF-8 CSV.")
    if head.startswith(b"\xff\xfe"):
        body = head[2:]
        return "utf-16", "UTF-16", body[: len(body) // 2 * 2].decode("utf-16-le", "replace")
    if head.startswith(b"\xfe\xff"):
        raise ScalegateError(
            "UTF-16 big-endian text is not supported: save the file as UTF-8 CSV "
            "or as Unicode text from Excel."
        )
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", "UTF-8 with BOM", head[3:].decode("utf-8", "replace")
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        text = decoder.decode(head, final=len(head) < HEAD_BYTES)
    except UnicodeDecodeError:
        return "latin-1", "Latin-1", head.decode("latin-1")
    return "utf-8", "UTF-8", text


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _check_text(name: str, text: str) -> None:
    """Refuse binary data, JSON and web pages that arrive under a .csv name."""
    if "\x00" in text or len(_CONTROL.findall(text)) > max(2, len(text) // 100):
        raise _refuse(name, "binary data (an image, archive or program file)")
    start = text.lstrip("\ufeff \t\r\n")
    if not start:
        raise ScalegateError(f"The file {name} is empty: export it again with its rows.")
    if start[0] == "{" or (start[0] == "[" and start[1:].lstrip()[:1] in ("{", "[", '"', "]")):
        raise _refuse(name, "JSON")
    if start[0] == "<" and re.match(r"<(!doctype|html|\?xml|head|body|table|div|svg)", start, re.I):
        raise _refuse(name, "a web page (HTML or XML)")


def _complete_lines(text: str, truncated: bool) -> list[str]:
    lines = text.splitlines()
    if truncated and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut in the middle
    return lines[:400]


def _field_counts(lines: list[str], delimiter: str) -> list[int]:
    try:
        return [len(row) for row in csv.reader(lines, delimiter=delimiter) if row]
    except csv.Error:
        return []


def dedupe_headers(raw: Sequence[str]) -> tuple[tuple[str, ...], dict[str, str]]:
    """Headers stripped, blanks named column_N, repeats (case-insensitive) suffixed _2, _3."""
    seen: set[str] = set()
    headers: list[str] = []
    renamed: dict[str, str] = {}
    for i, cell in enumerate(raw):
        header = cell.strip().lstrip("\ufeff").strip() or f"column_{i + 1}"
        candidate, k = header, 2
        while candidate.lower() in seen:
            candidate, k = f"{header}_{k}", k + 1
        if candidate != header:
            renamed[candidate] = header
        seen.add(candidate.lower())
        headers.append(candidate)
    return tuple(headers), renamed


_DECIMAL_COMMA = re.compile(r"^[-+]?\d+,\d+%?$|^[-+]?\d{1,3}(\.\d{3})+,\d+")
_DECIMAL_DOT = re.compile(r"^[-+]?\d+\.\d+%?$|^[-+]?\d{1,3}(,\d{3})+\.\d+")


def _prefers_decimal_comma(lines: list[str], delimiter: str) -> bool:
    """Whether numbers in the head are written 12,5 rather than 12.5 (never in comma files)."""
    if delimiter == ",":
        return False
    comma = dot = 0
    for row in csv.reader(lines[1:200], delimiter=delimiter):
        for cell in row:
            cell = cell.strip()
            comma += bool(_DECIMAL_COMMA.match(cell))
            dot += bool(_DECIMAL_DOT.match(cell))
    return comma > dot or (delimiter == ";" and comma == dot and comma > 0)


def _sniff_types(con: duckdb.DuckDBPyConnection, spec: FileSpec) -> FileSpec:
    """Column types, date and timestamp formats from DuckDB's sniffer, told the dialect."""
    try:
        row = con.execute(
            "SELECT Columns, DateFormat, TimestampFormat FROM sniff_csv($path, delim=$delim, "
            "quote='\"', escape='\"', header=true, encoding=$enc, compression=$comp, "
            "names=$names, decimal_separator=$dec, ignore_errors=true, skip=$skip)",
            {
                "path": spec.path,
                "delim": spec.delimiter,
                "enc": spec.encoding,
                "comp": spec.compression,
                "names": list(spec.internal),
                "skip": spec.skip,
                "dec": "," if spec.decimal_comma else ".",
            },
        ).fetchone()
    except duckdb.Error:
        row = None
    if not row or len(row[0]) != len(spec.headers):
        return spec.with_types(["VARCHAR"] * len(spec.headers))
    types = [str(c["type"]) for c in row[0]]
    dateformat, timestampformat = row[1], row[2]
    # Day-first or month-first is decided from the whole sample (and the file's conventions)
    # by the plan, not by DuckDB's first guess: such columns are read as text.
    if dateformat and dateformat != "%Y-%m-%d":
        types = ["VARCHAR" if t == "DATE" else t for t in types]
        dateformat = None
    if timestampformat and not timestampformat.startswith("%Y-%m-%d"):
        types = ["VARCHAR" if t == "TIMESTAMP" else t for t in types]
        timestampformat = None
    return replace(spec, types=tuple(types), dateformat=dateformat, timestampformat=timestampformat)


# -- Excel through Arrow --------------------------------------------------------------------


def _cell_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _arrow_column(values: list[Any]) -> pa.Array:
    """One sheet column as an Arrow array: numbers, dates, booleans kept typed; mixtures as text."""
    cleaned = [None if v == "" else v for v in values]
    kinds = {type(v) for v in cleaned if v is not None}
    if kinds == {dt.date, dt.datetime}:
        cleaned = [dt.datetime.combine(v, dt.time()) if type(v) is dt.date else v for v in cleaned]
    try:
        array = pa.array(cleaned) if kinds and kinds != {dt.timedelta} else None
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        array = None
    if array is None:
        return pa.array([None if v is None else _cell_text(v) for v in cleaned], pa.string())
    if pa.types.is_floating(array.type):
        finite = pc.fill_null(pc.is_finite(array), True)
        whole = pc.fill_null(pc.equal(array, pc.floor(array)), True)
        if pc.all(finite).as_py() and pc.all(whole).as_py() and len(array) > 0:
            return array.cast(pa.int64())
    if pa.types.is_null(array.type):
        return array.cast(pa.string())
    return array


def _excel_to_parquet(source: Source, folder: Path) -> tuple[str, list[str], tuple[str, ...], int]:
    """The first sheet as a Parquet file: its path, the header row as written (found below any
    title rows), the rows set aside above it and the header's row index."""
    from python_calamine import CalamineWorkbook

    try:
        if source.data is not None:
            book = CalamineWorkbook.from_filelike(io.BytesIO(source.data))
        else:
            book = CalamineWorkbook.from_path(str(source.path))
        rows = book.get_sheet_by_index(0).to_python(skip_empty_area=True)
    except Exception as exc:  # calamine raises its own types for every kind of damage
        raise _refuse(source.name, "a damaged or protected spreadsheet") from exc
    if not rows:
        raise ScalegateError(f"The first sheet of {source.name} is empty: put the table there.")
    texts = [[_cell_text(v) if v not in ("", None) else "" for v in row] for row in rows[:200]]
    at = find_sheet_header(texts)
    header = texts[at]
    # Columns with neither a header nor a value (beside a merged title) are dropped.
    body = rows[at + 1 :]
    keep = [
        i for i, h in enumerate(header) if h or any(r[i] not in ("", None) for r in body[:1000])
    ]
    header = [header[i] for i in keep]
    columns = [[r[i] for r in body] for i in keep]
    arrays = [_arrow_column(col) for col in columns]
    table = pa.Table.from_arrays(arrays, names=[f"c{i}" for i in range(len(header))])
    path = folder / "sheet.parquet"
    pq.write_table(table, path)
    above = tuple(" ".join(c for c in row if c) for row in texts[:at] if any(row))
    return str(path), header, above, at


# -- opening a file -------------------------------------------------------------------------


def _temp_folder(stack: ExitStack) -> Path:
    return Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="scalegate-")))


def _materialise(source: Source, stack: ExitStack, suffix: str) -> str:
    """A path DuckDB can read: the source's own, or its bytes written to a temporary file."""
    if source.data is None:
        return str(source.path)
    path = _temp_folder(stack) / f"upload{suffix}"
    path.write_bytes(source.data)
    return str(path)


def _parquet_spec(
    con: duckdb.DuckDBPyConnection, source: Source, path: str, fmt: Format, raw: list[str] | None
) -> FileSpec:
    try:
        described = con.execute(
            "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet($p))",
            {"p": path},
        ).fetchall()
    except duckdb.Error as exc:
        raise _refuse(source.name, "a damaged Parquet file") from exc
    names = raw if raw is not None else [r[0] for r in described]
    headers, renamed = dedupe_headers(names)
    label = "Excel workbook" if fmt == "excel" else "Parquet"
    types = tuple(str(r[1]) for r in described)
    return FileSpec(source.name, path, fmt, headers, types, "", label, renamed=renamed)


def open_source(con: duckdb.DuckDBPyConnection, source: Source, stack: ExitStack) -> FileSpec:
    """Work out what a file is and how DuckDB should read it; refuse what is not a table."""
    head = source.head()
    if not head.strip():
        raise ScalegateError(f"The file {source.name} is empty: export it again with its rows.")
    if head.startswith(b"PAR1"):
        return _parquet_spec(con, source, _materialise(source, stack, ".parquet"), "parquet", None)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\xd0\xcf\x11\xe0"):
        if head.startswith(b"PK") and not _is_spreadsheet_zip(source):
            raise _refuse(source.name, "a ZIP archive")
        path, header, above, at = _excel_to_parquet(source, _temp_folder(stack))
        spec = _parquet_spec(con, source, path, "excel", header)
        return replace(spec, preamble=above, skip=at)
    compression = "none"
    truncated = len(head) == HEAD_BYTES
    if head.startswith(b"\x1f\x8b"):
        compression = "gzip"
        head = _decompressed_head(source, head)
        truncated = True  # the head of a compressed file tells nothing about its length
        if not head.strip():
            raise ScalegateError(f"The file {source.name} is empty: export it again with its rows.")
        if head.startswith(b"\x1f\x8b") or head.startswith(b"PK") or head.startswith(b"PAR1"):
            raise _refuse(source.name, "a compressed archive")
    _sniff_binary(source.name, head)
    encoding, label, text = _text_encoding(head)
    _check_text(source.name, text)
    lines = _complete_lines(text, truncated)
    start = find_table(lines)
    if start is None:
        first = next((line.strip() for line in lines if line.strip()), "")
        raise ScalegateError(
            f"The file {source.name} has a single column (its first line reads "
            f'"{first[:60]}"): a CSV needs its columns separated by commas, semicolons, tabs '
            "or pipes."
        )
    skip, delimiter = start.header, start.delimiter
    lines = lines[skip:]
    raw = next(csv.reader(lines, delimiter=delimiter))
    headers, renamed = dedupe_headers(raw)
    suffix = ".csv.gz" if compression == "gzip" else ".csv"
    spec = FileSpec(
        name=source.name,
        path=_materialise(source, stack, suffix),
        format="csv",
        headers=headers,
        types=("VARCHAR",) * len(headers),
        encoding=encoding,
        encoding_label=label,
        compression=compression,
        delimiter=delimiter,
        decimal_comma=_prefers_decimal_comma(lines, delimiter),
        renamed=renamed,
        data_lines=sum(1 for line in lines[1:] if line.strip()),
        skip=skip,
        preamble=start.set_aside,
        strict=not _title_ends_differently(text, skip),
    )
    return _sniff_types(con, spec)


def _title_ends_differently(text: str, skip: int) -> bool:
    """Whether the lines above the header end otherwise than the header (a title written with
    LF above a CRLF table): DuckDB's strict reader then sets every line aside, so the file is
    read leniently from the start, as after a mixed-endings error."""
    if not skip:
        return False
    lines = text.splitlines(keepends=True)[: skip + 1]
    ends = {line[len(line.rstrip("\r\n")) :] for line in lines}
    return len(ends) > 1


def describe_delimiter(delimiter: str) -> str:
    return DELIMITER_NAMES.get(delimiter, repr(delimiter))


MAX_LOCAL_FILES = 50


def expand_local(pattern: str) -> tuple[Path, ...]:
    """The files a local path or glob names (`~` expanded), sorted; a sentence when none."""
    text = pattern.strip()
    if not text:
        raise ScalegateError("Type a file path or a pattern such as ~/exports/*.csv.")
    expanded = os.path.expanduser(text)
    if any(ch in expanded for ch in "*?["):
        found = sorted(Path(p) for p in glob.glob(expanded, recursive=True))
    else:
        found = [Path(expanded)]
    files = tuple(p for p in found if p.is_file())
    if not files:
        raise ScalegateError(f"No file matches {text}: check the path.")
    if len(files) > MAX_LOCAL_FILES:
        raise ScalegateError(
            f"{text} matches {len(files)} files; load at most {MAX_LOCAL_FILES} at once."
        )
    return files
