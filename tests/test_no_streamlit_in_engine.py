"""The engine (analytics/) never imports Streamlit: the CLI, the tests and the board pack use
exactly what the pages use, and run where Streamlit is not installed."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "analytics"
MODULES = sorted(
    ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    for p in ENGINE.rglob("*.py")
)
IMPORT = re.compile(r"^\s*(import\s+streamlit|from\s+streamlit[\s.])", re.MULTILINE)


def test_the_engine_has_modules_to_check():
    assert "analytics.decide.analysis" in MODULES and "analytics.decide.decisions" in MODULES


def test_importing_every_engine_module_leaves_streamlit_unloaded():
    script = (
        "import importlib, json, sys\n"
        f"for name in {MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'streamlit')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_no_engine_source_mentions_a_streamlit_import():
    offenders = [p.name for p in ENGINE.rglob("*.py") if IMPORT.search(p.read_text("utf-8"))]
    assert offenders == []
