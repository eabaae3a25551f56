"""`make mutmut`'s score: mutmut's results, killed / all per module and in total.

Reads `mutmut results --all true` (run from the checkout after `mutmut run`). Only the mutants
named in the Makefile's MUTMUT_NAMES are counted: every module of analytics/decide and the
export's formula neutralisation (its cells, frames and CSV), not the rest of export.py. A mutant
not run yet counts against the score (`--run-only` scores the mutants that were run, e.g. a
sample given to `mutmut run` by name, and says how many were left out). Exits 1 when the total
is below 90%.
"""

from __future__ import annotations

import fnmatch
import re
import subprocess
import sys
from collections import Counter, defaultdict

TARGET = 0.90
NOT_RUN = "not checked"
# A mutant's name: the module, then x_ before a function or x + U+01C1 before a method.
MODULE = re.compile(r"\.x[_\u01c1]")


def tally(listing: str, patterns: list[str], run_only: bool) -> dict[str, Counter[str]]:
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    for line in listing.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if not sep or not any(fnmatch.fnmatch(name, p) for p in patterns):
            continue
        if run_only and status == NOT_RUN:
            continue
        by_module[MODULE.split(name)[0]][status] += 1
    return by_module


def main(args: list[str]) -> int:
    run_only = "--run-only" in args
    patterns = [a for a in args if a != "--run-only"]
    listing = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    by_module = tally(listing, patterns, run_only)
    for line in listing.splitlines():  # the mutants a test should kill, for `mutmut show`
        name, _, status = line.strip().rpartition(": ")
        if status not in ("killed", NOT_RUN) and any(fnmatch.fnmatch(name, p) for p in patterns):
            print(f"{name}: {status}")
    killed = total = 0
    for module, counts in sorted(by_module.items()):
        n = sum(counts.values())
        killed, total = killed + counts["killed"], total + n
        rest = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k != "killed")
        print(f"{module}: {counts['killed']}/{n} killed ({counts['killed'] / n:.0%}); {rest}")
    if not total:
        print("No mutant results: run `mutmut run` first.")
        return 1
    if run_only:
        every = sum(sum(c.values()) for c in tally(listing, patterns, False).values())
        print(f"{every - total} mutants not run are left out")
    print(f"score: {killed}/{total} killed ({killed / total:.1%}), target {TARGET:.0%}")
    return 0 if killed / total >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
