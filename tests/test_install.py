"""The app installs whole as a package: built from a copy of the checkout into a folder of its
own (`pip install --target`, no dependencies: those come from the lock), it has the `scalegate`
console command, and the sample, the dashboard and the methods text resolve inside the installed
copy, not from the checkout. Also: the lock pins every package it installs, with hashes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIP = shutil.ignore_patterns(
    ".venv",
    ".git",
    "mutants",
    "__pycache__",
    "*.duckdb*",
    "out",
    "artifacts",
    "build",
    "*.egg-info",
)
# Printed by the installed copy: where each file the app reads at run time resolves.
WHERE = """
import json, analytics, app_pages.methods, ui.serve
from analytics.cli.commands import SAMPLE, SAMPLE_CATALOG
print(json.dumps({"analytics": analytics.__file__, "sample": str(SAMPLE),
    "catalog": str(SAMPLE_CATALOG), "app": str(ui.serve.APP),
    "methods": str(app_pages.methods.METHODS)}))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The checkout built as a wheel and installed into a folder of its own."""
    work = tmp_path_factory.mktemp("install")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=SKIP)
    target = work / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation"]
        + ["--no-index", "--target", str(target), str(source)],
        check=True,
        capture_output=True,
    )
    shutil.rmtree(source)  # nothing left to fall back on but the installed copy
    return target


def _run(target: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SCALEGATE_DB")}
    env["PYTHONPATH"] = str(target)
    return subprocess.run(
        args, cwd=target.parent, env=env, capture_output=True, text=True, timeout=600
    )


def test_the_console_command_is_installed_and_answers_help(installed: Path) -> None:
    script = installed / "bin" / "scalegate"
    assert script.is_file()
    done = _run(installed, str(script), "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("scalegate run ")  # the dashboard, named first
    assert "usage: scalegate " in done.stdout
    for command in ("load", "report", "pack", "watch", "init-sample", "decisions"):
        assert command in done.stdout
    wrong = _run(installed, str(script), "load")
    assert (wrong.returncode, wrong.stderr.strip()) == (
        2,
        "Give at least one file to load (see --help).",
    )


def test_the_installed_copy_holds_the_sample_the_dashboard_and_the_methods(
    installed: Path,
) -> None:
    import json

    done = _run(installed, sys.executable, "-c", WHERE)
    assert done.returncode == 0, done.stderr
    where = {k: Path(v) for k, v in json.loads(done.stdout).items()}
    for name, path in where.items():
        assert path.is_file(), name
        assert path.is_relative_to(installed), (name, path)  # not the checkout's file
    assert where["sample"].read_bytes() == (ROOT / "data" / "sample.csv").read_bytes()
    assert where["methods"].read_text() == (ROOT / "docs" / "METHODS.md").read_text()
    assert not (installed / "tests").exists() and not (installed / "bench").exists()


def test_init_sample_loads_the_installed_sample(installed: Path, tmp_path: Path) -> None:
    db = tmp_path / "scalegate.duckdb"
    done = _run(installed, str(installed / "bin" / "scalegate"), "init-sample", "--db", str(db))
    assert done.returncode == 0, done.stderr
    import duckdb

    rows = (ROOT / "data" / "sample.csv").read_text().count("\n") - 1
    with duckdb.connect(str(db), read_only=True) as con:
        (held,) = con.execute("SELECT count(*) FROM obs_1").fetchone()
    assert held == rows


def test_the_lock_pins_every_dependency_with_hashes() -> None:
    lock = (ROOT / "requirements.lock").read_text()
    pinned = {
        re.sub(r"[-_.]+", "-", m.group(1)).lower()
        for m in re.finditer(r"^([A-Za-z0-9_.-]+)==\S+ \\$", lock, re.M)
    }
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + [
        d for extra in ("test", "spark") for d in project["optional-dependencies"][extra]
    ]
    names = {
        re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9_.-]+", d).group(0)).lower() for d in wanted
    }
    assert names <= pinned, names - pinned
    blocks = re.split(r"\n(?=\S)", lock.split("\n\n", 1)[-1])
    unhashed = [b.split()[0] for b in blocks if "==" in b and "--hash=sha256:" not in b]
    assert unhashed == []
