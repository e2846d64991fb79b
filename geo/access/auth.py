"""Local accounts, sign-in and roles with scopes.

Passwords are hashed with argon2id (argon2-cffi). There is no default account and no
default password: an admin is created with ``gridmap user add NAME --role admin
--password-stdin``. After ``MAX_FAILURES`` failed sign-ins an account is locked for
``LOCK_MINUTES``; attempts are counted in the store before the password is checked
(``Transaction.count_sign_in``), so parallel sign-ins cannot outrun the lock. An unknown
name, a wrong password and a locked account get the same answer after the same work. A
signed-in session lasts ``SESSION_HOURS`` (``geo.access.sessions``); disabling an account,
changing its role or scope, or its password ends its sessions.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from functools import cache

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from geo.access.audit import audit_row
from geo.access.sessions import SESSION_HOURS as SESSION_HOURS  # re-exported: geo.sessions owns it
from geo.access.sessions import end_sessions_of, grants_of
from geo.hierarchy.scope import DISTRICT_ROLE, scope_grid_ids
from geo.i18n import MessageError
from geo.store.base import Store
from geo.timeutil import format_timestamp, now_local

ROLES = (
    "admin",
    "district_leader",  # 区县领导 (issue 16): one district's grids, everything below
    "street_leader",
    "community_staff",
    "grid_worker",
    "department",
    "planner",
    "meeting",
)
AGGREGATE_ROLES = frozenset({"planner", "meeting"})
REVEAL_ROLES = frozenset(
    {"admin", DISTRICT_ROLE, "street_leader", "community_staff", "grid_worker"}
)
MAX_FAILURES = 5
LOCK_MINUTES = 15
MIN_PASSWORD_LENGTH = 8
MAX_NAME_LENGTH = 64  # a longer name is cut before it is looked up or logged

_HASHER = PasswordHasher()
DEMO_MODE_KEY = "demo_mode"  # '1' while the store holds only `gridmap demo` data and accounts
DEMO_ACTOR = "demo"
DEMO_VIEWER = "demo_leader"  # who a visitor of a demo store is signed in as
DEMO_DEPARTMENT = "urban_management"  # the demo department account's department (城管)


class AuthError(MessageError):
    """A refused sign-in or account change; its reason is a catalogue message.

    ``str()`` is the reason in the process language (``message(lang)`` in another).
    ``code`` names the reason (refused, disabled, unknown, invalid); a sign-in refused for
    an unknown name, a wrong password or a locked account is always ``refused`` with the
    same message.
    """

    def __init__(
        self, key: str, /, code: str = "invalid", until: str | None = None, **values: object
    ) -> None:
        super().__init__(key, **values)
        self.code = code
        self.until = until


@dataclass(frozen=True)
class Viewer:
    """Who is looking, and what they may load: the scope is applied where data is read."""

    username: str
    role: str
    community: str | None = None
    grids: tuple[str, ...] = field(default_factory=tuple)
    presenting: bool = False  # meeting mode: any role sees the aggregate form, in its own scope
    district: str | None = None  # a district leader's district (区县)
    department: str | None = None  # a department account's department (a staff role code)

    @property
    def aggregates_only(self) -> bool:
        """Planner and meeting roles (and anyone presenting) see grid/community figures only."""
        return self.role in AGGREGATE_ROLES or self.presenting

    @property
    def may_reveal(self) -> bool:
        """Whether this role may reveal a masked field of a household in its scope."""
        return self.role in REVEAL_ROLES and not self.presenting

    def grid_filter(self, grids: pd.DataFrame) -> list[str] | None:
        """The grid ids in scope (None = all), given the grids table (grid_id, community,
        district): a district leader's district (``geo.hierarchy.scope``), a clerk's community."""
        if self.role == DISTRICT_ROLE:
            return scope_grid_ids(grids, self.role, district=self.district)
        if self.role == "community_staff":
            return grids.loc[grids["community"] == self.community, "grid_id"].tolist()
        if self.role == "grid_worker":
            return list(self.grids)
        if self.role == "department":  # no grid's rows: its cases are read by the case desk
            return []
        return None

    def as_dict(self) -> dict:
        return {
            "username": self.username,
            "role": self.role,
            "community": self.community,
            "grids": list(self.grids),
            "district": self.district,
            "department": self.department,
        }


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _HASHER.hash(password)


def _check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError("auth_err_password_short", n=MIN_PASSWORD_LENGTH)


def add_user(
    store: Store,
    username: str,
    role: str,
    password: str,
    community: str | None = None,
    grids: list[str] | None = None,
    actor: str = "cli",
    department: str | None = None,
    district: str | None = None,
) -> None:
    """Create an account; refuses unknown roles, missing scopes and existing names."""
    username = username.strip()
    if not username:
        raise AuthError("auth_err_empty_name")
    if role not in ROLES:
        raise AuthError("auth_err_unknown_role", role=role, roles=", ".join(ROLES))
    _check_password_rules(password)
    existing = store.read("users", ["username"], where={"username": username})
    if len(existing):
        raise AuthError("auth_err_exists", name=username)
    _check_role_and_scope(store, role, community, grids, department=department, district=district)
    row = pd.DataFrame(
        [
            {
                "username": username,
                "role": role,
                "community": community,
                "grids": ";".join(grids or []) or None,
                "password_hash": hash_password(password),
                "disabled": 0,
                "failed_attempts": 0,
                "locked_until": None,
                "created_at": format_timestamp(now_local()),
                "department": department if role == "department" else None,
                "district": district if role == DISTRICT_ROLE else None,
            }
        ]
    )
    with store.transaction() as tx:
        tx.append("users", row)
        tx.append("audit_log", audit_row(actor, "user_add", f"{username} role={role}", username))
        if actor != DEMO_ACTOR:  # a real account: this store is no longer a demo
            tx.set_meta(DEMO_MODE_KEY, "0")


def department_codes() -> tuple[str, ...]:
    """The departments an account may belong to: the staff roles the case desk dispatches to."""
    from geo.cases.settings import case_settings

    return case_settings().department_roles


def _check_role_and_scope(
    store: Store,
    role: str,
    community: str | None,
    grids: list[str] | None,
    department: str | None = None,
    district: str | None = None,
) -> None:
    """Refuse an unknown role, a missing scope, an unknown district, community, grid or
    department."""
    if role not in ROLES:
        raise AuthError("auth_err_unknown_role", role=role, roles=", ".join(ROLES))
    if role == "department":
        if not department:
            raise AuthError("auth_err_needs_department", departments=", ".join(department_codes()))
        if department not in department_codes():
            raise AuthError(
                "auth_err_unknown_department",
                department=department,
                departments=", ".join(department_codes()),
            )
    if role == DISTRICT_ROLE:
        if not district:
            raise AuthError("auth_err_needs_district")
        known_districts = set(store.read_attributes("grids", ["district"])["district"].dropna())
        if district not in known_districts:
            raise AuthError("auth_err_unknown_district", district=district)
    if role == "community_staff" and not community:
        raise AuthError("auth_err_needs_community")
    if role == "grid_worker" and not grids:
        raise AuthError("auth_err_needs_grid")
    if community:
        known = set(store.read("grids", ["community"])["community"].dropna())
        if community not in known:
            raise AuthError("auth_err_unknown_community", community=community)
    if grids:
        known_grids = set(store.read("grids", ["grid_id"])["grid_id"])
        missing = [g for g in grids if g not in known_grids]
        if missing:
            raise AuthError("auth_err_unknown_grids", grids=", ".join(missing))


def _user(store: Store, username: str) -> pd.Series:
    users = store.read("users", where={"username": username})
    if users.empty:
        raise AuthError("auth_err_no_user", name=username)
    return users.iloc[0]


def set_password(store: Store, username: str, password: str, actor: str = "cli") -> None:
    """Change a password (and unlock the account); its open sessions end."""
    _user(store, username)
    _check_password_rules(password)
    with store.transaction() as tx:
        tx.update(
            "users",
            {"username": username},
            {"password_hash": hash_password(password), "failed_attempts": 0, "locked_until": None},
        )
        end_sessions_of(tx, username, "password")
        tx.append("audit_log", audit_row(actor, "user_passwd", username, username))


def set_disabled(store: Store, username: str, disabled: bool = True, actor: str = "cli") -> None:
    """Disable (or re-enable) an account; disabling ends its open sessions at once."""
    _user(store, username)
    with store.transaction() as tx:
        tx.update("users", {"username": username}, {"disabled": int(disabled)})
        if disabled:
            end_sessions_of(tx, username, "disabled")
        tx.append(
            "audit_log",
            audit_row(actor, "user_disable" if disabled else "user_enable", username, username),
        )


def set_role(
    store: Store,
    username: str,
    role: str,
    community: str | None = None,
    grids: list[str] | None = None,
    actor: str = "cli",
    department: str | None = None,
    district: str | None = None,
) -> None:
    """Change an account's role and scope; its open sessions end (it signs in again)."""
    _user(store, username)
    _check_role_and_scope(store, role, community, grids, department=department, district=district)
    with store.transaction() as tx:
        tx.update(
            "users",
            {"username": username},
            {
                "role": role,
                "community": community,
                "grids": ";".join(grids or []) or None,
                "department": department if role == "department" else None,
                "district": district if role == DISTRICT_ROLE else None,
            },
        )
        end_sessions_of(tx, username, "role_changed")
        tx.append(
            "audit_log",
            audit_row(actor, "user_role", f"{username} role={role}", username),
        )


def list_users(store: Store) -> pd.DataFrame:
    """Accounts without their password hashes."""
    users = store.read("users")
    return users.drop(columns=["password_hash"])


@cache
def _dummy_hash() -> str:
    """A hash no password matches, made like a real one: unknown and locked names cost a real verify."""
    return _HASHER.hash(secrets.token_urlsafe(16))


def _password_matches(stored: object, password: str) -> bool:
    """One argon2 verify against ``stored`` (a dummy when there is none); False on any mismatch."""
    hashed = stored if isinstance(stored, str) and stored else _dummy_hash()
    try:
        return bool(_HASHER.verify(hashed, password)) and hashed is stored
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def authenticate(
    store: Store, username: str, password: str, now: dt.datetime | None = None
) -> Viewer:
    """The Viewer for a correct password; raises AuthError otherwise.

    Every sign-in does the same work whatever the outcome: one write transaction counting
    the attempt (``Transaction.count_sign_in``: the count and the lock in one statement,
    before the password is checked), one argon2 verify (against a dummy hash for an
    unknown or locked name), one audit row. An unknown name, a wrong password and a locked
    account are refused with the same message and code (``auth_err_refused``, "refused"); the audit
    log records which it was. Only a correct password of a disabled account hears so.
    """
    now = now or now_local()
    name = username.strip()[:MAX_NAME_LENGTH]
    lock_until = format_timestamp(now + dt.timedelta(minutes=LOCK_MINUTES))
    with store.transaction() as tx:
        user = tx.count_sign_in(name, format_timestamp(now), MAX_FAILURES, lock_until)
    counted = user is not None and bool(user["counted"])
    correct = _password_matches(user["password_hash"] if counted else None, password)
    if correct and not int(user["disabled"] or 0):
        with store.transaction() as tx:
            tx.update("users", {"username": name}, {"failed_attempts": 0, "locked_until": None})
            tx.append("audit_log", audit_row(name, "sign_in", str(user["role"])))
        return _viewer(pd.Series(user))
    if correct:
        reason = "disabled"
    elif user is None:
        reason = "unknown account"
    elif not counted:
        reason = f"locked until {user['locked_until']}"
    else:
        reason = f"attempt {user['failed_attempts']}"
    with store.transaction() as tx:
        tx.append("audit_log", audit_row(name, "sign_in_failed", reason))
    if correct:
        raise AuthError("auth_disabled", "disabled")
    raise AuthError("auth_err_refused", "refused")


def _viewer(user: pd.Series) -> Viewer:
    grids = tuple(g for g in str(user["grids"] or "").split(";") if g)
    department = user.get("department")
    district = user.get("district")
    return Viewer(
        str(user["username"]),
        str(user["role"]),
        user["community"] or None,
        grids,
        department=department if isinstance(department, str) and department else None,
        district=str(district) if isinstance(district, str) and district else None,
    )


def load_viewer(store: Store, username: str) -> Viewer:
    """The current Viewer of an account (no password): refuses unknown and disabled accounts.

    Checked on every page run, so a disabled account or a changed scope takes effect at once;
    also used after an OIDC sign-in (``st.login``) to find the local account and its role.
    """
    users = store.read("users", where={"username": username.strip()})
    if users.empty:
        raise AuthError("auth_err_no_user", "unknown", name=username)
    user = users.iloc[0]
    if int(user["disabled"] or 0):
        raise AuthError("auth_disabled", "disabled")
    return _viewer(user)


def has_users(store: Store) -> bool:
    """Whether any account exists (none: the app explains how to create the first admin)."""
    return store.exists() and store.count("users") > 0


DEMO_PASSWORD_ENV = "GRIDMAP_DEMO_PASSWORD"


def add_demo_users(store: Store, password: str) -> list[tuple[str, str, str]]:
    """One demo account per role sharing ``password``: (name, role, scope) rows.

    Only for a demo store (``gridmap demo --with-users``): there is no built-in account.
    """
    grids = store.read("grids", ["grid_id", "community"]).sort_values("grid_id")
    if grids.empty:
        raise AuthError("auth_err_no_grids")
    community = str(grids["community"].dropna().iloc[0])
    first_grid = str(grids.loc[grids["community"] == community, "grid_id"].iloc[0])
    plan = [
        ("demo_admin", "admin", None, None),
        ("demo_leader", "street_leader", None, None),
        ("demo_community", "community_staff", community, None),
        ("demo_worker", "grid_worker", None, [first_grid]),
        ("demo_department", "department", None, None),
        ("demo_planner", "planner", None, None),
        ("demo_meeting", "meeting", None, None),
    ]
    districts = sorted(store.read_attributes("grids", ["district"])["district"].dropna().unique())
    if districts:  # the city demo: a leader of its first district (issue 16)
        plan.insert(1, ("demo_district", DISTRICT_ROLE, str(districts[0]), None))
    existing = set(store.read("users", ["username"])["username"])
    created = []
    codes = department_codes()
    department = DEMO_DEPARTMENT if DEMO_DEPARTMENT in codes else codes[0]
    for name, role, comm, grid_ids in plan:
        dept = department if role == "department" else None
        district = comm if role == DISTRICT_ROLE else None
        comm = None if role == DISTRICT_ROLE else comm
        if name in existing:  # a rebuilt demo keeps its accounts: only the password is new
            set_password(store, name, password, actor=DEMO_ACTOR)
        else:
            add_user(
                store,
                name,
                role,
                password,
                community=comm,
                grids=grid_ids,
                actor=DEMO_ACTOR,
                department=dept,
                district=district,
            )
        created.append((name, role, district or comm or ";".join(grid_ids or []) or dept or "-"))
    return created


def grants(viewer: Viewer) -> str:
    """The role and scope of ``viewer`` as a session records them (``geo.access.sessions.grants_of``)."""
    return grants_of(
        viewer.role,
        viewer.community,
        viewer.grids,
        district=viewer.district,
        department=viewer.department,
    )


def session_expired(signed_in_at: dt.datetime, now: dt.datetime | None = None) -> bool:
    """True once a session is older than SESSION_HOURS."""
    return (now or now_local()) - signed_in_at > dt.timedelta(hours=SESSION_HOURS)


def demo_viewer(store: Store) -> Viewer | None:
    """The demo street leader while ``store`` is an untouched demo (synthetic data only).

    ``gridmap demo`` marks a store as a demo; any import of real data or any account
    created with ``gridmap user add`` ends demo mode for good, and sign-in is required.
    """
    if store.meta(DEMO_MODE_KEY) != "1":
        return None
    try:
        return load_viewer(store, DEMO_VIEWER)
    except AuthError:
        return None
