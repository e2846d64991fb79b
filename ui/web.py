"""The HTTP side of a session: two routes that set and clear the http-only session cookie.

A websocket message cannot set a cookie, and a cookie script can set is readable by every
script on the page; an http-only one must come with an HTTP response. So, as ``st.login``
does for its identity cookie, the app sends the browser (``redirect``) to a route of the
server: ``/_gridmap/signin?ticket=...&next=/reports`` exchanges a one-time ticket for the
session token (``geo.access.sessions.redeem_ticket``), sets it as a ``Secure; HttpOnly;
SameSite=Strict`` cookie that expires with the session, and sends the browser on to the
page it asked for. ``/_gridmap/signout`` revokes the session and deletes the cookie.

server.py mounts the routes (``routes``) on Streamlit's own ASGI app (``st.App``). Started
without it (``streamlit run app.py``), ``installed()`` is False and a session lives only
as long as the browser tab's connection, as before.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from geo.access.sessions import end_session, find_session, redeem_ticket
from geo.store import open_store, resolve_location
from geo.timeutil import now_local, parse_timestamp

# __Host-: the browser keeps it only when Secure, for this host, path / (no sub-domain can set it)
COOKIE = "__Host-gridmap_session"
SIGNED_OUT_COOKIE = "gridmap_signed_out"  # this browser signed out: no automatic demo sign-in
SIGNIN_PATH = "/_gridmap/signin"
SIGNOUT_PATH = "/_gridmap/signout"
_NEXT = re.compile(r"/[A-Za-z0-9_\-]*")  # a page of this app; nothing else is followed
_installed = False


def installed() -> bool:
    """Whether the cookie routes are mounted (the server was started by server.py)."""
    return _installed


def safe_next(target: str | None) -> str:
    """``target`` when it is a page path of this app ('/' or '/name'), else '/'."""
    return target if target and _NEXT.fullmatch(target) else "/"


def signin_url(ticket: str, target: str) -> str:
    """Where the browser exchanges ``ticket`` for the cookie, then goes on to ``target``."""
    return f"{SIGNIN_PATH}?ticket={quote(ticket)}&next={quote(safe_next(target))}"


def redirect(url: str) -> None:
    """Send the browser to ``url`` (a full page load), as ``st.login`` does."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None:
        return
    message = ForwardMsg()
    message.auth_redirect.url = url
    ctx.enqueue(message)


def _cross_site(request) -> bool:
    """A navigation another site started (a link or form elsewhere): refused, as login CSRF.

    The app's own redirect is same-origin. Browsers without Fetch Metadata send no header.
    """
    return request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none")


async def _signin(request):
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import RedirectResponse

    target = safe_next(request.query_params.get("next"))
    response = RedirectResponse(target, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    ticket = request.query_params.get("ticket", "")
    if not ticket or _cross_site(request):
        return response
    store = open_store(resolve_location(None))
    redeemed = await run_in_threadpool(redeem_ticket, store, ticket)
    if redeemed is None:
        return response
    token, session = redeemed
    ends = parse_timestamp(session.expires_at) or now_local()
    seconds = int((ends - now_local()).total_seconds())
    response.set_cookie(
        COOKIE,
        token,
        max_age=max(seconds, 0),
        path="/",
        secure=True,
        httponly=True,
        samesite="strict",
    )
    response.delete_cookie(SIGNED_OUT_COOKIE, path="/")
    return response


async def _signout(request):
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import RedirectResponse

    response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    response.headers["Cache-Control"] = "no-store"
    if _cross_site(request):  # another site cannot sign anyone out either
        return response
    token = request.cookies.get(COOKIE)
    if token:
        store = open_store(resolve_location(None))
        found = await run_in_threadpool(find_session, store, token)
        if found is not None:
            await run_in_threadpool(end_session, store, found.session_id)
    response.delete_cookie(COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    response.set_cookie(SIGNED_OUT_COOKIE, "1", path="/", httponly=True, samesite="strict")
    return response


def routes() -> list:
    """The cookie routes, for ``st.App(routes=...)``; marks them installed in this process."""
    from starlette.routing import Route

    global _installed
    _installed = True
    return [
        Route(SIGNIN_PATH, _signin, methods=["GET"]),
        Route(SIGNOUT_PATH, _signout, methods=["GET"]),
    ]
