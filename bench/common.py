"""What every part of the benchmark shares: paths, the timer, peak memory, child processes."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
CHEAP_SECONDS = 2.0  # a run under this is repeated: the median of 3
REPEATS = 3
RESULT_MARK = "BENCH-RESULT "  # the line a child process prints its answer on


@dataclass(frozen=True)
class Timing:
    """A measured duration: the median of the runs made, and every run."""

    seconds: float
    runs: tuple[float, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {"seconds": self.seconds, "runs": list(self.runs)}


def timed(
    fn: Callable[[], Any],
    *,
    setup: Callable[[], Any] | None = None,
    teardown: Callable[[], Any] | None = None,
) -> Timing:
    """Time `fn`; when one run is cheap (< 2 s) make 3 and keep the median.

    `setup` and `teardown` run around every call, outside the timed span.
    """
    runs: list[float] = []
    while True:
        if setup is not None:
            setup()
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
        if teardown is not None:
            teardown()
        if runs[0] >= CHEAP_SECONDS or len(runs) >= REPEATS:
            break
    return Timing(statistics.median(runs), tuple(runs))


def timed_pair(
    ours: Callable[[], Any],
    reference: Callable[[], Any],
    *,
    setup: Callable[[], Any] | None = None,
) -> tuple[Timing, Timing]:
    """Time two competitors with their runs interleaved (ref, ours, ref, ours...).

    Interleaving shares out whatever drifts during the run (page cache, CPU clocks, a neighbour)
    instead of charging it to whichever side ran second.
    """
    runs: dict[str, list[float]] = {"ours": [], "ref": []}
    while True:
        for name, fn in (("ref", reference), ("ours", ours)):
            if setup is not None:
                setup()
            start = time.perf_counter()
            fn()
            runs[name].append(time.perf_counter() - start)
        cheap = runs["ours"][0] < CHEAP_SECONDS and runs["ref"][0] < CHEAP_SECONDS
        if not cheap or len(runs["ours"]) >= REPEATS:
            break
    return (
        Timing(statistics.median(runs["ours"]), tuple(runs["ours"])),
        Timing(statistics.median(runs["ref"]), tuple(runs["ref"])),
    )


def peak_rss_bytes() -> int:
    """This process's peak resident set size (VmHWM), in bytes."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("VmHWM not found in /proc/self/status")


def current_rss_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("VmRSS not found in /proc/self/status")


def report_result(result: dict[str, Any]) -> None:
    """A child's answer to its parent: one marked JSON line on stdout."""
    print(RESULT_MARK + json.dumps(result), flush=True)


class ChildFailed(RuntimeError):
    pass


def run_child(
    module: str,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Run `python -m module args` in a fresh process and return the JSON it reports.

    The child's own peak RSS (VmHWM) is what the memory measures use; the kernel's view of it
    (ru_maxrss from wait4) is added as `ru_maxrss` to cross-check.
    """
    cmd = [sys.executable, "-m", module, *args]
    full_env = {**os.environ, **(env or {})}
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise ChildFailed(f"{' '.join(args)}: gave up after {timeout:.0f} s") from None
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        tail = "\n".join(stderr.strip().splitlines()[-15:])
        raise ChildFailed(f"{module} {' '.join(args)} failed ({proc.returncode}):\n{tail}")
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            result = json.loads(line[len(RESULT_MARK) :])
            result.setdefault("wall_seconds", wall)
            return result
    raise ChildFailed(f"{module} {' '.join(args)} reported nothing:\n{stderr[-2000:]}")


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    mem_total = 0
    with open("/proc/meminfo", encoding="ascii") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                mem_total = int(line.split()[1]) * 1024
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    versions = {}
    for name in ("duckdb", "pandas", "numpy", "scipy", "statsmodels", "streamlit"):
        try:
            from importlib.metadata import version

            versions[name] = version(name)
        except Exception:  # noqa: BLE001 - a missing package is just not listed
            continue
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "ram_bytes": mem_total,
        "cpu": cpu,
        "python": platform.python_version(),
        "versions": versions,
    }


def gib(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:.2f} GB"


def rows_label(rows: int) -> str:
    if rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}M"
    if rows % 1_000 == 0:
        return f"{rows // 1_000}k"
    return str(rows)
