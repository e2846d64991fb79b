"""The settings every page reads: language, as-of day, data location (kept in session state)."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from geo.i18n import DEFAULT_LANGUAGE, LANGUAGES
from geo.store import resolve_location
from geo.timeutil import today

LANG_KEY = "ui_lang"
AS_OF_KEY = "ui_as_of"


def lang() -> str:
    """The chosen UI language (zh-CN by default)."""
    value = st.session_state.get(LANG_KEY, DEFAULT_LANGUAGE)
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def as_of() -> dt.date:
    """The as-of day chosen in the sidebar (today in the deployment's time zone by default)."""
    value = st.session_state.get(AS_OF_KEY)
    return value if isinstance(value, dt.date) else today()


def location() -> str:
    """The data location: ``$GRIDMAP_DB`` or the default store."""
    return resolve_location(None)
