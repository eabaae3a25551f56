"""User-provided text made inert for Streamlit's Markdown.

Every Streamlit text element but st.text, st.code and the cells of a dataframe reads its string
as Markdown: st.markdown and st.write, captions, alerts, headings, toasts, and the labels, help
and values of metrics, expanders, tabs, buttons and widgets (radio options too). HTML is escaped
by Streamlit itself, but a site, metric or dataset name written as Markdown would still render:
`![x](http://tracker.example/i.png)` loads an outside image, `[a](http://x.example)` and a bare
`http://x.example` become links, `$x^2$` LaTeX, `:red[x]` colour, `:material/home:` an icon.

`plain(text)` returns the text so that Streamlit shows its characters as typed (checked in a
real browser against Streamlit 1.67's renderer). Code keeps its own Markdown around it:
`st.markdown(f"**{plain(label)}**")`. The engine never escapes: only app_pages/ and ui/ call this.

Two kinds of rule:

- Markdown syntax (CommonMark with GitHub's extensions, LaTeX and Streamlit's `:name[...]`
  directives) is parsed before any rewriting, so a backslash before a character that starts
  syntax keeps it literal: always ``\\ ` * _ [ ] { } < > # ~ $ | &``, a colon not followed by
  a space, and the list markers `-`, `+` and `1.` / `1)` that open the text.
- Streamlit and GitHub's extensions also rewrite the parsed text, where a backslash no longer
  shows: `http://…`, `www.…` and `name@host.tld` become links, `:material/icon:`,
  `:streamlit:` and emoji shortcodes become pictures, `->`, `<-`, `--`, `>=`, `<=` and `~=`
  become arrows and signs. An invisible word joiner (U+2060) after such a colon and `@`,
  between `www` and its dot, and inside those pairs, leaves nothing for them to match.

Line breaks become spaces and the ends are trimmed, so the text stays inside the line the code
put it in (no heading, list, quote or table can start) and cannot loosen the code's own `**`.
"""

from __future__ import annotations

import re

JOINER = "\u2060"  # WORD JOINER: invisible, no width, no line break opportunity

# Characters that start Markdown syntax wherever they stand.
_ALWAYS = frozenset("\\`*_[]{}<>#~$|&")
_JOIN = (
    (re.compile(r"(?i)(?<=www)(?=\.)"), JOINER),  # www.example.com: no bare link
    (re.compile(r"(?<=[-<>~])(?=[-<>=])"), JOINER),  # -> <- -- >= <= ~=: no typographic sign
    (re.compile(r"@(?=\S)"), "@" + JOINER),  # name@host.tld: no mail link
)
_LEADING_BULLET = re.compile(r"^[-+]")
_LEADING_NUMBER = re.compile(r"^(\d+)([.)])")


def plain(text: object) -> str:
    """The text, escaped so that Streamlit's Markdown shows it literally."""
    s = " ".join(str(text).splitlines()).strip()
    for pattern, replacement in _JOIN:
        s = pattern.sub(replacement, s)
    out: list[str] = []
    for i, ch in enumerate(s):
        if ch in _ALWAYS:
            out.append("\\" + ch)
        elif ch == ":" and not s[i + 1 : i + 2].isspace():
            # `:red[`, `:material/`, `:smile:`, `http://`; a colon before a space starts none.
            out.append("\\:" + JOINER)
        else:
            out.append(ch)
    escaped = "".join(out)
    escaped = _LEADING_BULLET.sub(lambda m: "\\" + m.group(0), escaped)
    return _LEADING_NUMBER.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)
