"""Accounts managed in the browser: the list an admin sees, reset, unlock, one's own password.

Built on ``geo.auth`` (add_user, set_password, set_disabled, set_role stay the only
writers of the users table besides ``unlock``); every change is audited there or here.
A reset password is generated here and returned once: it is never stored in clear, and
the page shows it to the admin a single time.
"""

from __future__ import annotations

import datetime as dt
import secrets

import pandas as pd

from geo.access.audit import audit_row
from geo.access.auth import AuthError, authenticate, list_users, set_disabled, set_password
from geo.store.base import Store
from geo.timeutil import now_local, parse_timestamp

RESET_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""Letters and digits a person reads out without confusing them (no 0/O, 1/l/I)."""
RESET_LENGTH = 12
ACCOUNT_COLUMNS = [
    "username",
    "role",
    "community",
    "grids",
    "department",
    "status",
    "created_at",
    "district",
]


def account_status(user: pd.Series, now: dt.datetime | None = None) -> str:
    """'disabled', 'locked' (too many failed sign-ins, until locked_until) or 'active'."""
    if int(user.get("disabled") or 0):
        return "disabled"
    until = user.get("locked_until")
    if isinstance(until, str) and until:
        try:
            if parse_timestamp(until) > (now or now_local()):
                return "locked"
        except ValueError:
            return "locked"
    return "active"


def account_table(store: Store, now: dt.datetime | None = None) -> pd.DataFrame:
    """Every account (no password hash): ACCOUNT_COLUMNS, sorted by name."""
    users = list_users(store)
    if users.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ACCOUNT_COLUMNS})
    users = users.assign(status=[account_status(u, now) for _, u in users.iterrows()])
    return users[ACCOUNT_COLUMNS].sort_values("username", ignore_index=True)


def new_password() -> str:
    """A random password of RESET_LENGTH easily read characters."""
    return "".join(secrets.choice(RESET_ALPHABET) for _ in range(RESET_LENGTH))


def reset_password(store: Store, username: str, actor: str) -> str:
    """Give ``username`` a new random password (unlocking it, ending its sessions); returns it once."""
    password = new_password()
    set_password(store, username, password, actor=actor)
    return password


def unlock(store: Store, username: str, actor: str) -> None:
    """Clear the failed sign-ins of ``username`` (the password stays); audited."""
    if store.read("users", ["username"], where={"username": username}).empty:
        raise AuthError("auth_err_no_user", name=username)
    with store.transaction() as tx:
        tx.update("users", {"username": username}, {"failed_attempts": 0, "locked_until": None})
        tx.append("audit_log", audit_row(actor, "user_unlock", username, username))


def change_own_password(store: Store, username: str, current: str, new: str) -> None:
    """Change one's own password after checking the current one.

    The current password is checked as a sign-in is (``authenticate``): counted, so
    guessing it from an open session meets the same lock as guessing at the sign-in form.
    """
    if current == new:
        raise AuthError("ds_acc_same_password")
    authenticate(store, username, current)
    set_password(store, username, new, actor=username)


def set_enabled(store: Store, username: str, enabled: bool, actor: str) -> None:
    """Enable or disable an account; an admin cannot disable themselves or the last active admin."""
    if not enabled:
        if username == actor:
            raise AuthError("ds_acc_not_self")
        users = list_users(store)
        admins = users[(users["role"] == "admin") & (users["disabled"].fillna(0).astype(int) == 0)]
        if set(admins["username"]) == {username}:
            raise AuthError("ds_acc_last_admin")
    set_disabled(store, username, not enabled, actor=actor)
