"""Sign-in before any data: the form, the session checks run on every page, sign-out, OIDC.

Every run of ``app.py`` calls ``current_viewer`` first. A sign-in opens a session record
in the store (``geo.access.sessions``); when the server runs with the cookie routes (server.py,
``ui.web``) and the page is in a secure context (HTTPS, or the machine itself), the
browser is sent once through ``/_gridmap/signin`` to receive an http-only cookie, so the
session survives a refresh and opens in a new tab. On every run the record is checked: a
session expired, signed out (in any tab), whose account was disabled, or whose role or
scope changed is refused and the viewer is back at the sign-in form with a message. There
is no built-in account: with an empty users table the sign-in page explains how to create
the first administrator.

OIDC (``st.login``) is offered when ``[auth]`` is configured in ``.streamlit/secrets.toml``;
the identity provider's e-mail must name an active local account (which gives the role).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from urllib.parse import urlparse

import streamlit as st

from geo.access.auth import (
    LOCK_MINUTES,
    SESSION_HOURS,
    AuthError,
    Viewer,
    authenticate,
    demo_viewer,
    grants,
    has_users,
    load_viewer,
    session_expired,
)
from geo.access.sessions import SessionEnded, check_session, end_session, find_session, open_session
from geo.i18n import t
from geo.store import open_store, resolve_location
from geo.store.base import Store
from geo.timeutil import now_local, parse_timestamp
from ui import session, web
from ui.navigation import use_app_navigation
from ui.text import md_t

DEMO_DECLINED_KEY = "auth_demo_declined"
MESSAGE_KEY = "auth_message"  # (catalogue key, values) shown once on the sign-in page
FIRST_ADMIN_COMMAND = "gridmap user add NAME --role admin --password-stdin"
_SESSION_KEYS = (
    session.VIEWER_KEY,
    session.SIGNED_IN_AT_KEY,
    session.SESSION_ID_KEY,
    session.USER_KEY,
    session.MEETING_KEY,
    session.DEMO_KEY,
)
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}
# why a session ended -> what the sign-in page says
_ENDED = {
    "expired": "auth_expired",
    "disabled": "auth_disabled",
    "unknown": "auth_unknown",
    "role_changed": "auth_session_role_changed",
    "password": "auth_session_password",
    "revoked": "auth_session_revoked",
}


def oidc_configured() -> bool:
    """Whether ``st.login`` can be used: an ``[auth]`` section exists in the app's secrets."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all: Streamlit raises instead of answering False
        return False


def _cookie(name: str) -> str | None:
    """A cookie the browser sent when this session connected (http-only ones included)."""
    value = st.context.cookies.get(name)
    return value if isinstance(value, str) else None  # AppTest's stand-in client has none


def cookies_work() -> bool:
    """Whether a ``Secure`` cookie can be set: routes mounted and the page in a secure context.

    Browsers keep Secure cookies only over HTTPS or on the machine itself; over plain HTTP
    a session lasts as long as the tab's connection (the operator is told to set up HTTPS).
    """
    url = urlparse(st.context.url if isinstance(st.context.url, str) else "")
    return web.installed() and (url.scheme == "https" or url.hostname in _LOOPBACK)


def start_session(
    viewer: Viewer, store: Store | None = None, session_id: str | None = None
) -> str | None:
    """Keep a signed-in account in the Streamlit session; returns the new record's ticket.

    With ``store``, a session record is opened (a form sign-in); with ``session_id``, an
    existing one is resumed (from the cookie); with neither, none is kept (demo, OIDC).
    """
    ticket = None
    if store is not None:
        session_id, ticket = open_session(store, viewer.username, grants(viewer))
    st.session_state[session.VIEWER_KEY] = viewer
    st.session_state[session.SIGNED_IN_AT_KEY] = now_local()
    st.session_state[session.USER_KEY] = viewer.username
    if session_id is not None:
        st.session_state[session.SESSION_ID_KEY] = session_id
    return ticket


def sign_out(message: tuple[str, dict] | None = None, why: str = "signed_out") -> None:
    """Forget who is signed in (and why, for the sign-in page); end the session record.

    A sign-out asked for also sends the browser through ``/_gridmap/signout``, which
    deletes the cookie (a full page load).
    """
    session_id = st.session_state.get(session.SESSION_ID_KEY)
    if session_id:
        end_session(open_store(session.store_location()), session_id, why)
    for key in _SESSION_KEYS:
        st.session_state.pop(key, None)
    # whoever signs out of a demo wants the sign-in form (to try another role), not the demo again
    st.session_state[DEMO_DECLINED_KEY] = True
    if message is not None:
        st.session_state[MESSAGE_KEY] = message
    if why == "signed_out" and web.installed() and _cookie(web.COOKIE):
        web.redirect(f"{web.SIGNOUT_PATH}?next=/")


def _demo_session(location: str) -> Viewer | None:
    """On an untouched demo store (synthetic data only), open signed in as the demo street leader."""
    if st.session_state.get(DEMO_DECLINED_KEY) or _cookie(web.SIGNED_OUT_COOKIE):
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


def _ended(why: str, username: str) -> tuple[str, dict]:
    return _ENDED.get(why, "auth_session_revoked"), {"hours": SESSION_HOURS, "name": username}


def _cookie_viewer(store: Store) -> Viewer | None:
    """The account of the session the browser's cookie names, when it may still be used."""
    found = find_session(store, _cookie(web.COOKIE) or "")
    if found is None:
        return None
    try:
        viewer = load_viewer(store, found.username)
        check_session(store, found.session_id, grants(viewer))
    except AuthError as refused:
        end_session(store, found.session_id, refused.code)
        st.session_state[MESSAGE_KEY] = _ended(refused.code, found.username)
        return None
    except SessionEnded as ended:
        if ended.why != "revoked":  # a cookie left from a sign-out: just the form
            st.session_state[MESSAGE_KEY] = _ended(ended.why, found.username)
        return None
    start_session(viewer, session_id=found.session_id)
    ends = parse_timestamp(found.expires_at)
    if ends is not None:  # the local expiry check counts from the original sign-in
        st.session_state[session.SIGNED_IN_AT_KEY] = ends - dt.timedelta(hours=SESSION_HOURS)
    return viewer


def current_viewer(location: str) -> Viewer | None:
    """The signed-in account, re-checked against the store; None (signed out) when refused."""
    account = session.signed_in()
    if account is None:
        store = open_store(location)
        return _cookie_viewer(store) or _oidc_viewer(location) or _demo_session(location)
    signed_in_at = st.session_state.get(session.SIGNED_IN_AT_KEY)
    if not isinstance(signed_in_at, dt.datetime) or session_expired(signed_in_at, now_local()):
        sign_out(_ended("expired", account.username), why="expired")
        return None
    store = open_store(location)
    try:
        fresh = load_viewer(store, account.username)
    except AuthError as exc:
        sign_out(_ended(exc.code, account.username), why=exc.code)
        return None
    session_id = st.session_state.get(session.SESSION_ID_KEY)
    if session_id:
        try:
            check_session(store, session_id, grants(fresh))
        except SessionEnded as ended:
            sign_out(_ended(ended.why, account.username), why=ended.why)
            return None
    elif fresh != account:  # a session without a record (demo, OIDC): the store wins
        st.session_state[session.VIEWER_KEY] = fresh
    return fresh


def require_viewer() -> Viewer:
    """The signed-in viewer; otherwise draws the sign-in form and stops the page."""
    viewer = current_viewer(session.store_location())
    if viewer is None:
        sign_in_page_for("")()
        st.stop()
    return viewer


def location() -> str:
    """The data location, for a signed-in session only: a page run without sign-in stops here.

    app.py shows the sign-in form before any page; a page file run on its own (Streamlit's
    legacy ``pages/`` routing, on a fresh server started without server.py) is rerun through
    app.py first (``ui.navigation.use_app_navigation``); the check (expiry, disabled account)
    is repeated here all the same.
    """
    use_app_navigation()
    require_viewer()
    return resolve_location(None)


def _refusal(exc: AuthError, lang: str) -> str:
    if exc.code == "disabled":
        return t("auth_disabled", lang)
    # unknown name, wrong password and locked account alike
    return t("auth_wrong", lang, minutes=LOCK_MINUTES)


def sign_in_page_for(path: str) -> Callable[[], None]:
    """The sign-in form as a page; once signed in, the page at ``path`` opens ('' = default)."""

    def sign_in_page() -> None:
        _sign_in_form(path)

    sign_in_page.__name__ = f"sign_in_{path or 'default'}"
    return sign_in_page


def _sign_in_form(path: str) -> None:
    """The sign-in form (the only page anyone sees before signing in)."""
    lang = session.lang()
    location = session.store_location()
    st.title(t("auth_title", lang))
    message = st.session_state.pop(MESSAGE_KEY, None)
    if message:
        key, values = message
        st.warning(md_t(key, lang, **values))
    store = open_store(location)
    if not store.exists():
        st.info(md_t("ui_no_data", lang, location=location))  # looking creates nothing
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
    if web.installed() and not cookies_work():
        st.caption(t("auth_no_https", lang))
    if submitted:
        try:
            viewer = authenticate(store, username, password)
        except AuthError as exc:
            st.error(_refusal(exc, lang))
        else:
            ticket = start_session(viewer, store)
            if ticket is not None and cookies_work():
                # a full page load through the cookie route, landing on the page asked for
                web.redirect(web.signin_url(ticket, f"/{path}"))
                st.caption(t("auth_signing_in", lang))
                st.stop()
            st.rerun()
    if oidc_configured():
        st.button(t("auth_oidc", lang), key="auth_oidc", on_click=st.login)
