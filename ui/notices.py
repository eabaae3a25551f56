"""What the database file makes a user hear of: an upgrade (once per session), damage met while
reading."""

from __future__ import annotations

import streamlit as st

from analytics.store.database import Store
from analytics.store.file_check import corrupt, damaged
from ui import cached
from ui.text import plain

_SEEN = "app_notice_seen"


def opening_notice(store: Store) -> None:
    """The upgrade of an older file and where its backup is, at the top of the first page."""
    if store.notice and st.session_state.get(_SEEN) != store.notice:
        st.info(plain(store.notice), icon=":material/backup:")
        st.session_state[_SEEN] = store.notice


def damage_sentence(error: BaseException) -> str | None:
    """The sentence for a damaged block met while a page read the database, else None."""
    return damaged(cached.db_path()).sentence if corrupt(error) else None
