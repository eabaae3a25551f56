"""Where the database goes when no path is given: the checkout's data/ folder (as `make run`
uses it), and for an installed copy the user's data folder, never inside site-packages."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics.store import database
from analytics.store.database import default_db

ROOT = Path(__file__).resolve().parent.parent


def test_a_checkout_keeps_its_database_in_its_data_folder() -> None:
    assert default_db(ROOT) == ROOT / "data" / "scalegate.duckdb"
    assert database.DEFAULT_DB == ROOT / "data" / "scalegate.duckdb"


def test_an_installed_copy_keeps_it_in_the_users_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site-packages"  # an installed copy: no pyproject.toml beside analytics/
    (site / "analytics").mkdir(parents=True)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    found = default_db(site)
    assert found == tmp_path / "share" / "scalegate" / "scalegate.duckdb"
    assert not found.is_relative_to(site)


def test_a_database_folder_that_cannot_be_made_is_one_sentence(tmp_path: Path) -> None:
    from analytics.core.errors import ScalegateError
    from analytics.store.database import Store

    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises(ScalegateError, match=r"cannot be made .*choose another file with --db"):
        Store(blocker / "sub" / "scalegate.duckdb")
    assert blocker.read_text() == "not a folder"
