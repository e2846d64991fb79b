"""The settings every page reads: language, as-of day, data location, who is signed in (session state)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import streamlit as st

from geo.access.auth import Viewer
from geo.i18n import DEFAULT_LANGUAGE, LANGUAGES
from geo.store import resolve_location
from geo.timeutil import today

LANG_KEY = "ui_lang"
AS_OF_KEY = "ui_as_of"
VIEWER_KEY = "auth_viewer"  # the signed-in account's Viewer (role and scope)
SIGNED_IN_AT_KEY = "auth_signed_in_at"  # local datetime of the sign-in (SESSION_HOURS)
SESSION_ID_KEY = "auth_session_id"  # the session's record in the store (geo.access.sessions)
MEETING_KEY = "ui_meeting_mode"  # the sidebar's meeting switch: aggregates only, for any role
DEMO_KEY = "auth_demo_session"  # this session was opened automatically on an untouched demo store
USER_KEY = "ui_user"  # the name edits and exports are logged under (ui.coverage.actor)


class NotSignedIn(RuntimeError):
    """A data loader was called with nobody signed in (app.py shows sign-in before any page)."""


def lang() -> str:
    """The chosen UI language (zh-CN by default)."""
    value = st.session_state.get(LANG_KEY, DEFAULT_LANGUAGE)
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def as_of() -> dt.date:
    """The as-of day chosen in the sidebar (today in the deployment's time zone by default)."""
    value = st.session_state.get(AS_OF_KEY)
    return value if isinstance(value, dt.date) else today()


def store_location() -> str:
    """The data location: ``$GRIDMAP_DB`` or the default store (for sign-in; pages use ``location``)."""
    return resolve_location(None)


def signed_in() -> Viewer | None:
    """The signed-in account as it signed in (no meeting mode), or None."""
    value = st.session_state.get(VIEWER_KEY)
    return value if isinstance(value, Viewer) else None


def viewer() -> Viewer:
    """Who is looking, with the meeting switch applied: what every loader scopes by."""
    account = signed_in()
    if account is None:
        raise NotSignedIn("nobody is signed in")
    if st.session_state.get(MEETING_KEY):
        return dataclasses.replace(account, presenting=True)
    return account


def user_name() -> str | None:
    """The signed-in user's name (audit log actor), or None."""
    account = signed_in()
    return account.username if account else None
