"""Scalegate's dashboard: the router. Page config, navigation, the shared sidebar, the page.

Run with `make run` (or `streamlit run app.py`). Each page lives in pages/ and stays thin: it
reads widgets, calls the engine through ui/, and draws.
"""

import streamlit as st

from analytics.errors import ScalegateError
from ui import sidebar
from ui.show import PAGES

st.set_page_config(page_title="Scalegate", page_icon=":material/insights:", layout="wide")

navigation = st.navigation(
    [
        st.Page(PAGES["home"], title="Home", icon=":material/home:", default=True),
        st.Page(PAGES["scorecard"], title="Scorecard", icon=":material/fact_check:"),
        st.Page(PAGES["pilot"], title="Pilot vs Production", icon=":material/compare_arrows:"),
        st.Page(PAGES["sites"], title="Sites & Channels", icon=":material/grid_view:"),
        st.Page(PAGES["baseline"], title="Baseline", icon=":material/timeline:"),
        st.Page(PAGES["decision"], title="Decision", icon=":material/gavel:"),
        st.Page(PAGES["data"], title="Data", icon=":material/database:"),
    ]
)

try:
    sidebar.render()
    navigation.run()
except ScalegateError as error:
    # Something the user can fix: one sentence, never a traceback.
    st.error(str(error), icon=":material/error:")
