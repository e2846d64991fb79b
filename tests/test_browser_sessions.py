"""A signed-in session in the browser (marker ``browser``): it survives a refresh and a new
tab through a secure, http-only cookie, and ends with sign-out, a disabled account or a
changed role, whatever the browser still holds."""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request

import pytest
from conftest import start_server, stop_server
from signin import PASSWORD, ensure_user

from geo.access import auth, sessions
from geo.store import open_store
from ui import web

pytestmark = pytest.mark.browser

COOKIE = web.COOKIE
SIGNIN_FORM = "用户名"


def _context(chromium):
    return chromium.new_context(viewport={"width": 1500, "height": 1000}, locale="zh-CN")


def _watch(page) -> list[str]:
    """JavaScript dialogs and "Page not found" modals seen by ``page``."""
    seen: list[str] = []
    page.on("dialog", lambda d: (seen.append(d.message), d.dismiss()))
    return seen


def _sign_in(page, url: str, name: str, password: str = PASSWORD) -> None:
    page.goto(url)
    page.get_by_label(SIGNIN_FORM).fill(name)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def _title(page, text: str) -> None:
    page.locator("h1", has_text=text).first.wait_for(timeout=60_000)


def _signed_out(page) -> None:
    page.get_by_label(SIGNIN_FORM).wait_for(timeout=60_000)


def _no_modal(page) -> None:
    body = page.inner_text("body")
    assert "Page not found" not in body and "does not seem to exist" not in body


def _session_cookie(context) -> dict:
    return next(c for c in context.cookies() if c["name"] == COOKIE)


def test_refresh_and_a_new_tab_keep_the_session_and_the_page(chromium, app_server):
    name = ensure_user(app_server.location, "sess_leader", "street_leader")
    context = _context(chromium)
    try:
        page = context.new_page()
        dialogs = _watch(page)
        _sign_in(page, f"{app_server.url}/reports", name)
        _title(page, "民情诉求受理与办理")  # the page the link named, after signing in
        assert page.url.endswith("/reports")
        cookie = _session_cookie(context)
        assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
        assert cookie["path"] == "/"
        hours = (cookie["expires"] - time.time()) / 3600
        assert sessions.SESSION_HOURS - 0.1 < hours <= sessions.SESSION_HOURS
        assert COOKIE not in page.evaluate("document.cookie")  # no script can read it
        stored = open_store(app_server.location).read("sessions", where={"username": name})
        assert cookie["value"] not in stored.to_string()  # the store keeps its hash only
        assert sessions.digest(cookie["value"]) in set(stored["token_hash"])
        page.reload()
        _title(page, "民情诉求受理与办理")
        assert page.get_by_label(SIGNIN_FORM).count() == 0
        tab = context.new_page()
        tab.goto(f"{app_server.url}/coverage")
        _title(tab, "网格覆盖与走访")
        assert tab.get_by_label(SIGNIN_FORM).count() == 0
        _no_modal(page), _no_modal(tab)
        assert dialogs == []
    finally:
        context.close()


def _replay(chromium, url: str, cookie: dict) -> object:
    """A new browser holding only a copy of ``cookie``: what a stolen cookie opens."""
    context = _context(chromium)
    keep = ("name", "value", "domain", "path", "expires", "httpOnly", "secure", "sameSite")
    context.add_cookies([{k: cookie[k] for k in keep}])
    page = context.new_page()
    page.goto(url)
    return context, page


def test_sign_out_revokes_the_cookie_everywhere(chromium, app_server):
    name = ensure_user(app_server.location, "sess_out", "street_leader")
    context = _context(chromium)
    try:
        page = context.new_page()
        _sign_in(page, app_server.url, name)
        _title(page, "网格民情地图")
        stolen = _session_cookie(context)  # as a copy of it would have been taken
        copy, copied = _replay(chromium, app_server.url, stolen)
        _title(copied, "网格民情地图")  # the copy works while the session lasts
        copy.close()
        other = context.new_page()
        other.goto(f"{app_server.url}/weekly")
        other.locator("h1").first.wait_for(timeout=60_000)
        page.get_by_role("button", name="退出登录").click()
        _signed_out(page)
        assert COOKIE not in {c["name"] for c in context.cookies()}
        # the other tab's next step finds the session ended, without a reload
        other.get_by_text("会议模式").first.click()  # any widget: a rerun checks the session
        other.get_by_label(SIGNIN_FORM).wait_for(timeout=60_000)
        other.get_by_text("您已在其他窗口退出登录").wait_for(timeout=30_000)
    finally:
        context.close()
    copy, copied = _replay(chromium, app_server.url, stolen)
    try:
        _signed_out(copied)  # and the copy opens nothing any more
        _no_modal(copied)
    finally:
        copy.close()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda location, name: auth.set_disabled(open_store(location), name, True), "停用"),
        (
            lambda location, name: auth.set_role(open_store(location), name, "planner"),
            "角色",
        ),
    ],
    ids=["disabled", "role-changed"],
)
def test_a_disabled_or_changed_account_is_refused_with_its_cookie(
    chromium, app_server, change, message
):
    name = ensure_user(app_server.location, f"sess_{message.encode().hex()[:8]}", "street_leader")
    context = _context(chromium)
    try:
        page = context.new_page()
        _sign_in(page, f"{app_server.url}/coverage", name)
        _title(page, "网格覆盖与走访")
        change(app_server.location, name)
        page.reload()  # the browser still sends the cookie
        _signed_out(page)
        page.get_by_text(message).first.wait_for(timeout=30_000)
        _no_modal(page)
    finally:
        context.close()
        auth.set_disabled(open_store(app_server.location), name, False)


def _ticket_request(url: str, ticket: str, site: str) -> tuple[int, str]:
    """GET the sign-in route as a browser navigation from ``site``; (status, Set-Cookie)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    request = urllib.request.Request(
        f"{url}{web.signin_url(ticket, '/reports')}", headers={"Sec-Fetch-Site": site}
    )
    try:
        urllib.request.build_opener(NoRedirect).open(request)
    except urllib.error.HTTPError as response:
        return response.code, response.headers.get("Set-Cookie", "") or ""
    raise AssertionError("the route did not redirect")


def test_a_ticket_sets_the_cookie_once_and_only_for_the_apps_own_navigation(app_server):
    name = ensure_user(app_server.location, "sess_ticket", "street_leader")
    store = open_store(app_server.location)
    _, ticket = sessions.open_session(store, name, "street_leader||")
    status, cookie = _ticket_request(app_server.url, ticket, "cross-site")
    assert status == 303 and COOKIE not in cookie  # a link from another site: login CSRF
    status, cookie = _ticket_request(app_server.url, ticket, "same-origin")
    assert status == 303 and re.search(rf"{re.escape(COOKIE)}=[\w-]+", cookie)
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=strict" in cookie
    status, cookie = _ticket_request(app_server.url, ticket, "same-origin")
    assert COOKIE not in cookie  # used up


def test_without_server_py_a_sign_in_still_lasts_for_the_tab(chromium, app_server, tmp_path):
    """``streamlit run app.py`` has no cookie route: no redirect to a missing page."""
    server = start_server(app_server.location, tmp_path, script="app.py", name="plain")
    name = ensure_user(app_server.location, "sess_plain", "street_leader")
    context = _context(chromium)
    try:
        page = context.new_page()
        _sign_in(page, f"{server.url}/weekly", name)
        page.locator("h1", has_text="周报").first.wait_for(timeout=60_000)
        assert page.url.endswith("/weekly")
        assert COOKIE not in {c["name"] for c in context.cookies()}
        _no_modal(page)
    finally:
        context.close()
        stop_server(server.process)
