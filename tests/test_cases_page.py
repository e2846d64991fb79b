"""AppTest of the case desk, per role: what each account sees (scope), and the 12345 desk's
walk-through done through the page's forms."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box
from streamlit.testing.v1 import AppTest

from geo.access.auth import add_user, load_viewer
from geo.cases import actions
from geo.demo.build import build_demo
from geo.reports import workflow as rp
from geo.store import open_store
from geo.timeutil import now_local
from ui import session
from ui.text import md

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGE = "pages/cases.py"


def signed_in(location: str, username: str, role: str, **scope) -> AppTest:
    """The app with a new ``role`` account signed in, on the case desk."""
    store = open_store(location)
    add_user(store, username, role, "correct-horse-9", **scope)
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state[session.VIEWER_KEY] = load_viewer(store, username)
    at.session_state[session.SIGNED_IN_AT_KEY] = now_local()
    at.session_state[session.USER_KEY] = username
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def _texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [e.value for e in at.error] + [s.value for s in at.success]
    return "\n".join(str(p) for p in parts)


def _table(at: AppTest, key_prefix: str) -> pd.DataFrame:
    for frame in at.dataframe:
        if str(getattr(frame, "key", "") or "").startswith(key_prefix) or key_prefix == "":
            return frame.value
    raise AssertionError(f"no table {key_prefix}")


@pytest.fixture
def desk(tmp_path, monkeypatch) -> str:
    """Two grids of 东河社区 and one of 西河社区, their people; no reports yet."""
    location = str(tmp_path / "desk.gpkg")
    monkeypatch.setenv("GRIDMAP_DB", location)
    store = open_store(location)
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
            "staff_id": ["S1", "S2", "S3", "S7", "S8", "S9"],
            "name": ["王芳", "李强", "赵敏", "赵城管", "司法所李", "老党员孙"],
            "role": [
                "grid_worker",
                "grid_worker",
                "grid_worker",
                "urban_management",
                "judicial",
                "volunteer",
            ],
            "grid_id": ["G1", "G2", "G3", "G1", "G1", "G1"],
            "department": [None, None, None, "城管中队", "司法所", None],
        }
    )
    with store.transaction() as tx:
        tx.upsert("grids", grids)
        tx.upsert("staff", staff)
    return location


def _file(location: str, lon: float, source="hotline", category="环境卫生", hours_ago=30) -> str:
    filed = rp.file_report(
        open_store(location),
        source=source,
        category=category,
        lon=lon,
        lat=40.845,
        actor="desk",
        description="楼下垃圾堆放",
        reported_at=now_local() - dt.timedelta(hours=hours_ago),
    )
    actions.dispatch_new(open_store(location))
    return filed.report_id


def _act(at: AppTest, action: str) -> AppTest:
    at.segmented_control(key=f"case_action_{at.selectbox(key='case_selected').value}").set_value(
        action
    ).run()
    return at


def test_grid_worker_sees_own_cases_by_urgency_and_not_other_grids(desk):
    near = _file(desk, 111.705, hours_ago=110)  # 10 h left: nearing
    fresh = _file(desk, 111.705, hours_ago=2)
    other = _file(desk, 111.715)  # G2: 李强's
    at = signed_in(desk, "wangfang", "grid_worker", grids=["G1"])
    assert at.radio(key="case_view").value == "mine"
    table = at.dataframe[0].value
    assert table.iloc[:, 0].tolist() == [near, fresh]  # most urgent first
    assert table.iloc[0, 1] == "临期" and "王芳 (S1)" in table.iloc[0].tolist()
    at.radio(key="case_view").set_value("all").run()
    assert other not in at.dataframe[0].value.iloc[:, 0].tolist()  # G2 is out of scope
    assert at.metric[2].value == "1"  # nearing


def test_the_12345_walk_through_on_the_page(desk):
    """Auto-dispatched to the grid worker, 转派 to urban management by the worker, an
    extension asked by the clerk and approved by the leader, resolved, no closing offered
    before the phone return visit, then closed."""
    rid = _file(desk, 111.705)
    worker = signed_in(desk, "wangfang", "grid_worker", grids=["G1"])
    _act(worker, "transfer")
    worker.selectbox(key="case_to").set_value("department:urban_management")
    worker.text_input(key="case_reason").input("属占道经营，转城管")
    worker.button(key="case_do_transfer").click().run()
    assert "已转派" in _texts(worker), _texts(worker)
    assert open_store(desk).read("reports")["owner_id"].tolist() == ["urban_management"]

    clerk = signed_in(desk, "clerk", "community_staff", community="东河社区")
    clerk.radio(key="case_view").set_value("all").run()
    clerk.selectbox(key="case_selected").set_value(rid).run()
    _act(clerk, "extend")
    clerk.number_input(key="case_hours").set_value(48)
    clerk.text_input(key="case_reason").input("需协调产权单位")
    clerk.button(key="case_do_extend").click().run()
    assert "申请延期" not in clerk.segmented_control[0].options  # one request waits at a time
    assert "延期审批" not in clerk.segmented_control[0].options  # not an approver

    leader = signed_in(desk, "leader", "street_leader")
    assert leader.metric[3].value == "1"  # an extension awaiting decision
    _act(leader, "decide")
    leader.radio(key="case_decision").set_value("approve")
    leader.button(key="case_do_decide").click().run()
    for step in ("responded", "resolved"):
        _act(leader, step)
        leader.button(key=f"case_do_{step}").click().run()
    # 一事一回访: no 结案 offered before the return visit (the action refuses it too:
    # tests/test_cases_store.py)
    assert "结案" not in leader.segmented_control[0].options  # the options as shown
    assert "回访" in leader.segmented_control[0].options
    _act(leader, "followed_up")
    leader.radio(key="case_method").set_value("phone")
    leader.text_input(key="case_by").input("社区张")
    leader.radio(key="case_satisfaction").set_value("satisfied")
    leader.button(key="case_do_followed_up").click().run()
    _act(leader, "closed")
    leader.button(key="case_do_closed").click().run()
    assert not leader.exception

    report = open_store(desk).read("reports").iloc[0]
    assert report["followup_method"] == "phone" and report["closed_at"]
    events = open_store(desk).read("case_events")["event"].tolist()
    assert events == ["assigned", "transferred", "extension_requested", "extended"]
    owners = leader.dataframe[1].value  # the per-owner tab: nothing open any more
    assert owners.empty


def test_mediation_in_two_sessions_and_the_room_figures(desk):
    rid = _file(desk, 111.705, source="dispute", category="邻里纠纷", hours_ago=72)
    clerk = signed_in(desk, "clerk", "community_staff", community="东河社区")
    assert clerk.dataframe[0].value.iloc[:, 0].tolist() == [rid]  # the room's case is "mine"
    _act(clerk, "mediation")
    clerk.selectbox(key="case_kind").set_value("neighbour")
    clerk.selectbox(key="case_type").set_value("people")
    clerk.button(key="case_do_mediation").click().run()
    today = now_local().date()
    for day, outcome in ((today - dt.timedelta(days=1), "failed"), (today, "success")):
        _act(clerk, "mediation")
        clerk.date_input(key="case_held_day").set_value(day)
        clerk.time_input(key="case_held_time").set_value(dt.time(0, 0))
        clerk.selectbox(key="case_outcome").set_value(outcome)
        clerk.multiselect(key="case_mediators").set_value(["S8", "S9"]).run()
        clerk.button(key="case_do_session").click().run()
        assert not clerk.error, clerk.error[0].value
    sessions = open_store(desk).read("mediation_sessions")
    assert sessions["outcome"].tolist() == ["failed", "success"]
    mediators = open_store(desk).read("mediation_mediators")
    assert set(zip(mediators["staff_id"], mediators["capacity"], strict=True)) == {
        ("S8", "judicial"),
        ("S9", "old_party_member"),
    }
    room = clerk.dataframe[2].value
    assert room.iloc[0]["社区"] == "东河社区" and room.iloc[0]["调解成功"] == 1
    assert room.iloc[0]["调解成功率"] == "100.0%" and room.iloc[0]["邻里"] == 1


def test_planner_and_meeting_get_no_case_rows(desk):
    """The case desk has no aggregate form of its own: planner and meeting accounts get the
    aggregate page instead (app.py), and the loader refuses them any case row."""
    from geo.access.auth import Viewer
    from ui import cases as ui_cases
    from ui.data import AccessDenied

    _file(desk, 111.705)
    version = open_store(desk).version()
    for viewer in (Viewer("plan", "planner"), Viewer("boss", "street_leader", presenting=True)):
        with pytest.raises(AccessDenied):
            ui_cases.case_data(desk, version, viewer)
    assert len(ui_cases.case_data(desk, version, Viewer("boss", "street_leader")).reports) == 1


def test_demo_desk_renders_for_each_role(tmp_path, monkeypatch):
    location = str(tmp_path / "demo.gpkg")
    monkeypatch.setenv("GRIDMAP_DB", location)
    build_demo(open_store(location), households=2000)
    grids = open_store(location).read_attributes("grids", ["grid_id", "community"])
    first = grids["grid_id"].iloc[0]
    community = grids["community"].iloc[0]
    for name, role, scope in (
        ("leader", "street_leader", {}),
        ("clerk", "community_staff", {"community": community}),
        ("worker", "grid_worker", {"grids": [first]}),
    ):
        at = signed_in(location, name, role, **scope)
        assert len(at.dataframe) >= 1
        if role == "grid_worker":
            shown = open_store(location).read_attributes("reports", ["report_id", "grid_id"])
            in_scope = set(shown.loc[shown["grid_id"] == first, "report_id"])
            at.radio(key="case_view").set_value("all").run()
            assert set(at.dataframe[0].value.iloc[:, 0]) <= in_scope


def test_a_report_filed_on_the_reports_page_is_dispatched_at_once(desk):
    """The intake form files the report, then auto-dispatch gives it to the grid's worker,
    shown as its owner in the reports page's table and facts."""
    at = AppTest.from_file(APP, default_timeout=90)
    store = open_store(desk)
    add_user(store, "desk", "street_leader", "correct-horse-9")
    at.session_state[session.VIEWER_KEY] = load_viewer(store, "desk")
    at.session_state[session.SIGNED_IN_AT_KEY] = now_local()
    at.session_state[session.USER_KEY] = "desk"
    at.run()
    at.switch_page("pages/reports.py").run()
    at.selectbox(key="rep_category").set_value("__other__").run()
    at.text_input(key="rep_category_text").input("测试类别")
    at.text_area(key="rep_description").input("楼道灯坏了")
    at.text_input(key="rep_location").input("111.705, 40.845")
    at.button(key="rep_submit").click().run()
    assert not at.exception
    filed = store.read_attributes("reports")
    assert (filed["owner_kind"].tolist(), filed["owner_id"].tolist()) == (["staff"], ["S1"])
    events = store.read("case_events")
    assert events["event"].tolist() == ["assigned"] and events["actor"].tolist() == ["system"]
    # the owner is shown in the reports page's table and in the report's facts
    table = next(f.value for f in at.dataframe if "负责方" in f.value.columns)
    assert table["负责方"].tolist() == ["王芳 (S1)"]
    assert f"**负责方**: {md('王芳 (S1)')}" in _texts(at)  # data, escaped
