"""Scalegate's dashboard: the router. Page config, navigation, the shared sidebar, the page.

Run with `make run` (or `streamlit run app.py`). Each page lives in views/ and stays thin: it
reads widgets, calls the engine through ui/, and draws.

The page files live in views/, not pages/: Streamlit treats a folder named pages/ as the
old multipage layout until st.navigation has run once in the process, so the first request of
a fresh server to a shared link such as /scorecard ran the page file without this router
(measured: an exception on the page), and AppTest reruns skipped the router altogether.
"""

import streamlit as st

from analytics.errors import ScalegateError
from ui import sidebar
from ui.show import PAGES
from ui.text import plain

st.set_page_config(page_title="Scalegate", page_icon=":material/insights:", layout="wide")

navigation = st.navigation(
    {
        "The answer": [
            st.Page(PAGES["home"], title="Home", icon=":material/home:", default=True),
            st.Page(PAGES["scorecard"], title="Scorecard", icon=":material/fact_check:"),
        ],
        "The evidence": [
            st.Page(PAGES["pilot"], title="Pilot vs Production", icon=":material/compare_arrows:"),
            st.Page(PAGES["sites"], title="Sites & Channels", icon=":material/grid_view:"),
            st.Page(PAGES["baseline"], title="Baseline", icon=":material/timeline:"),
        ],
        "The decision": [
            st.Page(PAGES["decision"], title="Decision", icon=":material/gavel:"),
            st.Page(PAGES["data"], title="Data", icon=":material/database:"),
        ],
    }
)

try:
    sidebar.render()
    navigation.run()
except ScalegateError as error:
    # Something the user can fix: one sentence, never a traceback.
    st.error(plain(error), icon=":material/error:")
