"""The dashboard's pages, registered once: the router (app.py), the links between pages, the
tests and the benchmark all read this table.

A page file lives in app_pages/, not pages/: Streamlit treats a folder named pages/ as its old
multipage layout until st.navigation has run once in the process, so the first request of a
fresh server to a shared link such as /scorecard ran the page file without the router
(measured: an exception on the page), and AppTest reruns skipped the router altogether.
Streamlit's own guidance for st.navigation is a folder with another name.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Page:
    """One page: its key in code, its file, its title and icon, and its sidebar section."""

    key: str
    path: str
    title: str
    icon: str
    section: str


REGISTRY: tuple[Page, ...] = (
    Page("home", "app_pages/home.py", "Home", ":material/home:", "The answer"),
    Page("scorecard", "app_pages/scorecard.py", "Scorecard", ":material/fact_check:", "The answer"),
    Page(
        "pilot",
        "app_pages/pilot_vs_production.py",
        "Pilot vs Production",
        ":material/compare_arrows:",
        "The evidence",
    ),
    Page(
        "sites",
        "app_pages/sites_channels.py",
        "Sites & Channels",
        ":material/grid_view:",
        "The evidence",
    ),
    Page("baseline", "app_pages/baseline.py", "Baseline", ":material/timeline:", "The evidence"),
    Page("decision", "app_pages/decision.py", "Decision", ":material/gavel:", "The decision"),
    Page("data", "app_pages/data.py", "Data", ":material/database:", "The decision"),
    Page("monitor", "app_pages/monitor.py", "Monitor", ":material/monitoring:", "The decision"),
    Page("methods", "app_pages/methods.py", "Methods", ":material/menu_book:", "The decision"),
)

# key -> file, for st.page_link and AppTest's switch_page.
PAGES: dict[str, str] = {p.key: p.path for p in REGISTRY}
