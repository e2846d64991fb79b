"""Signed-in sessions in the store: a one-time ticket, a hashed token, and every way a session ends."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pytest
from pg import pg_location  # noqa: F401  (fixture)
from shapely.geometry import box

from geo.access import auth, sessions
from geo.cli import main
from geo.store import open_store

PASSWORD = "correct horse"
NOW = dt.datetime(2026, 11, 27, 9, 0)


@pytest.fixture(params=["gpkg", "postgis"])
def store(request, tmp_path):
    """A store of each kind with two grids and the account wang (street leader)."""
    if request.param == "gpkg":
        store = open_store(str(tmp_path / "s.gpkg"))
    else:
        store = open_store(request.getfixturevalue("pg_location"))
    grids = gpd.GeoDataFrame(
        {"grid_id": ["G1", "G2"], "community": ["东河社区", "北垣社区"]},
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)],
        crs="EPSG:4326",
    )
    with store.transaction() as tx:
        tx.upsert("grids", grids)
    auth.add_user(store, "wang", "street_leader", PASSWORD)
    return store


def _signed_in(store, now=NOW) -> tuple[str, str]:
    """(session id, cookie token) of a fresh sign-in of wang."""
    viewer = auth.authenticate(store, "wang", PASSWORD, now=now)
    session_id, ticket = sessions.open_session(store, viewer.username, auth.grants(viewer), now)
    token, session = sessions.redeem_ticket(store, ticket, now + dt.timedelta(seconds=5))
    assert session.session_id == session_id
    return session_id, token


def test_the_store_keeps_only_hashes(store):
    session_id, token = _signed_in(store)
    row = store.read("sessions").iloc[0]
    assert row["token_hash"] == sessions.digest(token) and token not in row.to_string()
    assert row["ticket_hash"] is None  # used up
    assert sessions.find_session(store, token).session_id == session_id
    assert sessions.find_session(store, token + "x") is None
    assert sessions.check_session(store, session_id, "street_leader||", NOW).username == "wang"


def test_a_ticket_works_once_and_briefly(store):
    _, ticket = sessions.open_session(store, "wang", "street_leader||", NOW)
    assert sessions.redeem_ticket(store, ticket, NOW + dt.timedelta(seconds=1)) is not None
    assert sessions.redeem_ticket(store, ticket, NOW + dt.timedelta(seconds=2)) is None
    _, late = sessions.open_session(store, "wang", "street_leader||", NOW)
    after = NOW + dt.timedelta(seconds=sessions.TICKET_SECONDS + 1)
    assert sessions.redeem_ticket(store, late, after) is None
    assert sessions.redeem_ticket(store, "made up", NOW) is None


def test_a_session_expires(store):
    session_id, _ = _signed_in(store)
    later = NOW + dt.timedelta(hours=sessions.SESSION_HOURS, seconds=1)
    with pytest.raises(sessions.SessionEnded, match="expired"):
        sessions.check_session(store, session_id, "street_leader||", later)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda s, sid: sessions.end_session(s, sid), "revoked"),
        (lambda s, sid: auth.set_disabled(s, "wang", True), "disabled"),
        (
            lambda s, sid: auth.set_role(s, "wang", "community_staff", community="东河社区"),
            "role_changed",
        ),
        (lambda s, sid: auth.set_password(s, "wang", "another password"), "password"),
    ],
    ids=["sign-out", "disable", "role", "password"],
)
def test_sign_out_disable_role_and_password_end_the_session(store, change, why):
    session_id, _ = _signed_in(store)
    other_id, _ = _signed_in(store)  # the same account in another browser
    change(store, session_id)
    with pytest.raises(sessions.SessionEnded) as ended:
        sessions.check_session(store, session_id, "street_leader||", NOW)
    assert ended.value.why == why
    if why != "revoked":  # the account changed: every session of it ends
        with pytest.raises(sessions.SessionEnded):
            sessions.check_session(store, other_id, "street_leader||", NOW)
    else:
        assert sessions.check_session(store, other_id, "street_leader||", NOW)


def test_a_changed_grant_ends_the_session_even_when_changed_behind_gridmap(store):
    session_id, _ = _signed_in(store)
    with store.transaction() as tx:  # e.g. an edit in the database, not through set_role
        tx.update("users", {"username": "wang"}, {"role": "admin"})
    with pytest.raises(sessions.SessionEnded, match="role_changed"):
        sessions.check_session(store, session_id, "admin||", NOW)
    with pytest.raises(sessions.SessionEnded):  # and it stays ended
        sessions.check_session(store, session_id, "street_leader||", NOW)


def test_a_revoked_session_cannot_redeem_its_ticket(store):
    session_id, ticket = sessions.open_session(store, "wang", "street_leader||", NOW)
    sessions.end_session(store, session_id)
    assert sessions.redeem_ticket(store, ticket, NOW) is None


def test_old_ended_sessions_are_pruned(store):
    _signed_in(store, NOW - dt.timedelta(days=sessions.KEEP_ENDED_DAYS + 2))
    _signed_in(store)
    assert len(store.read("sessions")) == 2 - 1


def test_cli_role_change_ends_the_sessions(store, capsys):
    session_id, _ = _signed_in(store)
    argv = ["user", "role", "wang", "--role", "grid_worker", "--grid", "G2", "--db", store.location]
    assert main(argv) == 0
    with pytest.raises(sessions.SessionEnded, match="role_changed"):
        sessions.check_session(store, session_id, "street_leader||", NOW)
    assert auth.load_viewer(store, "wang").grids == ("G2",)
    assert main([*argv[:4], "boss", "--db", store.location]) == 1
