"""Signed-in sessions kept in the store, so that a sign-in survives a refresh and a new tab.

A successful sign-in opens a session record (``sessions`` table): who, the role and scope
it was granted (``grants``), when it expires (``SESSION_HOURS``). The browser gets it in
two steps, so that no secret travels in a URL or over the websocket:

1. ``open_session`` stores the hash of a one-time *ticket* (valid ``TICKET_SECONDS``);
   the app sends the browser to the server's cookie route with that ticket.
2. ``redeem_ticket`` (called by that route, ``ui.web``) exchanges it, once, for a fresh
   random *token*: only its sha256 is stored, the token itself goes into an http-only
   cookie. Each later page load finds the session by the cookie's token (``find_session``).

``check_session`` is asked on every page run: a session expired, revoked (sign-out),
whose account was disabled, or whose role or scope changed since (``grants`` differ) is
refused, and revoked in the store, so the cookie is worth nothing from then on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import pandas as pd

from geo.store.base import Store, Transaction
from geo.timeutil import format_timestamp, now_local

SESSION_HOURS = 8
TICKET_SECONDS = 120
TOKEN_BYTES = 32
KEEP_ENDED_DAYS = 30  # ended sessions are kept this long (who was signed in when), then pruned


class SessionEnded(Exception):
    """A session that may no longer be used; ``why`` names the reason for the UI catalogue.

    expired, revoked (signed out), disabled, unknown (account gone), role_changed, password.
    """

    def __init__(self, why: str, username: str | None = None) -> None:
        super().__init__(why)
        self.why = why
        self.username = username


@dataclass(frozen=True)
class Session:
    """A valid session: its id, the account's name and when it ends."""

    session_id: str
    username: str
    expires_at: str


def digest(secret: str) -> str:
    """The sha256 (hex) under which a ticket or token is stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def grants_of(
    role: str,
    community: str | None,
    grids: tuple[str, ...] | list[str],
    district: str | None = None,
    department: str | None = None,
) -> str:
    """The role and scope a session was granted, as one comparable text (a district leader's
    district or a department account's department appended: every other account's grants
    read as before schemas 7 and 8)."""
    text = f"{role}|{community or ''}|{';'.join(grids)}"
    for extra in (district, department):
        if extra:
            text = f"{text}|{extra}"
    return text


def _stamp(moment: dt.datetime) -> str:
    return format_timestamp(moment)


def _blank(value: object) -> bool:
    """A missing stored value (NULL reads as None, or NaN in a float column)."""
    return value is None or value != value or value == ""


def open_session(
    store: Store, username: str, grants: str, now: dt.datetime | None = None
) -> tuple[str, str]:
    """Record a new session of ``username``; returns (session id, one-time ticket).

    Ended sessions older than ``KEEP_ENDED_DAYS`` are pruned in the same transaction.
    """
    now = now or now_local()
    session_id, ticket = secrets.token_urlsafe(18), secrets.token_urlsafe(TOKEN_BYTES)
    row = {
        "session_id": session_id,
        "username": username,
        "grants": grants,
        "token_hash": None,
        "ticket_hash": digest(ticket),
        "ticket_expires": _stamp(now + dt.timedelta(seconds=TICKET_SECONDS)),
        "created_at": _stamp(now),
        "expires_at": _stamp(now + dt.timedelta(hours=SESSION_HOURS)),
        "revoked_at": None,
        "revoked_why": None,
    }
    with store.transaction() as tx:
        stale = tx.read("sessions", ["session_id", "expires_at"])
        cutoff = _stamp(now - dt.timedelta(days=KEEP_ENDED_DAYS))
        old = stale.loc[stale["expires_at"].fillna("") < cutoff, "session_id"].tolist()
        if old:
            tx.delete("sessions", {"session_id": old})
        tx.append("sessions", pd.DataFrame([row]))
    return session_id, ticket


def redeem_ticket(
    store: Store, ticket: str, now: dt.datetime | None = None
) -> tuple[str, Session] | None:
    """Exchange a one-time ticket for the session's cookie token: (token, session), or None.

    A ticket works once, within ``TICKET_SECONDS``, for a session not revoked: the check and
    the exchange are one write transaction (serialised in both stores).
    """
    now = now or now_local()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with store.transaction() as tx:
        rows = tx.read("sessions", where={"ticket_hash": digest(ticket)})
        if rows.empty:
            return None
        row = rows.iloc[0]
        tx.update("sessions", {"session_id": row["session_id"]}, {"ticket_hash": None})
        usable = (
            str(row["ticket_expires"] or "") > _stamp(now)
            and _blank(row["revoked_at"])
            and _blank(row["token_hash"])
            and str(row["expires_at"] or "") > _stamp(now)
        )
        if not usable:
            return None
        tx.update("sessions", {"session_id": row["session_id"]}, {"token_hash": digest(token)})
    return token, Session(str(row["session_id"]), str(row["username"]), str(row["expires_at"]))


def find_session(store: Store, token: str) -> Session | None:
    """The session a cookie's token belongs to (in any state: ``check_session`` says), or None."""
    if not token:
        return None
    rows = store.read(
        "sessions", ["session_id", "username", "expires_at"], where={"token_hash": digest(token)}
    )
    if rows.empty:
        return None
    row = rows.iloc[0]
    return Session(str(row["session_id"]), str(row["username"]), str(row["expires_at"]))


def check_session(
    store: Store, session_id: str, grants: str, now: dt.datetime | None = None
) -> Session:
    """The session if it may still be used by an account holding ``grants`` now; else raises.

    ``grants`` is the account's current role and scope (``grants_of``); a session granted
    something else is revoked (``role_changed``). Raises ``SessionEnded``.
    """
    now = now or now_local()
    rows = store.read("sessions", where={"session_id": session_id})
    if rows.empty:
        raise SessionEnded("revoked")
    row = rows.iloc[0]
    username = str(row["username"])
    if not _blank(row["revoked_at"]):
        raise SessionEnded(
            "revoked" if row["revoked_why"] == "signed_out" else str(row["revoked_why"]), username
        )
    if str(row["expires_at"] or "") <= _stamp(now):
        raise SessionEnded("expired", username)
    if grants != row["grants"]:
        end_session(store, session_id, "role_changed", now)
        raise SessionEnded("role_changed", username)
    return Session(session_id, username, str(row["expires_at"]))


def end_session(
    store: Store, session_id: str, why: str = "signed_out", now: dt.datetime | None = None
) -> None:
    """Revoke one session (sign-out): its cookie is refused from now on."""
    with store.transaction() as tx:
        tx.update(
            "sessions",
            {"session_id": session_id, "revoked_at": None},
            {"revoked_at": _stamp(now or now_local()), "revoked_why": why},
        )


def end_sessions_of(
    tx: Transaction, username: str, why: str, now: dt.datetime | None = None
) -> None:
    """Revoke every open session of ``username`` inside ``tx`` (disable, role or password change)."""
    tx.update(
        "sessions",
        {"username": username, "revoked_at": None},
        {"revoked_at": _stamp(now or now_local()), "revoked_why": why},
    )
