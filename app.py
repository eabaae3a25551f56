"""Scalegate's dashboard: the router. Page config, navigation, the shared sidebar, the page.

Run with `make run` (or `streamlit run app.py`). Each page lives in app_pages/ and stays thin: it
reads widgets, calls the engine through ui/, and draws. Pages are registered once, in
ui/pages.py (which also says why the folder is not named pages/).
"""

import streamlit as st

from analytics.core.errors import ScalegateError
from ui import sidebar, warm
from ui.coverage_banner import coverage_banner
from ui.load_notice import apply_landed
from ui.notices import damage_sentence, opening_notice
from ui.pages import REGISTRY
from ui.text import plain

st.set_page_config(page_title="Scalegate", page_icon=":material/insights:", layout="wide")

sections: dict[str, list[st.Page]] = {}
for page in REGISTRY:
    sections.setdefault(page.section, []).append(
        st.Page(page.path, title=page.title, icon=page.icon, default=page.key == "home")
    )
navigation = st.navigation(sections)

warm.run_began()  # the background warm-up waits for runs to end before its heavier steps
try:
    apply_landed()  # loads stored since the last run: the view follows them
    opening_notice(sidebar.render().store)
    coverage_banner()
    navigation.run()
except ScalegateError as error:
    # Something the user can fix: one sentence, never a traceback.
    st.error(plain(error), icon=":material/error:")
except Exception as error:
    sentence = damage_sentence(error)  # a damaged block met while reading the database
    if sentence is None:
        raise
    st.error(plain(sentence), icon=":material/error:")
finally:
    warm.run_ended()

# Once per process, after the first page is drawn: the other pages' imports, in the background.
warm.start(analysis=False)
