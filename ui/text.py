"""Data shown as text: the one escape for anything Streamlit renders as Markdown.

``st.markdown``, ``st.caption``, ``st.info/warning/success/error``, titles, subheaders,
metric labels and values, widget labels and help are Markdown: a grid named
``[点我](https://evil.example)`` or ``![t](http://host/track.png)`` would become a live link
or an image the browser fetches, and ``www.example.com`` or ``https://...`` autolinks. Every
value from the store, a file or a form goes through ``md`` (or ``md_t``) before it reaches
one of them; tables (``st.dataframe``/``st.table``), ``st.text`` and ``st.code`` show text as
it is and need nothing.
"""

from __future__ import annotations

import re

from geo.i18n import t

# every ASCII punctuation character: CommonMark lets each be backslash-escaped, which makes
# it literal (no link, image, emphasis, HTML, math, :colour[...] directive)
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_LINE_BREAKS = re.compile(r"\s*[\r\n\u2028\u2029]+\s*")
# Autolinks (https://..., www.x, a@b.c) and :shortcodes: are found in the text after the
# escapes are undone (remark-gfm, Streamlit's emoji and icon plugins): an invisible word
# joiner before each "@" and ":" (not between digits, as in 09:00) and after "www" breaks
# their patterns and changes nothing a reader sees
_JOIN = "\u2060"
_BREAK_AT = re.compile(r"@|(?<!\d):|:(?!\d)")
_WWW = re.compile(r"(www)(?=\.)", re.IGNORECASE)


def md(value: object) -> str:
    """``value`` as Markdown that renders exactly as its text, on one line ('' for missing)."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = _LINE_BREAKS.sub(" ", str(value))  # a line break would start a new Markdown block
    text = _WWW.sub(r"\1" + _JOIN, _BREAK_AT.sub(lambda m: _JOIN + m.group(0), text))
    return _PUNCTUATION.sub(r"\\\1", text)


def md_t(key: str, lang: str, **values: object) -> str:
    """``t(key, lang, ...)`` with every value escaped by ``md``: a catalogue line holding data."""
    return t(key, lang, **{name: md(value) for name, value in values.items()})
