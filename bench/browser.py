"""The dashboard in a real browser: `python -m bench.browser DATASET [UPLOAD_CSV]`.

DATASET is `sample` (an empty database that `make run`'s `init-sample` fills with the bundled
sample) or the path of a CSV loaded into an empty database with `python -m analytics load` before
the server starts. The server is started as `make run` starts it (SERVE below), on a free port,
with Debian's Chromium driven by Playwright (launched before the server, so its own start is not
counted). Measured, each from a new browser context (empty HTTP cache):

* `health`: server process start to the first `ok` of /_stcore/health (the reference);
* `cold`: the health check's answer to the first verdict drawn on Home, in the first session;
* `new_session`: the same for a second session once the first has settled;
* per page, click in the sidebar to its first chart drawn (to the end of its script run on a
  page without chart), and to the page settled (script run over, every chart drawn); first
  visit, then a second visit (`warm`);
* with UPLOAD_CSV: on the Data page, the file handed to the uploader to the first verdict on
  Home (upload, detection, Load pressed at once, the load, the click on Home), with its stages,
  and the same pages on the newly loaded dataset; the reference is DuckDB's own
  `CREATE TABLE AS SELECT * FROM read_csv` of the same file, median of 3, in this process.

Prints one BENCH-RESULT line (bench.common.report_result).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.common import ROOT, report_result, timed
from bench.dashboard import CHROMIUM, CHROMIUM_ARGS, free_port, stop
from bench.data import warm_page_cache
from bench.page_state import (
    CHART_DRAWN,
    CHARTS,
    ELEMENTS,
    HOME_HEADING,
    SCRIPT_STATE,
    VERDICT,
    done,
    heading_of,
    shown,
    text_done,
)

# The dashboard as `make run` serves it (after `python -m analytics init-sample`).
SERVE = ["-m", "ui.serve", "--server.headless", "true"]
TIMEOUT_MS = 60_000
VIEWPORT = {"width": 1440, "height": 1000}
QUIET = 0.3  # seconds a settled page must stay so


def start_server(db: Path, port: int, log: Path) -> tuple[subprocess.Popen, float, float]:
    """Start the dashboard; return (process, its start time, seconds to the health check)."""
    env = {**os.environ, "SCALEGATE_DB": str(db)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))
    env.pop("SCALEGATE_ALLOW_LOCAL_PATHS", None)
    cmd = [sys.executable, *SERVE, "--server.address", "127.0.0.1", "--server.port", str(port)]
    cmd += ["--browser.gatherUsageStats", "false"]
    started = time.perf_counter()
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/_stcore/health"
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.read() == b"ok":
                    return process, started, time.perf_counter() - started
        except OSError:
            pass
        if process.poll() is not None or time.perf_counter() - started > 120:
            process.kill()
            raise RuntimeError(log.read_text(errors="replace")[-3000:])
        time.sleep(0.01)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (from /proc), to tell the server's share."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


SERVER_PID: list[int] = []


def server_cpu() -> float:
    return cpu_seconds(SERVER_PID[0]) if SERVER_PID else float("nan")


def new_page(browser: Any) -> Any:
    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return page


def _wait(page: Any, condition: str, heading: str | None) -> None:
    try:
        page.wait_for_function(f"() => {condition}", polling="raf", timeout=TIMEOUT_MS)
    except Exception:
        page.screenshot(path=str(ROOT / "bench" / "out" / "browser_timeout.png"))
        print(f"stuck at {page.url}, waiting for {heading}", file=sys.stderr)
        raise


def settled(page: Any, heading: str | None = None) -> float:
    """Wait until the page is settled; return the moment it was (time.perf_counter()).

    Settled: the app root says `notRunning`, the page's own title is shown (a tour's pages all
    have different titles, so the old page cannot pass for the new), no element of an earlier
    run is left and every chart has drawn its marks, and it stays so for QUIET seconds (a run
    can finish before the next one, started by the same click, begins).
    """
    while True:
        _wait(page, done(heading), heading)
        moment = time.perf_counter()
        count = page.evaluate(ELEMENTS)
        page.wait_for_timeout(QUIET * 1000)
        if page.evaluate(f"() => {done(heading)}") and page.evaluate(ELEMENTS) == count:
            return moment


def first_verdict(page: Any, url: str) -> float:
    """Open the dashboard in this page; seconds to the first verdict drawn on Home."""
    start = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.wait_for_function(VERDICT, polling="raf", timeout=TIMEOUT_MS)
    took = time.perf_counter() - start
    settled(page, HOME_HEADING)
    return took


def visit(page: Any, title: str) -> dict[str, Any]:
    """Click a page in the sidebar: seconds to its first chart drawn (to settled on a page
    without chart), and to settled."""
    heading = heading_of(title)
    link = page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True)
    cpu = server_cpu()
    start = time.perf_counter()
    link.click()
    _wait(page, f"{shown(heading)} && (({CHART_DRAWN})() > 0 || ({done(heading)}))", heading)
    first = time.perf_counter() - start
    total = settled(page, heading) - start
    charts = page.evaluate(CHARTS)
    return {
        "title": title,
        "chart": min(first, total) if charts else total,
        "settled": total,
        "server_cpu": server_cpu() - cpu,
        "charts": charts,
        "exceptions": page.locator('[data-testid="stException"]').count(),
    }


def tour(page: Any, titles: list[str]) -> list[dict[str, Any]]:
    """Every page twice, starting from Home and ending on it: the first visits, then the second
    (warm). Home is the first page, so its first visit here comes back to it from Data."""
    order = [t for t in titles if t != "Home"] + ["Home"]
    first = [visit(page, title) for title in order]
    again = [visit(page, title) for title in order]
    return [
        {
            **one,
            "warm_chart": two["chart"],
            "warm_settled": two["settled"],
            "warm_server_cpu": two["server_cpu"],
        }
        for one, two in zip(first, again, strict=True)
    ]


def upload(page: Any, csv: Path) -> dict[str, Any]:
    """From the file handed to the uploader to the first verdict on Home, by stage. As a person
    in a hurry would: Load is pressed as soon as the detected columns are shown and the run is
    over (no quiet period waited for); the load ends on Home, whose first verdict ends it.
    The file has arrived when the server has answered the browser's upload request: the moment
    Playwright reports the request finished, less the response's own transfer (the browser's
    timing of it; its clock is not this process's, so only its durations are used)."""
    visit(page, "Data")
    chooser = page.locator('[data-testid="stFileUploaderDropzoneInput"]').first
    arrivals: list[float] = []
    page.on("requestfinished", lambda request: arrivals.extend(_arrival(request)))
    start = time.perf_counter()
    chooser.set_input_files(str(csv))
    _wait(page, text_done("Column roles"), "Data")
    detected = time.perf_counter() - start
    # CSS, not the accessibility tree: a role query takes the harness 0.3-0.6 s on a busy
    # machine, which the person pressing the button does not spend.
    page.locator(".st-key-data_load_button button").click()
    # The load ends on Home, which first says what the load did, then draws the answer.
    page.get_by_text("Loaded as dataset").wait_for(timeout=TIMEOUT_MS)
    loaded = time.perf_counter() - start
    page.wait_for_function(
        f"() => ({VERDICT})() && document.body.innerText.includes('Dataset {csv.stem},')",
        polling="raf",
        timeout=TIMEOUT_MS,
    )
    verdict = time.perf_counter() - start
    page.wait_for_function(f"() => ({SCRIPT_STATE})() === 'notRunning'", timeout=TIMEOUT_MS)
    arrived = max(arrivals) - start if arrivals else float("nan")
    return {
        "bytes": csv.stat().st_size,
        "to_arrived": arrived,
        "to_detected": detected,
        "to_loaded": loaded,
        "to_verdict": verdict,
        "arrived_to_verdict": verdict - arrived,
        "exceptions": page.locator('[data-testid="stException"]').count(),
    }


def _arrival(request: Any) -> list[float]:
    """When the server answered an upload request, on time.perf_counter()'s clock (nothing for
    other requests)."""
    if request.method != "PUT" or "/_stcore/upload_file/" not in request.url:
        return []
    timing = request.timing
    return [time.perf_counter() - (timing["responseEnd"] - timing["responseStart"]) / 1000]


def duckdb_read_csv(csv: Path) -> dict[str, Any]:
    """The reference: DuckDB's own CREATE TABLE AS read_csv of the file, in memory."""
    import duckdb

    from bench.tasks import ctas_sql

    warm_page_cache(csv)

    def once() -> None:
        con = duckdb.connect(":memory:")
        con.execute(ctas_sql(csv))
        con.close()

    return timed(once).to_dict()


def prepare(dataset: str, db: Path) -> None:
    """The database the server starts on, as `make run` prepares it (or a CLI load)."""
    env = {**os.environ, "SCALEGATE_DB": str(db), "PYTHONPATH": str(ROOT)}
    if dataset == "sample":
        cmd = [sys.executable, "-m", "analytics", "init-sample"]
    else:
        cmd = [sys.executable, "-m", "analytics", "load", dataset, "--db", str(db)]
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True)


def measure(dataset: str, upload_csv: Path | None) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from ui.pages import REGISTRY

    titles = [p.title for p in REGISTRY]
    found: dict[str, Any] = {"dataset": dataset}
    with tempfile.TemporaryDirectory(prefix="bench_browser_") as tmp, sync_playwright() as p:
        db = Path(tmp) / "scalegate.duckdb"
        prepare(dataset, db)
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        first, second = new_page(browser), new_page(browser)
        port = free_port()
        process, _, health = start_server(db, port, Path(tmp) / "server.log")
        SERVER_PID[:] = [process.pid]
        url = f"http://127.0.0.1:{port}"
        try:
            found["health"] = health
            found["cold"] = first_verdict(first, url)
            found["cold_server_cpu"] = server_cpu()
            cpu = server_cpu()
            found["new_session"] = first_verdict(second, url)
            found["new_session_server_cpu"] = server_cpu() - cpu
            found["pages"] = tour(second, titles)
            if upload_csv is not None:
                found["reference_read_csv"] = duckdb_read_csv(upload_csv)
                found["upload"] = upload(second, upload_csv)
                found["upload_pages"] = tour(second, titles)
            found["load_average"] = os.getloadavg()[0]
        finally:
            stop(process)
            browser.close()
            log = (Path(tmp) / "server.log").read_text(errors="replace")
            (ROOT / "bench" / "out" / f"browser_server_{Path(dataset).stem}.log").write_text(log)
    return found


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or len(args) > 2:
        print(__doc__, file=sys.stderr)
        return 2
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing: run `make browser`.", file=sys.stderr)
        return 2
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    dataset = args[0] if args[0] == "sample" else str(Path(args[0]).resolve())
    upload_csv = Path(args[1]).resolve() if len(args) > 1 else None
    report_result(measure(dataset, upload_csv))
    return 0


def median(values: list[float]) -> float:
    return statistics.median(values)


if __name__ == "__main__":
    sys.exit(main())
