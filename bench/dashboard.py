"""The dashboard on a free local port, for a real browser: one way to start it and to wait for it,
shared by the browser benchmark, the load test and the browser tests (tests/test_e2e_*.py).

`serve(db, log)` runs `streamlit run app.py` (headless, on 127.0.0.1) over the database `db`,
waits for /_stcore/health to answer `ok`, yields the address and stops the server on the way out;
a server that dies or never answers raises with the tail of its log.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STREAMLIT = ["-m", "streamlit", "run", "app.py", "--server.headless", "true"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
            return answer.read() == b"ok"
    except OSError:
        return False


def stop(process: subprocess.Popen, wait: float = 20) -> None:
    process.terminate()
    try:
        process.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def serve(
    db: Path, log: Path, command: Sequence[str] = STREAMLIT, timeout: float = 90
) -> Iterator[str]:
    """The dashboard over `db` (SCALEGATE_DB, local paths not allowed), its output in `log`."""
    port = free_port()
    env = {**os.environ, "SCALEGATE_DB": str(db)}
    env.pop("SCALEGATE_ALLOW_LOCAL_PATHS", None)
    server = ["--server.address", "127.0.0.1", "--server.port", str(port)]
    cmd = [sys.executable, *command, *server, "--browser.gatherUsageStats", "false"]
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while not healthy(url):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(log.read_text(errors="replace")[-3000:])
                time.sleep(0.5)
            yield url
        finally:
            stop(process)
