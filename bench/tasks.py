"""What the benchmark runs in child processes: `python -m bench.tasks TASK ARGS...`.

* `timings CSV DB REF_DB` — the warm measures of one dataset size, in one process with its
  imports done: ingest against DuckDB's CREATE TABLE AS read_csv, the report against a bare
  GROUP BY of the same cells, and the report for one site and for one month. It leaves the
  dataset loaded in DB for the other tasks.
* `load CSV DB`, `ctas CSV DB`, `report DB`, `groupby DB`, `e2e CSV DB` — one piece of work in a
  fresh process, to read that process's peak RSS (VmHWM); `e2e` is ours end to end (load and
  report), what the peer is compared with.

Each prints its answer as one JSON line (see common.report_result).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb

from bench.common import OUT, current_rss_bytes, peak_rss_bytes, report_result, timed_pair
from bench.data import warm_page_cache

WARMUP_ROWS = 20_000


def _remove_db(path: Path) -> None:
    for suffix in ("", ".wal", ".tmp"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def ctas_sql(csv: Path) -> str:
    """The reference load: DuckDB's own reader, every column as it infers it."""
    return "CREATE TABLE t AS SELECT * FROM read_csv(" + _literal(str(csv)) + ")"  # noqa: S608


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def cells_sql(table: str, metric_ids: Sequence[str], grain: str, where: str = "true") -> str:
    """The reference analysis: the report's cells as one bare GROUP BY, nothing after it."""
    from analytics.store.database import quote_ident

    parts = []
    for metric in metric_ids:
        col = quote_ident(metric)
        parts.append(f"count({col}), avg({col}), var_samp({col})")
    return (
        f"SELECT phase, site, channel, date_trunc({_literal(grain)}, date) AS period, "  # noqa: S608 (names quoted, values are ours)
        + ", ".join(parts)
        + f" FROM {table} WHERE {where} GROUP BY ALL"
    )


def _load(store: Any, csv: Path) -> Any:
    from analytics.ingest.load import Source, load_files

    return load_files(store, [Source.from_path(csv)])


def _warmup_csv(csv: Path) -> Path:
    """The first rows of the file: a warm-up that touches every code path, cheaply."""
    path = OUT / f"warmup_{WARMUP_ROWS}.csv"
    with csv.open("rb") as src, path.open("wb") as dst:
        for i, line in enumerate(src):
            if i > WARMUP_ROWS:
                break
            dst.write(line)
    return path


def _month_bounds(start: date) -> tuple[date, date]:
    nxt = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start, nxt - timedelta(days=1)


def task_timings(csv: Path, db: Path, ref_db: Path) -> dict[str, Any]:
    from analytics.cli.report import effective_catalog
    from analytics.decide.analysis import analyse
    from analytics.engine.aggregate import Filters
    from analytics.store.database import Store, obs_table_name

    warm_page_cache(csv)
    # Warm-up: every import, every first call, on a small file (not timed).
    small = _warmup_csv(csv)
    scratch = Store(":memory:")
    loaded = _load(scratch, small)
    analyse(scratch, loaded.dataset_id, effective_catalog(scratch, loaded.dataset_id))
    scratch.close()
    con = duckdb.connect(":memory:")
    con.execute(ctas_sql(small))
    con.close()

    # Ingest: each run into a new database file, ours and DuckDB's interleaved.
    state: dict[str, Any] = {}

    def fresh() -> None:
        for key in ("store", "con"):
            if key in state:
                state.pop(key).close()
        _remove_db(db)
        _remove_db(ref_db)
        state["store"] = Store(db)
        state["con"] = duckdb.connect(str(ref_db))

    def ours_load() -> None:
        state["result"] = _load(state["store"], csv)

    def ref_load() -> None:
        state["con"].execute(ctas_sql(csv))

    ingest, ingest_ref = timed_pair(ours_load, ref_load, setup=fresh)
    state.pop("con").close()
    _remove_db(ref_db)
    store = state["store"]
    info = store.dataset(state["result"].dataset_id)

    # Analysis: the full report against the bare GROUP BY of the same cells.
    catalog = effective_catalog(store, info.id)
    grain = catalog.settings.grain
    table = obs_table_name(info.id)
    ids = list(catalog.ids)
    cur = store.cursor()

    def measure(filters: Filters, where: str, params: dict[str, Any]) -> dict[str, Any]:
        sql = cells_sql(table, ids, grain, where)
        cur.execute(sql, params).fetchall()  # warm-up of both sides, not timed
        analyse(store, info.id, catalog, filters)
        ours, ref = timed_pair(
            lambda: analyse(store, info.id, catalog, filters),
            lambda: cur.execute(sql, params).fetchall(),
        )
        return {"ours": ours.to_dict(), "ref": ref.to_dict()}

    analysis = measure(Filters(grain=grain), "true", {})

    # Interaction: one site (the one with the most rows), one month (the one with the most rows
    # among those that hold more than one phase: a month a user would look at).
    site_row = cur.execute(
        f"SELECT site FROM {table} GROUP BY site ORDER BY count(*) DESC, site LIMIT 1"  # noqa: S608
    ).fetchone()
    month_row = cur.execute(
        f"SELECT date_trunc('month', date) AS m FROM {table} WHERE date IS NOT NULL "  # noqa: S608
        "GROUP BY m HAVING count(DISTINCT phase) > 1 ORDER BY count(*) DESC, m LIMIT 1"
    ).fetchone()
    site = site_row[0] if site_row else None
    interactions: dict[str, Any] = {}
    if site is not None:
        interactions["site"] = measure(
            Filters(grain=grain, sites=(site,)), "site = $site", {"site": site}
        )
        interactions["site"]["name"] = site
    if month_row and month_row[0] is not None:
        lo, hi = _month_bounds(month_row[0])
        interactions["month"] = measure(
            Filters(grain=grain, date_from=lo, date_to=hi),
            "date >= $lo AND date <= $hi",
            {"lo": lo, "hi": hi},
        )
        interactions["month"]["name"] = lo.strftime("%Y-%m")
    store.close()
    return {
        "rows": info.rows,
        "rejected": info.rejected,
        "metrics": len(ids),
        "ingest": {"ours": ingest.to_dict(), "ref": ingest_ref.to_dict()},
        "analysis": analysis,
        "interactions": interactions,
    }


def task_load(csv: Path, db: Path) -> dict[str, Any]:
    from analytics.store.database import Store

    base = current_rss_bytes()
    _remove_db(db)
    store = Store(db)
    start = time.perf_counter()
    result = _load(store, csv)
    seconds = time.perf_counter() - start
    store.close()
    return {"seconds": seconds, "import_rss": base, "dataset_id": result.dataset_id}


def task_ctas(csv: Path, db: Path) -> dict[str, Any]:
    base = current_rss_bytes()
    _remove_db(db)
    con = duckdb.connect(str(db))
    start = time.perf_counter()
    con.execute(ctas_sql(csv))
    seconds = time.perf_counter() - start
    con.close()
    _remove_db(db)
    return {"seconds": seconds, "import_rss": base}


def task_report(db: Path) -> dict[str, Any]:
    from analytics.cli.report import effective_catalog
    from analytics.decide.analysis import analyse
    from analytics.store.database import Store

    base = current_rss_bytes()
    store = Store(db)
    info = store.dataset()
    start = time.perf_counter()
    results = analyse(store, info.id, effective_catalog(store, info.id))
    results.to_dict()
    seconds = time.perf_counter() - start
    store.close()
    return {"seconds": seconds, "import_rss": base, "verdicts": len(results.verdicts)}


def task_groupby(db: Path) -> dict[str, Any]:
    base = current_rss_bytes()
    con = duckdb.connect(str(db), read_only=True)
    table, dataset_id = con.execute(
        "SELECT obs_table, id FROM datasets ORDER BY id DESC LIMIT 1"
    ).fetchone()
    ids = [
        r[0]
        for r in con.execute(
            "SELECT metric_id FROM metrics WHERE dataset_id = $id ORDER BY position",
            {"id": dataset_id},
        ).fetchall()
    ]
    start = time.perf_counter()
    con.execute(cells_sql(table, ids, "month")).fetchall()
    seconds = time.perf_counter() - start
    con.close()
    return {"seconds": seconds, "import_rss": base}


def task_e2e(csv: Path, db: Path) -> dict[str, Any]:
    """Ours end to end, as the peer is measured: CSV to verdicts (load, then the report)."""
    from analytics.cli.report import effective_catalog
    from analytics.decide.analysis import analyse
    from analytics.store.database import Store

    base = current_rss_bytes()
    _remove_db(db)
    start = time.perf_counter()
    store = Store(db)
    loaded = _load(store, csv)
    results = analyse(store, loaded.dataset_id, effective_catalog(store, loaded.dataset_id))
    verdicts = {v.metric: v.verdict for v in results.verdicts}
    seconds = time.perf_counter() - start
    store.close()
    return {"seconds": seconds, "import_rss": base, "verdicts": verdicts}


def task_pack(out: Path) -> dict[str, Any]:
    """The board pack of the bundled sample: built in a warm process from its results (the
    page's one click), and by `python -m analytics pack` in a fresh process (imports included).
    """
    import shutil
    import subprocess

    from analytics.cli.commands import SAMPLE, SAMPLE_CATALOG, load_sample_if_empty
    from analytics.cli.report import effective_catalog
    from analytics.decide.analysis import analyse
    from analytics.present.pack import write_pack
    from analytics.store.database import Store
    from bench.common import ROOT, timed

    store = Store(":memory:")
    load_sample_if_empty(store)
    dataset_id = store.dataset().id
    catalog = effective_catalog(store, dataset_id)
    results = analyse(store, dataset_id, catalog)

    def fresh() -> None:
        shutil.rmtree(out, ignore_errors=True)

    fresh()
    write_pack(results, catalog, out)  # warm-up: the chart renderer's first start
    warm = timed(lambda: write_pack(results, catalog, out), setup=fresh)
    fresh()
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "analytics",
            "pack",
            str(SAMPLE),
            "--catalog",
            str(SAMPLE_CATALOG),
            "--out",
            str(out),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    cli = time.perf_counter() - start
    files = len(list(out.iterdir()))
    return {"warm": warm.seconds, "warm_runs": list(warm.runs), "cli": cli, "files": files}


TASKS = {
    "pack": task_pack,
    "timings": task_timings,
    "load": task_load,
    "ctas": task_ctas,
    "report": task_report,
    "groupby": task_groupby,
    "e2e": task_e2e,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    name, paths = args[0], [Path(a) for a in args[1:]]
    result = TASKS[name](*paths)
    result["peak_rss"] = peak_rss_bytes()
    report_result(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
