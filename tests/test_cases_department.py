"""Department accounts (issue 19): the role, its department on the users table (schema 8,
both stores, an older store upgraded by its first write), ``gridmap user add --role
department``, the accounts page, its scope (its department's cases, the grids they lie in),
its pages and the case desk's "我的案件" for it."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import sqlite3
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from pg import pg_location  # noqa: F401  (fixture)
from shapely.geometry import box
from streamlit.testing.v1 import AppTest

from geo import cli
from geo.access.auth import (
    AuthError,
    Viewer,
    add_user,
    authenticate,
    grants,
    list_users,
    load_viewer,
    set_role,
)
from geo.cases import actions
from geo.reports import workflow as rp
from geo.store import open_store
from geo.store.schema import SCHEMA_VERSION
from geo.timeutil import now_local
from ui import session

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PASSWORD = "correct-horse-9"


def _seed(store) -> None:
    grids = gpd.GeoDataFrame(
        {
            "grid_id": ["G1", "G2", "G3"],
            "name": ["一网格", "二网格", "三网格"],
            "community": ["东河社区", "东河社区", "西河社区"],
        },
        geometry=[
            box(111.70, 40.84, 111.71, 40.85),
            box(111.71, 40.84, 111.72, 40.85),
            box(111.72, 40.84, 111.73, 40.85),
        ],
        crs="EPSG:4326",
    )
    staff = pd.DataFrame(
        {
            "staff_id": ["S1", "S2", "S3", "S7"],
            "name": ["王芳", "李强", "赵敏", "赵城管"],
            "role": ["grid_worker", "grid_worker", "grid_worker", "urban_management"],
            "grid_id": ["G1", "G2", "G3", "G1"],
            "department": [None, None, None, "城管中队"],
        }
    )
    with store.transaction() as tx:
        tx.upsert("grids", grids)
        tx.upsert("staff", staff)


def _file(store, lon: float, category: str, hours_ago: float = 5) -> str:
    filed = rp.file_report(
        store,
        source="hotline",
        category=category,
        lon=lon,
        lat=40.845,
        actor="desk",
        description="门口占道摆摊",
        reported_at=now_local() - dt.timedelta(hours=hours_ago),
    )
    actions.dispatch_new(store)
    return filed.report_id


@pytest.fixture(params=["gpkg", "postgis"])
def store(request, tmp_path):
    """A store of each kind with three grids and their people."""
    if request.param == "gpkg":
        store = open_store(str(tmp_path / "d.gpkg"))
    else:
        store = open_store(request.getfixturevalue("pg_location"))
    _seed(store)
    return store


def _fingerprint(store) -> str:
    if not store.location.startswith("postgresql://"):
        return hashlib.sha256(open(store.location, "rb").read()).hexdigest()
    return hashlib.sha256(store.read("users").to_csv().encode()).hexdigest()


def _make_older(store) -> None:
    """Take the store back to schema 6: a users table without ``department``."""
    if store.location.startswith("postgresql://"):
        import psycopg

        from geo.store import postgis as store_postgis

        with psycopg.connect(store.location) as conn:
            conn.execute("ALTER TABLE users DROP COLUMN department")
            conn.execute("DELETE FROM gridmap_migrations WHERE version > 6")
            conn.execute("UPDATE gridmap_meta SET value = '6' WHERE key = 'schema_version'")
        store_postgis._UPGRADED.discard(store.location)
        store_postgis._TABLES_READY.discard((store.location, "users"))
        return
    con = sqlite3.connect(store.location, isolation_level=None)
    con.execute("ALTER TABLE users DROP COLUMN department")
    con.execute("UPDATE gridmap_meta SET value = '6' WHERE key = 'schema_version'")
    con.close()


# --- the role on both stores --------------------------------------------------------------


def test_a_department_account_on_both_stores_and_an_older_store_upgraded(store):
    assert SCHEMA_VERSION >= 8  # 8 brought users.department
    add_user(store, "clerk", "community_staff", PASSWORD, community="东河社区", actor="test")
    _make_older(store)
    assert list_users(store)["department"].isna().all()  # reads as None before the upgrade
    assert load_viewer(store, "clerk").department is None
    before = _fingerprint(store)
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.update("users", {"username": "clerk"}, {"failed_attempts": 0})
        raise RuntimeError("the write fails")
    assert _fingerprint(store) == before  # rolled back: still schema 6
    assert store.meta("schema_version") == "6"

    add_user(store, "city", "department", PASSWORD, department="urban_management", actor="test")
    assert store.meta("schema_version") == str(SCHEMA_VERSION)
    viewer = authenticate(store, "city", PASSWORD)
    assert (viewer.role, viewer.department, viewer.grids) == ("department", "urban_management", ())
    assert "urban_management" in grants(viewer)  # a session is granted the department
    users = list_users(store).set_index("username")
    assert users.loc["city", "department"] == "urban_management"
    assert pd.isna(users.loc["clerk", "department"])

    set_role(store, "city", "department", department="police", actor="test")
    assert load_viewer(store, "city").department == "police"
    assert grants(load_viewer(store, "city")) != grants(viewer)  # the old session ends


def test_a_department_account_needs_a_known_department(tmp_path):
    store = open_store(str(tmp_path / "d.gpkg"))
    _seed(store)
    with pytest.raises(AuthError) as missing:
        add_user(store, "city", "department", PASSWORD)
    assert missing.value.msg.key == "auth_err_needs_department"
    with pytest.raises(AuthError) as unknown:
        add_user(store, "city", "department", PASSWORD, department="城管")
    assert unknown.value.msg.key == "auth_err_unknown_department"
    assert "urban_management" in unknown.value.message("zh-CN")
    assert list_users(store).empty
    # another role keeps no department, whatever is passed
    add_user(store, "boss", "street_leader", PASSWORD, department="police")
    assert load_viewer(store, "boss").department is None


def test_cli_user_add_with_a_department(tmp_path, monkeypatch, capsys):
    location = str(tmp_path / "d.gpkg")
    _seed(open_store(location))
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    args = ["user", "add", "city", "--role", "department", "--db", location, "--password-stdin"]
    assert cli.main([*args, "--department", "urban_management"]) == 0
    assert load_viewer(open_store(location), "city").department == "urban_management"
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert cli.main([*args[:2], "city2", *args[3:]]) == 1
    assert "--department" in capsys.readouterr().err
    capsys.readouterr()
    assert cli.main(["user", "list", "--db", location]) == 0
    assert "city\tdepartment\turban_management\t" in capsys.readouterr().out


# --- scope and pages ----------------------------------------------------------------------


@pytest.fixture
def desk(tmp_path, monkeypatch) -> tuple[str, dict[str, str]]:
    """Three cases: urban management's in G1 and G3, the grid worker's in G2."""
    location = str(tmp_path / "desk.gpkg")
    monkeypatch.setenv("GRIDMAP_DB", location)
    store = open_store(location)
    _seed(store)
    cases = {
        "street": _file(store, 111.705, "占道经营", hours_ago=100),  # G1: 城管, 20 h left
        "litter": _file(store, 111.715, "环境卫生"),  # G2: 李强
        "parking": _file(store, 111.725, "违章停车"),  # G3: 城管
    }
    return location, cases


def signed_in(location: str, username: str, role: str, **scope) -> AppTest:
    """The app with a new ``role`` account signed in (its home page after one run)."""
    store = open_store(location)
    add_user(store, username, role, PASSWORD, actor="test", **scope)
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state[session.VIEWER_KEY] = load_viewer(store, username)
    at.session_state[session.SIGNED_IN_AT_KEY] = now_local()
    at.session_state[session.USER_KEY] = username
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_department_sees_its_cases_only(desk):
    from ui import cases as ui_cases
    from ui import data

    location, cases = desk
    version = open_store(location).version()
    city = Viewer("city", "department", department="urban_management")
    seen = ui_cases.case_data(location, version, city)
    assert sorted(seen.reports["report_id"]) == sorted([cases["street"], cases["parking"]])
    assert sorted(seen.grids["grid_id"]) == ["G1", "G3"]  # the grids its cases lie in
    assert set(seen.staff["grid_id"]) <= {"G1", "G3"}  # their people, not G2's
    assert set(seen.events["report_id"]) <= {cases["street"], cases["parking"]}
    assert "reporter_id" not in seen.reports.columns
    # no grid's households, reports or figures through the other loaders
    assert data.grid_scope(location, version, city) == ()
    assert data.report_points(location, version, now_local().date(), city).empty
    assert data.household_statuses(location, version, now_local().date(), city).empty
    police = Viewer("cop", "department", department="police")
    assert ui_cases.case_data(location, version, police).reports.empty


def test_the_department_lands_on_its_desk_with_my_cases(desk):
    location, cases = desk
    at = signed_in(location, "city", "department", department="urban_management")
    assert at.title[0].value == "案件办理（接诉即办）"  # its home page is the case desk
    assert any("城管负责的案件" in c.value for c in at.sidebar.caption)
    assert at.radio(key="case_view").options == ["我的案件", "辖区全部在办案件"]
    assert at.radio(key="case_view").value == "mine"
    table = at.dataframe[0].value
    assert table.iloc[:, 0].tolist() == [cases["street"], cases["parking"]]  # by urgency
    assert table.iloc[0, 1] == "临期" and set(table["负责方"]) == {"城管"}
    at.radio(key="case_view").set_value("all").run()
    assert cases["litter"] not in at.dataframe[0].value.iloc[:, 0].tolist()
    # it handles its case: responds; the return visit is never its own to make
    offered = at.segmented_control(key=f"case_action_{cases['street']}").options
    assert "响应" in offered and "回访" not in offered and "结案" not in offered
    at.segmented_control(key=f"case_action_{cases['street']}").set_value("responded").run()
    at.button(key="case_do_responded").click().run()
    assert not at.exception
    step = open_store(location).read("report_steps", where={"report_id": cases["street"]})
    assert step["step"].tolist()[-1] == "responded" and step["actor"].tolist()[-1] == "city"


def test_the_department_opens_the_desk_and_its_password_page_only(desk):
    location, _ = desk
    at = signed_in(location, "city", "department", department="urban_management")
    at.switch_page("pages/accounts.py").run()
    assert not at.exception and at.title[0].value == "账号"
    assert not at.dataframe  # no list of accounts
    for page in ("pages/map.py", "pages/reports.py", "pages/coverage.py", "pages/data.py"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)
    at.switch_page("pages/cases.py").run()
    assert not at.exception and at.title[0].value == "案件办理（接诉即办）"


def test_an_admin_adds_a_department_account_on_the_accounts_page(desk):
    location, _ = desk
    at = signed_in(location, "root", "admin")
    at.switch_page("pages/accounts.py").run()
    at.text_input(key="acc_add_name").input("city")
    at.selectbox(key="acc_add_role").set_value("department")
    assert "urban_management" in at.selectbox(key="acc_add_department").options or any(
        "城管" in o for o in at.selectbox(key="acc_add_department").options
    )
    at.selectbox(key="acc_add_department").set_value("urban_management")
    at.button(key="acc_add_submit").click().run()
    assert not at.exception
    password = at.code[0].value
    viewer = authenticate(open_store(location), "city", password)
    assert (viewer.role, viewer.department) == ("department", "urban_management")
    table = at.dataframe[0].value.set_index("用户名")
    assert (
        table.loc["city", "角色"] == "职能部门"
        and table.loc["city", "范围（区县、社区、网格或部门）"] == "城管"
    )
