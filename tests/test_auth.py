import datetime as dt
import io

import geopandas as gpd
import pytest
from pg import pg_location  # noqa: F401  (fixture)
from shapely.geometry import box

from geo.access import auth
from geo.access.audit import read_audit
from geo.cli import main
from geo.store import open_store

PASSWORD = "correct horse"


@pytest.fixture(autouse=True)
def english_messages(monkeypatch):
    """Refusals read in English here (the catalogue's en text); zh-CN is checked on its own."""
    monkeypatch.setenv("GRIDMAP_LANG", "en")


@pytest.fixture(params=["gpkg", "postgis"])
def any_store(request, tmp_path):
    """An empty store of each kind: a GeoPackage in tmp_path, a PostGIS schema."""
    if request.param == "gpkg":
        return open_store(str(tmp_path / "s.gpkg"))
    return open_store(request.getfixturevalue("pg_location"))


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
    # locked: even the right password is refused, in the words of a wrong one
    with pytest.raises(auth.AuthError, match="^wrong user name or password$") as locked:
        auth.authenticate(store, "wang", PASSWORD, now=now + dt.timedelta(minutes=1))
    assert locked.value.code == "refused"
    later = now + dt.timedelta(minutes=auth.LOCK_MINUTES + 1)
    assert auth.authenticate(store, "wang", PASSWORD, now=later).role == "street_leader"
    failures = read_audit(store, action="sign_in_failed")["detail"].tolist()
    assert failures == [f"attempt {n}" for n in range(1, auth.MAX_FAILURES + 1)] + [
        "locked until 2026-11-27 09:15:00"
    ]


def _refusal(store, name: str, password: str, now: dt.datetime) -> tuple[str, str]:
    with pytest.raises(auth.AuthError) as refused:
        auth.authenticate(store, name, password, now=now)
    return str(refused.value), refused.value.code


def test_unknown_wrong_and_locked_are_answered_alike(any_store, monkeypatch):
    """Same message, same code, and the same work: one counting transaction, one argon2
    verify, one audit row (a timing difference would tell which names exist)."""
    auth.add_user(any_store, "wang", "street_leader", PASSWORD)
    auth.add_user(any_store, "li", "street_leader", PASSWORD)
    now = dt.datetime(2026, 11, 27, 9, 0)
    for _ in range(auth.MAX_FAILURES):
        _refusal(any_store, "li", "wrong password", now)
    verified, transactions = [], []
    real_hasher, real_transaction = auth._HASHER, type(any_store).transaction

    class CountingHasher:
        def verify(self, hashed, password):
            verified.append(hashed)
            return real_hasher.verify(hashed, password)

        def hash(self, password):
            return real_hasher.hash(password)

    monkeypatch.setattr(auth, "_HASHER", CountingHasher())
    monkeypatch.setattr(
        type(any_store),
        "transaction",
        lambda self: transactions.append(1) or real_transaction(self),
    )
    answers, work = {}, {}
    for case, name, password in [
        ("wrong", "wang", "wrong password"),
        ("unknown", "nobody", "wrong password"),
        ("locked", "li", "wrong password"),
        ("locked, right password", "li", PASSWORD),
    ]:
        verified.clear(), transactions.clear()
        answers[case] = _refusal(any_store, name, password, now)
        work[case] = (len(verified), len(transactions))
    assert set(answers.values()) == {("wrong user name or password", "refused")}
    assert set(work.values()) == {(1, 2)}
    actions = read_audit(any_store, action="sign_in_failed")["detail"].tolist()[-4:]
    assert actions[1] == "unknown account" and actions[2].startswith("locked until")


def _race(location: str, name: str, password: str, barrier) -> None:
    """One parallel sign-in (a thread, or a process of its own as another app server)."""
    store = open_store(location)
    barrier.wait()
    try:
        auth.authenticate(store, name, password)
    except auth.AuthError:
        pass


def _check_race_outcome(store, racers: int) -> None:
    """Exactly MAX_FAILURES passwords were checked; the account is locked; the rest refused unchecked."""
    user = store.read("users", where={"username": "wang"}).iloc[0]
    assert user["locked_until"]  # the lock took effect
    assert int(user["failed_attempts"]) == auth.MAX_FAILURES
    details = read_audit(store, action="sign_in_failed")["detail"].tolist()
    counted = sorted(d for d in details if d.startswith("attempt "))
    assert counted == sorted(f"attempt {n}" for n in range(1, auth.MAX_FAILURES + 1))
    assert sum(d.startswith("locked until") for d in details) == racers - auth.MAX_FAILURES
    with pytest.raises(auth.AuthError, match="^wrong user name or password$"):
        auth.authenticate(store, "wang", PASSWORD)  # the owner too, until the lock ends


def test_parallel_sign_in_threads_cannot_outrun_the_lock(any_store):
    import threading

    auth.add_user(any_store, "wang", "street_leader", PASSWORD)
    racers = 30
    barrier = threading.Barrier(racers)
    threads = [
        threading.Thread(target=_race, args=(any_store.location, "wang", f"guess {i}", barrier))
        for i in range(racers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    _check_race_outcome(any_store, racers)


def test_parallel_sign_in_processes_cannot_outrun_the_lock(any_store):
    import multiprocessing as mp

    auth.add_user(any_store, "wang", "street_leader", PASSWORD)
    racers = 8
    ctx = mp.get_context("spawn")  # clean interpreters, as separate app servers
    barrier = ctx.Barrier(racers)
    procs = [
        ctx.Process(target=_race, args=(any_store.location, "wang", f"guess {i}", barrier))
        for i in range(racers)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
    assert [p.exitcode for p in procs] == [0] * racers
    _check_race_outcome(any_store, racers)


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


def test_account_refusals_are_chinese_by_default(store, monkeypatch, capsys):
    monkeypatch.delenv("GRIDMAP_LANG")
    with pytest.raises(auth.AuthError, match="未知角色“boss”") as refused:
        auth.add_user(store, "x", "boss", PASSWORD)
    assert refused.value.message("en").startswith("unknown role 'boss'")
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert (
        main(["user", "add", "y", "--role", "admin", "--password-stdin", "--db", store.location])
        == 1
    )
    err = capsys.readouterr().err
    assert "密码太短：至少" in err and "too short" not in err


def test_cli_user_commands(store, monkeypatch, capsys):
    monkeypatch.delenv("GRIDMAP_LANG")  # the command line speaks zh-CN by default
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
    # every role its data can scope: the street demo's grids name no district, so it has no
    # district leader (the city demo has one: tests/test_hierarchy_citydemo.py)
    assert sorted(roles.values()) == sorted(set(auth.ROLES) - {"district_leader"})
    worker = auth.load_viewer(store, "demo_worker")
    assert len(worker.grids) == 1
    assert (
        main(["demo", "--db", location, "--households", "200"]) == 0
    )  # without the flag: no accounts touched
    assert len(store.read("users")) == len(roles)  # the accounts it made, untouched


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
