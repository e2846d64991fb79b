"""The sidebar every page shares: language, data location, as-of day."""

from __future__ import annotations

import streamlit as st

from geo.i18n import LANGUAGES, t
from geo.timeutil import today
from ui.session import AS_OF_KEY, LANG_KEY, lang, location


def render_sidebar() -> None:
    """Draw the shared sidebar; its widgets write the session settings read by ``ui.session``."""
    with st.sidebar:
        st.selectbox(
            t("ui_language", lang()),
            LANGUAGES,
            format_func=lambda code: t("ui_language_name", code),  # each named in itself
            key=LANG_KEY,
        )
        current = lang()
        if AS_OF_KEY not in st.session_state:
            st.session_state[AS_OF_KEY] = today()
        st.date_input(
            t("ui_as_of", current),
            key=AS_OF_KEY,
            help=t("ui_as_of_help", current),
            max_value=today(),
        )
        st.caption(f"{t('ui_data_location', current)}: `{location()}`")
