"""A listed-mutation check: does the suite notice when a rule is broken? (`make mutants`)

Each mutant is one textual change to the engine (file, old text, new text) and the tests that
should catch it. The script copies the checkout to a temporary directory, applies each mutant
there in turn (the checkout itself is never written), runs those tests and counts the mutant
killed when they fail. It prints one line per mutant and the score; it exits 1 if any survives.

    python tests/mutants.py            # every mutant
    python tests/mutants.py rule1 holm # the mutants whose name contains one of these words
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOUNDS = "tests/test_rule_boundaries.py"
VERDICT = ("tests/test_verdict.py", BOUNDS)
EXPORT = ("tests/test_export.py", BOUNDS)


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


V, R, A = (
    "analytics/decide/verdict.py",
    "analytics/decide/rollout.py",
    "analytics/decide/evidence.py",
)
E, P = "analytics/present/export.py", "analytics/present/pack.py"
MUTANTS = (
    Mutant("rule1 rows < becomes <=", V, "e.n_rows < settings.min_production_rows",
           "e.n_rows <= settings.min_production_rows", VERDICT),
    Mutant("rule1 rows check removed", V, "if e.n_rows < settings.min_production_rows:",
           "if False:", VERDICT),
    Mutant("rule1 sites < becomes <=", V, "e.n_sites < settings.min_production_sites",
           "e.n_sites <= settings.min_production_sites", VERDICT),
    Mutant("rule1 sites ignores the dataset's site count", V, "e.dataset_sites >= 2",
           "e.dataset_sites >= 1", VERDICT),
    Mutant("rule2 hi < delta becomes <=", V, "if hi < delta:", "if hi <= delta:", VERDICT),
    Mutant("rule2 reads the point, not the top", V, "if hi < delta:", "if est < delta:",
           VERDICT),
    Mutant("rule3 retention reads the point", V,
           "e.retention_high < settings.retention_floor",
           "e.retention < settings.retention_floor", VERDICT),
    Mutant("rule3 retention < becomes <=", V, "e.retention_high < settings.retention_floor",
           "e.retention_high <= settings.retention_floor", VERDICT),
    Mutant("rule3 worse slices ignored", V, "if e.worse_slices:", "if False:", VERDICT),
    Mutant("rule4 lo > 0 becomes >=", V, "if lo > 0 and est >= delta:",
           "if lo >= 0 and est >= delta:", VERDICT),
    Mutant("rule4 est >= delta becomes >", V, "if lo > 0 and est >= delta:",
           "if lo > 0 and est > delta:", VERDICT),
    Mutant("rule4 guardrails ignored", V, "        if e.breached:", "        if False:",
           VERDICT),
    Mutant("sign convention dropped", V, "return s * e.lift, lo, hi", "return e.lift, lo, hi",
           VERDICT),
    Mutant("holm: worse slices read raw p", R, "significantly_worse(s.p_family,",
           "significantly_worse(s.estimate.p_value,", (BOUNDS,)),
    Mutant("holm: family correction skipped", R, "adjusted = holm(p)", "adjusted = p",
           (BOUNDS,)),
    Mutant("worse slices: direction flipped", R, "and improvement < 0",
           "and improvement > 0", (BOUNDS,)),
    Mutant("per-site verdicts skip rule 1", A, "n_rows=s.estimate.rows_selected,",
           "n_rows=roll.production.rows_selected,", (BOUNDS,)),
    Mutant("ingest: all non-finite metric loads", "analytics/ingest/check.py",
           "c.values[j] - c.not_finite[j] > 0", "c.values[j] > 0", (BOUNDS,)),
    Mutant("pack worst slices: sign ignored", P, "significantly_worse(e.p_adjusted, sign * e.diff,",
           "significantly_worse(e.p_adjusted, e.diff,", (BOUNDS,)),
    Mutant("pack worst slices: Holm p ignored", P, "significantly_worse(e.p_adjusted,",
           "significantly_worse(e.p_value,", (BOUNDS,)),
    Mutant("export: headers not neutralised", E,
           "out.columns = [neutralise(str(c)) for c in df.columns]",
           "out.columns = [str(c) for c in df.columns]", EXPORT),
    Mutant("export: list cells not neutralised", E, 'value = ", ".join(map(str, value))',
           'return ", ".join(map(str, value))', EXPORT),
    Mutant("export: @ not a formula starter", E, '("=", "+", "-", "@",', '("=", "+", "-",',
           EXPORT),
    Mutant("export: - not a formula starter", E, '("=", "+", "-", "@",', '("=", "+", "@",',
           EXPORT),
    Mutant("export: + not a formula starter", E, '("=", "+", "-", "@",', '("=", "-", "@",',
           EXPORT),
    Mutant("export: infinity written as a number", E,
           "return value if math.isfinite(value) else None", "return value", EXPORT),
)  # fmt: skip


def _copy() -> Path:
    target = Path(tempfile.mkdtemp(prefix="scalegate-mutants-"))
    ignore = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.duckdb*", ".pytest_cache")
    shutil.copytree(ROOT, target / "repo", ignore=ignore)
    return target / "repo"


def _run(repo: Path, tests: tuple[str, ...]) -> bool:
    """True when the tests fail in the copy."""
    env = os.environ | {"PYTHONPATH": str(repo), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
        cwd=repo,
        env=env,
        capture_output=True,
        check=False,
    )
    return done.returncode != 0


def _killed(repo: Path, mutant: Mutant) -> bool:
    path = repo / mutant.path
    original = path.read_text(encoding="utf-8")
    if original.count(mutant.old) != 1:
        raise SystemExit(f"{mutant.name}: the text to mutate is not found once in {mutant.path}")
    path.write_text(original.replace(mutant.old, mutant.new), encoding="utf-8")
    try:
        return _run(repo, mutant.tests)
    finally:
        path.write_text(original, encoding="utf-8")


def main(words: list[str]) -> int:
    chosen = [m for m in MUTANTS if not words or any(w in m.name for w in words)]
    repo = _copy()
    try:
        for tests in sorted({m.tests for m in chosen}):
            if _run(repo, tests):
                raise SystemExit(f"The unmutated code fails {' '.join(tests)}: fix that first.")
        killed = 0
        for mutant in chosen:
            dead = _killed(repo, mutant)
            killed += dead
            print(f"{'killed  ' if dead else 'SURVIVED'}  {mutant.name}", flush=True)
    finally:
        shutil.rmtree(repo.parent, ignore_errors=True)
    print(f"Mutation score: {killed}/{len(chosen)} killed ({killed / max(len(chosen), 1):.0%}).")
    return 0 if killed == len(chosen) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
