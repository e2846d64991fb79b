"""Sign-in before any data: the form, the session checks run on every page, sign-out, OIDC.

Every run of ``app.py`` calls ``current_viewer`` first: a session older than
``SESSION_HOURS``, or whose account was disabled or deleted meanwhile, is signed out and
sent back to the sign-in form with a message. There is no built-in account: with an empty
users table the sign-in page explains how to create the first administrator.

OIDC (``st.login``) is offered when ``[auth]`` is configured in ``.streamlit/secrets.toml``;
the identity provider's e-mail must name an active local account (which gives the role).
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from geo.auth import (
    SESSION_HOURS,
    AuthError,
    Viewer,
    authenticate,
    demo_viewer,
    has_users,
    load_viewer,
    session_expired,
)
from geo.i18n import t
from geo.store import open_store
from geo.timeutil import now_local
from ui import session

DEMO_DECLINED_KEY = "auth_demo_declined"
MESSAGE_KEY = "auth_message"  # (catalogue key, values) shown once on the sign-in page
FIRST_ADMIN_COMMAND = "gridmap user add NAME --role admin --password-stdin"
_SESSION_KEYS = (
    session.VIEWER_KEY,
    session.SIGNED_IN_AT_KEY,
    session.USER_KEY,
    session.MEETING_KEY,
    session.DEMO_KEY,
)


def oidc_configured() -> bool:
    """Whether ``st.login`` can be used: an ``[auth]`` section exists in the app's secrets."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all: Streamlit raises instead of answering False
        return False


def start_session(viewer: Viewer) -> None:
    """Keep a freshly signed-in account and the time of sign-in in the session."""
    st.session_state[session.VIEWER_KEY] = viewer
    st.session_state[session.SIGNED_IN_AT_KEY] = now_local()
    st.session_state[session.USER_KEY] = viewer.username


def sign_out(message: tuple[str, dict] | None = None) -> None:
    """Forget who is signed in (and why, for the sign-in page)."""
    for key in _SESSION_KEYS:
        st.session_state.pop(key, None)
    # whoever signs out of a demo wants the sign-in form (to try another role), not the demo again
    st.session_state[DEMO_DECLINED_KEY] = True
    if message is not None:
        st.session_state[MESSAGE_KEY] = message


def _demo_session(location: str) -> Viewer | None:
    """On an untouched demo store (synthetic data only), open signed in as the demo street leader."""
    if st.session_state.get(DEMO_DECLINED_KEY):
        return None
    viewer = demo_viewer(open_store(location))
    if viewer is not None:
        start_session(viewer)
        st.session_state[session.DEMO_KEY] = True
    return viewer


def _oidc_viewer(location: str) -> Viewer | None:
    """The local account of a user signed in through the identity provider, if any."""
    if not oidc_configured() or not getattr(st.user, "is_logged_in", False):
        return None
    name = str(st.user.get("email") or st.user.get("sub") or "")
    try:
        viewer = load_viewer(open_store(location), name)
    except AuthError:
        st.session_state[MESSAGE_KEY] = ("auth_oidc_unknown", {"name": name})
        return None
    start_session(viewer)
    return viewer


def current_viewer(location: str) -> Viewer | None:
    """The signed-in account, re-checked against the store; None (signed out) when refused."""
    account = session.signed_in()
    if account is None:
        return _oidc_viewer(location) or _demo_session(location)
    signed_in_at = st.session_state.get(session.SIGNED_IN_AT_KEY)
    if not isinstance(signed_in_at, dt.datetime) or session_expired(signed_in_at, now_local()):
        sign_out(("auth_expired", {"hours": SESSION_HOURS}))
        return None
    try:
        fresh = load_viewer(open_store(location), account.username)
    except AuthError as exc:
        sign_out((f"auth_{exc.code}", {"name": account.username}))
        return None
    if fresh != account:  # role or scope changed since sign-in: the store wins
        st.session_state[session.VIEWER_KEY] = fresh
    return fresh


def require_viewer() -> Viewer:
    """The signed-in viewer; otherwise draws the sign-in form and stops the page."""
    viewer = current_viewer(session.store_location())
    if viewer is None:
        sign_in_page()
        st.stop()
    return viewer


def _refusal(exc: AuthError, lang: str) -> str:
    if exc.code == "locked":
        return t("auth_locked", lang, until=exc.until or "")
    if exc.code == "disabled":
        return t("auth_disabled", lang)
    return t("auth_wrong", lang)


def sign_in_page() -> None:
    """The sign-in form (the only page anyone sees before signing in)."""
    lang = session.lang()
    location = session.store_location()
    st.title(t("auth_title", lang))
    message = st.session_state.pop(MESSAGE_KEY, None)
    if message:
        key, values = message
        st.warning(t(key, lang, **values))
    store = open_store(location)
    if not store.exists():
        st.info(t("ui_no_data", lang, location=location))  # looking creates nothing
    if not has_users(store):
        st.info(t("auth_no_users", lang))
        st.code(
            f"gridmap user add NAME --role admin --password-stdin --db {location}", language="bash"
        )
        st.caption(t("auth_no_users_demo", lang))
        return
    st.caption(t("auth_intro", lang))
    with st.form("auth_form", clear_on_submit=True):  # the password never lingers in the session
        username = st.text_input(t("auth_user", lang), key="auth_user")
        password = st.text_input(t("auth_password", lang), type="password", key="auth_password")
        submitted = st.form_submit_button(t("auth_submit", lang), key="auth_submit", type="primary")
    if submitted:
        try:
            viewer = authenticate(store, username, password)
        except AuthError as exc:
            st.error(_refusal(exc, lang))
        else:
            start_session(viewer)
            st.rerun()
    if oidc_configured():
        st.button(t("auth_oidc", lang), key="auth_oidc", on_click=st.login)
