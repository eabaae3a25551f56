"""`python -m bench --load-test`: many people on the dashboard at once while someone loads a file.

For each number of sessions N (powers of two up to --sessions), a fresh `streamlit run app.py`
serves a copy of a database holding the large dataset (the sample generator's CSV at --rows,
with the sample's catalog). N headless Chromium sessions (bench/browser_session.py) each click
through every page --rounds times, session k filtered to one site (session 0 to none) so that
each asks the server for its own analyses, while one more session loads a --load-rows file
through the Data page. Then one session alone, with no load, for comparison. Reported: errors
(exceptions or error boxes on a page, clicks that never drew: must be 0), p50/p95/max seconds
from click to the page drawn with its charts, the same for the clicks made while the load ran,
and the largest N whose p95 stayed under 2 s.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import OUT, RESULT_MARK, ROOT, machine, rows_label
from bench.dashboard import free_port
from bench.data import SEED, ensure_csv
from ui.pages import REGISTRY

P95_TARGET = 2.0  # seconds from click to chart
CATALOG = ROOT / "data" / "sample.catalog.toml"
MARKS = ("<!-- loadtest:start -->", "<!-- loadtest:end -->")


def _schema_version(db: Path) -> int | None:
    import duckdb

    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return None
    try:
        return int(con.execute("SELECT max(version) FROM schema_info").fetchone()[0])
    except (duckdb.Error, TypeError):
        return None
    finally:
        con.close()


def base_database(rows: int, csv: Path, log: Callable[[str], None]) -> Path:
    """The large dataset loaded once (by the command line) and reused while the CSV is older
    and the file is at today's schema (an older one would be upgraded again in every server's
    copy). It is loaded under another name and renamed when whole, so an interrupted load is
    never reused."""
    from analytics.store.migrations import current_version

    db = OUT / f"loadtest_{rows}.duckdb"
    if (
        db.is_file()
        and db.stat().st_mtime > csv.stat().st_mtime
        and _schema_version(db) == current_version()
    ):
        log(f"reusing {db.relative_to(ROOT)}")
        return db
    partial = db.with_name(db.name + ".partial")
    for stale in (db, partial, Path(f"{partial}.wal")):
        stale.unlink(missing_ok=True)
    log(f"loading {rows_label(rows)} rows into {db.relative_to(ROOT)} ...")
    subprocess.run(
        [sys.executable, "-m", "analytics", "load", str(csv), "--db", str(partial)]
        + ["--catalog", str(CATALOG), "--name", f"Load test {rows_label(rows)}"],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    Path(f"{db}.wal").unlink(missing_ok=True)
    if Path(f"{partial}.wal").exists():
        Path(f"{partial}.wal").replace(Path(f"{db}.wal"))
    partial.replace(db)
    return db


def _sites(db: Path) -> list[str]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return [r[0] for r in con.execute("SELECT DISTINCT site FROM obs_1 ORDER BY 1").fetchall()]
    finally:
        con.close()


class Server:
    """`streamlit run app.py` on a free port over its own copy of the database."""

    def __init__(self, db: Path) -> None:
        self.db = OUT / "loadtest_run.duckdb"
        for stale in (self.db, Path(f"{self.db}.wal")):
            stale.unlink(missing_ok=True)
        shutil.copyfile(db, self.db)
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log = open(OUT / "loadtest_server.log", "wb")  # noqa: SIM115 - closed in stop()
        cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true"]
        cmd += ["--server.address", "127.0.0.1", "--server.port", str(port)]
        cmd += ["--browser.gatherUsageStats", "false"]
        env = {**os.environ, "SCALEGATE_DB": str(self.db)}
        self.process = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 120
        while not self._healthy():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the dashboard did not start: see bench/out/loadtest_server.log")
            time.sleep(0.5)

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as answer:
                return answer.read() == b"ok"
        except OSError:
            return False

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def _session(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.browser_session", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _answer(proc: subprocess.Popen[str], timeout: float) -> dict[str, Any]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return {"clicks": [], "errors": [f"session gave up after {timeout:.0f} s"]}
    for line in reversed(out.splitlines()):
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK) :])
    tail = " | ".join(err.strip().splitlines()[-3:])
    return {"clicks": [], "errors": [f"session failed ({proc.returncode}): {tail}"]}


def _stats(seconds: list[float]) -> dict[str, Any]:
    if not seconds:
        return {"clicks": 0, "p50": None, "p95": None, "max": None}
    a = np.asarray(seconds)
    return {
        "clicks": len(seconds),
        "p50": float(np.percentile(a, 50)),
        "p95": float(np.percentile(a, 95)),
        "max": float(a.max()),
    }


def run_level(
    db: Path, sessions: int, rounds: int, sites: list[str], load_file: Path | None
) -> dict[str, Any]:
    """N clicking sessions (and the loader, when a file is given) against a fresh server."""
    began = time.monotonic()
    server = Server(db)
    started = time.monotonic() - began
    try:
        clickers = [
            _session("clicker", server.url, str(rounds), "" if k == 0 else sites[k % len(sites)])
            for k in range(sessions)
        ]
        loading = None
        if load_file is not None:
            time.sleep(5)  # the sessions have opened their first page: load while they click
            loading = _session("loader", server.url, str(load_file))
        answers = [_answer(p, timeout=3600) for p in clickers]
        load = _answer(loading, timeout=3600) if loading else None
    finally:
        server.stop()
    clicks = [c for a in answers for c in a["clicks"]]
    errors = [e for a in answers for e in a["errors"]] + (load["errors"] if load else [])
    found: dict[str, Any] = {
        "sessions": sessions,
        "loader": load_file is not None,
        "errors": errors,
        "all": _stats([c["seconds"] for c in clicks]),
        "server_start_seconds": started,
        "wall_seconds": time.monotonic() - began,
    }
    if load and "end" in load:  # a load that failed part way is in the errors
        during = [c["seconds"] for c in clicks if load["start"] <= c["at"] <= load["end"]]
        found["load_seconds"] = load["seconds"]
        found["during_load"] = _stats(during)
    return found


def _summary(level: dict[str, Any]) -> str:
    a = level["all"]
    return (
        f"  p50 {_s(a['p50'])}, p95 {_s(a['p95'])}, {len(level['errors'])} errors; server start "
        f"{level['server_start_seconds']:.0f} s, level {level['wall_seconds']:.0f} s in all"
        + (f" (first error: {level['errors'][0]})" if level["errors"] else "")
    )


def run(
    rows: int, load_rows: int, max_sessions: int, rounds: int, log: Callable[[str], None]
) -> dict[str, Any]:
    csv = ensure_csv(rows, SEED, log=log)
    # Another seed, so the file loaded during the test is new content, never "already loaded".
    load_file = ensure_csv(load_rows, SEED + 1, out=OUT / "load_file", log=log)
    db = base_database(rows, csv, log)
    sites = _sites(db)
    started = time.time()
    found: dict[str, Any] = {"machine": machine(), "rows": rows, "load_rows": load_rows}
    found["rounds"], found["pages"] = rounds, len(REGISTRY)  # every page in the sidebar
    log(f"[load test] one session alone, {rounds} rounds of every page ...")
    found["alone"] = run_level(db, 1, rounds, sites, None)
    log(_summary(found["alone"]))
    levels = sorted({min(2**k, max_sessions) for k in range(max_sessions.bit_length() + 1)})
    found["levels"] = []
    for n in levels:
        log(f"[load test] {n} session(s) while another loads {rows_label(load_rows)} rows ...")
        level = run_level(db, n, rounds, sites, load_file)
        log(_summary(level))
        found["levels"].append(level)
    found["minutes"] = (time.time() - started) / 60
    within = [
        lv["sessions"]
        for lv in found["levels"]
        if not lv["errors"] and lv["all"]["p95"] is not None and lv["all"]["p95"] < P95_TARGET
    ]
    found["largest_n_within_target"] = max(within) if within else None
    return found


def _s(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f} s"


def _row(label: str, level: dict[str, Any]) -> str:
    """One line of the table: a level's clicks, errors, percentiles and the load beside them."""
    a = level["all"]
    during = level.get("during_load", {})
    load = f"{level['load_seconds']:.1f} s" if "load_seconds" in level else "—"
    overlap = f"{during['clicks']} (p95 {_s(during['p95'])})" if during.get("clicks") else "0"
    return (
        f"| {label} | {a['clicks']} | {len(level['errors'])} | {_s(a['p50'])} | {_s(a['p95'])} | "
        f"{_s(a['max'])} | {load} | {overlap} |"
    )


def render(found: dict[str, Any], command: str, load_avg: tuple[float, float]) -> str:
    """The README section: what ran, at what scale, on what, and the figures."""
    box = found["machine"]
    largest = found["largest_n_within_target"]
    rows = [
        "| sessions | clicks | errors | p50 click to chart | p95 | max | "
        f"{rows_label(found['load_rows'])}-row load took | clicks during the load |",
        "|---|---|---|---|---|---|---|---|",
        _row("1 alone (no load)", found["alone"]),
    ]
    rows += [_row(f"{lv['sessions']} + a load", lv) for lv in found["levels"]]
    errors = [e for lv in [found["alone"], *found["levels"]] for e in lv["errors"]]
    alone, solo_p95 = found["alone"], found["alone"]["all"]["p95"]
    verdict = (
        f"The largest N measured whose p95 stayed under {P95_TARGET:.0f} s while a file "
        f"loads: **{largest}**."
        if largest
        else f"While a file loads, no N measured kept p95 under {P95_TARGET:.0f} s without "
        f"errors; one session alone "
        + (
            "did"
            if solo_p95 is not None and solo_p95 < P95_TARGET and not alone["errors"]
            else "did not"
        )
        + f" (p95 {solo_p95 or 0:.2f} s)."
    )
    return "\n".join(
        [
            f"Command: `{command}`, on {time.strftime('%Y-%m-%d')}, taking "
            f"{found['minutes']:.0f} min. Scale: a {rows_label(found['rows'])}-row dataset, "
            f"up to {found['levels'][-1]['sessions']} sessions, {found['rounds']} rounds of the "
            f"{found['pages']} pages each, while another session loads a "
            f"{rows_label(found['load_rows'])}-row file.",
            "",
            f"Machine: {box['nproc']} CPUs ({box['cpu']}), {box['ram_bytes'] / 2**30:.1f} GB RAM, "
            f"streamlit {box['versions'].get('streamlit', '?')}, duckdb "
            f"{box['versions'].get('duckdb', '?')}. Load average (1 min) {load_avg[0]:.1f} at "
            f"the start and {load_avg[1]:.1f} at the end: the browsers, the server and other "
            "work share the CPUs.",
            "",
            *rows,
            "",
            verdict
            + f" Errors in all: {len(errors)}."
            + (" First: " + "; ".join(errors[:3]) if errors else ""),
            "",
            "How it is measured: each session is its own headless Chromium (Playwright) on a "
            "fresh `streamlit run app.py` over a copy of the database; session k is opened on a "
            "shared link filtered to one site (session 0 on all sites), so the sessions ask for "
            "different analyses, and clicks every page in the sidebar in turn. A click's time "
            "runs from the click on the page's link until that page shows its own heading (each "
            "page has a different one, so the page before cannot pass for it), its script run "
            "has finished, nothing on the page is stale and every chart has drawn (its canvas is "
            "in the page; bench/page_state.py, the browser section's test). "
            "The loading session types the file's local path on the Data page and presses Load; "
            "the clicks that fell between its press and the report are counted apart. An error "
            "is an exception or error box on a page, a click that never drew (3 min), or a "
            "session or load that failed.",
        ]
    )


def update_readme(readme: Path, body: str) -> None:
    """Put the section between the load-test markers (added under Performance the first time)."""
    text = readme.read_text(encoding="utf-8")
    block = f"{MARKS[0]}\n{body.strip()}\n{MARKS[1]}"
    if MARKS[0] in text:
        start, end = text.index(MARKS[0]), text.index(MARKS[1]) + len(MARKS[1])
        text = text[:start] + block + text[end:]
    else:
        anchor = "<!-- bench:end -->"
        heading = "\n\n### Many people at once (`python -m bench --load-test`)\n\n"
        text = text.replace(anchor, anchor + heading + block, 1)
    readme.write_text(text, encoding="utf-8")
