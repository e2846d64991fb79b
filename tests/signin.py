"""Test helpers to sign in (AppTest and browser): accounts are created with geo.access.auth.add_user.

Import them into a test module (``from signin import sign_in``); there is no built-in
account, so every test that opens the app makes the account it signs in with.
"""

from __future__ import annotations

from geo.access.auth import add_user
from geo.store import open_store

PASSWORD = "test-password-1"


def ensure_user(
    location: str,
    name: str,
    role: str,
    *,
    community: str | None = None,
    grids: list[str] | None = None,
    district: str | None = None,
) -> str:
    """Create the account ``name`` unless it exists; returns the name."""
    store = open_store(location)
    if name not in set(store.read("users", ["username"])["username"]):
        add_user(
            store,
            name,
            role,
            PASSWORD,
            community=community,
            grids=grids,
            actor="test",
            district=district,
        )
    return name


def sign_in(at, location: str, role: str = "admin", name: str | None = None, **scope):
    """Fill the sign-in form of an AppTest (after its first run) as a ``role`` account; returns it run."""
    name = ensure_user(location, name or f"test_{role}", role, **scope)
    if not any(getattr(w, "key", None) == "auth_user" for w in at.text_input):
        at.run()  # the first run found no account yet, so it showed how to create one
    at.text_input(key="auth_user").input(name)
    at.text_input(key="auth_password").input(PASSWORD)
    return at.button(key="auth_submit").click().run()


def sign_in_form(page, url: str, name: str, password: str = PASSWORD) -> None:
    """Open ``url`` in a playwright page and submit the sign-in form (zh-CN labels)."""
    page.goto(url)
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def browser_sign_in(
    page, url: str, location: str, role: str = "admin", name: str | None = None, **scope
) -> None:
    """Create (if need be) a ``role`` account and sign a playwright page in with it."""
    sign_in_form(page, url, ensure_user(location, name or f"test_{role}", role, **scope))
