"""`make mutmut`'s score: mutmut's results for the mutants it ran, killed / all per module.

Reads `mutmut results --all true` (run from the checkout after `mutmut run`). Only the mutants
named in the Makefile's MUTMUT_NAMES are counted: every module of analytics/decide and the
export's formula neutralisation (its cells, frames and CSV), not the rest of export.py. A mutant
not yet run counts against the score. Exits 1 when the total is below 90%.
"""

from __future__ import annotations

import fnmatch
import re
import subprocess
import sys
from collections import Counter, defaultdict

TARGET = 0.90


def main(patterns: list[str]) -> int:
    listing = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    survivors = []
    for line in listing.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if not sep or not any(fnmatch.fnmatch(name, p) for p in patterns):
            continue
        module = re.split(r"\.x[_\u01c1]", name)[
            0
        ]  # x_ before a function, x + U+01C1 before a method
        by_module[module][status] += 1
        if status != "killed":
            survivors.append(f"{name}: {status}")
    killed = total = 0
    for module, counts in sorted(by_module.items()):
        n = sum(counts.values())
        killed, total = killed + counts["killed"], total + n
        rest = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k != "killed")
        print(f"{module}: {counts['killed']}/{n} killed ({counts['killed'] / n:.0%}); {rest}")
    print("\n".join(survivors))
    if not total:
        print("No mutant results: run `mutmut run` first.")
        return 1
    print(f"score: {killed}/{total} killed ({killed / total:.1%}), target {TARGET:.0%}")
    return 0 if killed / total >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
