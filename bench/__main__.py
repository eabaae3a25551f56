"""`python -m bench [--quick | --rows N ...]`: run the benchmark, print and save its table.

Writes bench/out/latest.md (the table and its notes) and bench/out/latest.json (every number
measured); a full run (1M and 10M rows, the default) also puts the table in README.md between the
bench markers. Generated CSVs are cached in bench/out/ (gitignored).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import scale, table
from bench.common import OUT, ROOT, ChildFailed, gib, machine, rows_label, run_child
from bench.data import SEED, ensure_csv

FULL = (1_000_000, 10_000_000)
SPARK_ROWS = 10_000_000  # the Spark path (local), in a full run
BIG_ROWS = 100_000_000  # DuckDB where one machine ends, in a full run
QUICK = (1_000_000,)
PAGES_ROWS = 1_000_000
SAMPLE_ROWS = 150_000  # data/sample.csv
PACK_TARGET = 10.0  # seconds for the sample's whole board pack (issue: exports)
SAMPLE_PAGE_TARGET = 2.0  # seconds per page on the sample (issue: the dashboard)
PEER_MEMORY_SHARE = 0.8  # the peer is not run where it would need more of the RAM than this


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--rows", type=int, action="append", metavar="N", help="dataset size (repeat)")
    p.add_argument("--quick", action="store_true", help="1M rows only (about 3 minutes)")
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument("--no-peer", action="store_true", help="skip the notebook peer")
    p.add_argument("--no-pages", action="store_true", help="skip the AppTest page timings")
    p.add_argument(
        "--browser",
        action="store_true",
        help="the browser section only: Chromium on the sample and on 1M rows (bench/browser.py)",
    )
    p.add_argument(
        "--peer-max-seconds",
        type=float,
        default=900.0,
        help="run the peer at a size only if its predicted time is under this (default 900)",
    )
    p.add_argument(
        "--load-test",
        action="store_true",
        help="many browser sessions at once while one loads a file (bench/load_test.py)",
    )
    p.add_argument("--sessions", type=int, default=8, help="load test: most sessions (default 8)")
    p.add_argument("--rounds", type=int, default=3, help="load test: rounds of every page")
    p.add_argument("--load-rows", type=int, default=1_000_000, help="load test: the file loaded")
    p.add_argument("--spark-rows", type=int, metavar="N", help="the Spark path at N rows")
    p.add_argument("--big-rows", type=int, metavar="N", help="DuckDB alone at N rows")
    p.add_argument(
        "--no-scale", action="store_true", help="skip the Spark path and the big DuckDB size"
    )
    p.add_argument(
        "--reuse-scale",
        action="store_true",
        help="with --no-scale: put the last measured Spark and big rows (bench/out/scale.json) "
        "in the table, with a note saying when and under what load they were measured",
    )
    readme = p.add_mutually_exclusive_group()
    readme.add_argument("--readme", action="store_true", default=None, help="update README.md")
    readme.add_argument("--no-readme", dest="readme", action="store_false")
    args = p.parse_args(argv)
    if args.quick and args.rows:
        p.error("--quick and --rows do not go together")
    if args.load_test:
        args.sizes = tuple(args.rows or (FULL[-1],))[:1]  # the dataset the sessions browse
        args.readme = bool(args.readme)
        return args
    sizes = tuple(sorted(set(args.rows))) if args.rows else (QUICK if args.quick else FULL)
    if any(n < 1000 for n in sizes):
        p.error("--rows must be at least 1000")
    args.sizes = sizes
    full = sizes == FULL and not args.no_scale
    args.spark_rows = args.spark_rows or (SPARK_ROWS if full else None)
    args.big_rows = args.big_rows or (BIG_ROWS if full else None)
    if args.readme is None:
        args.readme = sizes == FULL
    return args


def measure_size(rows: int, csv: Path) -> dict[str, Any]:
    """Everything but the peer and the pages, for one dataset size."""
    label = rows_label(rows)
    db = OUT / f"scalegate_{rows}.duckdb"
    scratch = OUT / f"scratch_{rows}.duckdb"
    found: dict[str, Any] = {}
    log(f"[{label}] warm timings: ingest, analysis, interaction ...")
    found["timings"] = run_child(
        "bench.tasks", "timings", str(csv), str(db), str(OUT / f"ref_{rows}.duckdb")
    )
    t = found["timings"]
    log(
        f"  ingest {t['ingest']['ours']['seconds']:.2f} s vs {t['ingest']['ref']['seconds']:.2f} s;"
        f" analysis {t['analysis']['ours']['seconds']:.3f} s vs"
        f" {t['analysis']['ref']['seconds']:.3f} s"
    )
    memory: dict[str, Any] = {}
    for name, args in (
        ("report", (str(db),)),
        ("groupby", (str(db),)),
        ("load", (str(csv), str(scratch))),
        ("ctas", (str(csv), str(scratch))),
    ):
        log(f"[{label}] peak memory: {name} in a fresh process ...")
        memory[name] = run_child("bench.tasks", name, *args)
        log(f"  {gib(memory[name]['peak_rss'])} in {memory[name]['seconds']:.2f} s")
    for suffix in ("", ".wal"):
        Path(str(scratch) + suffix).unlink(missing_ok=True)
    found["memory"] = memory
    return found


def run_peer(rows: int, csv: Path, timeout: float) -> dict[str, Any]:
    """The peer and ours end to end on the same file, each in a fresh process."""
    label = rows_label(rows)
    scratch = OUT / f"e2e_{rows}.duckdb"
    log(f"[{label}] ours end to end (load + report), fresh process ...")
    ours = run_child("bench.tasks", "e2e", str(csv), str(scratch))
    for suffix in ("", ".wal"):
        Path(str(scratch) + suffix).unlink(missing_ok=True)
    log(f"  {ours['seconds']:.2f} s, {gib(ours['peak_rss'])}")
    log(f"[{label}] the notebook peer, fresh process ...")
    peer = run_child("bench.peer", str(csv), timeout=timeout)
    log(f"  {peer['seconds']:.1f} s, {gib(peer['peak_rss'])}")
    return {"rows": rows, "ours": ours, "peer": peer}


def predict_peer(measured: dict[str, Any], rows: int) -> tuple[float, float]:
    """The peer's time and peak memory at `rows`, extrapolated linearly from a measured size.

    Its cost is the row-level OLS: time and the design matrix grow with the rows.
    """
    scale = rows / measured["rows"]
    peer = measured["peer"]
    base = peer.get("import_rss", 0.25 * 2**30)
    return peer["seconds"] * scale, base + (peer["peak_rss"] - base) * scale


def load_test(args: argparse.Namespace, argv: list[str]) -> int:
    """The load test alone: many sessions at once while one loads (not part of `make test`)."""
    from bench import load_test as lt

    OUT.mkdir(parents=True, exist_ok=True)
    before = os.getloadavg()[0]
    found = lt.run(args.sizes[0], args.load_rows, args.sessions, args.rounds, log)
    command = "python -m bench " + " ".join(shlex.quote(a) for a in argv)
    body = lt.render(found, command.strip(), (before, os.getloadavg()[0]))
    (OUT / "loadtest.json").write_text(json.dumps(found, indent=1))
    (OUT / "loadtest.md").write_text(body + "\n")
    print(body)
    if args.readme:
        lt.update_readme(ROOT / "README.md", body)
        log("README.md updated between the load-test markers")
    errors = len(found["alone"]["errors"]) + sum(len(lv["errors"]) for lv in found["levels"])
    return 1 if errors else 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    if args.load_test:
        return load_test(args, argv)
    if args.browser:
        from bench import browser_section

        return browser_section.main(args)
    command = ("python -m bench " + shlex.join(sys.argv[1:] if argv is None else argv)).strip()
    OUT.mkdir(parents=True, exist_ok=True)
    box = machine()
    started = datetime.now(UTC)
    log(
        f"bench: {', '.join(rows_label(n) for n in args.sizes)} rows on {box['nproc']} CPUs, "
        f"{gib(box['ram_bytes'])} RAM"
    )
    results: dict[str, Any] = {"command": command, "machine": box, "sizes": {}, "notes": []}
    results["load_average"] = {"start": os.getloadavg()[0]}
    notes: list[str] = results["notes"]
    peers: dict[int, dict[str, Any]] = {}
    begin = time.perf_counter()
    for rows in args.sizes:
        csv = ensure_csv(rows, args.seed, log=log)
        found = measure_size(rows, csv)
        t = found["timings"]
        if t["rejected"]:
            notes.append(
                f"The {rows_label(rows)} file had {t['rejected']} rejected rows: not a clean file."
            )
        if not args.no_peer:
            found["peer"] = peer_for(rows, csv, args, peers, notes, box)
        results["sizes"][str(rows)] = found
    run_scale(args, results, notes)
    pages_rows = PAGES_ROWS if PAGES_ROWS in args.sizes else min(args.sizes)
    if not args.no_pages:
        db = OUT / f"scalegate_{pages_rows}.duckdb"
        log(f"[{rows_label(pages_rows)}] pages under AppTest ...")
        try:
            results["pages"] = {
                "rows": pages_rows,
                "pages": run_child("bench.pages", str(db), timeout=3600)["pages"],
            }
            broken = [p["path"] for p in results["pages"]["pages"] if p["exceptions"]]
            if broken:
                notes.append(f"Under AppTest these pages showed an exception: {', '.join(broken)}.")
        except ChildFailed as exc:
            notes.append(f"The page timings failed: {str(exc).splitlines()[0]}")
            log(str(exc))
        # The dashboard on the bundled sample, as `make run` starts it: the app loads the
        # sample into an empty database on its first run (inside the warm-up).
        sample_db = OUT / "scalegate_sample.duckdb"
        sample_db.unlink(missing_ok=True)
        log("[sample] pages under AppTest ...")
        try:
            results["sample_pages"] = run_child("bench.pages", str(sample_db), timeout=3600)[
                "pages"
            ]
        except ChildFailed as exc:
            notes.append(f"The sample page timings failed: {str(exc).splitlines()[0]}")
            log(str(exc))
        log("[sample] board pack ...")
        try:
            results["pack"] = run_child("bench.tasks", "pack", str(OUT / "pack"), timeout=600)
        except ChildFailed as exc:
            notes.append(f"The board pack timing failed: {str(exc).splitlines()[0]}")
            log(str(exc))
    results["seconds"] = time.perf_counter() - begin
    results["load_average"]["end"] = os.getloadavg()[0]

    rows_out: list[table.Row] = []
    for rows in args.sizes:
        rows_out += table.size_rows(rows, results["sizes"][str(rows)])
    rows_out += scale.rows(results.get("spark"), results.get("big"))
    if "pages" in results:
        rows_out += table.page_rows(results["pages"]["rows"], results["pages"]["pages"])
    if "pack" in results:
        rows_out += table.pack_rows(results["pack"], PACK_TARGET)
    if "sample_pages" in results:
        rows_out += table.page_rows(
            SAMPLE_ROWS, results["sample_pages"], target=SAMPLE_PAGE_TARGET, label="sample"
        )
    body = render(results, rows_out, started, args)
    print(body)
    (OUT / "latest.md").write_text(body + "\n", encoding="utf-8")
    (OUT / "latest.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    log(f"written: {(OUT / 'latest.md').relative_to(ROOT)}, latest.json")
    if args.readme:
        table.update_readme(ROOT / "README.md", body)
        log("README.md updated between the bench markers")
    return 0


def run_scale(args: argparse.Namespace, results: dict[str, Any], notes: list[str]) -> None:
    """The Spark path (local) and DuckDB alone at the big size, when asked for."""
    for key, rows, measure in (
        ("spark", args.spark_rows, scale.measure_spark),
        ("big", args.big_rows, scale.measure_big),
    ):
        if not rows:
            if args.reuse_scale:
                reuse_scale(key, results, notes)
            continue
        try:
            results[key] = measure(rows, ensure_csv(rows, args.seed, log=log), log)
            notes.append(scale.NOTES[key])
            save_scale(key, results[key])
        except ChildFailed as exc:
            notes.append(
                f"The {key} measure at {rows_label(rows)} failed: {str(exc).splitlines()[0]}"
            )
            log(str(exc))


SCALE_SAVED = OUT / "scale.json"


def save_scale(key: str, found: dict[str, Any]) -> None:
    """Keep a scale measure (it takes most of an hour at 100M rows) for --reuse-scale."""
    saved = json.loads(SCALE_SAVED.read_text()) if SCALE_SAVED.is_file() else {}
    saved[key] = {
        "found": found,
        "measured": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_average": os.getloadavg()[0],
    }
    SCALE_SAVED.write_text(json.dumps(saved, indent=2, default=str) + "\n")


def reuse_scale(key: str, results: dict[str, Any], notes: list[str]) -> None:
    """The last saved scale measure, with a note saying it is not from this run."""
    saved = json.loads(SCALE_SAVED.read_text()).get(key) if SCALE_SAVED.is_file() else None
    if saved is None:
        return
    results[key] = saved["found"]
    notes.append(
        scale.NOTES[key] + f" Not re-measured in this run: these rows come from the run of "
        f"{saved['measured']} (load average {saved['load_average']:.1f} at its end)."
    )


def peer_for(
    rows: int,
    csv: Path,
    args: argparse.Namespace,
    peers: dict[int, dict[str, Any]],
    notes: list[str],
    box: dict[str, Any],
) -> dict[str, Any]:
    """The peer comparison for this size: measured at it, or at a smaller size when the peer's
    row-level OLS would not fit in the time or memory limits (said in a note)."""
    smaller = [n for n in peers if n < rows]
    if not smaller and rows > QUICK[0]:
        # Nothing to predict from yet: measure the peer at 1M first.
        peers[QUICK[0]] = run_peer(QUICK[0], ensure_csv(QUICK[0], args.seed, log=log), 3600)
        smaller = [QUICK[0]]
    if smaller:
        base = peers[max(smaller)]
        seconds, peak = predict_peer(base, rows)
        limit = PEER_MEMORY_SHARE * box["ram_bytes"]
        if seconds > args.peer_max_seconds or peak > limit:
            notes.append(
                f"Peer at {rows_label(rows)} rows: run at {rows_label(base['rows'])} instead "
                f"(ours measured at the same size), because its row-level OLS with site and "
                f"month dummies would take about {seconds / 60:.0f} min and "
                f"{gib(peak)} at {rows_label(rows)} (extrapolated from "
                f"{base['peer']['seconds']:.0f} s and {gib(base['peer']['peak_rss'])} at "
                f"{rows_label(base['rows'])}), over the {args.peer_max_seconds / 60:.0f}-minute "
                f"limit."
            )
            log(f"[{rows_label(rows)}] peer skipped: predicted {seconds:.0f} s, {gib(peak)}")
            return base
    try:
        peers[rows] = run_peer(rows, csv, timeout=max(2 * args.peer_max_seconds, 600))
    except ChildFailed as exc:
        if not smaller:
            raise
        notes.append(f"Peer at {rows_label(rows)} failed ({exc}); the smaller size is shown.")
        return peers[max(smaller)]
    return peers[rows]


def render(
    results: dict[str, Any], rows: list[table.Row], started: datetime, args: argparse.Namespace
) -> str:
    box = results["machine"]
    load = results["load_average"]
    versions = ", ".join(f"{k} {v}" for k, v in box["versions"].items())
    sizes = " and ".join(rows_label(n) for n in args.sizes)
    files = []
    for n in args.sizes:
        csv = OUT / f"sample_{n}.csv"
        if csv.is_file():
            files.append(f"{rows_label(n)}: {csv.stat().st_size / 2**20:,.0f} MB")
    lines = [
        f"Command: `{results['command']}` (`make bench` runs `python -m bench`: 1M and 10M rows; "
        f"`--quick` runs 1M only), on {started.strftime('%Y-%m-%d')}, taking "
        f"{results['seconds'] / 60:.0f} min.",
        "",
        f"Machine: {box['nproc']} CPUs (nproc; {box['cpu']}), {gib(box['ram_bytes'])} RAM; "
        f"Python {box['python']}, {versions}. Load average (1 min) "
        f"{load['start']:.1f} at the start and {load['end']:.1f} at the end"
        + (
            f": other work shared the {box['nproc']} CPUs, so seconds are inflated; ratios "
            "interleave ours and the reference to share that out."
            if max(load.values()) > box["nproc"] / 2
            else "."
        ),
        "",
        f"Data: the sample generator's CSV (`data/generate.py`, seed {args.seed}) at {sizes} "
        f"rows ({'; '.join(files)}): 4 dimensions, an id and 10 numeric metrics, 12 sites, "
        "4 channels, 13 months.",
        "",
        table.markdown(rows),
        "",
        "How it is measured: ratios are ours / the reference measured in the same run on the same "
        "file; for the peer rows, the notebook's / ours (higher is better for us). Timings run in "
        "a warm worker process (imports done, one warm-up call), ours and the reference "
        "interleaved; each is the median of 3 runs when one takes under 2 s, else one run. "
        "Ingest loads into a new database file each run; Scalegate's load includes storing the "
        "day cells (one GROUP BY of the cleaned rows by phase, site, channel and day), which every "
        "report then reads with its filters instead of scanning rows, while the reference GROUP BY "
        "scans the stored rows on every run. Peak memory is VmHWM of a fresh process "
        "doing only that work (imports included). The peer is the same report the usual notebook "
        "way, CSV to verdicts: `pandas.read_csv`, groupby, scipy's Welch test for every metric × "
        "slice × comparison on raw rows, and a row-level statsmodels OLS with site and month "
        "dummies (cluster-robust by site) per metric. Page times come from "
        "`streamlit.testing.v1.AppTest` on app.py with `SCALEGATE_DB` on a bench database "
        "holding the 1M dataset; there is no target for them.",
    ]
    for note in results["notes"]:
        lines += ["", f"Note: {note}"]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
