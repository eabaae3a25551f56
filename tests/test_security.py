"""Security settings and habits that a later change must not undo."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [
    p for folder in ("analytics", "ui", "app_pages") for p in (ROOT / folder).rglob("*.py")
] + [ROOT / "app.py"]


def test_streamlit_config_keeps_xsrf_on_statistics_off_and_uploads_limited() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["enableXsrfProtection"] is True
    assert config["browser"]["gatherUsageStats"] is False
    assert 0 < config["server"]["maxUploadSize"] <= 1024
    # Errors a user causes are shown as sentences; internal details never reach the page.
    assert config["client"]["showErrorDetails"] in ("none", False)


def test_no_html_is_ever_rendered_from_code() -> None:
    for path in SOURCES:
        text = path.read_text()
        assert not re.search(r"unsafe_allow_html\s*=\s*True", text), path
        assert "st.html(" not in text and "components.html(" not in text, path


def test_the_sql_injection_rule_is_on() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "S608" in pyproject["tool"]["ruff"]["lint"]["select"]
    # Each exception to it is explained, on its line or once in the module's docstring.
    for path in SOURCES:
        text = path.read_text()
        docstring = text.split('"""')[1] if text.startswith('"""') else ""
        for line in text.splitlines():
            if "noqa: S608" in line:
                explained = line.split("noqa: S608", 1)[1].strip().startswith("(")
                assert explained or "S608" in docstring, (path, line)


def test_local_paths_are_offered_only_on_this_machine() -> None:
    from analytics.present.ui_state import local_paths_allowed

    assert local_paths_allowed("127.0.0.1", None)
    assert local_paths_allowed("localhost", "")
    assert not local_paths_allowed("0.0.0.0", None)
    assert not local_paths_allowed("", None)  # Streamlit's default binds every address
    assert local_paths_allowed("0.0.0.0", "1")
