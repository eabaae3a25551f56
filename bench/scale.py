"""Where one machine ends and the cluster begins: the Spark path and DuckDB at 100M rows.

* `python -m bench.scale spark PARQUET DB` (a child process): a local Spark (what
  `load --engine spark` starts without --spark-remote) computing the day cells of the Parquet
  copy of the generated CSV, against Scalegate's own DuckDB load of the same Parquet file. Both
  store the same day cells; on one machine Spark is expected to be slower (a JVM, a Connect
  server, a shuffle), which is the point of the row: Spark is for rows already on a cluster.
* DuckDB at 100M rows reuses bench.tasks in fresh processes (load, CTAS read_csv, report, bare
  GROUP BY), judged against a 2 GB peak memory target.

`rows(...)` turns what the children reported into rows of the benchmark's one table.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.common import OUT, gib, report_result, rows_label, run_child
from bench.table import ANALYSIS_MAX, INGEST_MAX, Row, _s, _x, memory_row, ratio_row

BIG_MEMORY_MAX_BYTES = 2 * 2**30  # 100M rows on this machine's class (issue: beyond one machine)
WARMUP_ROWS = 20_000
NOTES = {
    "spark": (
        "The Spark path runs a local Spark (local[*], what `load --engine spark` starts without "
        "--spark-remote) in a warm process, after a warm-up load of the first 20,000 rows, on a "
        "Parquet copy of the generated CSV; the reference is Scalegate's DuckDB load of the same "
        "Parquet file. Both store the same day cells. On one machine Spark is slower (a JVM, a "
        "Connect server, a shuffle, three jobs: the first rows, the cells, the file listing): "
        "it is for rows that are already on a cluster, where the cells come back and the rows "
        "stay. The JVM's peak RSS is read from the worker's child process."
    ),
    "big": (
        "DuckDB alone at the big size: each piece in a fresh process, one run each (load into a "
        "new file, DuckDB's CTAS read_csv, the report, a bare GROUP BY of the stored rows), "
        "judged against a 2 GB peak memory target: where one machine ends and the cluster "
        "begins."
    ),
}


def parquet_copy(csv: Path, log: Callable[[str], None] = print) -> Path:
    """The generated CSV as one Parquet file (typed by DuckDB's reader), made once per CSV."""
    import duckdb

    path = csv.with_suffix(".parquet")
    if path.is_file() and path.stat().st_mtime >= csv.stat().st_mtime:
        return path
    log(f"writing {path.name} from {csv.name} ...")
    con = duckdb.connect()
    # COPY takes no parameter for its target: the path is the benchmark's own, quoted.
    target = "'" + str(path).replace("'", "''") + "'"
    con.execute(
        "COPY (SELECT * FROM read_csv($csv)) TO " + target + " (FORMAT parquet)",  # noqa: S608 (our path)
        {"csv": str(csv)},
    )
    con.close()
    return path


def _descendants_peak_rss() -> int:
    """The largest VmHWM among this process's descendants (the local Spark's JVM)."""
    peak = 0
    todo = [os.getpid()]
    while todo:
        pid = todo.pop()
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            continue
        if pid == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]) * 1024)
        except OSError:
            continue
    return peak


def task_spark(parquet: Path, db: Path) -> dict[str, Any]:
    """Warm process: the local Spark started and warmed up on the first rows, then one Spark
    load and one DuckDB load of the same Parquet file, each into a new database."""
    import pyarrow.parquet as pq

    from analytics.ingest import spark_session
    from analytics.ingest.load import Source, load_files
    from analytics.ingest.spark import SparkSource, load_spark
    from analytics.store.database import Store, cells_table_name

    def fresh() -> Store:
        for suffix in ("", ".wal"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        return Store(db)

    start = time.perf_counter()
    spark_session.session(None)
    started = time.perf_counter() - start
    warm = OUT / f"warmup_{WARMUP_ROWS}.parquet"
    pq.write_table(pq.read_table(parquet).slice(0, WARMUP_ROWS), warm)
    load_spark(fresh(), SparkSource(path=str(warm)))
    load_files(fresh(), [Source.from_path(warm)])
    timings: dict[str, float] = {}
    cells: dict[str, int] = {}
    for name in ("duckdb", "spark"):  # the reference first, as timed_pair interleaves
        store = fresh()
        begin = time.perf_counter()
        if name == "spark":
            result = load_spark(store, SparkSource(path=str(parquet)))
        else:
            result = load_files(store, [Source.from_path(parquet)])
        timings[name] = time.perf_counter() - begin
        table = cells_table_name(result.dataset_id)
        row = store.cursor().execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608 (an int)
        cells[name] = int(row[0]) if row else 0
        store.close()
    for suffix in ("", ".wal"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    jvm = _descendants_peak_rss()
    spark_session.stop_all()
    return {
        "start_seconds": started,
        "spark_seconds": timings["spark"],
        "duckdb_seconds": timings["duckdb"],
        "cells": cells,
        "jvm_peak_rss": jvm,
    }


def measure_spark(rows: int, csv: Path, log: Callable[[str], None]) -> dict[str, Any]:
    parquet = parquet_copy(csv, log)
    log(f"[{rows_label(rows)}] the Spark path (local Spark) against DuckDB, same Parquet ...")
    found = run_child("bench.scale", "spark", str(parquet), str(OUT / f"spark_{rows}.duckdb"))
    log(f"  Spark {found['spark_seconds']:.1f} s vs DuckDB {found['duckdb_seconds']:.1f} s")
    return {"rows": rows, **found}


def measure_big(rows: int, csv: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """DuckDB at this size, each piece in a fresh process: the load and its reference, the
    report and its reference (a bare GROUP BY of the stored rows)."""
    db, scratch = OUT / f"scalegate_{rows}.duckdb", OUT / f"scratch_{rows}.duckdb"
    found: dict[str, Any] = {"rows": rows}
    for name, args in (
        ("ctas", (str(csv), str(scratch))),
        ("load", (str(csv), str(db))),
        ("report", (str(db),)),
        ("groupby", (str(db),)),
    ):
        log(f"[{rows_label(rows)}] {name} in a fresh process ...")
        found[name] = run_child("bench.tasks", name, *args, timeout=4 * 3600)
        log(f"  {found[name]['seconds']:.1f} s, {gib(found[name]['peak_rss'])}")
    for suffix in ("", ".wal"):
        Path(str(scratch) + suffix).unlink(missing_ok=True)
    return found


def rows(spark: dict[str, Any] | None, big: dict[str, Any] | None) -> list[Row]:
    """The table's rows for the Spark path and for DuckDB at the big size."""
    out: list[Row] = []
    if spark:
        label = rows_label(spark["rows"])
        ours, ref = spark["spark_seconds"], spark["duckdb_seconds"]
        out.append(
            Row(
                "Spark path: `load --engine spark`, local Spark (day cells on Spark) / "
                "Scalegate's DuckDB load of the same Parquet — slower on one machine, by design",
                label,
                _s(ours),
                _s(ref),
                _x(ours / ref),
                "—",
                "—",
            )
        )
        out.append(
            Row(
                "Spark path: local Spark start (JVM and Connect server), once per process; "
                f"JVM peak RSS {gib(spark['jvm_peak_rss'])}",
                label,
                _s(spark["start_seconds"]),
                "—",
                "—",
                "—",
                "—",
            )
        )
    if big:
        label = rows_label(big["rows"])
        load, ctas = big["load"], big["ctas"]
        report, groupby = big["report"], big["groupby"]
        out.append(
            ratio_row(
                "ingest, fresh process: Scalegate load / DuckDB `CREATE TABLE AS read_csv`",
                label,
                load["seconds"],
                ctas["seconds"],
                INGEST_MAX,
            )
        )
        out.append(
            ratio_row(
                "report, fresh process: `analyse` / bare DuckDB GROUP BY of the rows",
                label,
                report["seconds"],
                groupby["seconds"],
                ANALYSIS_MAX,
            )
        )
        for what, mem, ref, ref_name in (
            ("load", load, ctas, "DuckDB CTAS read_csv"),
            ("report", report, groupby, "bare GROUP BY"),
        ):
            out.append(
                memory_row(
                    f"memory: peak RSS of the {what}, fresh process / {ref_name}",
                    label,
                    mem["peak_rss"],
                    ref["peak_rss"],
                    BIG_MEMORY_MAX_BYTES,
                )
            )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[0] != "spark":
        raise SystemExit(f"unknown task {args[0]}")
    from bench.common import peak_rss_bytes

    result = task_spark(Path(args[1]), Path(args[2]))
    result["peak_rss"] = peak_rss_bytes()
    report_result(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
