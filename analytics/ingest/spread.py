"""A spread sample of a large CSV: its head and short runs of whole lines from across the file.

Detection shows the phase column's values with their row counts before anything is loaded.
Reading a 60 MB file whole for that took as long as loading it; the first rows alone would not
do (a file sorted by date holds only baseline rows at its top). So a plain CSV over
SPREAD_MIN_BYTES is scanned through a sample: CHUNKS runs of about CHUNK_BYTES taken at even
steps from its start (the first holds the header) to its end, each cut to whole lines. The
counts are then estimates (the sample's counts divided by its share of the file's bytes: every
run stands for the same stretch of the file), and a value that is rare everywhere may be
missed; the load itself reads every row, maps every value it knows and reports the rows it
sets aside.

Compressed, UTF-16, Parquet and Excel files, files whose lines do not end in a line feed, and
files with a quoted line break (a line of the sample with an odd number of quotes: a run cut
inside a quote would read the rest of the sample wrongly) are read whole.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from analytics.ingest.read import FileSpec

SPREAD_MIN_BYTES = 8 << 20
CHUNKS = 1024
CHUNK_BYTES = 1 << 11


def _whole_lines(block: bytes, *, first: bool) -> bytes:
    """The whole lines of a block read at some offset: from after its first line feed (unless
    it is the file's head) to its last."""
    start = 0 if first else block.find(b"\n") + 1
    end = block.rfind(b"\n") + 1
    return block[start:end] if 0 <= start < end else b""


def spread_sample(spec: FileSpec, folder: Path, k: int = 0) -> tuple[FileSpec, float] | None:
    """A copy of the spec that reads a spread sample of its file, written into folder (as the
    k-th file), and the sample's share of the file's bytes; None when it is to be read whole."""
    if spec.format != "csv" or spec.compression != "none" or spec.encoding == "utf-16":
        return None
    size = os.path.getsize(spec.path)
    if size < SPREAD_MIN_BYTES:
        return None
    with open(spec.path, "rb") as handle:
        head = _whole_lines(handle.read(CHUNK_BYTES), first=True)
        if head.count(b"\n") < spec.skip + 2:
            return None  # a header this long, or lines ending in a lone CR: read it whole
        parts = [head]
        step = size / CHUNKS
        for k in range(1, CHUNKS):
            handle.seek(int(k * step))
            parts.append(_whole_lines(handle.read(CHUNK_BYTES), first=False))
    sample = b"".join(parts)
    if b'"' in sample and any(line.count(b'"') % 2 for line in sample.split(b"\n")):
        return None
    path = folder / f"spread_sample_{k}.csv"
    path.write_bytes(sample)
    return replace(spec, path=str(path)), len(sample) / size
