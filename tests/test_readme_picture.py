"""The README's picture of the system names every module of the engine, under its sub-package:
a newcomer who reads it finds the room for a change (issue 17)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "store", "ingest", "engine", "decide", "present", "cli")


def _picture_of(package: str) -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## The picture of the system")
    block = readme[start : readme.index("```", readme.index("```", start) + 3)]
    match = re.search(rf"^  {package}/ +(.*?)(?=^  \w+/ |^\S)", block, re.S | re.M)
    assert match, f"the picture has no line for analytics/{package}/"
    return match.group(1)


@pytest.mark.parametrize("package", PACKAGES)
def test_every_module_is_named_under_its_package(package: str) -> None:
    text = _picture_of(package)
    modules = sorted(p.stem for p in (ROOT / "analytics" / package).glob("*.py"))
    missing = [m for m in modules if m != "__init__" and not re.search(rf"\b{m}\b", text)]
    assert not missing, f"README's picture lacks analytics/{package}/{missing}"
