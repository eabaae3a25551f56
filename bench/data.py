"""The benchmark's datasets: the sample generator's CSV at 1M and 10M rows, cached in bench/out.

A cached file is reused only while it was made by the same generator source, row count and seed
(a stamp file beside it records them), so a change to data/generate.py regenerates it.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from bench.common import OUT, ROOT

SEED = 2024
GENERATOR = ROOT / "data" / "generate.py"


def _stamp(rows: int, seed: int) -> dict[str, object]:
    source = hashlib.sha256(GENERATOR.read_bytes()).hexdigest()
    return {"rows": rows, "seed": seed, "generator_sha256": source}


def csv_path(rows: int, out: Path = OUT) -> Path:
    return out / f"sample_{rows}.csv"


def ensure_csv(rows: int, seed: int = SEED, out: Path = OUT, log=print) -> Path:
    """The generated CSV of `rows` rows, written once and then reused while still current."""
    path = csv_path(rows, out)
    stamp_path = path.with_suffix(".stamp.json")
    wanted = _stamp(rows, seed)
    if path.is_file() and stamp_path.is_file():
        try:
            if json.loads(stamp_path.read_text()) == wanted:
                return path
        except ValueError:
            pass
    from data.generate import write_sample

    out.mkdir(parents=True, exist_ok=True)
    log(f"generating {rows:,} rows into {path.relative_to(ROOT)} ...")
    start = time.perf_counter()
    written = write_sample(path, rows, seed)
    if written != rows:
        raise RuntimeError(f"the generator wrote {written} rows, not {rows}")
    stamp_path.write_text(json.dumps(wanted))
    size = path.stat().st_size
    log(f"  {written:,} rows, {size / 2**20:.0f} MB in {time.perf_counter() - start:.1f} s")
    return path


def warm_page_cache(path: Path) -> None:
    """Read a file once so that every competitor then reads it from memory, not from disk."""
    with path.open("rb") as f:
        while f.read(16 << 20):
            pass
