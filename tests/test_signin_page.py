"""AppTest of sign-in: refusals, expiry, the meeting switch, and what a planner's map carries."""

import datetime as dt
from pathlib import Path

import pytest
from mappayload import drawn_payload, sent_text
from signin import PASSWORD, ensure_user, sign_in
from streamlit.testing.v1 import AppTest

from geo.access.auth import SESSION_HOURS, set_disabled
from geo.demo.build import build_demo
from geo.store import open_store
from geo.timeutil import now_local
from ui.text import md

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> str:
    """A small demo store (8 grids, 600 households)."""
    location = str(tmp_path_factory.mktemp("signin") / "demo.gpkg")
    build_demo(open_store(location), households=600)
    return location


@pytest.fixture
def app(demo_store, monkeypatch) -> AppTest:
    """The app's first run on the demo store (nobody signed in)."""
    monkeypatch.setenv("GRIDMAP_DB", demo_store)
    ensure_user(demo_store, "test_admin", "admin")
    return AppTest.from_file(APP, default_timeout=60).run()


def map_script(at: AppTest) -> str:
    """Everything the map sends to the browser: the map itself and the page's view."""
    return sent_text(at)


def map_payload(at: AppTest) -> dict:
    """The map as drawn: the map's payload with the page's view applied."""
    return drawn_payload(at)


def household_ids(location: str) -> list[str]:
    return (
        open_store(location)
        .read_attributes("households", ["household_id"])["household_id"]
        .tolist()
    )


def test_nothing_but_the_form_before_sign_in(app):
    assert not app.exception
    assert app.title[0].value == "登录"
    assert app.get("component_instance") == [] or len(app.get("component_instance")) == 0
    assert len(app.dataframe) == 0


def test_no_accounts_explains_the_first_admin(tmp_path, monkeypatch):
    location = str(tmp_path / "empty.gpkg")
    build_demo(open_store(location), households=200)
    monkeypatch.setenv("GRIDMAP_DB", location)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "gridmap user add NAME --role admin --password-stdin" in at.code[0].value
    assert len(at.text_input) == 0  # no form, no default account


WRONG = "用户名或密码错误，或账号因连续登录失败已暂时锁定（15 分钟后可再试）。"


def test_wrong_password_is_refused_with_a_message(app):
    app.text_input(key="auth_user").input("test_admin")
    app.text_input(key="auth_password").input("not the password")
    app.button(key="auth_submit").click().run()
    assert [e.value for e in app.error] == [WRONG]
    assert app.title[0].value == "登录"
    app.text_input(key="auth_user").input("nobody_by_that_name")  # an unknown name: the same
    app.text_input(key="auth_password").input("not the password")
    app.button(key="auth_submit").click().run()
    assert [e.value for e in app.error] == [WRONG]


def test_disabled_user_is_refused_and_signed_out(app, demo_store):
    ensure_user(demo_store, "test_gone", "street_leader")
    sign_in(app, demo_store, "street_leader", name="test_gone")
    assert app.title[0].value == "网格民情地图"
    set_disabled(open_store(demo_store), "test_gone", True)
    app.run()  # the next rerun checks the account again
    assert app.title[0].value == "登录"
    assert "停用" in app.warning[0].value
    app.text_input(key="auth_user").input("test_gone")
    app.text_input(key="auth_password").input(PASSWORD)
    app.button(key="auth_submit").click().run()
    assert [e.value for e in app.error] == ["该账号已停用，请联系管理员。"]


def test_expired_session_returns_to_sign_in(app, demo_store):
    sign_in(app, demo_store)
    assert app.title[0].value == "网格民情地图"
    app.session_state["auth_signed_in_at"] = now_local() - dt.timedelta(
        hours=SESSION_HOURS, minutes=1
    )
    app.run()
    assert app.title[0].value == "登录"
    assert str(SESSION_HOURS) in app.warning[0].value
    assert len(app.get("component_instance")) == 0


def test_sign_out(app, demo_store):
    sign_in(app, demo_store)
    app.button(key="auth_sign_out").click().run()
    assert app.title[0].value == "登录"


@pytest.mark.parametrize("role", ["planner", "meeting"])
def test_planner_map_carries_no_household_data(app, demo_store, role):
    sign_in(app, demo_store, role)
    assert not app.exception
    payload = map_payload(app)
    assert payload["h"]["n"] == 0 and payload["h"]["x"] == [] and payload["h"]["id"] == ""
    assert payload["r"] is None
    assert len(payload["g"]["features"]) == open_store(demo_store).count("grids")
    script = map_script(app)
    assert "H000" not in script
    households = open_store(demo_store).read_attributes("households", ["head_name", "phone"])
    assert not any(p in script for p in households["phone"].dropna())
    tables = " ".join(df.value.to_csv() for df in app.dataframe)
    assert "H000" not in tables and "户编号" not in tables


def test_meeting_switch_turns_the_map_into_its_aggregate_form(app, demo_store):
    sign_in(app, demo_store, "street_leader")
    assert map_payload(app)["h"]["n"] == len(household_ids(demo_store))
    app.toggle(key="ui_meeting_mode").set_value(True).run()
    assert not app.exception
    assert map_payload(app)["h"]["n"] == 0
    assert "H000" not in map_script(app)


def test_grid_worker_map_shows_only_their_grid(app, demo_store):
    grid = open_store(demo_store).read_attributes("grids", ["grid_id"])["grid_id"].iloc[1]
    sign_in(app, demo_store, "grid_worker", name="test_worker", grids=[grid])
    payload = map_payload(app)
    own = open_store(demo_store).read_attributes(
        "households", ["household_id"], where={"grid_id": grid}
    )
    assert sorted(payload["h"]["id"].split("|")) == sorted(own["household_id"])
    assert [f["properties"]["i"] for f in payload["g"]["features"]] == [grid]


def test_reveal_shows_one_household_and_is_audited(app, demo_store):
    from geo.access.audit import read_audit

    grid = open_store(demo_store).read_attributes("grids", ["grid_id"])["grid_id"].iloc[0]
    sign_in(app, demo_store, "grid_worker", name="test_revealer", grids=[grid])
    app.selectbox(key="map_grid").set_value(grid).run()
    household = app.selectbox(key="map_reveal_household").value
    before = len(read_audit(open_store(demo_store), action="reveal"))
    app.button(key="map_reveal").click().run()
    assert not app.exception
    phone = (
        open_store(demo_store)
        .read_attributes("households", ["phone"], where={"household_id": household})["phone"]
        .iloc[0]
    )
    assert phone in app.table[0].value.to_csv()
    events = read_audit(open_store(demo_store), action="reveal", actor="test_revealer")
    assert len(events) == before + 1 and events["records"].iloc[-1] == household


def test_audit_page_only_for_admins(app, demo_store):
    sign_in(app, demo_store, "street_leader", name="test_leader2")
    with pytest.raises(ValueError):
        app.switch_page("pages/audit.py")


def test_without_oidc_secrets_only_the_local_form_is_offered(app):
    assert [b.key for b in app.button if b.key == "auth_oidc"] == []
    assert {w.key for w in app.text_input} == {"auth_user", "auth_password"}


@pytest.mark.parametrize(("role", "shown"), [("admin", True), ("street_leader", False)])
def test_the_stores_location_is_shown_to_admins_only(app, demo_store, role, shown):
    sign_in(app, demo_store, role, name=f"test_path_{role}")
    assert not app.exception
    sidebar = " ".join(c.value for c in app.sidebar.caption)
    assert (md(demo_store) in sidebar) is shown and (demo_store in sidebar) is False
