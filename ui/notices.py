"""What opening the database did that a user should hear of, said once per session."""

from __future__ import annotations

import streamlit as st

from analytics.store.database import Store
from ui.text import plain

_SEEN = "app_notice_seen"


def opening_notice(store: Store) -> None:
    """The upgrade of an older file and where its backup is, at the top of the first page."""
    if store.notice and st.session_state.get(_SEEN) != store.notice:
        st.info(plain(store.notice), icon=":material/backup:")
        st.session_state[_SEEN] = store.notice
