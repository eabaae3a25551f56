"""User-provided text never renders as Markdown: `ui.text.plain` and every page that shows it.

A site, channel, metric or dataset name, a phase value, a decision's owner or an engine sentence
that quotes them reaches Streamlit elements that read Markdown (st.markdown, captions, alerts,
labels). Streamlit escapes HTML, not Markdown: unescaped, `![x](http://tracker.example/i.png)`
would load an outside image, `[click](http://evil.example)` and a bare `http://…` would be
links, `$x^2$` LaTeX, `:red[boom]` colour, `:material/home:` an icon.

The unit tests pin the escaped form; what Streamlit 1.67's renderer shows for it was checked in
Chromium (tests/test_e2e_browser.py keeps one such check). The AppTest test loads a file whose
names are exactly those strings and reads every Markdown-interpreting field of every page.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics.core.errors import ScalegateError  # noqa: E402
from ui.pages import PAGES  # noqa: E402
from ui.text import JOINER, plain  # noqa: E402

J = JOINER

# -- the helper ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        # An outside image: the brackets are literal, and `http:` is no longer a bare link.
        ("![x](http://tracker.example/i.png)", f"!\\[x\\](http\\:{J}//tracker.example/i.png)"),
        ("[click](http://evil.example)", f"\\[click\\](http\\:{J}//evil.example)"),
        # LaTeX, a colour directive and bold in one metric header.
        ("Cost $x^2$ :red[boom] **b**", f"Cost \\$x^2\\$ \\:{J}red\\[boom\\] \\*\\*b\\*\\*"),
        # Icons and emoji are matched in the parsed text, where a backslash no longer shows:
        # the joiner after the colon is what stops them. A colon before a space is left alone.
        (":material/home: North", f"\\:{J}material/home: North"),
        ("x:smile: :streamlit:", f"x\\:{J}smile: \\:{J}streamlit\\:{J}"),
        # Bare links and mail links, also matched in the parsed text.
        ("www.evil.example", f"www{J}.evil.example"),
        ("bob@evil.example", f"bob@{J}evil.example"),
        # Typographic signs: -> would become an arrow.
        ("a -> b >= c", f"a -{J}\\> b \\>{J}= c"),
        # Blocks can only open the text: headings, bullets, numbers, quotes.
        ("# Head $y$", "\\# Head \\$y\\$"),
        ("- item", "\\- item"),
        ("+ item", "\\+ item"),
        ("1. one", "1\\. one"),
        ("2) two", "2\\) two"),
        ("> quote", "\\> quote"),
        # Line breaks become spaces (no setext heading, no table), the ends are trimmed.
        ("  Title\n===\n", "Title ==="),
        # Code, strikethrough, tables, entities, HTML, a user's own backslash.
        ("`x` ~~y~~ a|b &copy; <b>", "\\`x\\` \\~\\~y\\~\\~ a\\|b \\&copy; \\<b\\>"),
        ("a\\b_c_", "a\\\\b\\_c\\_"),
        # Ordinary prose stays as it is, so sentences remain readable in the source too.
        (
            "Cost per case (EUR): 1 month(s) before the AI, pilot-vs-production.",
            "Cost per case (EUR): 1 month(s) before the AI, pilot-vs-production.",
        ),
    ],
)
def test_plain_escapes_exactly(text, escaped):
    assert plain(text) == escaped


def test_plain_takes_any_object_such_as_an_error():
    assert plain(ScalegateError("Bad [x](http://e.example)")) == (
        f"Bad \\[x\\](http\\:{J}//e.example)"
    )
    assert plain(42) == "42"


ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")  # CommonMark: a backslash before ASCII punctuation


def parsed(escaped: str) -> str:
    """The text Markdown's parser hands to the rewriting plugins: escapes resolved."""
    return ESCAPE.sub(r"\1", escaped)


def shown(escaped: str) -> str:
    """What the reader sees: the parsed text without the invisible joiners."""
    return parsed(escaped).replace(JOINER, "")


def syntax_left(escaped: str) -> list[str]:
    """What in the escaped text could still start Markdown or Streamlit syntax: outside escape
    pairs, a character that opens syntax; after parsing, a match for a rewriting plugin."""
    left = []
    i = 0
    while i < len(escaped):
        ch, nxt = escaped[i], escaped[i + 1 : i + 2]
        if ch == "\\":
            i += 2  # an escape pair: literal
            continue
        if ch in "`*_[]{}<>#~$|&" or (ch == ":" and not nxt.isspace()):
            left.append(ch + nxt)
        i += 1
    if re.match(r"[-+]|\d+[.)]", escaped):
        left.append("leading list marker")
    text = parsed(escaped)
    for rewrite in (
        r":[^\s\u2060]",  # :material/icon:, :streamlit:, :smile:, http://, mailto:
        r"@[^\s\u2060]",  # name@host.tld
        r"(?i)www\.",  # www.host.tld
        r"->|<-|--|>=|<=|~=",  # typographic signs
    ):
        left.extend(re.findall(rewrite, text))
    return left


def expected(text: str) -> str:
    return " ".join(text.splitlines()).strip().replace(JOINER, "")


@given(st.text(alphabet=st.characters(codec="utf-8")))
def test_plain_shows_the_text_as_typed_and_leaves_no_syntax(text):
    escaped = plain(text)
    assert shown(escaped) == expected(text)
    assert "\n" not in escaped and "\r" not in escaped
    assert syntax_left(escaped) == []


@given(st.text(alphabet="![]()*_:$#-+>.@w/~=`\\|{}<&1 ahr\n"))
def test_plain_on_markdown_soup(text):
    escaped = plain(text)
    assert shown(escaped) == expected(text)
    assert syntax_left(escaped) == []


# -- every page, on a file whose names are Markdown ----------------------------------------------

SITES = (
    "![x](http://tracker.example/i.png)",
    "[click](http://evil.example)",
    ":material/home: North",
    "# Head $y$",
)
CHANNELS = ("[click](http://evil.example)", "**web** :red[boom] www.evil.example")
COST = "Cost $x^2$ :red[boom] **b**"
MINUTES = "[Minutes](http://evil.example) saved"
ODD_PHASE = "**pilot** [x](http://evil.example)"
DATASET = "![d](http://tracker.example/d.png) :red[set]"
OWNER = "[click](http://evil.example) **Ana**"
FILE = "**f** :red[file] $z$.csv"
# None of these may appear unescaped in anything Streamlit reads as Markdown.
DANGEROUS = (
    "![",
    "](",
    "[click]",
    "[Minutes]",
    ":red[",
    ":material/home",
    "http://",
    "www.",
    "**b**",
    "**web**",
    "**pilot**",
    "**Ana**",
    "**f**",
    "$z$",
    "$x^2$",
    "$y$",
    "# Head",
)
# Proto fields Streamlit renders as Markdown; radio options too. Plain-text elements (st.text,
# st.code, dataframes, charts) and the options of a selectbox or multiselect are text already.
MARKDOWN_FIELDS = {"body", "label", "help", "delta", "captions"}
PLAIN_PROTOS = {"Text", "Code", "Json", "Arrow", "ArrowVegaLiteChart", "Exception"}


def evil_csv() -> bytes:
    """A small staggered rollout (pilot at the first site in March, production at the first two
    from April and the third from May) whose names are all Markdown, and one row with an odd
    phase value that the load sets aside with a warning quoting it."""
    rng = np.random.default_rng(3)
    live = {SITES[0]: date(2024, 4, 1), SITES[1]: date(2024, 4, 1), SITES[2]: date(2024, 5, 1)}
    rows = []
    for day in pd.date_range("2024-01-01", "2024-06-30", freq="D"):
        for site in SITES:
            pilot = site == SITES[0] and date(2024, 3, 1) <= day.date() < date(2024, 4, 1)
            prod = site in live and day.date() >= live[site]
            phase = "production" if prod else "pilot" if pilot else "baseline"
            for channel in CHANNELS:
                ai = phase != "baseline"
                cost = rng.normal(40, 6) * (0.85 if ai else 1)
                rows.append((day.date(), phase, site, channel, cost, rng.normal(20, 4) + 3 * ai))
    rows.append((date(2024, 1, 1), ODD_PHASE, SITES[0], CHANNELS[0], 40.0, 20.0))
    frame = pd.DataFrame(rows, columns=["date", "phase", "site", "channel", COST, MINUTES])
    out = io.StringIO()
    frame.round(3).to_csv(out, index=False)
    return out.getvalue().encode()


def unescaped(text: str, seq: str) -> bool:
    """Whether `seq` occurs in `text` without a backslash escaping its first character."""
    start = text.find(seq)
    while start != -1:
        before = text[:start]
        if (len(before) - len(before.rstrip("\\"))) % 2 == 0:
            return True
        start = text.find(seq, start + 1)
    return False


def _from_proto(message, out: list[str]) -> None:
    if message.DESCRIPTOR.name in PLAIN_PROTOS:
        return
    for field, value in message.ListFields():
        repeated = isinstance(value, Sequence) and not isinstance(value, str)
        if field.message_type is not None:
            for item in value if repeated else (value,):
                _from_proto(item, out)
        elif isinstance(value, str) or (repeated and value and isinstance(value[0], str)):
            radio_option = field.name == "options" and message.DESCRIPTOR.name == "Radio"
            if field.name in MARKDOWN_FIELDS or radio_option:
                out.extend(value if repeated else (value,))


def markdown_texts(at: AppTest) -> list[str]:
    """Every string of the page and sidebar that Streamlit renders as Markdown."""
    out: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "ListFields"):
            _from_proto(proto, out)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at.main)
    walk(at.sidebar)
    return out


def assert_inert(at: AppTest, where: str) -> list[str]:
    assert not at.exception, (where, [e.message for e in at.exception])
    assert not at.error, (where, [e.value for e in at.error])
    texts = markdown_texts(at)
    active = [(seq, t) for t in texts for seq in DANGEROUS if unescaped(t, seq)]
    assert not active, (where, active)
    return texts


def test_names_from_a_file_never_render_as_markdown_on_any_page(own_db):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page(PAGES["data"]).run()
    at.file_uploader(key="data_upload_0").set_value((FILE, evil_csv(), "text/csv")).run()
    seen = assert_inert(at, "mapping")
    at.text_input(key="data_load_name").set_value(DATASET)
    at.button(key="data_load_button").click().run()
    seen += assert_inert(at, "loaded")  # Home, with what the load did
    assert [
        s.value for s in at.success if s.value.startswith(f"Loaded as dataset {plain(DATASET)}.")
    ]

    for name, page in PAGES.items():
        at.switch_page(page).run()
        if name == "methods":
            # Our own document (docs/METHODS.md, with its own bold words such as **pilot**),
            # rendered as Markdown on purpose: it must show nothing from the file.
            texts = markdown_texts(at)
            assert not [t for t in texts for n in (COST, MINUTES, DATASET) if plain(n) in t]
            continue
        seen += assert_inert(at, name)

    # The decision's owner, rationale and a readiness answer are the user's too.
    at.switch_page(PAGES["decision"]).run()
    at.text_area(key="decision_answer_owner").set_value(OWNER)
    at.text_input(key="decision_owner").set_value(OWNER)
    at.text_area(key="decision_rationale").set_value(f"{SITES[0]} first, then {SITES[1]}.")
    at.button(key="FormSubmitter:decision_form-Record the decision").click().run()
    seen += assert_inert(at, "decision recorded")
    assert any(plain(OWNER) in s.value for s in at.success)
    at.switch_page(PAGES["scorecard"]).run()  # the board pack caption reads the decision
    seen += assert_inert(at, "scorecard after the decision")

    # The names did reach Markdown, escaped: the check above was not vacuous.
    everything = "\n".join(seen)
    for name in (COST, MINUTES, DATASET, ODD_PHASE, OWNER, FILE, *SITES[:3]):
        assert plain(name) in everything, name
