"""Methods: how each number is computed (docs/METHODS.md), the plain names of the method codes
and one line on each statistical word the pages use."""

from pathlib import Path

import streamlit as st

from analytics.core.fmt import METHOD_NAMES, TERMS

METHODS = Path(__file__).resolve().parent.parent / "docs" / "METHODS.md"

st.title("Methods")
st.caption(
    "How every number on these pages is computed, in words a finance reader follows. Chart "
    "footers name the section that explains them."
)
with st.expander("The words used on the pages", expanded=True):
    for line in TERMS.values():
        st.markdown(f"- {line}")
with st.expander("Method names"):
    st.dataframe(
        [{"Method": name, "Code in results.json": code} for code, name in METHOD_NAMES.items()],
        hide_index=True,
        key="methods_names",
    )
# Our own document, not user text: rendered as Markdown, headings become the sections.
st.markdown(METHODS.read_text(encoding="utf-8"))
