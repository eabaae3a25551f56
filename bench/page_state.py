"""What a page in the browser is doing, as JavaScript conditions the browser harnesses poll.

Shared by the browser section (bench/browser.py) and the load test's sessions
(bench/browser_session.py), so both call a page "settled" by the same test: the page's own title
is shown (every page has a different one, so the page clicked away from cannot pass for the page
clicked), the app's script run is over, nothing of an earlier run is left stale, and every chart
has drawn its marks. Watching for a change of the script state instead misses a run that starts
and ends between two polls (the Monitor without a decision runs in about 0.1 s).
"""

from __future__ import annotations

import json

HOME_HEADING = "Does the pilot's evidence justify scaling?"

VERDICT = """() => {
    const row = document.querySelector('[class*="st-key-home_answer_"]');
    return !!row && row.innerText.trim().length > 0;
}"""
SCRIPT_STATE = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return app ? app.getAttribute('data-test-script-state') : null;
}"""
CHART_DRAWN = """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')]
    .filter((c) => c.querySelector('canvas, svg.marks')).length"""
CHARTS = """() => document.querySelectorAll('[data-testid="stVegaLiteChart"]').length"""
ELEMENTS = """() => document.querySelectorAll('[data-testid="stElementContainer"]').length"""
STALE = """() => !!document.querySelector('[data-stale="true"]')"""


def heading_of(title: str) -> str:
    """The heading a page shows: its title, except Home, which asks its question."""
    return HOME_HEADING if title == "Home" else title


def shown(heading: str | None) -> str:
    """JavaScript: the page whose first heading is `heading` is shown (any page when None)."""
    if heading is None:
        return "true"
    return f"(document.querySelector('h1')?.innerText === {json.dumps(heading)})"


def done(heading: str | None) -> str:
    """JavaScript: that page's run is over, nothing of an earlier run is left, every chart is
    drawn."""
    return (
        f"{shown(heading)} && ({SCRIPT_STATE})() === 'notRunning'"
        f" && !({STALE})() && ({CHART_DRAWN})() >= ({CHARTS})()"
    )


def text_done(text: str) -> str:
    """JavaScript: the run is over and the page shows `text` (a stage with no heading of its
    own, such as the Data page's detected columns)."""
    return (
        f"document.body.innerText.includes({json.dumps(text)})"
        f" && ({SCRIPT_STATE})() === 'notRunning' && !({STALE})()"
    )
