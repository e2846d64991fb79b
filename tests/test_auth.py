import datetime as dt
import io

import geopandas as gpd
import pytest
from shapely.geometry import box

from geo import auth
from geo.audit import read_audit
from geo.cli import main
from geo.store import open_store

PASSWORD = "correct horse"


@pytest.fixture
def store(tmp_path):
    """A store with two grids in two communities, WGS-84."""
    store = open_store(str(tmp_path / "s.gpkg"))
    grids = gpd.GeoDataFrame(
        {"grid_id": ["G1", "G2"], "community": ["东河社区", "北垣社区"]},
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)],
        crs="EPSG:4326",
    )
    with store.transaction() as tx:
        tx.upsert("grids", grids)
    return store


def test_sign_in_with_the_right_password_gives_the_scope(store):
    auth.add_user(store, "wang", "grid_worker", PASSWORD, grids=["G2"])
    viewer = auth.authenticate(store, "wang", PASSWORD)
    assert viewer == auth.Viewer("wang", "grid_worker", None, ("G2",))
    assert viewer.grid_filter(store.read("grids")) == ["G2"]
    hashed = store.read("users")["password_hash"].iloc[0]
    assert hashed.startswith("$argon2id$") and PASSWORD not in hashed


def test_community_staff_scope_is_their_community(store):
    auth.add_user(store, "li", "community_staff", PASSWORD, community="东河社区")
    viewer = auth.authenticate(store, "li", PASSWORD)
    assert viewer.grid_filter(store.read("grids")) == ["G1"]
    assert not viewer.aggregates_only


@pytest.mark.parametrize(
    ("role", "aggregates_only"), [("planner", True), ("meeting", True), ("street_leader", False)]
)
def test_aggregate_roles(store, role, aggregates_only):
    auth.add_user(store, "u", role, PASSWORD)
    assert auth.authenticate(store, "u", PASSWORD).aggregates_only is aggregates_only


def test_wrong_password_is_refused_and_logged(store):
    auth.add_user(store, "wang", "street_leader", PASSWORD)
    with pytest.raises(auth.AuthError, match="wrong user name or password"):
        auth.authenticate(store, "wang", "nope nope")
    with pytest.raises(auth.AuthError, match="wrong user name or password"):
        auth.authenticate(store, "nobody", PASSWORD)
    assert "sign_in_failed" in read_audit(store)["action"].tolist()


def test_disabled_user_is_refused(store):
    auth.add_user(store, "wang", "street_leader", PASSWORD)
    auth.set_disabled(store, "wang")
    with pytest.raises(auth.AuthError, match="disabled"):
        auth.authenticate(store, "wang", PASSWORD)


def test_attempts_are_limited(store):
    auth.add_user(store, "wang", "street_leader", PASSWORD)
    now = dt.datetime(2026, 11, 27, 9, 0)
    for _ in range(auth.MAX_FAILURES):
        with pytest.raises(auth.AuthError):
            auth.authenticate(store, "wang", "wrong password", now=now)
    with pytest.raises(auth.AuthError, match="locked"):
        auth.authenticate(store, "wang", PASSWORD, now=now + dt.timedelta(minutes=1))
    later = now + dt.timedelta(minutes=auth.LOCK_MINUTES + 1)
    assert auth.authenticate(store, "wang", PASSWORD, now=later).role == "street_leader"


def test_session_expiry():
    start = dt.datetime(2026, 11, 27, 8, 0)
    assert not auth.session_expired(start, start + dt.timedelta(hours=auth.SESSION_HOURS))
    assert auth.session_expired(start, start + dt.timedelta(hours=auth.SESSION_HOURS, seconds=1))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"role": "boss"}, "unknown role"),
        ({"role": "community_staff"}, "needs --community"),
        ({"role": "grid_worker"}, "needs at least one --grid"),
        ({"role": "grid_worker", "grids": ["G9"]}, "unknown grid"),
        ({"role": "community_staff", "community": "火星社区"}, "unknown community"),
        ({"role": "admin", "password": "short"}, "too short"),
    ],
)
def test_add_user_refusals(store, kwargs, message):
    kwargs = {"password": PASSWORD, **kwargs}
    with pytest.raises(auth.AuthError, match=message):
        auth.add_user(store, "x", **kwargs)
    assert store.read("users").empty


def test_cli_user_commands(store, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert (
        main(
            [
                "user",
                "add",
                "zhao",
                "--role",
                "grid_worker",
                "--grid",
                "G1",
                "--password-stdin",
                "--db",
                store.location,
            ]
        )
        == 0
    )
    assert main(["user", "list", "--db", store.location]) == 0
    assert "zhao\tgrid_worker\tG1\t正常" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("new password 1\n"))
    assert main(["user", "passwd", "zhao", "--password-stdin", "--db", store.location]) == 0
    assert auth.authenticate(store, "zhao", "new password 1").grids == ("G1",)
    assert main(["user", "disable", "zhao", "--db", store.location]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert (
        main(["user", "add", "zhao", "--role", "admin", "--password-stdin", "--db", store.location])
        == 1
    )
    assert main(["audit", "--db", store.location]) == 0
    out = capsys.readouterr().out
    assert "user_add" in out and "user_disable" in out


def test_audit_log_is_append_only(store):
    import sqlite3

    auth.add_user(store, "wang", "admin", PASSWORD)
    con = sqlite3.connect(store.location)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("DELETE FROM audit_log")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("UPDATE audit_log SET actor='x'")
    con.close()


def test_demo_with_users_creates_one_account_per_role(tmp_path, monkeypatch, capsys):
    location = str(tmp_path / "demo.gpkg")
    monkeypatch.setenv(auth.DEMO_PASSWORD_ENV, "demo password 1")
    assert main(["demo", "--db", location, "--households", "200", "--with-users"]) == 0
    out = capsys.readouterr().out
    assert out.count("demo password 1") == 1
    store = open_store(location)
    roles = {
        name: auth.authenticate(store, name, "demo password 1").role
        for name in store.read("users")["username"]
    }
    assert sorted(roles.values()) == sorted(auth.ROLES)
    worker = auth.load_viewer(store, "demo_worker")
    assert len(worker.grids) == 1
    assert (
        main(["demo", "--db", location, "--households", "200"]) == 0
    )  # without the flag: no accounts touched
    assert len(store.read("users")) == len(auth.ROLES)


def test_no_accounts_without_the_flag(tmp_path):
    location = str(tmp_path / "demo.gpkg")
    assert main(["demo", "--db", location, "--households", "200"]) == 0
    assert not auth.has_users(open_store(location))


@pytest.mark.parametrize(("disabled", "code"), [(True, "disabled"), (None, "unknown")])
def test_load_viewer_refuses(store, disabled, code):
    if disabled is not None:
        auth.add_user(store, "gone", "street_leader", PASSWORD)
        auth.set_disabled(store, "gone", True)
    with pytest.raises(auth.AuthError) as refused:
        auth.load_viewer(store, "gone")
    assert refused.value.code == code


def test_presenting_makes_any_role_aggregate_and_keeps_its_scope():
    viewer = auth.Viewer("wang", "grid_worker", None, ("G1",), presenting=True)
    assert viewer.aggregates_only and not viewer.may_reveal
    assert viewer.grids == ("G1",)
