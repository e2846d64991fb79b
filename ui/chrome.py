"""Streamlit's own frame made to fit the app: its status widget shows no English.

While a script runs longer than half a second, Streamlit's toolbar shows a running icon and
an English "Stop" button ("Stopping..." once pressed). Streamlit has no locale and, as of
1.67, no option to hide or relabel it (streamlit#16480 asks for one), so a rule in the
page's style does: the icon stays (it says the page is working, in no language), the
button goes (a user who stops a run half-way is left with half a page).
"""

from __future__ import annotations

import streamlit as st

STATUS_CSS = '[data-testid="stStatusWidget"] button { display: none; }'
"""The status widget's buttons hidden (Stop; Rerun after a file change, a developer's)."""


def style_status_widget() -> None:
    """Add the status widget's rule to this run's page (an element that takes no space)."""
    st.html(f"<style>{STATUS_CSS}</style>")
